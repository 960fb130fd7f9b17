package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strconv"
	"time"

	"github.com/spf13/cobra"

	"github.com/gobtechlab/notary/app/inputfile"
	"github.com/gobtechlab/notary/cmd/internal/cli"
	"github.com/gobtechlab/notary/cmd/verifier/verify"
	"github.com/gobtechlab/notary/cmd/verifier/verify/msg"
	notaryv1 "github.com/gobtechlab/notary/proto/notary/v1"
)

// verdict is the verify command's result: the verification and how to
// print it.
type verdict struct {
	res   *verify.Result
	lang  verify.Lang
	loc   *time.Location
	trust string // where the trust bundle came from
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
		ExitCode    int    `json:"exit_code"`
		Message     string `json:"message"`
		TrustSource string `json:"trust_source,omitempty"`
	}{v.res, v.ExitCode(), v.res.Text(v.lang, v.loc), v.trust})
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

func newVerifyCmd(env rootEnv, lang msg.Lang) *cobra.Command {
	var trustPath, tz string
	var nodes []string
	var offline bool
	cmd := &cobra.Command{
		Use:   "verify DOCUMENT RECEIPT",
		Short: msg.T(lang, "cli.verify.short"),
		Long:  msg.T(lang, "cli.verify.long", "config", env.configTrust(), "seconds", strconv.Itoa(int(liveTimeout/time.Second))),
		Args: func(cmd *cobra.Command, args []string) error {
			if len(args) != 2 {
				l, _ := env.lang(cmd)
				return cli.Usage("%s", msg.T(l, "cli.err.args"))
			}
			return nil
		},
		RunE: cli.Run(func(cmd *cobra.Command, args []string) (any, error) {
			lang, err := env.lang(cmd)
			if err != nil {
				return nil, err
			}
			loc, err := env.zone(tz)
			if err != nil {
				return nil, err
			}
			if offline && len(nodes) > 0 {
				return nil, cli.Usage("%s", msg.T(lang, "cli.err.offline_node"))
			}
			var extra []string
			for _, n := range nodes {
				u, err := checkNodeURL(n)
				if err != nil {
					return nil, cli.Usage("%s", msg.T(lang, "cli.err.node_url", "value", safe(n)))
				}
				extra = append(extra, u)
			}
			ts, err := env.findTrust(lang, trustPath)
			if err != nil {
				return nil, err
			}
			receipt, err := readFile("receipt", args[1])
			if err != nil {
				return nil, cli.Fail(cli.ExitUsage, errors.New(msg.T(lang, "cli.err.receipt_read", "path", safe(args[1]), "error", cause(err).Error())))
			}
			doc, err := inputfile.Open(args[0])
			if err != nil {
				return nil, cli.Fail(cli.ExitUsage, errors.New(msg.T(lang, "cli.err.document_read", "path", safe(args[0]), "error", err.Error())))
			}
			defer func() { _ = doc.Close() }() // read only
			res, err := verify.Verify(verify.Input{Receipt: receipt, Trust: ts.trust, Document: ctxReader{ctx: cmd.Context(), r: doc}})
			if err != nil {
				if cerr := cmd.Context().Err(); cerr != nil {
					return nil, cerr
				}
				return nil, cli.Fail(cli.ExitUsage, errors.New(msg.T(lang, "cli.err.document_read", "path", safe(args[0]), "error", err.Error())))
			}
			var outcomes []verify.NodeOutcome
			if eps := endpoints(ts.trust, extra); !offline && res.Verdict != verify.NotValid && len(eps) > 0 {
				rcpt, err := verify.DecodeReceipt(receipt)
				if err != nil {
					return nil, fmt.Errorf("receipt verified but not decoded: %w", err)
				}
				outcomes = fetchLive(cmd.Context(), ts.trust, rcpt, eps, env.liveTimeout())
				if cerr := cmd.Context().Err(); cerr != nil {
					return nil, cerr
				}
			}
			return verdict{res: verify.Combine(res, outcomes), lang: lang, loc: loc, trust: ts.describe()}, nil
		}),
	}
	cmd.Flags().StringVar(&trustPath, "trust", "", msg.T(lang, "cli.flag.trust"))
	cmd.Flags().StringArrayVar(&nodes, "node", nil, msg.T(lang, "cli.flag.node"))
	cmd.Flags().BoolVar(&offline, "offline", false, msg.T(lang, "cli.flag.offline"))
	cmd.Flags().StringVar(&tz, "tz", "", msg.T(lang, "cli.flag.tz"))
	return cmd
}

// cause is the error inside an exit error.
func cause(err error) error {
	var ee *cli.ExitError
	if errors.As(err, &ee) && ee.Err != nil {
		return ee.Err
	}
	return err
}
