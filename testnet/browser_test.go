package testnet

import (
	"bytes"
	"compress/gzip"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"sort"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/gobtechlab/notary/app/web"
	"github.com/gobtechlab/notary/cmd/verifier/verify"
	"github.com/gobtechlab/notary/testnet/internal/harness"
)

// The browser tests run the web verifier (app/web) in the system Chromium,
// driven by testnet/browser/run.js with the npm packages pinned in
// testnet/browser/package-lock.json (playwright-core, axe-core), installed
// with `npm ci --ignore-scripts` into a temporary folder: no browser is
// downloaded. NOTARY_CHROMIUM names another Chromium binary;
// NOTARY_WEB_SCREENSHOTS names a folder for the screenshots of the three
// verdicts (docs/img to refresh the documentation's).

const vectorsDir = "../cmd/verifier/verify/testdata/vectors"

// browserCase is one run of the page (see run.js).
type browserCase struct {
	Name       string   `json:"name"`
	URL        string   `json:"url"`
	Document   string   `json:"document,omitempty"`
	Receipt    string   `json:"receipt"`
	Mode       string   `json:"mode,omitempty"`
	Lang       string   `json:"lang,omitempty"`
	AlsoLangs  []string `json:"also_langs,omitempty"`
	Keyboard   bool     `json:"keyboard,omitempty"`
	Axe        bool     `json:"axe,omitempty"`
	Screenshot string   `json:"screenshot,omitempty"`
	// CodeSteps are the verification code checks of one page (run.js).
	CodeSteps []codeStep `json:"code_steps,omitempty"`
}

// codeStep is one check of a verification code in the page: the one the
// page's link started at load, a code typed (with a document or not), or
// a link opened in the same page.
type codeStep struct {
	Load        bool   `json:"load,omitempty"`
	Code        string `json:"code,omitempty"`
	Document    string `json:"document,omitempty"`
	Hash        string `json:"hash,omitempty"`
	Download    string `json:"download,omitempty"`
	ExpectError bool   `json:"expect_error,omitempty"`
	Screenshot  string `json:"screenshot,omitempty"`
	Axe         bool   `json:"axe,omitempty"`
}

// codeResult is what the page showed for a code step.
type codeResult struct {
	Verdict       string            `json:"verdict"`
	ExitCode      int               `json:"exit_code"`
	Text          string            `json:"text"`
	Facts         map[string]string `json:"facts"`
	CodeError     string            `json:"code_error"`
	ErrorKind     string            `json:"error_kind"`
	Download      bool              `json:"download"`
	DownloadSaved string            `json:"download_saved"`
	CodeValue     string            `json:"code_value"`
	Requests      []string          `json:"requests"`
	Axe           []axeViolation    `json:"axe"`
}

type axeViolation struct {
	ID     string   `json:"id"`
	Impact string   `json:"impact"`
	Help   string   `json:"help"`
	Nodes  []string `json:"nodes"`
}

type browserResult struct {
	Name     string            `json:"name"`
	Verdict  string            `json:"verdict"`
	ExitCode int               `json:"exit_code"`
	Text     string            `json:"text"`
	Live     string            `json:"live"`
	Note     string            `json:"note"`
	HTMLLang string            `json:"html_lang"`
	Labels   map[string]string `json:"labels"`
	Langs    map[string]struct {
		Verdict  string `json:"verdict"`
		ExitCode int    `json:"exit_code"`
		Text     string `json:"text"`
		HTMLLang string `json:"html_lang"`
	} `json:"langs"`
	Requests      []string           `json:"requests"`
	Nodes         []string           `json:"nodes"`
	Focus         []string           `json:"focus"`
	Axe           []axeViolation     `json:"axe"`
	Timing        map[string]float64 `json:"timing"`
	Code          []codeResult       `json:"code"`
	ConsoleErrors []string           `json:"console_errors"`
	Error         string             `json:"error"`
}

// browser is the installed driver.
type browser struct {
	dir      string // run.js and its node_modules
	chromium string
}

