package main

import (
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/gobtechlab/notary/cmd/internal/cli"
	"github.com/gobtechlab/notary/cmd/verifier/verify"
	"github.com/gobtechlab/notary/cmd/verifier/verify/vcode"
)

// testCode is a well-formed verification code (vcode's known vector).
const testCode = "7KQ4M-XW9TR-2HDNP-C8VE6"

// TestCodeRefusedLocally: a mistyped code is refused in the reader's
// language (exit 2) without a request; a code no node knows is not found
// (exit 5), asked by its key only; no node answering is exit 4.
func TestCodeRefusedLocally(t *testing.T) {
	var asked atomic.Int32
	var mu sync.Mutex
	var paths []string
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		asked.Add(1)
		mu.Lock()
		paths = append(paths, r.URL.Path)
		mu.Unlock()
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(http.StatusNotFound)
		_, _ = w.Write([]byte(`{"error":"No document is registered under this code.","code":"not_found"}`))
	}))
	defer srv.Close()
	trust := filepath.Join(vectors, "valid-salted-sha2", "trust.json")
	env := rootEnv{configDir: t.TempDir(), timeout: 2 * time.Second}
	for _, tc := range []struct {
		name, code, lang, want string
	}{
		{"swapped", "7KQ4M-XW9TR-2HDNP-C8V6E", "en", "mistyped"},
		{"changed", "7KQ4M-XW9TR-2HDNP-C8VE7", "es", "mal escrito"},
		{"short", "7KQ4M-XW9TR", "ca", "10 caràcters"},
		{"confusable", "7KQ4M-XW9TR-2HDNP-C8VEO", "gl", "nunca levan 0, O, 1, I nin L"},
		{"empty", " - ", "eu", "Ez da egiaztapen-koderik eman"},
	} {
		_, stderr, code := runErr(t, env, "code", tc.code, "--trust", trust, "--node", srv.URL, "--lang", tc.lang)
		if code != cli.ExitUsage || !strings.Contains(stderr, tc.want) {
			t.Errorf("%s: exit %d, stderr %q; want exit 2 with %q", tc.name, code, stderr, tc.want)
		}
	}
	if n := asked.Load(); n != 0 {
		t.Fatalf("%d requests for mistyped codes", n)
	}

	out, code := run(t, env, "code", testCode, "--trust", trust, "--node", srv.URL, "--lang", "en")
	if code != exitNotFound || !strings.HasPrefix(out, "NOT FOUND. No document is registered under the verification code "+testCode) {
		t.Fatalf("not found: exit %d\n%s", code, out)
	}
	c, _ := vcode.Parse(testCode)
	k := c.Key()
	mu.Lock()
	defer mu.Unlock()
	if len(paths) == 0 || paths[len(paths)-1] != verify.CodePath(k[:]) || strings.Contains(paths[len(paths)-1], c.Canonical()) {
		t.Fatalf("asked %v, want the code's key only", paths)
	}

	dead := httptest.NewServer(http.NotFoundHandler())
	dead.Close()
	_, stderr, code := runErr(t, rootEnv{configDir: t.TempDir(), timeout: time.Second}, "code", testCode, "--trust", trust, "--node", dead.URL, "--lang", "en")
	if code != cli.ExitUnavail || !strings.Contains(stderr, "No node answered") {
		t.Fatalf("unreachable: exit %d, stderr %q", code, stderr)
	}
}
