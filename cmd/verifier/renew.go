package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/gobtechlab/notary/app/logproof"
	"github.com/gobtechlab/notary/cmd/internal/cli"
	"github.com/gobtechlab/notary/cmd/verifier/verify"
	notaryv1 "github.com/gobtechlab/notary/proto/notary/v1"
)

// renewTimeout bounds the requests to each endpoint of a renewal.
const renewTimeout = 30 * time.Second

// renewResult is what `verifier renew` wrote.
type renewResult struct {
	Input  string `json:"input"`
	Output string `json:"output"`
	// OldVersion is the input's version (1 or 2); the output is v2.
	OldVersion uint32 `json:"old_version"`
	// OldCheckpointSize is the log size of the input's checkpoint (0 for
	// v1); CheckpointSize the output's.
	OldCheckpointSize uint64 `json:"old_checkpoint_size,omitempty"`
	CheckpointSize    uint64 `json:"checkpoint_size"`
	// LeafIndex is the batch's leaf in the log.
	LeafIndex uint64 `json:"leaf_index"`
	// Signers are the validators whose signatures of the new checkpoint
	// were counted.
	Signers  []string `json:"signers"`
	Endpoint string   `json:"endpoint"`
}

func (r renewResult) Text(w io.Writer) error {
	was := "a v1 receipt"
	if r.OldVersion == 2 {
		was = fmt.Sprintf("the checkpoint of %d leaves", r.OldCheckpointSize)
	}
	_, err := fmt.Fprintf(w, "renewed %s -> %s\n  checkpoint of %d leaves (was %s), batch at leaf %d\n  signed by   %s\n  from        %s\n",
		safe(r.Input), safe(r.Output), r.CheckpointSize, was, r.LeafIndex, safe(strings.Join(r.Signers, ", ")), safe(r.Endpoint))
	return err
}

func newRenewCmd(env rootEnv) *cobra.Command {
	var trustPath, out string
	var nodes []string
	cmd := &cobra.Command{
		Use:   "renew RECEIPT [--node URL] [--out FILE]",
		Short: "bring a receipt up to the latest checkpoint of the evidence log (online)",
		Long: `renew writes a v2 receipt (docs/receipt.md, "Receipt v2") of the same
document at the latest checkpoint of the evidence log that a public
endpoint serves, from a v1 or v2 receipt, using only the public endpoints
(the log's tiles and /log/checkpoint): the trust bundle's public_endpoints,
or --node URL (repeatable) instead.

  - From a v1 receipt, the batch's leaf is found in the log by the batch
    record's height and transaction index, and must be that record. A v1
    receipt that shows its document revoked is refused: a v2 receipt does
    not carry the revocation.
  - From a v2 receipt, its leaf must be at its index in the new log, and
    the new checkpoint's log must extend the receipt's checkpoint (a
    consistency proof from the tiles): an endpoint cannot rewrite the
    history the receipt fixed.
The new checkpoint must carry the signatures of more than 2/3 of the trust
bundle's validators' power. The document binding and the digest's path in
its batch are kept; verify the result with verifier verify.

The output goes to --out FILE, else beside the input as RECEIPT.v2.json
(x.receipt.json gives x.receipt.v2.json); the input is never replaced
unless --out names it.

Endpoints are tried in turn: one that does not answer, whose checkpoint
does not verify under the trust bundle, or whose tiles do not match its
checkpoint fails, and the next is tried.

Exit codes: 0 renewed; 1 refused (the v1 receipt shows its document
revoked; the log, checked against a checkpoint that verifies, does not
extend the receipt's checkpoint or does not hold its batch record; no
checkpoint covers the batch yet; the endpoint's checkpoint is older than
the receipt's; or no endpoint served a checkpoint that verifies and one
served a checkpoint that does not); 2 usage error (unreadable receipt or
trust bundle, bad flag, output not writable); 4 no endpoint answered
properly.`,
		Args: func(cmd *cobra.Command, args []string) error {
			if len(args) != 1 {
				return cli.Usage("renew takes one argument: the receipt file")
			}
			return nil
		},
		RunE: cli.Run(func(cmd *cobra.Command, args []string) (any, error) {
			lang, err := env.lang(cmd)
			if err != nil {
				return nil, err
			}
			var eps []string
			for _, n := range nodes {
				u, err := checkNodeURL(n)
				if err != nil {
					return nil, cli.Usage("--node %s: %v", safe(n), err)
				}
				eps = append(eps, u)
			}
			ts, err := env.findTrust(lang, trustPath)
			if err != nil {
				return nil, err
			}
			if len(eps) == 0 {
				eps = ts.trust.PublicEndpoints
			}
			if len(eps) == 0 {
				return nil, cli.Usage("the trust bundle names no public endpoint: give --node URL")
			}
			in := args[0]
			b, err := readFile("receipt", in)
			if err != nil {
				return nil, err
			}
			old, err := verify.DecodeReceipt(b)
			if err != nil {
				return nil, cli.Fail(cli.ExitUsage, fmt.Errorf("%s: %w", in, err))
			}
			if old.GetChainId() != ts.trust.GetChainId() {
				return nil, cli.Fail(cli.ExitFailure, fmt.Errorf("%s is a receipt of chain %q, the trust bundle is of %q", in, old.GetChainId(), ts.trust.GetChainId()))
			}
			if out == "" {
				out = strings.TrimSuffix(in, ".json") + ".v2.json"
			}
			r, res, err := renewAt(cmd.Context(), ts.trust, old, eps)
			if err != nil {
				return nil, err
			}
			enc, err := verify.EncodeReceiptFile(r)
			if err != nil {
				return nil, cli.Fail(cli.ExitFailure, err)
			}
			if err := writeFile(out, enc); err != nil {
				return nil, cli.Fail(cli.ExitUsage, err)
			}
			res.Input, res.Output = in, out
			return res, nil
		}),
	}
	cmd.Flags().StringVar(&trustPath, "trust", "", "the consortium's trust bundle (default: the configured one)")
	cmd.Flags().StringArrayVar(&nodes, "node", nil, "a public endpoint to renew from, instead of the trust bundle's (repeatable)")
	cmd.Flags().StringVar(&out, "out", "", "where to write the v2 receipt (default: RECEIPT.v2.json)")
	return cmd
}