// newBrowser skips the test when node, npm or Chromium is missing, and
// installs the pinned packages.
func newBrowser(t *testing.T) *browser {
	t.Helper()
	if testing.Short() {
		t.Skip("runs Chromium")
	}
	chromium := os.Getenv("NOTARY_CHROMIUM")
	if chromium == "" {
		chromium = "/usr/bin/chromium"
	}
	missing := []string{}
	for _, tool := range []string{"node", "npm"} {
		if _, err := exec.LookPath(tool); err != nil {
			missing = append(missing, tool)
		}
	}
	if _, err := os.Stat(chromium); err != nil {
		missing = append(missing, chromium)
	}
	if len(missing) > 0 {
		t.Skipf("the web verifier's browser tests need %s: apt-get install chromium nodejs npm (.ci/run installs them)", strings.Join(missing, ", "))
	}
	dir := t.TempDir()
	for _, f := range []string{"package.json", "package-lock.json", "run.js"} {
		b, err := os.ReadFile(filepath.Join("browser", f))
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dir, f), b, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, "npm", "ci", "--ignore-scripts", "--no-audit", "--no-fund", "--prefer-offline")
	cmd.Dir = dir
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("npm ci: %v\n%s", err, out)
	}
	return &browser{dir: dir, chromium: chromium}
}

// run runs the cases in one Chromium and returns the results by name.
func (b *browser) run(t *testing.T, cases []browserCase) map[string]browserResult {
	t.Helper()
	plan, err := json.Marshal(struct {
		Chromium string        `json:"chromium"`
		Cases    []browserCase `json:"cases"`
	}{b.chromium, cases})
	if err != nil {
		t.Fatal(err)
	}
	planFile := filepath.Join(t.TempDir(), "plan.json")
	if err := os.WriteFile(planFile, plan, 0o644); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Duration(len(cases))*90*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, "node", "run.js", planFile)
	cmd.Dir = b.dir
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("run.js: %v\n%s", err, stderr.String())
	}
	var results []browserResult
	if err := json.Unmarshal(out, &results); err != nil {
		t.Fatalf("run.js output: %v\n%s", err, out)
	}
	byName := map[string]browserResult{}
	for _, r := range results {
		if r.Error != "" {
			t.Errorf("%s: %s", r.Name, r.Error)
		}
		if len(r.ConsoleErrors) > 0 {
			t.Errorf("%s: console errors: %q", r.Name, r.ConsoleErrors)
		}
		byName[r.Name] = r
	}
	return byName
}

// checkAxe fails the test on a serious or critical violation.
func checkAxe(t *testing.T, r browserResult) {
	t.Helper()
	for _, v := range r.Axe {
		if v.Impact == "serious" || v.Impact == "critical" {
			t.Errorf("%s: axe %s (%s): %s at %v", r.Name, v.ID, v.Impact, v.Help, v.Nodes)
		} else {
			t.Logf("%s: axe %s (%s): %s", r.Name, v.ID, v.Impact, v.Help)
		}
	}
}

// goBuild builds a command of the module into a temporary folder.
func goBuild(t *testing.T, pkg string) string {
	t.Helper()
	out := filepath.Join(t.TempDir(), filepath.Base(pkg))
	if b, err := exec.Command("go", "build", "-o", out, "github.com/gobtechlab/notary/"+pkg).CombinedOutput(); err != nil {
		t.Fatalf("go build %s: %v\n%s", pkg, err, b)
	}
	return out
}

// cliVerdict is what `verifier verify -o json` says.
type cliVerdict struct {
	Verdict  string `json:"verdict"`
	ExitCode int    `json:"exit_code"`
	Message  string `json:"message"`
	Text     string `json:"text"`
}

func (v cliVerdict) text() string {
	if v.Message != "" {
		return v.Message
	}
	return v.Text
}

// runVerifier runs the CLI as a citizen would, in Spanish (or lang) with
// local times in Europe/Madrid as the page's browser has them.
func runVerifier(t *testing.T, bin, lang string, args ...string) cliVerdict {
	t.Helper()
	cmd := exec.Command(bin, append([]string{"verify", "--tz", "Europe/Madrid", "-o", "json"}, args...)...)
	env := []string{}
	for _, e := range os.Environ() {
		if !strings.HasPrefix(e, "LANG=") && !strings.HasPrefix(e, "LC_") && !strings.HasPrefix(e, "NOTARY_") {
			env = append(env, e)
		}
	}
	cmd.Env = append(env, "LANG="+lang+"_ES.UTF-8")
	out, err := cmd.Output()
	var ee *exec.ExitError
	if err != nil && !errors.As(err, &ee) {
		t.Fatalf("verifier %v: %v", args, err)
	}
	var v cliVerdict
	if err := json.Unmarshal(out, &v); err != nil {
		t.Fatalf("verifier %v output: %v\n%s", args, err, out)
	}
	if code := cmd.ProcessState.ExitCode(); code != v.ExitCode {
		t.Fatalf("verifier %v exited %d, says exit_code %d", args, code, v.ExitCode)
	}
	return v
}

