package main

import (
	"bytes"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"path/filepath"

	"github.com/spf13/cobra"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/proto"

	"github.com/gobtechlab/notary/app/client"
	"github.com/gobtechlab/notary/cmd/internal/cli"
	"github.com/gobtechlab/notary/ledger"
	notaryv1 "github.com/gobtechlab/notary/proto/notary/v1"
)

// Actions of the receipt command.
const (
	receiptWritten   = "written"
	receiptRefreshed = "refreshed"
)

// receiptResult is the receipt command's result: what the written receipt
// claims (verify it with `verifier verify`).
type receiptResult struct {
	Input   string `json:"input"`
	Receipt string `json:"receipt"`
	// Action is "written" (a new receipt) or "refreshed" (the status part
	// of an existing one replaced).
	Action   string       `json:"action"`
	Document documentView `json:"document"`
	Batch    batchView    `json:"batch"`
	// AnchorHeight is the state height the inclusion is proven at.
	AnchorHeight int64 `json:"anchor_height"`
	// StatusHeight is the height the status is proven at; PreviousStatusHeight
	// that of the receipt before a refresh.
	StatusHeight         int64           `json:"status_height"`
	PreviousStatusHeight int64           `json:"previous_status_height,omitempty"`
	Status               string          `json:"status"`
	Revocation           *revocationView `json:"revocation,omitempty"`
}

func (r *receiptResult) Text(w io.Writer) error {
	fmt.Fprintf(w, "receipt %s: %s\n", r.Action, safe(r.Receipt))
	anchoring := "salted commitment"
	if !r.Document.Salted {
		anchoring = "bare digest"
	}
	fmt.Fprintf(w, "  document   %s %s (%s)\n", safe(r.Document.HashAlgorithm), safe(r.Document.DocumentDigest), anchoring)
	fmt.Fprintf(w, "  anchored   height %d, %s, batch %s leaf %d, by %s\n", r.Batch.Height, stamp(r.Batch.Time), safe(r.Batch.ID), r.Batch.Leaf, safe(r.Batch.Agency))
	st := "not revoked"
	if rv := r.Revocation; rv != nil {
		st = fmt.Sprintf("REVOKED at height %d, %s: %s", rv.Height, stamp(rv.Time), safe(rv.Reason))
	}
	fmt.Fprintf(w, "  status     %s, as of height %d", st, r.StatusHeight)
	if r.PreviousStatusHeight != 0 {
		fmt.Fprintf(w, " (was %d)", r.PreviousStatusHeight)
	}
	_, err := fmt.Fprintln(w)
	return err
}

func newReceiptCmd() *cobra.Command {
	var out, path string
	cmd := &cobra.Command{
		Use:   "receipt FILE|DIGEST",
		Short: "fetch a document's receipt, or refresh the status of an existing one",
		Long: `receipt writes the v1 receipt of an anchored document, given as a file
(hashed here) or as the hex digest of its bytes.

The receipt goes to --receipt PATH if given, else to <file>.receipt.json
beside the file (or <digest>.receipt.json for a digest), in --out DIR if
given. If that receipt exists, only its status part is refreshed: the
revocation status is proven again at the latest height, and everything else
(document binding, batch, issuer, anchor checkpoint) is kept; the receipt
must be the document's. Otherwise a new receipt is fetched.

Exit codes: 0 written; 1 failed (not anchored, or the existing receipt is for
another document); 2 usage error or unreadable input; 4 node unreachable.`,
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
			if path == "" {
				path = defaultReceiptPath(t, out)
			}
			old, err := readReceipt(path)
			if err != nil && !errors.Is(err, fs.ErrNotExist) {
				return nil, cli.Usage("existing receipt %w", err)
			}
			if err := checkReceiptPaths([]string{path}); err != nil {
				return nil, err
			}
			if old != nil {
				return refreshReceipt(cmd, t, path, old)
			}
			if _, err := t.document(cmd.Context(), alg); err != nil {
				return nil, err
			}
			s, err := connect(cmd, client.WithAlgorithm(alg))
			if err != nil {
				return nil, err
			}
			defer s.close()
			doc, _, err := s.c.Locate(s.ctx, t.Digest)
			if err != nil {
				if status.Code(err) == codes.NotFound {
					return nil, cli.Fail(cli.ExitFailure, fmt.Errorf("%s: not anchored, no receipt", t.Arg))
				}
				return nil, s.fail(err)
			}
			r, err := s.c.Receipt(s.ctx, doc)
			if err != nil {
				return nil, s.fail(err)
			}
			if err := writeReceipt(path, r); err != nil {
				return nil, cli.Fail(cli.ExitFailure, err)
			}
			return summarizeReceipt(t.Arg, path, receiptWritten, r, 0)
		}),
	}
	cmd.Flags().StringVar(&path, "receipt", "", "the receipt file to write or refresh (default: beside the file)")
	cmd.Flags().StringVar(&out, "out", "", "folder of the receipt (default: the file's; the current one for a digest)")
	addAlgorithmFlag(cmd)
	return cmd
}

