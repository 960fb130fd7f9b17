package main

import (
	"encoding/base64"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"

	"github.com/spf13/cobra"

	"github.com/gobtechlab/notary/cmd/internal/cli"
	"github.com/gobtechlab/notary/cmd/verifier/verify"
	"github.com/gobtechlab/notary/cmd/verifier/verify/msg"
	notaryv1 "github.com/gobtechlab/notary/proto/notary/v1"
)

// releaseTrust is the trust bundle built into a release, as the standard
// base64 of its trust.json bytes, set at link time:
//
//	go build -ldflags "-X main.releaseTrust=$(base64 -w0 trust.json)" ./cmd/verifier
//
// Empty in a development build.
var releaseTrust string

// Where a trust bundle came from.
const (
	trustFromFlag    = "flag"    // --trust (or NOTARY_TRUST, which sets it)
	trustFromConfig  = "config"  // the user's configuration folder
	trustFromRelease = "release" // built into the program
)

// trustSource is a trust bundle found and decoded.
type trustSource struct {
	trust  *notaryv1.TrustBundle
	path   string // the file, or "" for the built-in bundle
	source string
}

// configTrust is where the user's trust bundle lives:
// <os.UserConfigDir()>/notary/trust.json, or "" if there is no such
// folder.
func (e rootEnv) configTrust() string {
	dir := e.configDir
	if dir == "" {
		d, err := os.UserConfigDir()
		if err != nil {
			return ""
		}
		dir = d
	}
	return filepath.Join(dir, "notary", "trust.json")
}

// findTrust finds the trust bundle: --trust (NOTARY_TRUST sets it too),
// then the user's configuration folder, then the one built in at release.
// Every failure is a usage error (exit 2) with one sentence in lang.
// trustFor returns a command's language and the trust bundle it uses
// (--trust flag, else as findTrust looks for it).
func (e rootEnv) trustFor(cmd *cobra.Command, flag string) (msg.Lang, *trustSource, error) {
	lang, err := e.lang(cmd)
	if err != nil {
		return lang, nil, err
	}
	ts, err := e.findTrust(lang, flag)
	return lang, ts, err
}

func (e rootEnv) findTrust(lang msg.Lang, flag string) (*trustSource, error) {
	if flag != "" {
		return loadTrust(lang, flag, trustFromFlag)
	}
	if p := e.configTrust(); p != "" {
		if _, err := os.Stat(p); err == nil {
			return loadTrust(lang, p, trustFromConfig)
		} else if !errors.Is(err, fs.ErrNotExist) {
			return nil, cli.Fail(cli.ExitUsage, errors.New(msg.T(lang, "cli.err.trust_read", "path", safe(p), "error", err.Error())))
		}
	}
	built := releaseTrust
	if e.releaseTrust != nil {
		built = *e.releaseTrust
	}
	if built != "" {
		b, err := base64.StdEncoding.DecodeString(built)
		if err != nil {
			return nil, cli.Fail(cli.ExitUsage, errors.New(msg.T(lang, "cli.err.trust_invalid", "path", "(release)", "error", err.Error())))
		}
		tb, err := verify.DecodeTrustBundle(b)
		if err != nil {
			return nil, cli.Fail(cli.ExitUsage, errors.New(msg.T(lang, "cli.err.trust_invalid", "path", "(release)", "error", err.Error())))
		}
		return &trustSource{trust: tb, source: trustFromRelease}, nil
	}
	where := e.configTrust()
	if where == "" {
		where = filepath.Join("~", ".config", "notary", "trust.json")
	}
	return nil, cli.Fail(cli.ExitUsage, errors.New(msg.T(lang, "cli.err.no_trust", "path", safe(where))))
}

// loadTrust reads and decodes a trust bundle file.
func loadTrust(lang msg.Lang, path, source string) (*trustSource, error) {
	b, err := readFile("trust bundle", path)
	if err != nil {
		var ee *cli.ExitError
		if errors.As(err, &ee) && ee.Err != nil {
			err = ee.Err
		}
		return nil, cli.Fail(cli.ExitUsage, errors.New(msg.T(lang, "cli.err.trust_read", "path", safe(path), "error", err.Error())))
	}
	tb, err := verify.DecodeTrustBundle(b)
	if err != nil {
		return nil, cli.Fail(cli.ExitUsage, errors.New(msg.T(lang, "cli.err.trust_invalid", "path", safe(path), "error", err.Error())))
	}
	return &trustSource{trust: tb, path: path, source: source}, nil
}

// describe is where the bundle came from, for --output json.
func (t *trustSource) describe() string {
	if t.path == "" {
		return t.source
	}
	return fmt.Sprintf("%s (%s)", t.path, t.source)
}
