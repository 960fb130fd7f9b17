package web

import (
	"embed"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"sort"
	"testing/fstest"
	"time"

	"github.com/gobtechlab/notary/cmd/verifier/verify"
)

// TrustFile is the name of the trust bundle beside the page.
const TrustFile = "trust.json"

// ErrTrustBundle marks a trust bundle that the verifier does not accept.
var ErrTrustBundle = errors.New("trust bundle")

//go:embed static
var static embed.FS

// FS is the page: index.html, style.css, app.js, favicon.svg,
// wasm_exec.js and verifier.wasm.gz, at the root, without a trust bundle.
func FS() fs.FS {
	sub, err := fs.Sub(static, "static")
	if err != nil {
		panic(fmt.Sprintf("web: embedded files: %v", err))
	}
	return sub
}

// Site is the page with trustJSON as its trust.json. The bundle must be
// one verify.DecodeTrustBundle accepts.
func Site(trustJSON []byte) (fs.FS, error) {
	if _, err := verify.DecodeTrustBundle(trustJSON); err != nil {
		return nil, fmt.Errorf("%w: %w", ErrTrustBundle, err)
	}
	files := fstest.MapFS{}
	err := fs.WalkDir(FS(), ".", func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		b, err := fs.ReadFile(FS(), p)
		if err != nil {
			return err
		}
		files[p] = &fstest.MapFile{Data: b, Mode: 0o644, ModTime: time.Time{}}
		return nil
	})
	if err != nil {
		return nil, err
	}
	files[TrustFile] = &fstest.MapFile{Data: append([]byte(nil), trustJSON...), Mode: 0o644}
	return files, nil
}

// Export writes the page and trustJSON (as trust.json) into dir, creating
// it if needed, and returns the names it wrote, sorted. It replaces files of
// the same names and leaves other files in dir alone.
func Export(dir string, trustJSON []byte) ([]string, error) {
	site, err := Site(trustJSON)
	if err != nil {
		return nil, err
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, err
	}
	var names []string
	err = fs.WalkDir(site, ".", func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		b, err := fs.ReadFile(site, p)
		if err != nil {
			return err
		}
		dst := filepath.Join(dir, filepath.FromSlash(p))
		if err := os.MkdirAll(filepath.Dir(dst), 0o755); err != nil {
			return err
		}
		if err := writeFile(dst, b); err != nil {
			return err
		}
		names = append(names, path.Clean(p))
		return nil
	})
	if err != nil {
		return nil, err
	}
	sort.Strings(names)
	return names, nil
}

// writeFile writes b to name through a temporary file renamed into place,
// so that a server reading the folder never sees half a file.
func writeFile(name string, b []byte) (err error) {
	f, err := os.CreateTemp(filepath.Dir(name), ".web-*")
	if err != nil {
		return err
	}
	defer func() {
		if err != nil {
			_ = os.Remove(f.Name()) // best effort: the write already failed
		}
	}()
	_, werr := f.Write(b)
	cerr := f.Close()
	if err := errors.Join(werr, cerr); err != nil {
		return err
	}
	if err := os.Chmod(f.Name(), 0o644); err != nil {
		return err
	}
	return os.Rename(f.Name(), name)
}
