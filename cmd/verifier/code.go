package main

import (
	"context"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/gobtechlab/notary/app/inputfile"
	"github.com/gobtechlab/notary/cmd/internal/cli"
	"github.com/gobtechlab/notary/cmd/verifier/verify"
	"github.com/gobtechlab/notary/cmd/verifier/verify/msg"
	"github.com/gobtechlab/notary/cmd/verifier/verify/vcode"
	notaryv1 "github.com/gobtechlab/notary/proto/notary/v1"
)

// exitNotFound: `code` found no document registered under the code.
const exitNotFound = 5

// verdictNotFound is the code command's verdict when every node that
// answered knows no document under the code.
const verdictNotFound = "not_found"

// codeVerdict is the code command's result.
type codeVerdict struct {
	code vcode.Code
	key  string
	// res is the verification of the receipt found (nil: not found).
	res *verify.Result
	// endpoint is the node whose receipt verified.
	endpoint string
	// answers are the nodes asked for the receipt, in order.
	answers []verify.CodeAnswer
	// saved is the receipt file written; notSaved is set when one was
	// asked for but the file is not the registered document.
	saved    string
	notSaved bool

	lang        verify.Lang
	loc         *time.Location
	trust       string
	fingerprint string
}

// ExitCode: 0 valid, 3 revoked, 1 not valid, 5 not found.
func (v *codeVerdict) ExitCode() int {
	if v.res == nil {
		return exitNotFound
	}
	return verdict{res: v.res}.ExitCode()
}

// message is the verdict for a citizen, in the verdict's language.
func (v *codeVerdict) message() string {
	if v.res != nil {
		parts := []string{v.res.Text(v.lang, v.loc)}
		switch {
		case v.saved != "":
			parts = append(parts, msg.T(v.lang, "verdict.receipt_saved", "path", safe(v.saved)))
		case v.notSaved:
			parts = append(parts, msg.T(v.lang, "verdict.receipt_not_saved"))
		}
		return strings.Join(parts, " ")
	}
	parts := []string{msg.T(v.lang, "verdict.code_not_found", "code", v.code.String())}
	if failed := failedNodes(v.lang, v.answers); failed != "" {
		parts = append(parts, msg.T(v.lang, "verdict.live_failed", "nodes", failed))
	}
	parts = append(parts, msg.T(v.lang, "verdict.trust", "fingerprint", v.fingerprint))
	return strings.Join(parts, " ")
}

func (v *codeVerdict) Text(w io.Writer) error {
	_, err := fmt.Fprintln(w, v.message())
	return err
}

// codeNode is one node's answer to the code request, for --output json.
type codeNode struct {
	Endpoint string               `json:"endpoint"`
	Found    bool                 `json:"found"`
	Error    verify.LiveErrorCode `json:"error,omitempty"`
	Reason   verify.Reason        `json:"reason,omitempty"`
	Detail   string               `json:"detail,omitempty"`
}

// MarshalJSON gives the code (written form) and its key, the verification
// of the receipt found with every step, the nodes asked, the exit code and
// the text.
func (v *codeVerdict) MarshalJSON() ([]byte, error) {
	nodes := make([]codeNode, len(v.answers))
	for i, a := range v.answers {
		n := codeNode{Endpoint: a.Endpoint, Found: a.Found()}
		if a.Err != nil {
			n.Error, n.Reason, n.Detail = a.Err.Code, a.Err.Reason, a.Err.Detail
		}
		nodes[i] = n
	}
	out := struct {
		*verify.Result
		Verdict      string     `json:"verdict"`
		Code         string     `json:"code"`
		CodeKey      string     `json:"code_key"`
		Endpoint     string     `json:"endpoint,omitempty"`
		Asked        []codeNode `json:"asked"`
		ReceiptSaved string     `json:"receipt_saved,omitempty"`
		ExitCode     int        `json:"exit_code"`
		Message      string     `json:"message"`
		TrustSource  string     `json:"trust_source,omitempty"`
	}{
		Result: v.res, Verdict: verdictNotFound, Code: v.code.String(), CodeKey: v.key, Endpoint: v.endpoint,
		Asked: nodes, ReceiptSaved: v.saved, ExitCode: v.ExitCode(), Message: v.message(), TrustSource: v.trust,
	}
	if v.res != nil {
		out.Verdict = string(v.res.Verdict)
	} else {
		out.Result = &verify.Result{TrustFingerprint: v.fingerprint, Steps: []verify.Step{}}
	}
	return json.Marshal(out)
}

// failedNodes lists the nodes that gave no receipt, with why, in lang; ""
// when there are none.
func failedNodes(lang verify.Lang, answers []verify.CodeAnswer) string {
	var out []string
	for _, a := range answers {
		if a.Found() || a.Err == nil || a.Err.Code == verify.LiveNotFound {
			continue
		}
		out = append(out, msg.T(lang, "live.node", "node", safe(a.Endpoint), "error", liveErrorText(lang, a.Err)))
	}
	return strings.Join(out, "; ")
}

