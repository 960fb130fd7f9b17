package main

import (
	"context"
	"encoding/hex"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"

	"github.com/spf13/cobra"

	"github.com/gobtechlab/notary/app/client"
	"github.com/gobtechlab/notary/app/inputfile"
	"github.com/gobtechlab/notary/cmd/internal/cli"
	"github.com/gobtechlab/notary/cmd/verifier/verify/vcode"
	"github.com/gobtechlab/notary/ledger"
)

// flagAlgorithm selects the hash algorithm of documents.
const flagAlgorithm = "algorithm"

// receiptSuffix is appended to a document's name for its receipt.
const receiptSuffix = ".receipt.json"

// addAlgorithmFlag adds --algorithm to cmd.
func addAlgorithmFlag(cmd *cobra.Command) {
	cmd.Flags().String(flagAlgorithm, "sha2-256", "hash algorithm of documents: sha2-256 or sha3-256")
}

// algorithmOf parses --algorithm.
func algorithmOf(cmd *cobra.Command) (ledger.HashAlgorithm, error) {
	s, _ := cmd.Flags().GetString(flagAlgorithm)
	alg, ok := ledger.ParseAlgorithm(strings.ToLower(s))
	if !ok {
		return 0, cli.Usage("--algorithm %q: unknown hash algorithm (use sha2-256 or sha3-256)", s)
	}
	return alg, nil
}

// target is a command's FILE|DIGEST argument: a file to hash, or the hex
// digest of a document.
type target struct {
	// Arg is the argument as given.
	Arg string
	// Path is the file, or "" for a digest.
	Path string
	// Digest is the document digest given as hex (nil for a file until it is
	// hashed).
	Digest []byte
}

// parseTarget reads a FILE|DIGEST argument. An existing path is a file (it
// must be a regular file); otherwise the argument must be a 64-character hex
// digest. Anything else is a usage error that says which of the two it
// looked like.
func parseTarget(arg string) (target, error) {
	if arg == "" {
		return target{}, cli.Usage("empty FILE|DIGEST argument")
	}
	err := inputfile.Check(arg)
	if err == nil {
		return target{Arg: arg, Path: arg}, nil
	}
	if !errors.Is(err, fs.ErrNotExist) {
		return target{}, cli.Usage("%w", err)
	}
	if looksHex(arg) {
		if len(arg) != 2*ledger.DigestSize {
			return target{}, cli.Usage("%q is not a digest: want %d hex characters, got %d (and no such file)", arg, 2*ledger.DigestSize, len(arg))
		}
		d, err := hex.DecodeString(arg)
		if err != nil {
			return target{}, cli.Usage("%q is not a digest: %w", arg, err)
		}
		return target{Arg: arg, Digest: d}, nil
	}
	if len(arg) == 2*ledger.DigestSize && !strings.ContainsAny(arg, `/\.`) {
		return target{}, cli.Usage("%q is not a digest: not hexadecimal (and no such file)", arg)
	}
	return target{}, cli.Usage("%s: no such file (nor a %d-character hex digest)", arg, 2*ledger.DigestSize)
}

// looksHex reports whether s is made of hex digits only.
func looksHex(s string) bool {
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !('0' <= c && c <= '9' || 'a' <= c && c <= 'f' || 'A' <= c && c <= 'F') {
			return false
		}
	}
	return len(s) > 0
}

// document returns the target's digest, hashing the file if it is one
// (until ctx ends); an unreadable file is a usage error.
func (t *target) document(ctx context.Context, alg ledger.HashAlgorithm) ([]byte, error) {
	if t.Path == "" {
		return t.Digest, nil
	}
	if t.Digest == nil {
		d, err := hashFile(ctx, alg, t.Path)
		if err != nil {
			return nil, err
		}
		t.Digest = d
	}
	return t.Digest, nil
}

// hashFile hashes a file to anchor or look up. A file that cannot be read
// is a usage error; --timeout passing first, exit 4.
func hashFile(ctx context.Context, alg ledger.HashAlgorithm, path string) ([]byte, error) {
	d, err := client.HashFileContext(ctx, alg, path)
	switch {
	case err == nil:
		return d, nil
	case errors.Is(err, context.DeadlineExceeded):
		return nil, cli.Fail(cli.ExitUnavail, fmt.Errorf("--timeout passed while hashing %s", path))
	case errors.Is(err, context.Canceled):
		return nil, err
	}
	return nil, cli.Usage("%w", err)
}

// inputFile is a file to anchor and where its receipt goes.
type inputFile struct {
	Path    string
	Receipt string
	// Code is the verification code to anchor the file under; zero for
	// none.
	Code vcode.Code
}

// collectFiles expands the anchor command's PATH arguments: files as given,
// folders walked recursively (receipt files skipped), each file once. The
// receipt of a file goes beside it, or with out set, into out: a file given
// by name as out/<name>.receipt.json, a file found in a folder at its path
// relative to that folder. Two files whose receipts would collide are a
// usage error.
func collectFiles(args []string, out string) ([]inputFile, error) {
	var files []inputFile
	seen := map[string]bool{}
	receipts := map[string]string{}
	add := func(path, rel string) error {
		abs, err := filepath.Abs(path)
		if err != nil {
			return cli.Usage("%w", err)
		}
		if seen[abs] {
			return nil
		}
		seen[abs] = true
		r := path + receiptSuffix
		if out != "" {
			r = filepath.Join(out, rel+receiptSuffix)
		}
		ra, err := filepath.Abs(r)
		if err != nil {
			return cli.Usage("%w", err)
		}
		if prev, ok := receipts[ra]; ok {
			return cli.Usage("%s and %s would both write the receipt %s: anchor them separately or without --out", prev, path, r)
		}
		receipts[ra] = path
		files = append(files, inputFile{Path: path, Receipt: r})
		return nil
	}
	for _, arg := range args {
		st, err := os.Stat(arg)
		if err != nil {
			return nil, cli.Usage("%w", err)
		}
		switch {
		case st.Mode().IsRegular():
			if err := add(arg, filepath.Base(arg)); err != nil {
				return nil, err
			}
		case st.IsDir():
			err := filepath.WalkDir(arg, func(path string, d fs.DirEntry, err error) error {
				if err != nil {
					return cli.Usage("%w", err)
				}
				if d.IsDir() || strings.HasSuffix(path, receiptSuffix) {
					return nil
				}
				if !d.Type().IsRegular() {
					st, err := os.Stat(path) // a symbolic link to a file counts
					if err != nil || !st.Mode().IsRegular() {
						return nil
					}
				}
				rel, err := filepath.Rel(arg, path)
				if err != nil {
					return cli.Usage("%w", err)
				}
				return add(path, rel)
			})
			if err != nil {
				return nil, err
			}
		default:
			return nil, cli.Usage("%s is %s, not a file or folder", arg, inputfile.Kind(st.Mode()))
		}
	}
	if len(files) == 0 {
		return nil, cli.Usage("no files to anchor in %s", strings.Join(args, ", "))
	}
	return files, nil
}

// errorText is err's message, for results that report failures per item.
func errorText(err error) string {
	if err == nil {
		return ""
	}
	return fmt.Sprint(err)
}
