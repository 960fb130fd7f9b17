package main

import (
	"bytes"
	"encoding/json"
	"flag"
	"net"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
	"testing"
	"time"

	cmtlog "github.com/cometbft/cometbft/libs/log"
	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials"

	"github.com/gobtechlab/notary/app"
	"github.com/gobtechlab/notary/app/gateway"
	"github.com/gobtechlab/notary/app/identity"
	"github.com/gobtechlab/notary/cmd/internal/cli"
	notaryv1 "github.com/gobtechlab/notary/proto/notary/v1"
	"github.com/gobtechlab/notary/proto/notary/v1/gatewayv1"
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
			t.Setenv(k, "")
			os.Unsetenv(k)
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

// Names of the test chain and its participants.
const (
	testChainID  = "notary-test"
	testMinistry = "test-ministry"
	testAgency   = "dev-agency"
	testCitizen  = "dev-citizen"
)

// testNode is a real single-validator node with the gateway (and receipts),
// in a temporary directory, on free loopback ports. (app/internal/testnode
// does the same for app's packages; it is not importable from cmd/.)
type testNode struct {
	*app.Node
	// Addr is the gateway's address; Home the node's home.
	Addr, Home string
	// Agency, Citizen and Ministry are identity directories.
	Agency, Citizen, Ministry string
}

// Height is the last committed height.
func (n *testNode) Height() int64 {
	h, _, _ := n.App.LastCommit()
	return h
}

// Identity loads the identity in dir.
func (n *testNode) Identity(t *testing.T, dir string) *identity.Identity {
	t.Helper()
	id, err := identity.Load(dir)
	if err != nil {
		t.Fatal(err)
	}
	return id
}

// Client is a raw gateway client as the identity in dir ("" for none).
func (n *testNode) Client(t *testing.T, dir string) gatewayv1.GatewayClient {
	t.Helper()
	if dir == "" {
		dir = filepath.Join(n.Home, app.TLSDir)
	}
	cfg, err := identity.ClientTLS(dir)
	if err != nil {
		t.Fatal(err)
	}
	cc, err := grpc.NewClient(n.Addr, grpc.WithTransportCredentials(credentials.NewTLS(cfg)))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cc.Close() })
	return gatewayv1.NewGatewayClient(cc)
}

func freePorts(t *testing.T, n int) []int {
	t.Helper()
	var ls []net.Listener
	var ports []int
	for range n {
		l, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		ls = append(ls, l)
		ports = append(ports, l.Addr().(*net.TCPAddr).Port)
	}
	for _, l := range ls {
		l.Close()
	}
	return ports
}

// allPermissions are the dev agency's.
var allPermissions = []notaryv1.Permission{
	notaryv1.Permission_PERMISSION_ANCHOR, notaryv1.Permission_PERMISSION_REVOKE, notaryv1.Permission_PERMISSION_EXCHANGE,
}

// env is a test node and a scratch folder for documents.
type env struct {
	n   *testNode
	dir string
}

// startNode starts a test node with the dev agency (all permissions) and
// the given agencies; it stops when the test ends.
func startNode(t *testing.T, agencies ...app.AgencySpec) *env {
	t.Helper()
	if testing.Short() {
		t.Skip("starts a node")
	}
	home := filepath.Join(t.TempDir(), "node")
	ports := freePorts(t, 4)
	nw, err := app.GenerateNetwork(app.NetworkSpec{
		ChainID:    testChainID,
		Ministries: []app.MinistrySpec{{ID: testMinistry, Name: "Ministerio de Pruebas", Power: 10}},
		Nodes: []app.NodeSpec{{Home: home, Host: "127.0.0.1",
			P2PPort: ports[0], RPCPort: ports[1], GatewayPort: ports[2], MetricsPort: ports[3]}},
		Agencies:      append([]app.AgencySpec{{ID: testAgency, Name: "Agencia de Pruebas", Permissions: allPermissions}}, agencies...),
		Citizens:      []string{testCitizen},
		TimeoutCommit: 50 * time.Millisecond,
	})
	if err != nil {
		t.Fatal(err)
	}
	cfg, err := app.LoadConfig(home)
	if err != nil {
		t.Fatal(err)
	}
	cfg.App.Gateway.RatePerSecond = 0
	cfg.Comet.Instrumentation.Prometheus = false
	an, err := app.NewNode(cfg, cmtlog.NewNopLogger(), gateway.NewFactory(gateway.Options{Receipts: gateway.Receipts}))
	if err != nil {
		t.Fatal(err)
	}
	if err := an.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := an.Stop(); err != nil {
			t.Errorf("stop node: %v", err)
		}
	})
	n := &testNode{Node: an, Addr: cfg.App.Gateway.ListenAddress, Home: home,
		Agency: nw.Agencies[testAgency], Citizen: nw.Citizens[testCitizen], Ministry: nw.Ministries[testMinistry]}
	deadline := time.Now().Add(30 * time.Second)
	for n.Height() < 1 {
		if time.Now().After(deadline) {
			t.Fatal("the test node committed no block in 30 s")
		}
		time.Sleep(10 * time.Millisecond)
	}
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
