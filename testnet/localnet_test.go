package testnet

import (
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/gobtechlab/notary/testnet/internal/harness"
)

// localnet runs scripts/localnet.sh with args and returns its output.
func localnet(t *testing.T, args ...string) string {
	t.Helper()
	cmd := exec.Command("bash", append([]string{"../scripts/localnet.sh"}, args...)...)
	cmd.Env = append(os.Environ(), "LOCALNET_DIR=")
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("localnet.sh %s: %v\n%s", strings.Join(args, " "), err, out)
	}
	return string(out)
}

var statusLine = regexp.MustCompile(`(?m)^(\S+)\s+(?:pid (\d+)\s+height (\d+)|stopped)`)

// localnetStatus parses `localnet.sh status`: node -> pid and height (pid 0
// for a stopped node).
func localnetStatus(t *testing.T, dir string) map[string][2]int64 {
	t.Helper()
	out := localnet(t, "status", dir)
	st := map[string][2]int64{}
	for _, m := range statusLine.FindAllStringSubmatch(out, -1) {
		pid, _ := strconv.ParseInt(m[2], 10, 64)
		h, _ := strconv.ParseInt(m[3], 10, 64)
		st[m[1]] = [2]int64{pid, h}
	}
	return st
}

func alive(pid int64) bool { return pid > 0 && syscall.Kill(int(pid), 0) == nil }

// cliBinary builds one of our commands (cmd/notaryctl, cmd/verifier) into
// dir and returns its path.
func cliBinary(t *testing.T, dir, name string) string {
	t.Helper()
	out := filepath.Join(dir, name)
	cmd := exec.Command("go", "build", "-o", out, "../cmd/"+name)
	if b, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("go build %s: %v\n%s", name, err, b)
	}
	return out
}

