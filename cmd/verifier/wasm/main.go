//go:build js && wasm

// Command wasm is the verification core of the web verifier (app/web),
// built with GOOS=js GOARCH=wasm. It registers notaryReceiptInfo,
// notaryVerify and notaryMessages on the page's global object and then
// waits: the page calls them. It does no networking; the page passes in
// the bodies it fetched.
package main

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"syscall/js"
	"time"
	_ "time/tzdata" // the browser's zone by name, on any host

	"github.com/gobtechlab/notary/cmd/verifier/verify"
)

func main() {
	g := js.Global()
	g.Set("notaryReceiptInfo", js.FuncOf(receiptInfo))
	g.Set("notaryVerify", js.FuncOf(verifyJS))
	g.Set("notaryMessages", js.FuncOf(messagesJS))
	select {}
}

// bytesOf copies a Uint8Array argument; nil for null or undefined.
func bytesOf(v js.Value) []byte {
	if v.IsNull() || v.IsUndefined() {
		return nil
	}
	b := make([]byte, v.Get("length").Int())
	js.CopyBytesToGo(b, v)
	return b
}

func toJS(v any) js.Value {
	b, err := json.Marshal(v)
	if err != nil {
		return js.ValueOf(fmt.Sprintf(`{"error":%q}`, err.Error()))
	}
	return js.ValueOf(string(b))
}

func receiptInfo(_ js.Value, args []js.Value) any {
	type info struct {
		OK             bool   `json:"ok"`
		HashAlgorithm  string `json:"hash_algorithm,omitempty"`
		AnchoredDigest string `json:"anchored_digest,omitempty"`
		ChainID        string `json:"chain_id,omitempty"`
		Error          string `json:"error,omitempty"`
	}
	if len(args) < 1 {
		return toJS(info{Error: "no receipt"})
	}
	c, err := verify.Inspect(bytesOf(args[0]))
	if err != nil {
		return toJS(info{Error: err.Error()})
	}
	return toJS(info{OK: true, HashAlgorithm: c.Document.HashAlgorithm, AnchoredDigest: c.Document.AnchoredDigest, ChainID: c.ChainID})
}

type liveOut struct {
	Tried   int `json:"tried"`
	Checked int `json:"checked"`
}

type result struct {
	Verdict         verify.Verdict `json:"verdict"`
	ExitCode        int            `json:"exit_code"`
	Text            string         `json:"text"`
	Fingerprint     string         `json:"fingerprint,omitempty"`
	DocumentChecked bool           `json:"document_checked"`
	Live            liveOut        `json:"live"`
	Steps           []verify.Step  `json:"steps"`
	Error           string         `json:"error,omitempty"`
}

func verifyJS(_ js.Value, args []js.Value) any {
	if len(args) < 1 {
		return toJS(result{Verdict: verify.NotValid, ExitCode: 2, Error: "no input"})
	}
	in := args[0]
	lang := verify.Spanish
	if l := in.Get("lang"); l.Type() == js.TypeString {
		if p, err := verify.ParseLang(l.String()); err == nil {
			lang = p
		}
	}
	var loc *time.Location
	if tz := in.Get("tz"); tz.Type() == js.TypeString {
		if l, err := time.LoadLocation(tz.String()); err == nil {
			loc = l
		}
	}
	trustBytes := bytesOf(in.Get("trust"))
	sum := sha256.Sum256(trustBytes)
	out := result{Fingerprint: hex.EncodeToString(sum[:])}
	tb, err := verify.DecodeTrustBundle(trustBytes)
	if err != nil {
		out.Verdict, out.ExitCode, out.Error = verify.NotValid, 2, "trust bundle: "+err.Error()
		out.Text = out.Error
		return toJS(out)
	}
	vin := verify.Input{Receipt: bytesOf(in.Get("receipt")), Trust: tb}
	if d := bytesOf(in.Get("document")); d != nil {
		vin.Document = bytes.NewReader(d)
	}
	res, err := verify.Verify(vin)
	if err != nil {
		out.Verdict, out.ExitCode, out.Error = verify.NotValid, 2, err.Error()
		out.Text = out.Error
		return toJS(out)
	}
	if l := in.Get("live"); l.Type() == js.TypeObject {
		out.Live.Tried = l.Length()
	}
	out.Verdict, out.Text, out.Steps, out.DocumentChecked = res.Verdict, res.Text(lang, loc), res.Steps, res.DocumentChecked
	switch res.Verdict {
	case verify.Valid:
		out.ExitCode = 0
	case verify.Revoked:
		out.ExitCode = 3
	default:
		out.ExitCode = 1
	}
	return toJS(out)
}

func messagesJS(_ js.Value, args []js.Value) any {
	lang := "es"
	if len(args) > 0 && args[0].Type() == js.TypeString {
		lang = args[0].String()
	}
	m, ok := messages[lang]
	if !ok {
		m = messages["es"]
	}
	return toJS(m)
}