// defaultReceiptPath is where receipt writes a target's receipt.
func defaultReceiptPath(t target, out string) string {
	if t.Path == "" {
		return filepath.Join(out, hex.EncodeToString(t.Digest)+receiptSuffix)
	}
	if out != "" {
		return filepath.Join(out, filepath.Base(t.Path)+receiptSuffix)
	}
	return t.Path + receiptSuffix
}

// refreshReceipt replaces the status part of the receipt at path, after
// checking that it is the target document's.
func refreshReceipt(cmd *cobra.Command, t target, path string, old *notaryv1.Receipt) (any, error) {
	doc, err := documentOfReceipt(old)
	if err != nil {
		return nil, cli.Usage("existing receipt %s: %w", path, err)
	}
	digest, err := t.document(cmd.Context(), doc.Algorithm)
	if err != nil {
		return nil, err
	}
	if len(doc.Digest) > 0 && !bytes.Equal(digest, doc.Digest) {
		return nil, cli.Fail(cli.ExitFailure, fmt.Errorf("%s is the receipt of another document (%s %s), not of %s", path, ledger.AlgorithmName(doc.Algorithm), hex.EncodeToString(doc.Digest), t.Arg))
	}
	s, err := connect(cmd, client.WithAlgorithm(doc.Algorithm))
	if err != nil {
		return nil, err
	}
	defer s.close()
	fresh, err := s.c.Receipt(s.ctx, client.Document{Algorithm: doc.Algorithm, Anchored: doc.Anchored})
	if err != nil {
		return nil, s.fail(err)
	}
	r, err := refreshStatus(old, fresh)
	if err != nil {
		return nil, cli.Fail(cli.ExitFailure, fmt.Errorf("%s: %w", path, err))
	}
	if err := writeReceipt(path, r); err != nil {
		return nil, cli.Fail(cli.ExitFailure, err)
	}
	return summarizeReceipt(t.Arg, path, receiptRefreshed, r, old.GetStatus().GetCheckpoint().GetHeight())
}

// summarizeReceipt reads back what a receipt claims, for the result.
func summarizeReceipt(input, path, action string, r *notaryv1.Receipt, previous int64) (*receiptResult, error) {
	doc, err := documentOfReceipt(r)
	if err != nil {
		return nil, cli.Fail(cli.ExitFailure, fmt.Errorf("receipt %s: %w", path, err))
	}
	batch := &notaryv1.Batch{}
	if err := proto.Unmarshal(r.GetInclusion().GetBatch(), batch); err != nil {
		return nil, cli.Fail(cli.ExitFailure, fmt.Errorf("receipt %s: batch record: %w", path, err))
	}
	res := &receiptResult{
		Input: input, Receipt: path, Action: action,
		Document:             viewDocument(doc),
		Batch:                viewBatch(batch, r.GetInclusion().GetLeafIndex()),
		AnchorHeight:         r.GetAnchor().GetHeight(),
		StatusHeight:         r.GetStatus().GetCheckpoint().GetHeight(),
		PreviousStatusHeight: previous,
		Status:               statusWord(false),
	}
	if b := r.GetStatus().GetRevocation(); len(b) > 0 {
		rv := &notaryv1.Revocation{}
		if err := proto.Unmarshal(b, rv); err != nil {
			return nil, cli.Fail(cli.ExitFailure, fmt.Errorf("receipt %s: revocation record: %w", path, err))
		}
		res.Revocation = viewRevocation(rv)
		res.Status = statusWord(true)
	}
	return res, nil
}
