package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"time"

	"github.com/spf13/cobra"

	"github.com/gobtechlab/notary/app/inputfile"
	"github.com/gobtechlab/notary/cmd/internal/cli"
	"github.com/gobtechlab/notary/cmd/verifier/verify"
	notaryv1 "github.com/gobtechlab/notary/proto/notary/v1"
)

// verdict is the verify command's result: the verification and how to
// print it.
type verdict struct {
	res  *verify.Result
	lang verify.Lang
	loc  *time.Location
}

// ExitCode: 0 valid, 3 revoked, 1 not valid.
func (v verdict) ExitCode() int {
	switch v.res.Verdict {
	case verify.Valid:
		return cli.ExitOK
	case verify.Revoked:
		return cli.ExitRevoked
	}
	return cli.ExitFailure
}

func (v verdict) Text(w io.Writer) error {
	_, err := fmt.Fprintln(w, v.res.Text(v.lang, v.loc))
	return err
}

// MarshalJSON gives every step with its result, the exit code and the text.
func (v verdict) MarshalJSON() ([]byte, error) {
	return json.Marshal(struct {
		*verify.Result
		ExitCode int    `json:"exit_code"`
		Message  string `json:"message"`
	}{v.res, v.ExitCode(), v.res.Text(v.lang, v.loc)})
}

// readFile reads a named input, a regular file; a failure is a usage error
// (exit 2).
func readFile(what, path string) ([]byte, error) {
	f, err := inputfile.Open(path)
	if err != nil {
		return nil, cli.Fail(cli.ExitUsage, fmt.Errorf("%s: %w", what, err))
	}
	defer func() { _ = f.Close() }() // read only
	// One byte more than the limit, so that decoding sees an oversize file.
	b, err := io.ReadAll(io.LimitReader(f, verify.MaxFileSize+1))
	if err != nil {
		return nil, cli.Fail(cli.ExitUsage, fmt.Errorf("%s: %w", what, err))
	}
	return b, nil
}

// ctxReader reads r until ctx ends (a large document is hashed as it is
// read).
type ctxReader struct {
	ctx context.Context
	r   io.Reader
}

func (c ctxReader) Read(p []byte) (int, error) {
	if err := c.ctx.Err(); err != nil {
		return 0, err
	}
	return c.r.Read(p)
}

// readTrust reads and decodes the trust bundle of --trust (path); a missing
// flag or an unreadable or invalid bundle is a usage error (exit 2).
func readTrust(path string) (*notaryv1.TrustBundle, error) {
	if path == "" {
		return nil, cli.Usage("--trust is required: the consortium's trust bundle (trust.json)")
	}
	tb, err := readFile("trust bundle", path)
	if err != nil {
		return nil, err
	}
	trust, err := verify.DecodeTrustBundle(tb)
	if err != nil {
		return nil, cli.Fail(cli.ExitUsage, fmt.Errorf("%s: %w", path, err))
	}
	return trust, nil
}

func newVerifyCmd(env rootEnv) *cobra.Command {
	var trustPath, tz string
	cmd := &cobra.Command{
		Use:   "verify DOCUMENT RECEIPT --trust TRUST",
		Short: "check a document against its receipt, offline",
		Long: `verify checks, without any network, that DOCUMENT is the document the
receipt RECEIPT proves was registered on the chain of the trust bundle TRUST,
and whether it was revoked. It prints one paragraph for a citizen (or, with
--output json, every step checked and its result).

Exit codes: 0 valid and not revoked, 3 valid but revoked, 1 not valid
(document does not match, proof invalid, signatures insufficient or invalid,
validators not reached from the trust bundle, wrong chain, malformed
receipt), 2 usage error or unreadable file.`,
		Args: cobra.ExactArgs(2),
		RunE: cli.Run(func(cmd *cobra.Command, args []string) (any, error) {
			lang, err := env.lang(cmd)
			if err != nil {
				return nil, err
			}
			loc, err := env.zone(tz)
			if err != nil {
				return nil, err
			}
			trust, err := readTrust(trustPath)
			if err != nil {
				return nil, err
			}
			receipt, err := readFile("receipt", args[1])
			if err != nil {
				return nil, err
			}
			doc, err := inputfile.Open(args[0])
			if err != nil {
				return nil, cli.Fail(cli.ExitUsage, fmt.Errorf("document: %w", err))
			}
			defer func() { _ = doc.Close() }() // read only
			res, err := verify.Verify(verify.Input{Receipt: receipt, Trust: trust, Document: ctxReader{ctx: cmd.Context(), r: doc}})
			if err != nil {
				if cerr := cmd.Context().Err(); cerr != nil {
					return nil, cerr
				}
				return nil, cli.Fail(cli.ExitUsage, fmt.Errorf("document %s: %w", args[0], err))
			}
			return verdict{res: res, lang: lang, loc: loc}, nil
		}),
	}
	cmd.Flags().StringVar(&trustPath, "trust", "", "the consortium's trust bundle (trust.json)")
	cmd.Flags().StringVar(&tz, "tz", "", "time zone of local times, e.g. Europe/Madrid (default: the system's)")
	return cmd
}