// serveSite serves fsys under prefix on mux.
func serveSite(mux *http.ServeMux, prefix string, fsys fs.FS) {
	mux.Handle(prefix, http.StripPrefix(strings.TrimSuffix(prefix, "/"), http.FileServerFS(fsys)))
}

func listen(t *testing.T, h http.Handler) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	srv := &http.Server{Handler: h, ReadHeaderTimeout: 10 * time.Second}
	go func() { _ = srv.Serve(l) }()
	t.Cleanup(func() { _ = srv.Close() })
	return "http://" + l.Addr().String()
}

// wasmSizes are the core's sizes, compressed as committed and not.
func wasmSizes(t *testing.T) (gz, raw int) {
	t.Helper()
	b, err := fs.ReadFile(web.FS(), "verifier.wasm.gz")
	if err != nil {
		t.Fatal(err)
	}
	r, err := gzip.NewReader(bytes.NewReader(b))
	if err != nil {
		t.Fatal(err)
	}
	n, err := io.Copy(io.Discard, r)
	if err != nil {
		t.Fatal(err)
	}
	return len(b), int(n)
}

func median(xs []float64) float64 {
	if len(xs) == 0 {
		return 0
	}
	s := slices.Clone(xs)
	sort.Float64s(s)
	return s[len(s)/2]
}

