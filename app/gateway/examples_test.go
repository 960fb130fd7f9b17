package gateway_test

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/gobtechlab/notary/app/apptest"
	"github.com/gobtechlab/notary/app/gateway"
)

// examplesDir holds the HTTP/JSON examples of docs/integration.md.
var examplesDir = filepath.Join("..", "..", "docs", "examples")

// needTools skips t unless every tool is on the PATH.
func needTools(t *testing.T, tools ...string) {
	t.Helper()
	for _, tool := range tools {
		if _, err := exec.LookPath(tool); err != nil {
			t.Skipf("the example needs %s, which is not installed (.ci/run installs it): %v", tool, err)
		}
	}
}

// buildVerifier builds cmd/verifier into a temporary directory.
func buildVerifier(t *testing.T) string {
	t.Helper()
	bin := filepath.Join(t.TempDir(), "verifier")
	cmd := exec.Command("go", "build", "-o", bin, "../../cmd/verifier")
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("build the verifier: %v\n%s", err, out)
	}
	return bin
}

// TestHTTPExamples runs the curl script and the Python and Java clients of
// docs/examples against a real node: each anchors files, fetches their
// receipts and looks their digests up, and `verifier verify` accepts every
// receipt they wrote.
func TestHTTPExamples(t *testing.T) {
	if testing.Short() {
		t.Skip("runs a node and the examples")
	}
	cases := []struct {
		name  string
		tools []string
		cmd   func(url, id, out string, files []string) *exec.Cmd
	}{
		{"curl", []string{"bash", "curl", "openssl", "xxd", "sed"}, func(url, id, out string, files []string) *exec.Cmd {
			return exec.Command("bash", append([]string{filepath.Join(examplesDir, "anchor-curl.sh"), url, id, out}, files...)...)
		}},
		{"python", []string{"python3", "openssl"}, func(url, id, out string, files []string) *exec.Cmd {
			return exec.Command("python3", append([]string{filepath.Join(examplesDir, "notary_http.py"), url, id, out}, files...)...)
		}},
		{"java", []string{"java", "javac"}, func(url, id, out string, files []string) *exec.Cmd {
			return exec.Command("java", append([]string{filepath.Join(examplesDir, "NotaryHttp.java"), url, id, out}, files...)...)
		}},
	}
	n := apptest.Start(t, apptest.Options{HTTP: true, GatewayOptions: gateway.Options{Receipts: gateway.Receipts}})
	verifier := buildVerifier(t)
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			needTools(t, tc.tools...)
			dir := t.TempDir()
			var files []string
			for i := 0; i < 3; i++ {
				f := filepath.Join(dir, fmt.Sprintf("%s-%d.txt", tc.name, i))
				if err := os.WriteFile(f, []byte(fmt.Sprintf("document %d of the %s example\n", i, tc.name)), 0o644); err != nil {
					t.Fatal(err)
				}
				files = append(files, f)
			}
			out := filepath.Join(dir, "receipts")
			cmd := tc.cmd(n.HTTPURL(""), n.Agency, out, files)
			b, err := cmd.CombinedOutput()
			if err != nil {
				t.Fatalf("%s: %v\n%s", tc.name, err, b)
			}
			t.Logf("%s:\n%s", tc.name, b)
			if !strings.Contains(string(b), "unordered transaction") {
				t.Errorf("%s sent no unordered transaction (is the chain's max_unordered_window 0?)", tc.name)
			}
			for _, f := range files {
				receipt := filepath.Join(out, filepath.Base(f)+".receipt.json")
				v := exec.Command(verifier, "verify", f, receipt, "--trust", n.Network.TrustFiles[0])
				if vb, err := v.CombinedOutput(); err != nil {
					rb, _ := os.ReadFile(receipt)
					t.Fatalf("verifier verify %s: %v\n%s\nreceipt: %.600s", filepath.Base(f), err, vb, rb)
				}
			}
		})
	}
}