// anchorAndVerify anchors a file through the second node's gateway as the
// agency aeat and verifies its receipt offline, in English and in Spanish,
// as docs/localnet.md tells a new user to.
func anchorAndVerify(t *testing.T, dir string, base int) {
	t.Helper()
	bin := t.TempDir()
	notaryctl, verifier := cliBinary(t, bin, "notaryctl"), cliBinary(t, bin, "verifier")
	doc := filepath.Join(t.TempDir(), "cert.txt")
	if err := os.WriteFile(doc, []byte("certificado de prueba\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	gateway := "127.0.0.1:" + strconv.Itoa(base+12) // interior, the second node
	out, err := exec.Command(notaryctl, "anchor", doc, "--node", gateway, "--identity", filepath.Join(dir, "identities", "aeat")).CombinedOutput()
	if err != nil {
		t.Fatalf("notaryctl anchor: %v\n%s", err, out)
	}
	for lang, want := range map[string]string{"en": "VALID. This document was registered by", "es": "VÁLIDO. Este documento fue registrado por"} {
		out, err := exec.Command(verifier, "verify", doc, doc+".receipt.json", "--trust", filepath.Join(dir, "trust.json"), "--lang", lang).CombinedOutput()
		if err != nil || !strings.HasPrefix(string(out), want) {
			t.Fatalf("verifier verify --lang %s: %v\n%s", lang, err, out)
		}
		t.Logf("verdict (%s): %s", lang, strings.TrimSpace(string(out)))
	}
	// A changed byte of the document is not valid (exit 1).
	if err := os.WriteFile(doc, []byte("certificado de prueba!\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	err = exec.Command(verifier, "verify", doc, doc+".receipt.json", "--trust", filepath.Join(dir, "trust.json")).Run()
	if ee, ok := err.(*exec.ExitError); !ok || ee.ExitCode() != 1 {
		t.Fatalf("verify of a changed document: %v, want exit 1", err)
	}
}

// TestLocalnetScript drives scripts/localnet.sh as the docs do: init, start
// (one process per ministry, pids recorded), status, a file anchored through
// one gateway and its receipt verified offline, kill one node, start
// brings it back, restart another, stop all.
func TestLocalnetScript(t *testing.T) {
	if testing.Short() {
		t.Skip("runs four node processes")
	}
	if _, err := exec.LookPath("bash"); err != nil {
		t.Skip("no bash")
	}
	dir := filepath.Join(t.TempDir(), "localnet")
	// The script builds DIR/bin/notaryd when it is missing; reuse the
	// harness's build.
	if err := os.MkdirAll(filepath.Join(dir, "bin"), 0o755); err != nil {
		t.Fatal(err)
	}
	bin, err := os.ReadFile(harness.Binary(t))
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "bin", "notaryd"), bin, 0o755); err != nil {
		t.Fatal(err)
	}
	base := harness.FreePortBlock(t, 40)
	localnet(t, "init", dir, "--base-port", strconv.Itoa(base), "--block-interval", "300ms", "--empty-blocks")
	t.Cleanup(func() {
		if out, err := exec.Command("bash", "../scripts/localnet.sh", "stop", dir).CombinedOutput(); err != nil {
			t.Errorf("localnet.sh stop: %v\n%s", err, out)
		}
		if t.Failed() {
			for _, n := range []string{"hacienda", "interior", "sanidad", "trabajo"} {
				b, _ := os.ReadFile(filepath.Join(dir, n, "notaryd.log"))
				if len(b) > 3000 {
					b = b[len(b)-3000:]
				}
				t.Logf("---- %s log ----\n%s", n, b)
			}
		}
	})
	out := localnet(t, "start", dir)
	nodes := []string{"hacienda", "interior", "sanidad", "trabajo"}
	for _, n := range nodes {
		if !strings.Contains(out, "started "+n) {
			t.Fatalf("start did not start %s:\n%s", n, out)
		}
		if _, err := os.Stat(filepath.Join(dir, n, "notaryd.pid")); err != nil {
			t.Fatal(err)
		}
	}
	waitAll := func(min int64, names ...string) map[string][2]int64 {
		t.Helper()
		deadline := time.Now().Add(60 * time.Second)
		for {
			st := localnetStatus(t, dir)
			ok := true
			for _, n := range names {
				if st[n][1] < min {
					ok = false
				}
			}
			if ok {
				return st
			}
			if time.Now().After(deadline) {
				t.Fatalf("height %d not reached by %v: %v", min, names, st)
			}
			time.Sleep(300 * time.Millisecond)
		}
	}
	st := waitAll(3, nodes...)

	// As docs/localnet.md says: anchor a file through any node's gateway
	// with notaryctl, then verify the receipt offline with the verifier and
	// the trust bundle only.
	anchorAndVerify(t, dir, base)

	// A crash: the other three go on.
	killed := st["sanidad"][0]
	localnet(t, "kill", "sanidad", dir)
	if alive(killed) {
		t.Fatalf("sanidad (pid %d) still alive after kill", killed)
	}
	st2 := localnetStatus(t, dir)
	if st2["sanidad"][0] != 0 {
		t.Fatalf("status after kill: %v", st2)
	}
	waitAll(st["hacienda"][1]+3, "hacienda", "interior", "trabajo")

	// start brings back only the stopped node.
	out = localnet(t, "start", dir)
	if !strings.Contains(out, "started sanidad") || !strings.Contains(out, "hacienda already running") {
		t.Fatalf("second start:\n%s", out)
	}
	h := localnetStatus(t, dir)["hacienda"][1]
	st = waitAll(h+2, nodes...)

	// A clean restart changes the pid.
	old := st["interior"][0]
	localnet(t, "restart", "interior", dir)
	st = localnetStatus(t, dir)
	if st["interior"][0] == old || alive(old) || !alive(st["interior"][0]) {
		t.Fatalf("restart interior: pid %d then %v", old, st["interior"])
	}
	waitAll(st["hacienda"][1]+2, nodes...)

	localnet(t, "stop", dir)
	for _, n := range nodes {
		if alive(st[n][0]) {
			t.Fatalf("%s (pid %d) still running after stop", n, st[n][0])
		}
		if _, err := os.Stat(filepath.Join(dir, n, "notaryd.pid")); !os.IsNotExist(err) {
			t.Fatalf("%s: pid file left: %v", n, err)
		}
		b, _ := os.ReadFile(filepath.Join(dir, n, "notaryd.log"))
		if strings.Contains(string(b), "panic:") || strings.Contains(string(b), "CONSENSUS FAILURE") {
			t.Fatalf("%s's log has a panic or consensus failure", n)
		}
	}
}
