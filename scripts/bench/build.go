package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"runtime/debug"
	"sync"
	"time"
)

// tesseraVersion is the Tessera release the baseline installs.
const tesseraVersion = "v1.0.4"

type binaries struct {
	notaryd  string
	cometbft string
	posix    string
	hammer   string
}

// buildAll builds notaryd from this checkout into the work directory, and
// cometbft (the version in our go.mod) and Tessera's posix and hammer into
// the cache directory unless they are there already. The builds run in
// parallel.
func buildAll(ctx context.Context, o options, root, work string) (*binaries, error) {
	start := time.Now()
	b := &binaries{notaryd: filepath.Join(work, "bin", "notaryd")}
	cometVersion := depVersion("github.com/cometbft/cometbft")
	b.cometbft = filepath.Join(o.cacheDir, "cometbft-"+cometVersion, "cometbft")
	tessDir := filepath.Join(o.cacheDir, "tessera-"+tesseraVersion)
	b.posix, b.hammer = filepath.Join(tessDir, "posix"), filepath.Join(tessDir, "hammer")

	var wg sync.WaitGroup
	var mu sync.Mutex
	var errs []error
	do := func(what string, f func() error) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			t := time.Now()
			if err := f(); err != nil {
				mu.Lock()
				errs = append(errs, fmt.Errorf("%s: %w", what, err))
				mu.Unlock()
				return
			}
			logf("%s ready (%.1fs)", what, time.Since(t).Seconds())
		}()
	}
	do("notaryd", func() error {
		return goCmd(ctx, root, nil, "build", "-o", b.notaryd, "./cmd/notaryd")
	})
	if !o.skipKV && !exists(b.cometbft) {
		do("cometbft "+cometVersion, func() error {
			logf("building cometbft %s into %s (once)", cometVersion, filepath.Dir(b.cometbft))
			tmp := b.cometbft + ".tmp"
			if err := goCmd(ctx, root, nil, "build", "-o", tmp, "github.com/cometbft/cometbft/cmd/cometbft"); err != nil {
				return err
			}
			return os.Rename(tmp, b.cometbft)
		})
	}
	if !o.skipTess && (!exists(b.posix) || !exists(b.hammer)) {
		do("tessera "+tesseraVersion, func() error {
			logf("installing Tessera %s posix and hammer into %s (once; the first time takes minutes)", tesseraVersion, tessDir)
			// Outside our module, so that Tessera's own go.mod decides its
			// dependencies.
			tmp, err := os.MkdirTemp("", "notary-bench-tessera-")
			if err != nil {
				return err
			}
			defer func() { _ = os.RemoveAll(tmp) }()
			return goCmd(ctx, tmp, []string{"GOBIN=" + tessDir, "GOFLAGS=-mod=mod", "GO111MODULE=on"}, "install",
				"github.com/transparency-dev/tessera/cmd/conformance/posix@"+tesseraVersion,
				"github.com/transparency-dev/tessera/internal/hammer@"+tesseraVersion)
		})
	}
	wg.Wait()
	if len(errs) > 0 {
		return nil, errors.Join(errs...)
	}
	logf("binaries ready in %.1fs", time.Since(start).Seconds())
	return b, nil
}

// depVersion is the version of a module this program was built with.
func depVersion(path string) string {
	if bi, ok := debug.ReadBuildInfo(); ok {
		for _, d := range bi.Deps {
			if d.Path == path {
				if d.Replace != nil {
					return d.Replace.Version
				}
				return d.Version
			}
		}
	}
	return "unknown"
}

func exists(path string) bool {
	st, err := os.Stat(path)
	return err == nil && !st.IsDir()
}