// renewAt renews r at the latest checkpoint of the first endpoint that
// answers properly. An endpoint that does not answer, serves tiles that do
// not match its checkpoint, or serves a checkpoint that does not verify
// under the trust bundle fails, and the next is tried. A log, its tiles
// checked against a checkpoint that verifies, that does not prove the
// renewal refuses it (exit 1) whichever endpoint served it: a checkpoint
// with valid signatures that does not extend the receipt's is evidence
// against the consortium, not a network failure. With no endpoint left,
// a checkpoint that did not verify refuses (exit 1), else exit 4.
func renewAt(ctx context.Context, trust *notaryv1.TrustBundle, r *notaryv1.Receipt, eps []string) (*notaryv1.Receipt, renewResult, error) {
	client := &http.Client{Timeout: renewTimeout}
	var errs, bad []error
	for _, ep := range eps {
		tiles := logproof.HTTPTiles{URL: ep, Client: client}
		note, err := tiles.Checkpoint(ctx)
		if err != nil {
			if cerr := ctx.Err(); cerr != nil {
				return nil, renewResult{}, cerr
			}
			errs = append(errs, err)
			continue
		}
		cp, err := checkRenewCheckpoint(trust, note)
		if err != nil {
			bad = append(bad, fmt.Errorf("%s: the checkpoint does not verify under the trust bundle: %w", ep, err))
			continue
		}
		out, ren, err := logproof.Renew(ctx, tiles, r, note)
		switch {
		case errors.Is(err, logproof.ErrBadTiles):
			if cerr := ctx.Err(); cerr != nil {
				return nil, renewResult{}, cerr
			}
			errs = append(errs, fmt.Errorf("%s: %w", ep, err))
			continue
		case errors.Is(err, logproof.ErrRevoked):
			return nil, renewResult{}, cli.Fail(cli.ExitFailure, fmt.Errorf("renewal refused: %w: keep the v1 receipt, it proves the revocation", err))
		case errors.Is(err, logproof.ErrOlder), errors.Is(err, logproof.ErrInconsistent), errors.Is(err, logproof.ErrLeafNotFound):
			return nil, renewResult{}, cli.Fail(cli.ExitFailure, fmt.Errorf("%s: renewal refused: %w", ep, err))
		case err != nil:
			if cerr := ctx.Err(); cerr != nil {
				return nil, renewResult{}, cerr
			}
			errs = append(errs, fmt.Errorf("%s: %w", ep, err))
			continue
		}
		if res, err := verify.VerifyReceipt(out, trust, nil); err != nil || res.Verdict == verify.NotValid {
			if err == nil {
				err = fmt.Errorf("%s: %s", res.Reason, res.Detail)
			}
			return nil, renewResult{}, cli.Fail(cli.ExitFailure, fmt.Errorf("%s: the renewed receipt does not verify under the trust bundle: %w", ep, err))
		}
		return out, renewResult{OldVersion: ren.OldVersion, OldCheckpointSize: ren.OldSize, CheckpointSize: ren.NewSize, LeafIndex: ren.LeafIndex, Signers: cp.Signers, Endpoint: ep}, nil
	}
	if len(bad) > 0 {
		return nil, renewResult{}, cli.Fail(cli.ExitFailure, errors.Join(append(bad, errs...)...))
	}
	return nil, renewResult{}, cli.Fail(cli.ExitUnavail, fmt.Errorf("no endpoint answered: %w", errors.Join(errs...)))
}

// checkRenewCheckpoint checks a checkpoint a renewal brings a receipt to:
// signatures of more than 2/3 of the power of the trust bundle's log
// validators (its validators if it names none).
func checkRenewCheckpoint(trust *notaryv1.TrustBundle, note []byte) (*verify.LogCheckpoint, error) {
	vals := trust.GetLogValidators()
	if len(vals) == 0 {
		vals = trust.GetValidators()
	}
	lv := make([]verify.LogValidator, 0, len(vals))
	for _, v := range vals {
		lv = append(lv, verify.LogValidator{MinistryID: v.GetMinistryId(), PubKey: v.GetPubKey(), Power: v.GetPower()})
	}
	return verify.VerifyLogCheckpoint(trust.GetChainId(), note, lv)
}

// writeFile writes a renewed receipt's bytes atomically
// (cli.WriteFileAtomic).
func writeFile(path string, b []byte) error {
	if err := cli.WriteFileAtomic(path, b); err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	return nil
}
