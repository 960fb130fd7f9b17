package main

import (
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/gobtechlab/notary/cmd/internal/cli"
)

// TestWebExport: `notaryd web export DIR --trust F` writes the page and the
// trust bundle and lists them; a missing or bad bundle is a usage error.
func TestWebExport(t *testing.T) {
	trust := filepath.Join("..", "verifier", "verify", "testdata", "vectors", "valid-salted-sha2", "trust.json")
	dir := filepath.Join(t.TempDir(), "site")
	out, err := runCmd(t, "web", "export", dir, "--trust", trust, "-o", "json")
	if err != nil {
		t.Fatalf("web export: %v\n%s", err, out)
	}
	var r webExportResult
	if err := json.Unmarshal([]byte(out), &r); err != nil {
		t.Fatalf("output: %v\n%s", err, out)
	}
	if r.Dir != dir || strings.Join(r.Files, " ") != "app.js favicon.svg index.html style.css trust.json verifier.wasm.gz wasm_exec.js" {
		t.Fatalf("result %+v", r)
	}
	want, _ := os.ReadFile(trust)
	if got, _ := os.ReadFile(filepath.Join(dir, "trust.json")); string(got) != string(want) {
		t.Errorf("trust.json differs from the bundle given")
	}
	text, err := runCmd(t, "web", "export", dir, "--trust", trust)
	if err != nil || !strings.Contains(text, "wrote the web verifier to "+dir) || !strings.Contains(text, "  index.html\n") {
		t.Errorf("text output (%v):\n%s", err, text)
	}

	garbage := filepath.Join(t.TempDir(), "trust.json")
	if err := os.WriteFile(garbage, []byte("not json"), 0o644); err != nil {
		t.Fatal(err)
	}
	for _, args := range [][]string{
		{"web", "export", dir},
		{"web", "export", dir, "--trust", garbage},
		{"web", "export", dir, "--trust", filepath.Join(t.TempDir(), "missing.json")},
	} {
		_, err := runCmd(t, args...)
		var ee *cli.ExitError
		if !errors.As(err, &ee) || ee.Code != cli.ExitUsage {
			t.Errorf("%v: %v, want a usage error", args, err)
		}
	}
}