// TestWebVerifier runs the page on the golden vectors (the CLI's verdict on
// each, in Spanish and English), with the keyboard only, offline (not one request) and against
// nodes that answer slowly or with garbage, and checks it with axe-core.
func TestWebVerifier(t *testing.T) {
	br := newBrowser(t)
	verifierBin := goBuild(t, "cmd/verifier")

	entries, err := os.ReadDir(vectorsDir)
	if err != nil {
		t.Fatal(err)
	}
	mux := http.NewServeMux()
	var vectors []string
	for _, e := range entries {
		if !e.IsDir() {
			continue
		}
		vectors = append(vectors, e.Name())
		trust, err := os.ReadFile(filepath.Join(vectorsDir, e.Name(), "trust.json"))
		if err != nil {
			t.Fatal(err)
		}
		site, err := web.Site(trust)
		if err != nil {
			t.Fatalf("%s: %v", e.Name(), err)
		}
		serveSite(mux, "/v/"+e.Name()+"/", site)
	}
	if len(vectors) < 12 {
		t.Fatalf("%d golden vectors, want 12 or more", len(vectors))
	}

	// A site whose trust bundle lists two nodes: one that never answers
	// in time, one that answers garbage.
	var nodeRequests atomic.Int64
	mux.HandleFunc("/slow/", func(w http.ResponseWriter, r *http.Request) {
		nodeRequests.Add(1)
		select {
		case <-r.Context().Done():
		case <-time.After(20 * time.Second):
		}
	})
	mux.HandleFunc("/garbage/", func(w http.ResponseWriter, r *http.Request) {
		nodeRequests.Add(1)
		w.Header().Set("Content-Type", "application/json")
		_, _ = w.Write([]byte(`{"version":1,"chain_id":"notary-test","garbage`))
	})
	base := listen(t, mux)
	nodesVector := filepath.Join(vectorsDir, "valid-salted-sha2")
	tbBytes, err := os.ReadFile(filepath.Join(nodesVector, "trust.json"))
	if err != nil {
		t.Fatal(err)
	}
	tb, err := verify.DecodeTrustBundle(tbBytes)
	if err != nil {
		t.Fatal(err)
	}
	tb.PublicEndpoints = []string{base + "/slow", base + "/garbage"}
	withNodes, err := verify.EncodeTrustBundle(tb)
	if err != nil {
		t.Fatal(err)
	}
	nodesSite, err := web.Site(withNodes)
	if err != nil {
		t.Fatal(err)
	}
	serveSite(mux, "/n/", nodesSite)

	shots := screenshotDir(t)
	screenshot := map[string]string{
		"valid-salted-sha2":          "verdict-valid.png",
		"revoked":                    "verdict-revoked.png",
		"not-valid-document-changed": "verdict-not-valid.png",
	}
	abs := func(p string) string {
		a, err := filepath.Abs(p)
		if err != nil {
			t.Fatal(err)
		}
		return a
	}

	var cases []browserCase
	type want struct {
		cli    cliVerdict
		golden string
	}
	wants := map[string]want{}
	for _, v := range vectors {
		dir := filepath.Join(vectorsDir, v)
		doc, rcpt, trust := abs(filepath.Join(dir, "document.txt")), abs(filepath.Join(dir, "receipt.json")), abs(filepath.Join(dir, "trust.json"))
		var golden struct {
			Verdict string `json:"verdict"`
		}
		b, err := os.ReadFile(filepath.Join(dir, "verdict.json"))
		if err != nil {
			t.Fatal(err)
		}
		if err := json.Unmarshal(b, &golden); err != nil {
			t.Fatal(err)
		}
		c := browserCase{Name: v, URL: base + "/v/" + v + "/", Document: doc, Receipt: rcpt, AlsoLangs: []string{"en"}, Axe: true}
		if shots != "" && screenshot[v] != "" {
			c.Screenshot = filepath.Join(shots, screenshot[v])
		}
		cases = append(cases, c)
		wants[c.Name] = want{cli: runVerifier(t, verifierBin, "es", "--trust", trust, doc, rcpt), golden: golden.Verdict}
		wants[c.Name+"/en"] = want{cli: runVerifier(t, verifierBin, "en", "--trust", trust, doc, rcpt), golden: golden.Verdict}
	}
	nodesDoc, nodesRcpt := abs(filepath.Join(nodesVector, "document.txt")), abs(filepath.Join(nodesVector, "receipt.json"))
	cases = append(cases,
		browserCase{Name: "keyboard", URL: base + "/v/revoked/", Document: abs(filepath.Join(vectorsDir, "revoked", "document.txt")),
			Receipt: abs(filepath.Join(vectorsDir, "revoked", "receipt.json")), Keyboard: true, Mode: "offline"},
		browserCase{Name: "nodes/online", URL: base + "/n/", Document: nodesDoc, Receipt: nodesRcpt},
	)
	for _, lang := range []string{"ca", "gl", "eu"} {
		cases = append(cases, browserCase{Name: "lang/" + lang, URL: base + "/n/", Document: nodesDoc, Receipt: nodesRcpt, Mode: "offline", Lang: lang, Axe: lang == "eu"})
	}

	// The offline cases run first, alone, so that the node counter shows
	// they asked nothing.
	offlineCase := browserCase{Name: "nodes/offline", URL: base + "/n/", Document: nodesDoc, Receipt: nodesRcpt, Mode: "offline", Axe: true}
	offline := br.run(t, []browserCase{offlineCase})
	if n := nodeRequests.Load(); n != 0 {
		t.Errorf("offline: the nodes got %d requests", n)
	}
	res := br.run(t, cases)
	res["nodes/offline"] = offline["nodes/offline"]
	checkAxe(t, res["nodes/offline"])

	var verifyMs, loadMs []float64
	for _, c := range cases {
		r, ok := res[c.Name]
		if !ok || r.Error != "" {
			continue
		}
		verifyMs = append(verifyMs, r.Timing["verifyMs"])
		loadMs = append(loadMs, r.Timing["loadMs"])
		if c.Axe {
			checkAxe(t, r)
		}
		if r.Live != "polite" && r.Live != "assertive" {
			t.Errorf("%s: the verdict is not announced (aria-live %q)", c.Name, r.Live)
		}
		if _, vector := wants[c.Name]; !vector {
			continue
		}
		if len(r.Requests) != 0 {
			t.Errorf("%s: requests while verifying with a bundle that lists no node: %q", c.Name, r.Requests)
		}
		type seen struct {
			name, lang, verdict, text, htmlLang string
			exit                                int
		}
		runs := []seen{{c.Name, "es", r.Verdict, r.Text, r.HTMLLang, r.ExitCode}}
		for _, l := range c.AlsoLangs {
			o := r.Langs[l]
			runs = append(runs, seen{c.Name + "/" + l, l, o.Verdict, o.Text, o.HTMLLang, o.ExitCode})
		}
		for _, s := range runs {
			w := wants[s.name]
			if s.verdict != w.golden {
				t.Errorf("%s: verdict %s, verdict.json says %s", s.name, s.verdict, w.golden)
			}
			if s.verdict != w.cli.Verdict || s.exit != w.cli.ExitCode {
				t.Errorf("%s: verdict %s (exit %d), the CLI's %s (exit %d)", s.name, s.verdict, s.exit, w.cli.Verdict, w.cli.ExitCode)
			}
			if s.text != w.cli.text() {
				t.Errorf("%s: text\n  %s\nthe CLI's\n  %s", s.name, s.text, w.cli.text())
			}
			if s.htmlLang != s.lang {
				t.Errorf("%s: html lang %q, want %q", s.name, s.htmlLang, s.lang)
			}
		}
	}

	kb := res["keyboard"]
	wantFocus := []string{"", "lang", "document", "receipt", "mode-online", "mode-offline", "verify", "reset"}
	wantFocus[0] = kb.Focus[0] // the skip link has no id: checked by its place
	if !slices.Equal(kb.Focus, wantFocus) {
		t.Errorf("keyboard: focus order %q, want %q", kb.Focus, wantFocus)
	}
	if kb.Verdict != "revoked" || kb.ExitCode != 3 || kb.Note == "" {
		t.Errorf("keyboard: verdict %s exit %d note %q, want revoked, 3 and the offline note", kb.Verdict, kb.ExitCode, kb.Note)
	}

	off := res["nodes/offline"]
	if len(off.Requests) != 0 {
		t.Errorf("offline: the page made requests: %q", off.Requests)
	}
	if off.Verdict != "valid" || off.ExitCode != 0 || off.Note == "" {
		t.Errorf("offline: verdict %s exit %d note %q", off.Verdict, off.ExitCode, off.Note)
	}
	on := res["nodes/online"]
	if on.Verdict != "valid" || on.ExitCode != 0 {
		t.Errorf("nodes that answer garbage or nothing: verdict %s exit %d, want valid 0 (the receipt's status)", on.Verdict, on.ExitCode)
	}
	if len(on.Nodes) != 2 || !strings.Contains(strings.Join(on.Nodes, "\n"), "5 s") {
		t.Errorf("nodes: %q, want both, the slow one timed out after 5 s", on.Nodes)
	}
	if got := len(on.Requests); got != 2 {
		t.Errorf("online: %d requests while verifying, want one a node: %q", got, on.Requests)
	}
	if ms := on.Timing["liveMs"]; ms < 4500 || ms > 15000 {
		t.Errorf("online: asking the nodes took %.0f ms, want the 5 s timeout", ms)
	}

	seen := map[string]bool{}
	for _, lang := range []string{"ca", "gl", "eu"} {
		r := res["lang/"+lang]
		if r.HTMLLang != lang {
			t.Errorf("%s: html lang %q", lang, r.HTMLLang)
		}
		label := r.Labels["verify"]
		if label == "" || seen[label] {
			t.Errorf("%s: the verify button reads %q", lang, label)
		}
		seen[label] = true
	}

	gz, raw := wasmSizes(t)
	t.Logf("wasm core: %d bytes gzip-compressed, %d uncompressed", gz, raw)
	t.Logf("page load from a local server (navigation to ready, core compiled): median %.0f ms over %d loads", median(loadMs), len(loadMs))
	t.Logf("one receipt verified in the page (notaryVerify): median %.1f ms, max %.1f ms over %d", median(verifyMs), slices.Max(append(verifyMs, 0)), len(verifyMs))
}