// liveErrorText says a node's failure in lang.
func liveErrorText(lang verify.Lang, e *verify.LiveError) string {
	var args []string
	switch e.Code {
	case verify.LiveTimeout:
		args = []string{"seconds", strconv.Itoa(int(e.Timeout.Round(time.Second) / time.Second))}
	case verify.LiveHTTP:
		args = []string{"code", strconv.Itoa(e.HTTPStatus)}
	case verify.LiveTooLarge:
		args = []string{"limit", "16 MB"}
	}
	return msg.T(lang, "live.err."+string(e.Code), args...)
}

func newCodeCmd(env rootEnv, lang msg.Lang) *cobra.Command {
	var trustPath, tz, file, save string
	var extraEndpoints []string
	cmd := &cobra.Command{
		Use:   "code CODE",
		Short: msg.T(lang, "cli.code.short"),
		Long:  msg.T(lang, "cli.code.long", "seconds", strconv.Itoa(int(liveTimeout/time.Second))),
		Args: func(cmd *cobra.Command, args []string) error {
			if len(args) != 1 {
				l, _ := env.lang(cmd)
				return cli.Usage("%s", msg.T(l, "cli.err.code_args"))
			}
			return nil
		},
		RunE: cli.Run(func(cmd *cobra.Command, args []string) (any, error) {
			lang, err := env.lang(cmd)
			if err != nil {
				return nil, err
			}
			loc, err := env.zone(tz)
			if err != nil {
				return nil, err
			}
			// A mistyped code is refused here: nothing is asked.
			code, err := vcode.ParseLink(args[0])
			if err != nil {
				return nil, cli.Fail(cli.ExitUsage, errors.New(codeErrorText(lang, err)))
			}
			var extra []string
			for _, e := range extraEndpoints {
				u, err := checkNodeURL(e)
				if err != nil {
					return nil, cli.Usage("%s", msg.T(lang, "cli.err.endpoint_url", "value", safe(e)))
				}
				extra = append(extra, u)
			}
			ts, err := env.findTrust(lang, trustPath)
			if err != nil {
				return nil, err
			}
			eps := endpoints(ts.trust, extra)
			if len(eps) == 0 {
				return nil, cli.Usage("%s", msg.T(lang, "cli.err.no_endpoints"))
			}
			var doc *os.File
			if file != "" {
				if doc, err = inputfile.Open(file); err != nil {
					return nil, cli.Fail(cli.ExitUsage, errors.New(msg.T(lang, "cli.err.document_read", "path", safe(file), "error", err.Error())))
				}
				defer func() { _ = doc.Close() }() // read only
			}
			fp, err := trustFingerprint(ts.trust)
			if err != nil {
				return nil, cli.Fail(cli.ExitUsage, errors.New(msg.T(lang, "cli.err.trust_invalid", "path", safe(ts.describe()), "error", err.Error())))
			}
			s := code.Derive()
			v := &codeVerdict{code: code, key: hex.EncodeToString(s.Key[:]), lang: lang, loc: loc, trust: ts.describe(), fingerprint: fp}
			return v, checkCode(cmd.Context(), env, v, ts.trust, s, eps, doc, save)
		}),
	}
	f := cmd.Flags()
	f.StringVar(&trustPath, "trust", "", msg.T(lang, "cli.flag.trust"))
	f.StringArrayVar(&extraEndpoints, "node", nil, msg.T(lang, "cli.flag.endpoint"))
	f.StringVar(&file, "file", "", msg.T(lang, "cli.flag.file"))
	f.StringVar(&save, "save-receipt", "", msg.T(lang, "cli.flag.save_receipt"))
	f.StringVar(&tz, "tz", "", msg.T(lang, "cli.flag.tz"))
	return cmd
}

// trustFingerprint is the fingerprint of a decoded trust bundle.
func trustFingerprint(tb *notaryv1.TrustBundle) (string, error) {
	b, err := verify.EncodeTrustBundle(tb)
	if err != nil {
		return "", err
	}
	return verify.TrustFingerprint(b), nil
}

