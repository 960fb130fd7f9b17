package web_test

import (
	"bytes"
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"testing"

	"github.com/gobtechlab/notary/app/web"
)

var pageFiles = []string{"app.js", "favicon.svg", "index.html", "style.css", "verifier.wasm.gz", "wasm_exec.js"}

func vectorTrust(t *testing.T) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("..", "..", "cmd", "verifier", "verify", "testdata", "vectors", "valid-salted-sha2", "trust.json"))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func names(t *testing.T, fsys fs.FS) []string {
	t.Helper()
	var out []string
	err := fs.WalkDir(fsys, ".", func(p string, d fs.DirEntry, err error) error {
		if err == nil && !d.IsDir() {
			out = append(out, p)
		}
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// TestFS: the page is its six files, without a trust bundle; the core is
// gzip-compressed.
func TestFS(t *testing.T) {
	if got := names(t, web.FS()); !slices.Equal(got, pageFiles) {
		t.Fatalf("files %v, want %v", got, pageFiles)
	}
	gz, err := fs.ReadFile(web.FS(), "verifier.wasm.gz")
	if err != nil {
		t.Fatal(err)
	}
	if len(gz) < 2 || gz[0] != 0x1f || gz[1] != 0x8b {
		t.Errorf("verifier.wasm.gz is not gzip")
	}
}

// TestSameOrigin: the page refers to no resource elsewhere: every src and
// href is a relative path or a fragment, and the styles import nothing.
func TestSameOrigin(t *testing.T) {
	ref := regexp.MustCompile(`(?i)\b(?:src|href)\s*=\s*"([^"]*)"`)
	html, err := fs.ReadFile(web.FS(), "index.html")
	if err != nil {
		t.Fatal(err)
	}
	found := 0
	for _, m := range ref.FindAllSubmatch(html, -1) {
		found++
		u := string(m[1])
		if regexp.MustCompile(`^(?:[a-z][a-z0-9+.-]*:|//)`).MatchString(u) {
			t.Errorf("index.html refers to %q", u)
		}
	}
	if found < 3 {
		t.Errorf("index.html: %d references, want the stylesheet and both scripts", found)
	}
	css, err := fs.ReadFile(web.FS(), "style.css")
	if err != nil {
		t.Fatal(err)
	}
	if bytes.Contains(css, []byte("@import")) || bytes.Contains(css, []byte("url(")) || bytes.Contains(css, []byte("@font-face")) {
		t.Errorf("style.css loads another resource")
	}
}

// TestSite: the page plus the trust bundle, byte for byte; a bundle the
// verifier does not accept is refused.
func TestSite(t *testing.T) {
	trust := vectorTrust(t)
	site, err := web.Site(trust)
	if err != nil {
		t.Fatal(err)
	}
	want := append(slices.Clone(pageFiles), web.TrustFile)
	slices.Sort(want)
	if got := names(t, site); !slices.Equal(got, want) {
		t.Fatalf("files %v, want %v", got, want)
	}
	got, err := fs.ReadFile(site, web.TrustFile)
	if err != nil || !bytes.Equal(got, trust) {
		t.Fatalf("trust.json differs (%v)", err)
	}
	for _, bad := range [][]byte{nil, []byte("garbage"), []byte(`{"chain_id":"x"}`), bytes.Repeat([]byte("["), 1<<16)} {
		if _, err := web.Site(bad); !errors.Is(err, web.ErrTrustBundle) {
			t.Errorf("Site(%.20q): %v, want ErrTrustBundle", bad, err)
		}
	}
}

// TestExport: the files land in the folder, equal to the embedded ones,
// replacing files of the same name and leaving others alone; nothing is
// written for a bad trust bundle.
func TestExport(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "site")
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "index.html"), []byte("old"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "other.txt"), []byte("keep"), 0o644); err != nil {
		t.Fatal(err)
	}
	trust := vectorTrust(t)
	files, err := web.Export(dir, trust)
	if err != nil {
		t.Fatal(err)
	}
	want := append(slices.Clone(pageFiles), web.TrustFile)
	slices.Sort(want)
	if !slices.Equal(files, want) {
		t.Fatalf("wrote %v, want %v", files, want)
	}
	site, err := web.Site(trust)
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range files {
		got, err := os.ReadFile(filepath.Join(dir, f))
		if err != nil {
			t.Fatal(err)
		}
		embedded, _ := fs.ReadFile(site, f)
		if !bytes.Equal(got, embedded) {
			t.Errorf("%s differs from the embedded file", f)
		}
	}
	if b, _ := os.ReadFile(filepath.Join(dir, "other.txt")); string(b) != "keep" {
		t.Errorf("other.txt changed")
	}
	empty := filepath.Join(t.TempDir(), "none")
	if _, err := web.Export(empty, []byte("{}")); !errors.Is(err, web.ErrTrustBundle) {
		t.Fatalf("Export with a bad bundle: %v", err)
	}
	if _, err := os.Stat(empty); !os.IsNotExist(err) {
		t.Errorf("Export with a bad bundle created %s", empty)
	}
}
