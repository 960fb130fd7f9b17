package main

import (
	"bytes"
	"encoding/json"
	"flag"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
	"testing"

	cmtcfg "github.com/cometbft/cometbft/config"

	"github.com/gobtechlab/notary/app"
	"github.com/gobtechlab/notary/app/apptest"
	"github.com/gobtechlab/notary/app/gateway"
	"github.com/gobtechlab/notary/cmd/internal/cli"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata")

// result is what one in-process run of notaryctl printed and returned.
type result struct {
	stdout, stderr string
	code           int
}

// run executes notaryctl with args in-process, as main does, and captures
// stdout, stderr and the exit code. NOTARY_* variables of the environment
// are cleared so that they cannot change the flags.
func run(t *testing.T, args ...string) result {
	t.Helper()
	for _, kv := range os.Environ() {
		if k, _, _ := strings.Cut(kv, "="); strings.HasPrefix(k, "NOTARY_") && k != "NOTARY_HOME" {
			unsetenv(t, k)
		}
	}
	root := newRootCmd()
	var out, errb bytes.Buffer
	root.SetOut(&out)
	root.SetErr(&errb)
	root.SetArgs(args)
	code := cli.ExecuteTo(root, &errb)
	return result{stdout: out.String(), stderr: errb.String(), code: code}
}

// unsetenv removes k from the environment until the test ends.
func unsetenv(t *testing.T, k string) {
	t.Helper()
	t.Setenv(k, "") // restores the value at the end
	if err := os.Unsetenv(k); err != nil {
		t.Fatal(err)
	}
}

// Names of the test chain and its participants.
const (
	testChainID = apptest.ChainID
	testAgency  = apptest.AgencyID
)

// env is a test node and a scratch folder for documents.
type env struct {
	n   *apptest.Node
	dir string
}

// startNode starts a test node (with receipts) with the dev agency (all
// permissions) and the given agencies; it stops when the test ends.
func startNode(t *testing.T, agencies ...app.AgencySpec) *env {
	t.Helper()
	if testing.Short() {
		t.Skip("starts a node")
	}
	n := apptest.Start(t, apptest.Options{
		Agencies:       agencies,
		GatewayOptions: gateway.Options{Receipts: gateway.Receipts},
		Comet:          func(c *cmtcfg.Config) { c.Instrumentation.Prometheus = false },
	})
	return &env{n: n, dir: t.TempDir()}
}

// as runs notaryctl as the identity in idDir against the test node.
func (e *env) as(t *testing.T, idDir string, args ...string) result {
	t.Helper()
	return run(t, append([]string{"--node", e.n.Addr, "--identity", idDir}, args...)...)
}

// agency runs notaryctl as the dev agency.
func (e *env) agency(t *testing.T, args ...string) result {
	t.Helper()
	return e.as(t, e.n.Agency, args...)
}

// file writes a document into the scratch folder and returns its path.
func (e *env) file(t *testing.T, name, content string) string {
	t.Helper()
	p := filepath.Join(e.dir, name)
	if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

// want checks an exit code and shows everything printed if it differs.
func (r result) want(t *testing.T, code int) result {
	t.Helper()
	if r.code != code {
		t.Fatalf("exit %d, want %d\nstdout:\n%s\nstderr:\n%s", r.code, code, r.stdout, r.stderr)
	}
	return r
}

// Normalisation of the variable parts of outputs: heights, times, hashes,
// keys, batch ids and paths. (Tables keep their alignment: the widths of
// heights, in the tests, do not change it.)
var (
	reTime   = regexp.MustCompile(`\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?(Z|[+-]\d\d:\d\d)`)
	reHex    = regexp.MustCompile(`\b[0-9a-f]{16,}\b`)
	reBatch  = regexp.MustCompile(`\b\d+-\d+\b`)
	reHeight = regexp.MustCompile(`\b(height|was) \d+`)
	reBig    = regexp.MustCompile(`\b\d{4,}\b`)
	reAddr   = regexp.MustCompile(`127\.0\.0\.1:\d+`)
	reVer    = regexp.MustCompile(`(?m)version .*$`)
)

// normText normalises a text output: dir becomes <dir>.
func normText(s, dir string) string {
	if dir != "" {
		s = strings.ReplaceAll(s, dir, "<dir>")
	}
	s = reVer.ReplaceAllString(s, "version <version>")
	s = reTime.ReplaceAllString(s, "<time>")
	s = reHex.ReplaceAllString(s, "<hex>")
	s = reBatch.ReplaceAllString(s, "<batch>")
	s = reHeight.ReplaceAllString(s, "$1 <h>")
	s = reBig.ReplaceAllString(s, "<n>")
	return reAddr.ReplaceAllString(s, "127.0.0.1:<port>")
}

// variableKeys are JSON fields whose values change from run to run.
var variableKeys = map[string]bool{"version": true}

// normJSON normalises a JSON output: numbers under keys naming a height or
// a transaction index, and strings that are times, hex, batch ids or paths.
func normJSON(t *testing.T, s, dir string) string {
	t.Helper()
	var v any
	if err := json.Unmarshal([]byte(s), &v); err != nil {
		t.Fatalf("output is not JSON: %v\n%s", err, s)
	}
	var walk func(key string, v any) any
	walk = func(key string, v any) any {
		switch x := v.(type) {
		case map[string]any:
			keys := make([]string, 0, len(x))
			for k := range x {
				keys = append(keys, k)
			}
			sort.Strings(keys)
			for _, k := range keys {
				x[k] = walk(k, x[k])
			}
			return x
		case []any:
			for i := range x {
				x[i] = walk(key, x[i])
			}
			return x
		case float64:
			if strings.HasSuffix(key, "height") || key == "tx_index" {
				return "<height>"
			}
			return x
		case string:
			if variableKeys[key] {
				return "<" + key + ">"
			}
			return normText(x, dir)
		}
		return v
	}
	var b strings.Builder
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	enc.SetIndent("", "  ")
	if err := enc.Encode(walk("", v)); err != nil {
		t.Fatal(err)
	}
	return b.String()
}

// golden compares got with testdata/name, or rewrites it with -update.
func golden(t *testing.T, name, got string) {
	t.Helper()
	path := filepath.Join("testdata", name)
	if *update {
		if err := os.MkdirAll("testdata", 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, []byte(got), 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run go test with -update to create it)", err)
	}
	if got != string(want) {
		t.Errorf("%s differs (run with -update to accept):\n--- got\n%s--- want\n%s", path, got, want)
	}
}

// goldenBoth runs a command in text and in JSON and compares both outputs
// with testdata/<name>.txt.golden and <name>.json.golden.
func (e *env) goldenBoth(t *testing.T, name string, code int, idDir string, args ...string) (text, js result) {
	t.Helper()
	text = e.as(t, idDir, args...).want(t, code)
	golden(t, name+".txt.golden", normText(text.stdout, e.dir))
	js = e.as(t, idDir, append(args, "--output", "json")...).want(t, code)
	golden(t, name+".json.golden", normJSON(t, js.stdout, e.dir))
	return text, js
}

// TestProgressBar draws the bar on a writer that is not a terminal by
// building it directly (newProgress only shows it on a terminal).
func TestProgressBar(t *testing.T) {
	if newProgress(&bytes.Buffer{}, 1000) != nil || newProgress(os.Stderr, progressMin-1) != nil {
		t.Fatal("a bar off a terminal or for few files")
	}
	var buf bytes.Buffer
	p := &progress{w: &buf, total: 4}
	p.start("hashing")
	for range 4 {
		p.add(1)
	}
	p.finish()
	var nilBar *progress
	nilBar.start("x")
	nilBar.add(1)
	nilBar.finish()
	if s := buf.String(); !strings.Contains(s, "hashing   [") || !strings.Contains(s, "4/4 files") || !strings.HasSuffix(s, "\r") {
		t.Fatalf("bar: %q", s)
	}
}