// TestWebVerifierLive runs the page against a dev chain's own public
// endpoint, which serves the page and its trust bundle: a fresh receipt is
// valid; after a revocation the same receipt is revoked, with the date; a
// different document is not valid; offline, the old receipt gives its own
// status and the page asks nothing. A document anchored under a
// verification code: its QR code's link opened, and the code typed, show
// the agency, the date and valid; with the document the page says it
// matches and gives a full receipt that `verifier verify` accepts, with
// another document that it does not; a mistyped code is refused with no
// request; after the revocation the code shows revoked, with the date.
func TestWebVerifierLive(t *testing.T) {
	br := newBrowser(t)
	notaryd := harness.Binary(t)
	notaryctl := goBuild(t, "cmd/notaryctl")
	verifierBin := goBuild(t, "cmd/verifier")

	home := filepath.Join(t.TempDir(), "dev")
	ports := harness.FreePorts(t, 5)
	// Every port chosen here, the HTTP/JSON gateway off: another run of the
	// tests may hold the dev defaults.
	args := []string{"dev", "--home", home,
		"--p2p-port", strconv.Itoa(ports[0]), "--rpc-port", strconv.Itoa(ports[1]),
		"--gateway-port", strconv.Itoa(ports[2]), "--metrics-port", strconv.Itoa(ports[3]),
		"--public-port", strconv.Itoa(ports[4]), "--http-port", "0"}
	logPath := filepath.Join(t.TempDir(), "dev.log")
	logFile, err := os.Create(logPath)
	if err != nil {
		t.Fatal(err)
	}
	dev := exec.Command(notaryd, args...)
	dev.Stdout, dev.Stderr = logFile, logFile
	if err := dev.Start(); err != nil {
		t.Fatal(err)
	}
	exited := make(chan struct{})
	var exitErr error
	go func() {
		exitErr = dev.Wait()
		close(exited)
	}()
	t.Cleanup(func() {
		_ = dev.Process.Signal(os.Interrupt)
		select {
		case <-exited:
		case <-time.After(30 * time.Second):
			_ = dev.Process.Kill()
			<-exited
		}
		_ = logFile.Close()
		if t.Failed() {
			b, _ := os.ReadFile(logPath)
			t.Logf("notaryd dev log:\n%s", tail(string(b), 4000))
		}
	})

	// The trust bundle names the public endpoint, which serves the page.
	trustPath := filepath.Join(home, "trust.json")
	var endpoint string
	waitFor(t, 90*time.Second, "the dev chain's public endpoint", func() bool {
		select {
		case <-exited:
			t.Fatalf("notaryd dev exited: %v", exitErr)
		default:
		}
		b, err := os.ReadFile(trustPath)
		if err != nil {
			return false
		}
		tb, err := verify.DecodeTrustBundle(b)
		if err != nil || len(tb.PublicEndpoints) == 0 {
			return false
		}
		endpoint = strings.TrimSuffix(tb.PublicEndpoints[0], "/")
		resp, err := http.Get(endpoint + "/healthz")
		if err != nil {
			return false
		}
		_ = resp.Body.Close()
		return resp.StatusCode == http.StatusOK
	})
	for _, f := range []string{"/", "/trust.json"} {
		resp, err := http.Get(endpoint + f)
		if err != nil {
			t.Fatal(err)
		}
		_ = resp.Body.Close()
		if resp.StatusCode != http.StatusOK {
			t.Fatalf("GET %s%s: %s; the node must serve the web verifier with its trust bundle", endpoint, f, resp.Status)
		}
	}

	work := t.TempDir()
	doc := filepath.Join(work, "certificado.txt")
	other := filepath.Join(work, "otro.txt")
	if err := os.WriteFile(doc, []byte("Certificado de empadronamiento 2026-0001\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(other, []byte("Certificado de empadronamiento 2026-0002\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	ctl := func(args ...string) string {
		t.Helper()
		cmd := exec.Command(notaryctl, args...)
		cmd.Env = append(os.Environ(), "NOTARY_HOME="+home)
		out, err := cmd.CombinedOutput()
		if err != nil {
			t.Fatalf("notaryctl %v: %v\n%s", args, err, out)
		}
		return string(out)
	}
	ctl("anchor", doc)
	oldReceipt := filepath.Join(work, "old.receipt.json")
	b, err := os.ReadFile(doc + ".receipt.json")
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(oldReceipt, b, 0o644); err != nil {
		t.Fatal(err)
	}
	codedPath := filepath.Join(work, "certificado-con-codigo.txt")
	if err := os.WriteFile(codedPath, []byte("Certificado de empadronamiento 2026-0003\nCódigo seguro de verificación impreso al pie\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	agency := devClient(t, home)
	coded := anchorCoded(t, agency, codedPath)
	link := qrLink(t, trustOf(t, trustPath), coded.code)
	downloaded := filepath.Join(work, "descargado.receipt.json")

	shots := screenshotDir(t)
	shot := func(name string) string {
		if shots == "" {
			return ""
		}
		return filepath.Join(shots, name)
	}
	page := endpoint + "/"
	steps := codeSteps(t, coded.code, codedPath, other, downloaded)
	steps[2].Screenshot = shot("code-valid.png")
	firstRun := br.run(t, []browserCase{
		{Name: "valid", URL: page, Document: doc, Receipt: oldReceipt},
		{Name: "code", URL: link, CodeSteps: steps},
	})
	first := firstRun["valid"]
	if first.Verdict != "valid" || first.ExitCode != 0 {
		t.Fatalf("fresh receipt: %s (exit %d): %s", first.Verdict, first.ExitCode, first.Text)
	}
	checkCodeSession(t, firstRun["code"], coded.code, verifierBin, trustPath, codedPath)
	if len(first.Requests) == 0 || !strings.Contains(first.Requests[0], "/v1/status/") {
		t.Errorf("online: the page did not ask the node: %q", first.Requests)
	}

	ctl("revoke", doc, "--reason-code", "fraud", "--reason", "obtenido con datos falsos")
	revokeCoded(t, agency, coded)
	var cli, codedCLI cliVerdict
	waitFor(t, 60*time.Second, "the CLI to see the revocations live", func() bool {
		cli = runVerifier(t, verifierBin, "es", "--trust", trustPath, doc, oldReceipt)
		codedCLI = runVerifier(t, verifierBin, "es", "--trust", trustPath, codedPath, downloaded)
		return cli.ExitCode == 3 && codedCLI.ExitCode == 3
	})

	res := br.run(t, []browserCase{
		{Name: "revoked", URL: page, Document: doc, Receipt: oldReceipt, Axe: true, Screenshot: shot("live-revoked.png")},
		{Name: "other", URL: page, Document: other, Receipt: oldReceipt},
		{Name: "offline", URL: page, Document: doc, Receipt: oldReceipt, Mode: "offline"},
		{Name: "code/revoked", URL: page, CodeSteps: []codeStep{{Code: coded.code.String(), Screenshot: shot("code-revoked.png")}}},
	})
	checkCodeRevoked(t, res["code/revoked"], coded.code, codedCLI)
	rv := res["revoked"]
	if rv.Verdict != "revoked" || rv.ExitCode != 3 {
		t.Errorf("old receipt after the revocation: %s (exit %d): %s", rv.Verdict, rv.ExitCode, rv.Text)
	}
	checkAxe(t, rv)
	if m := regexp.MustCompile(`revocado el (.+?) por `).FindStringSubmatch(cli.text()); m == nil {
		t.Errorf("the CLI's verdict names no revocation date: %s", cli.text())
	} else if !strings.Contains(rv.Text, m[0]) {
		t.Errorf("the page's verdict lacks the revocation date %q: %s", m[1], rv.Text)
	}
	// The CLI without the network: the receipt's own status, said so.
	offCLI := runVerifier(t, verifierBin, "es", "--trust", trustPath, "--offline", doc, oldReceipt)
	if offCLI.ExitCode != 0 || !strings.Contains(offCLI.text(), "No se pudo comprobar si fue revocado después") {
		t.Errorf("the CLI offline, old receipt: exit %d: %s", offCLI.ExitCode, offCLI.text())
	}
	if o := res["other"]; o.Verdict != "not_valid" || o.ExitCode != 1 {
		t.Errorf("another document: %s (exit %d): %s", o.Verdict, o.ExitCode, o.Text)
	}
	off := res["offline"]
	if off.Verdict != "valid" || off.ExitCode != 0 || off.Note == "" {
		t.Errorf("offline, old receipt: %s (exit %d), note %q: %s", off.Verdict, off.ExitCode, off.Note, off.Text)
	}
	if len(off.Requests) != 0 {
		t.Errorf("offline: the page made requests: %q", off.Requests)
	}
	t.Logf("live: status fetched in %.0f ms, verified in %.1f ms", rv.Timing["liveMs"], rv.Timing["verifyMs"])
}

// screenshotDir is NOTARY_WEB_SCREENSHOTS as an absolute path, a relative
// one taken from the module's root; "" for none.
func screenshotDir(t *testing.T) string {
	t.Helper()
	dir := os.Getenv("NOTARY_WEB_SCREENSHOTS")
	if dir == "" {
		return ""
	}
	if !filepath.IsAbs(dir) {
		dir = filepath.Join("..", dir)
	}
	abs, err := filepath.Abs(dir)
	if err != nil {
		t.Fatal(err)
	}
	return abs
}

func waitFor(t *testing.T, d time.Duration, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(d)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out after %s waiting for %s", d, what)
		}
		time.Sleep(250 * time.Millisecond)
	}
}

func tail(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return fmt.Sprintf("...%s", s[len(s)-n:])
}