// checkCode asks the endpoints in turn for the receipt of the code's
// document until one verifies, checks the document against it if there is
// one, asks the other endpoints for the live status, and writes the
// receipt to save if asked. It fills v; an error is one the command
// returns (no node answered, the document or the receipt file failed).
func checkCode(ctx context.Context, env rootEnv, v *codeVerdict, trust *notaryv1.TrustBundle, s vcode.Secrets, eps []string, doc *os.File, save string) error {
	timeout := env.liveTimeout()
	client := &http.Client{Timeout: timeout}
	found := -1
	for i, ep := range eps {
		a := fetchCode(ctx, client, trust, s, ep, timeout)
		if err := ctx.Err(); err != nil {
			return err
		}
		v.answers = append(v.answers, a)
		if a.Found() {
			found = i
			break
		}
	}
	if found < 0 {
		return noReceipt(v)
	}
	win := v.answers[found]
	v.endpoint = win.Endpoint
	res := win.Result
	bound, err := verify.BindCode(win.Receipt, s.Salt[:], s.Key[:], nil)
	if err != nil {
		return fmt.Errorf("receipt verified but not bound to the code: %w", err)
	}
	if doc != nil {
		alg, err := verify.CodeAlgorithm(win.Receipt)
		if err != nil {
			return fmt.Errorf("receipt verified but without an algorithm: %w", err)
		}
		digest, err := verify.HashDocument(alg, ctxReader{ctx: ctx, r: doc})
		if err != nil {
			if cerr := ctx.Err(); cerr != nil {
				return cerr
			}
			return cli.Fail(cli.ExitUsage, errors.New(msg.T(v.lang, "cli.err.document_read", "path", safe(doc.Name()), "error", err.Error())))
		}
		withDoc, full, err := verify.VerifyCode(win.Receipt, trust, s.Salt[:], s.Key[:], digest)
		if err != nil {
			return fmt.Errorf("receipt verified but not with the document: %w", err)
		}
		res = withDoc
		if res.Verdict != verify.NotValid {
			bound = full
		}
	}
	if res.Verdict != verify.NotValid {
		// The node that sent a receipt v1 answered with its status; that
		// of a receipt v2 is asked for it as for the nodes not asked yet.
		outcomes := make([]verify.NodeOutcome, 0, len(eps))
		live := eps[found+1:]
		for _, a := range v.answers {
			if a.Found() && !a.ProvesStatus() {
				live = eps[found:]
				continue
			}
			outcomes = append(outcomes, a.Outcome())
		}
		outcomes = append(outcomes, fetchLive(ctx, trust, bound, live, timeout)...)
		if err := ctx.Err(); err != nil {
			return err
		}
		res = verify.Combine(res, outcomes)
	}
	v.res = res
	if save == "" {
		return nil
	}
	if res.Verdict == verify.NotValid {
		v.notSaved = true
		return nil
	}
	if err := saveReceipt(save, bound); err != nil {
		return cli.Fail(cli.ExitUsage, errors.New(msg.T(v.lang, "cli.err.receipt_write", "path", safe(save), "error", err.Error())))
	}
	v.saved = save
	return nil
}

// noReceipt decides the verdict when no node sent a receipt that
// verifies: a receipt that does not verify is not valid; else a node that
// knows no document under the code makes it not found; else no node
// answered (exit 4).
func noReceipt(v *codeVerdict) error {
	for _, a := range v.answers {
		if a.Result != nil && a.Result.Verdict == verify.NotValid {
			v.endpoint = a.Endpoint
			v.res = a.Result
			return nil
		}
	}
	for _, a := range v.answers {
		if a.Err != nil && a.Err.Code == verify.LiveNotFound {
			return nil
		}
	}
	return cli.Fail(cli.ExitUnavail, errors.New(msg.T(v.lang, "cli.err.code_unreachable", "nodes", failedNodes(v.lang, v.answers))))
}

// fetchCode asks one endpoint for the receipt of the code's document (a
// receipt v2 when the trust bundle requires it, verify.CodeRequestPath),
// within timeout and reading at most verify.MaxCodeReceiptSize+1 bytes,
// and checks the answer. Only the code's key is sent.
func fetchCode(ctx context.Context, client *http.Client, trust *notaryv1.TrustBundle, s vcode.Secrets, ep string, timeout time.Duration) verify.CodeAnswer {
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	fail := func(err error) verify.CodeAnswer {
		o := liveFailure(ep, err, timeout)
		var le *verify.LiveError
		errors.As(o.Err, &le)
		return verify.CodeAnswer{Endpoint: ep, Err: le}
	}
	status, body, err := getJSON(ctx, client, ep+verify.CodeRequestPath(trust, s.Key[:]), verify.MaxCodeReceiptSize)
	if err != nil {
		return fail(err)
	}
	return verify.CheckCodeAnswer(trust, s.Salt[:], s.Key[:], ep, status, body)
}

// saveReceipt writes a receipt file through a temporary file renamed into
// place.
func saveReceipt(path string, r *notaryv1.Receipt) error {
	b, err := verify.EncodeReceiptFile(r)
	if err != nil {
		return err
	}
	return cli.WriteFileAtomic(path, b)
}

// codeErrorText says in lang what is wrong with a code that vcode.Parse or
// vcode.ParseLink refused (an *vcode.Error in err's chain), naming the
// character and its position for a character that codes do not use.
func codeErrorText(lang verify.Lang, err error) string {
	var e *vcode.Error
	if !errors.As(err, &e) {
		return msg.T(lang, "code.err.check")
	}
	switch e.Kind {
	case vcode.KindEmpty:
		return msg.T(lang, "code.err.empty")
	case vcode.KindSymbol:
		key := "code.err.symbol"
		if vcode.Confusable(e.Char) {
			key = "code.err.confusable"
		}
		return msg.T(lang, key, "position", strconv.Itoa(e.Pos), "char", strconv.QuoteRune(e.Char))
	case vcode.KindLength:
		return msg.T(lang, "code.err.length", "count", strconv.Itoa(e.Len), "want", strconv.Itoa(vcode.Len))
	case vcode.KindLink:
		return msg.T(lang, "code.err.link")
	}
	return msg.T(lang, "code.err.check")
}
