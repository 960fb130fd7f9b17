package main

import (
	"fmt"
	"io"

	"github.com/spf13/cobra"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"github.com/gobtechlab/notary/app/client"
	"github.com/gobtechlab/notary/cmd/internal/cli"
	"github.com/gobtechlab/notary/ledger"
)

// lookupResult is the get command's result: where a document is anchored,
// by whom, when, and its status at a height.
type lookupResult struct {
	Input      string          `json:"input"`
	Document   documentView    `json:"document"`
	Batch      batchView       `json:"batch"`
	Issuer     *agencyView     `json:"issuer"`
	Status     string          `json:"status"`
	Revocation *revocationView `json:"revocation,omitempty"`
	// AsOfHeight is the height the answer (and its proofs) is against.
	AsOfHeight int64 `json:"as_of_height"`
}

// ExitCode: 0 anchored and not revoked, 3 revoked.
func (r *lookupResult) ExitCode() int {
	if r.Revocation != nil {
		return exitRevoked
	}
	return cli.ExitOK
}

func (r *lookupResult) Text(w io.Writer) error {
	issuer := safe(r.Batch.Agency)
	if r.Issuer != nil {
		issuer = fmt.Sprintf("%s (%s)", safe(r.Issuer.Name), safe(r.Issuer.ID))
	}
	anchoring := r.Document.anchoring()
	fmt.Fprintf(w, "%s: anchored\n", safe(r.Input))
	fmt.Fprintf(w, "  document   %s %s\n", safe(r.Document.HashAlgorithm), safe(r.Document.DocumentDigest))
	fmt.Fprintf(w, "  anchored   %s (%s)\n", safe(r.Document.AnchoredDigest), anchoring)
	fmt.Fprintf(w, "  issuer     %s\n", issuer)
	fmt.Fprintf(w, "  batch      %s, leaf %d of %d", safe(r.Batch.ID), r.Batch.Leaf, r.Batch.Count)
	if r.Batch.Label != "" {
		fmt.Fprintf(w, ", label %q", r.Batch.Label)
	}
	fmt.Fprintf(w, "\n  block      height %d, %s\n", r.Batch.Height, stamp(r.Batch.Time))
	fmt.Fprintf(w, "  tx         %s\n", safe(r.Batch.TxHash))
	if rv := r.Revocation; rv != nil {
		fmt.Fprintf(w, "  status     REVOKED at height %d, %s, by %s: %s", rv.Height, stamp(rv.Time), safe(rv.RevokedBy), safe(rv.Reason))
		if rv.ReasonText != "" {
			fmt.Fprintf(w, " (%q)", rv.ReasonText)
		}
		fmt.Fprintf(w, "\n             as of height %d\n", r.AsOfHeight)
		return nil
	}
	_, err := fmt.Fprintf(w, "  status     not revoked, as of height %d\n", r.AsOfHeight)
	return err
}

func newGetCmd() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "get FILE|DIGEST",
		Short: "look a document up: batch, issuer, block time and status",
		Long: `get looks up a document, given as a file (hashed here) or as the hex digest
of its bytes: the batch it was anchored in, the issuing agency, the block
height and time, and whether it is revoked. The document is looked up as
this identity anchors it (salted with its salt key, or bare with --bare) and,
if not found, the other way.

Exit codes: 0 anchored and not revoked; 3 anchored but revoked; 1 not
anchored; 2 usage error (missing file, bad digest); 4 node unreachable.`,
		Args: cobra.ExactArgs(1),
		RunE: cli.Run(func(cmd *cobra.Command, args []string) (any, error) {
			alg, err := algorithmOf(cmd)
			if err != nil {
				return nil, err
			}
			t, err := parseTarget(args[0])
			if err != nil {
				return nil, err
			}
			digest, err := t.document(cmd.Context(), alg)
			if err != nil {
				return nil, err
			}
			bare, _ := cmd.Flags().GetBool("bare")
			opts := []client.Option{client.WithAlgorithm(alg)}
			if bare {
				opts = append(opts, client.WithBareDigests())
			}
			s, err := connect(cmd, opts...)
			if err != nil {
				return nil, err
			}
			defer s.close()
			doc, resp, err := s.c.Locate(s.ctx, digest)
			if err != nil {
				if status.Code(err) == codes.NotFound {
					return nil, cli.Fail(cli.ExitFailure, fmt.Errorf("%s: not anchored (%s digest %x, salted or bare)", t.Arg, ledger.AlgorithmName(alg), digest))
				}
				return nil, s.fail(err)
			}
			return &lookupResult{
				Input:      t.Arg,
				Document:   viewDocument(doc),
				Batch:      viewBatch(resp.GetBatch(), resp.GetLeafIndex()),
				Issuer:     viewAgency(resp.GetIssuer()),
				Status:     statusWord(resp.GetRevocation() != nil),
				Revocation: viewRevocation(resp.GetRevocation()),
				AsOfHeight: resp.GetHeight(),
			}, nil
		}),
	}
	cmd.Flags().Bool("bare", false, "look the bare digest up first (default: the salted commitment first)")
	addAlgorithmFlag(cmd)
	return cmd
}

// statusWord is a document's status as a code.
func statusWord(revoked bool) string {
	if revoked {
		return "revoked"
	}
	return "not_revoked"
}
