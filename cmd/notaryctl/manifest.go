package main

import (
	"bufio"
	"bytes"
	"fmt"
	"io"
	"path/filepath"
	"strings"

	"github.com/gobtechlab/notary/app/inputfile"
	"github.com/gobtechlab/notary/cmd/internal/cli"
	"github.com/gobtechlab/notary/cmd/verifier/verify/vcode"
)

// maxManifestSize bounds a --codes manifest.
const maxManifestSize = 64 << 20

// anchorInputs is what anchor anchors: the files of PATH... (folders
// walked), the one FILE of --code, or the files of the --codes manifest,
// each with its code. Every input is checked here, before anything is
// sent; a failure is a usage error.
func anchorInputs(args []string, out, code, manifest string, bare bool) ([]inputFile, error) {
	switch {
	case code != "" && manifest != "":
		return nil, cli.Usage("--code and --codes cannot be used together")
	case (code != "" || manifest != "") && bare:
		return nil, cli.Usage("--bare cannot be used with verification codes: a coded document is always salted, with its code's salt")
	case code != "":
		if len(args) != 1 {
			return nil, cli.Usage("--code anchors one file: notaryctl anchor --code CODE FILE (for many, --codes MANIFEST)")
		}
		c, err := vcode.ParseLink(code)
		if err != nil {
			return nil, cli.Usage("--code: %w", err)
		}
		if err := inputfile.Check(args[0]); err != nil {
			return nil, cli.Usage("%w", err)
		}
		files, err := collectFiles(args, out)
		if err != nil {
			return nil, err
		}
		files[0].Code = c
		return files, nil
	case manifest != "":
		if len(args) != 0 {
			return nil, cli.Usage("--codes takes the files from the manifest: give no PATH")
		}
		return readManifest(manifest, out)
	case len(args) == 0:
		return nil, cli.Usage("give the files or folders to anchor: notaryctl anchor PATH...")
	}
	return collectFiles(args, out)
}

// readManifest reads a --codes manifest: "file,code" lines (the file
// relative to the manifest's folder, the code as printed), blank lines and
// # comments skipped. A line that is not of that form, a file that is not
// a readable regular file, a bad code, or a file or code given twice is a
// usage error naming the line.
func readManifest(path, out string) ([]inputFile, error) {
	f, err := inputfile.Open(path)
	if err != nil {
		return nil, cli.Usage("--codes: %w", err)
	}
	defer func() { _ = f.Close() }() // read only
	var buf bytes.Buffer
	if _, err := buf.ReadFrom(io.LimitReader(f, maxManifestSize+1)); err != nil {
		return nil, cli.Usage("--codes %s: %w", path, err)
	}
	if buf.Len() > maxManifestSize {
		return nil, cli.Usage("--codes %s: larger than %d MB", path, maxManifestSize>>20)
	}
	dir := filepath.Dir(path)
	var paths []string
	var codes []vcode.Code
	seenFile := map[string]int{}
	seenCode := map[vcode.Code]int{}
	sc := bufio.NewScanner(&buf)
	sc.Buffer(make([]byte, 0, 64<<10), 1<<20)
	for n := 1; sc.Scan(); n++ {
		line := strings.TrimSpace(sc.Text())
		if n == 1 {
			line = strings.TrimPrefix(line, "\ufeff")
		}
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		bad := func(format string, a ...any) error {
			return cli.Usage("--codes %s, line %d: %s", path, n, fmt.Sprintf(format, a...))
		}
		i := strings.LastIndexByte(line, ',')
		if i < 0 {
			return nil, bad(`want "file,code"`)
		}
		name, text := strings.TrimSpace(line[:i]), strings.TrimSpace(line[i+1:])
		if name == "" {
			return nil, bad("no file before the comma")
		}
		c, err := vcode.Parse(text)
		if err != nil {
			return nil, bad("%v", err)
		}
		p := name
		if !filepath.IsAbs(p) {
			p = filepath.Join(dir, p)
		}
		if err := inputfile.Check(p); err != nil {
			return nil, bad("%v", err)
		}
		abs, err := filepath.Abs(p)
		if err != nil {
			return nil, bad("%v", err)
		}
		if prev, ok := seenFile[abs]; ok {
			return nil, bad("%s is also on line %d", name, prev)
		}
		if prev, ok := seenCode[c]; ok {
			return nil, bad("code %s is also on line %d", c, prev)
		}
		seenFile[abs], seenCode[c] = n, n
		paths = append(paths, p)
		codes = append(codes, c)
	}
	if err := sc.Err(); err != nil {
		return nil, cli.Usage("--codes %s: %w", path, err)
	}
	if len(paths) == 0 {
		return nil, cli.Usage("--codes %s: no files in it", path)
	}
	files, err := collectFiles(paths, out)
	if err != nil {
		return nil, err
	}
	for i := range files {
		files[i].Code = codes[i]
	}
	return files, nil
}
