//go:build js && wasm

// Command wasm is the web verifier's core, built with GOOS=js GOARCH=wasm:
// it registers notaryReceiptInfo, notaryVerify, notaryCode,
// notaryVerifyCode and notaryMessages on the page's global object (package
// webapi does the work) and runs until the page goes away. It does no
// networking: the page fetches the receipts of codes and the live statuses
// and passes their bodies in.
package main

import (
	"encoding/json"
	"syscall/js"
	"time"
	_ "time/tzdata" // local times in the verdict, as the CLI writes them

	"github.com/gobtechlab/notary/cmd/verifier/verify/webapi"
)

func main() {
	js.Global().Set("notaryReceiptInfo", js.FuncOf(receiptInfo))
	js.Global().Set("notaryVerify", js.FuncOf(verifyFunc))
	js.Global().Set("notaryCode", js.FuncOf(code))
	js.Global().Set("notaryVerifyCode", js.FuncOf(verifyCode))
	js.Global().Set("notaryMessages", js.FuncOf(messages))
	select {}
}

// receiptInfo is notaryReceiptInfo(receiptBytes).
func receiptInfo(_ js.Value, args []js.Value) any {
	if len(args) < 1 {
		return toJS(webapi.Info{Error: "notaryReceiptInfo(receiptBytes): no receipt"})
	}
	return toJS(webapi.ReceiptInfo(goBytes(args[0])))
}

// verifyFunc is notaryVerify({receipt, trust, document, document_digest,
// lang, zone, timeout_ms, live: [{endpoint, status, body} | {endpoint,
// error}]}); bytes are Uint8Arrays, zone an IANA name.
func verifyFunc(_ js.Value, args []js.Value) any {
	if len(args) < 1 || args[0].Type() != js.TypeObject {
		return toJS(webapi.Response{Verdict: "not_valid", ExitCode: 2, Error: "notaryVerify(request): no request object"})
	}
	o := args[0]
	req := webapi.Request{
		Receipt:        goBytes(o.Get("receipt")),
		Trust:          goBytes(o.Get("trust")),
		Document:       goBytes(o.Get("document")),
		DocumentDigest: goBytes(o.Get("document_digest")),
		Lang:           str(o.Get("lang")),
		Zone:           str(o.Get("zone")),
	}
	req.Timeout, req.Live = timeout(o), liveAnswers(o)
	return toJS(webapi.Verify(req))
}

// code is notaryCode(text, lang, trust): the code typed (or a verifier
// link) read and its key derived, or why it is refused, in lang; its
// request path asks for a receipt v2 when the trust bundle (its bytes,
// optional) requires it.
func code(_ js.Value, args []js.Value) any {
	text, lang := "", ""
	if len(args) > 0 {
		text = str(args[0])
	}
	if len(args) > 1 {
		lang = str(args[1])
	}
	var trust []byte
	if len(args) > 2 {
		trust = goBytes(args[2])
	}
	return toJS(webapi.ParseCodeFor(text, lang, trust))
}

// verifyCode is notaryVerifyCode({code, receipt, source, trust, document,
// document_digest, lang, zone, timeout_ms, live}): receipt is the body of
// source's answer to the code's request.
func verifyCode(_ js.Value, args []js.Value) any {
	if len(args) < 1 || args[0].Type() != js.TypeObject {
		return toJS(webapi.Response{Verdict: "not_valid", ExitCode: 2, Error: "notaryVerifyCode(request): no request object"})
	}
	o := args[0]
	req := webapi.CodeRequest{
		Code:           str(o.Get("code")),
		Receipt:        goBytes(o.Get("receipt")),
		Source:         str(o.Get("source")),
		Trust:          goBytes(o.Get("trust")),
		Document:       goBytes(o.Get("document")),
		DocumentDigest: goBytes(o.Get("document_digest")),
		Lang:           str(o.Get("lang")),
		Zone:           str(o.Get("zone")),
	}
	req.Timeout, req.Live = timeout(o), liveAnswers(o)
	return toJS(webapi.VerifyCode(req))
}

// timeout is the request's timeout_ms.
func timeout(o js.Value) time.Duration {
	if t := o.Get("timeout_ms"); t.Type() == js.TypeNumber {
		return time.Duration(t.Int()) * time.Millisecond
	}
	return 0
}

// liveAnswers are the request's live answers.
func liveAnswers(o js.Value) []webapi.LiveAnswer {
	var out []webapi.LiveAnswer
	if live := o.Get("live"); live.Type() == js.TypeObject {
		for i := 0; i < live.Length(); i++ {
			a := live.Index(i)
			ans := webapi.LiveAnswer{Endpoint: str(a.Get("endpoint")), Body: goBytes(a.Get("body")), Error: str(a.Get("error"))}
			if s := a.Get("status"); s.Type() == js.TypeNumber {
				ans.Status = s.Int()
			}
			out = append(out, ans)
		}
	}
	return out
}

// messages is notaryMessages(lang).
func messages(_ js.Value, args []js.Value) any {
	lang := ""
	if len(args) > 0 {
		lang = str(args[0])
	}
	return toJS(webapi.Messages(lang))
}

// goBytes copies a Uint8Array (or a string, as UTF-8) into Go; null and
// undefined give nil.
func goBytes(v js.Value) []byte {
	switch v.Type() {
	case js.TypeString:
		return []byte(v.String())
	case js.TypeObject:
		if v.Get("length").Type() != js.TypeNumber {
			return nil
		}
		b := make([]byte, v.Get("length").Int())
		js.CopyBytesToGo(b, v)
		return b
	}
	return nil
}

func str(v js.Value) string {
	if v.Type() == js.TypeString {
		return v.String()
	}
	return ""
}

// toJS turns a value into a JavaScript object through JSON.
func toJS(v any) any {
	b, err := json.Marshal(v)
	if err != nil {
		b, _ = json.Marshal(map[string]string{"error": err.Error()})
	}
	return js.Global().Get("JSON").Call("parse", string(b))
}
