package main

import (
	"bytes"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"net/http"
	"path/filepath"
	"time"

	"github.com/spf13/cobra"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/proto"

	"github.com/gobtechlab/notary/app/client"
	"github.com/gobtechlab/notary/app/logproof"
	"github.com/gobtechlab/notary/cmd/internal/cli"
	"github.com/gobtechlab/notary/cmd/verifier/verify"
	"github.com/gobtechlab/notary/ledger"
	notaryv1 "github.com/gobtechlab/notary/proto/notary/v1"
)

// Actions of the receipt command.
const (
	receiptWritten   = "written"
	receiptRefreshed = "refreshed"
	receiptRenewed   = "renewed"
)

// receiptResult is the receipt command's result: what the written receipt
// claims (verify it with `verifier verify`).
type receiptResult struct {
	Input   string `json:"input"`
	Receipt string `json:"receipt"`
	// Action is "written" (a new receipt), "refreshed" (the status part
	// of an existing v1 one replaced) or "renewed" (the log part of an
	// existing v2 one brought to a newer checkpoint).
	Action string `json:"action"`
	// Version of the receipt written: 1 or 2.
	Version  uint32       `json:"version"`
	Document documentView `json:"document"`
	Batch    batchView    `json:"batch"`
	// AnchorHeight is the state height the inclusion is proven at (v1).
	AnchorHeight int64 `json:"anchor_height,omitempty"`
	// StatusHeight is the height the status is proven at; PreviousStatusHeight
	// that of the receipt before a refresh (v1).
	StatusHeight         int64           `json:"status_height,omitempty"`
	PreviousStatusHeight int64           `json:"previous_status_height,omitempty"`
	Status               string          `json:"status,omitempty"`
	Revocation           *revocationView `json:"revocation,omitempty"`
	// Log is a v2 receipt's log part.
	Log *receiptLogView `json:"log,omitempty"`
}

// receiptLogView is a v2 receipt's log part: the batch is leaf LeafIndex of
// the log of the checkpoint of CheckpointSize leaves; a renewal went from
// the checkpoint of PreviousCheckpointSize.
type receiptLogView struct {
	LeafIndex              uint64 `json:"leaf_index"`
	CheckpointSize         uint64 `json:"checkpoint_size"`
	PreviousCheckpointSize uint64 `json:"previous_checkpoint_size,omitempty"`
}

func (r *receiptResult) Text(w io.Writer) error {
	fmt.Fprintf(w, "receipt %s: %s\n", r.Action, safe(r.Receipt))
	anchoring := r.Document.anchoring()
	fmt.Fprintf(w, "  document   %s %s (%s)\n", safe(r.Document.HashAlgorithm), safe(r.Document.DocumentDigest), anchoring)
	fmt.Fprintf(w, "  anchored   height %d, %s, batch %s leaf %d, by %s\n", r.Batch.Height, stamp(r.Batch.Time), safe(r.Batch.ID), r.Batch.Leaf, safe(r.Batch.Agency))
	if l := r.Log; l != nil {
		fmt.Fprintf(w, "  log        leaf %d, checkpoint of %d leaves", l.LeafIndex, l.CheckpointSize)
		if l.PreviousCheckpointSize != 0 {
			fmt.Fprintf(w, " (was %d)", l.PreviousCheckpointSize)
		}
		_, err := fmt.Fprintln(w)
		return err
	}
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
	var out, path, publicURL, trustIn string
	var version uint32
	cmd := &cobra.Command{
		Use:   "receipt FILE|DIGEST",
		Short: "fetch a document's receipt, or refresh or renew an existing one",
		Long: `receipt writes the receipt of an anchored document, given as a file
(hashed here) or as the hex digest of its bytes: v1 by default, v2 with
--version 2 (docs/receipt.md, "Receipt v2": the batch's leaf in the
evidence log, proven up to a signed checkpoint; the node answers it once a
valid checkpoint covers the batch, a few blocks after the anchor).

The receipt goes to --receipt PATH if given, else to <file>.receipt.json
beside the file (or <digest>.receipt.json for a digest), in --out DIR if
given. If that receipt exists, it is brought up to date; it must be the
document's:
  - a v1 receipt is refreshed: the revocation status is proven again at the
    latest height, and everything else (document binding, batch, issuer,
    anchor checkpoint) is kept;
  - a v2 receipt is renewed: its log part is replaced by the inclusion in
    the log of the node's latest checkpoint, after checking, from the log's
    tiles on the public endpoint (--public URL, else the trust bundle's
    first public endpoint), that the new checkpoint's log extends the
    receipt's: a node cannot rewrite history under a renewal. The renewed
    receipt must verify under the trust bundle (--trust FILE, else
    trust.json of the identity's home) before it replaces the old one.
    The document binding and the batch path are kept.
Otherwise a new receipt is fetched.

Exit codes: 0 written; 1 failed (not anchored, no checkpoint covers the
batch yet, the existing receipt is for another document, the log does
not extend the receipt's checkpoint, or the renewed receipt does not
verify under the trust bundle); 2 usage error or unreadable input;
4 node unreachable.`,
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
			switch {
			case version > 2:
				return nil, cli.Usage("--version %d: 1 or 2", version)
			case old != nil && version != 0 && old.GetVersion() != version:
				return nil, cli.Usage("%s is a v%d receipt, not v%d: give another --receipt path (or renew it to v2 with verifier renew)", path, old.GetVersion(), version)
			case old != nil && old.GetVersion() == 2:
				return renewReceipt(cmd, t, path, old, publicURL, trustIn)
			case old != nil:
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
			var r *notaryv1.Receipt
			if version == 2 {
				r, err = s.c.ReceiptV2(s.ctx, doc)
			} else {
				r, err = s.c.Receipt(s.ctx, doc)
			}
			if err != nil {
				return nil, s.fail(err)
			}
			if err := writeReceipt(path, r); err != nil {
				return nil, cli.Fail(cli.ExitFailure, err)
			}
			return summarizeReceipt(t.Arg, path, receiptWritten, r, 0)
		}),
	}
	cmd.Flags().Uint32Var(&version, "version", 0, "receipt version to write: 1 or 2 (default: the existing receipt's, else 1)")
	cmd.Flags().StringVar(&publicURL, "public", "", "public endpoint serving the log's tiles, to renew a v2 receipt (default: the trust bundle's first)")
	cmd.Flags().StringVar(&trustIn, "trust", "", "the consortium's trust bundle, to verify a renewed v2 receipt and for its public endpoints (default: trust.json of the identity's home)")
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

// renewReceipt brings the log part of the v2 receipt at path to the
// node's latest checkpoint, after checking that it is the target
// document's and, from the log's tiles, that the new checkpoint's log
// extends the receipt's; the receipt is replaced only by one that
// verifies under the trust bundle.
func renewReceipt(cmd *cobra.Command, t target, path string, old *notaryv1.Receipt, publicURL, trustPath string) (any, error) {
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
	tb, _, err := findTrust(cmd, trustPath)
	if err != nil {
		return nil, err
	}
	if tb == nil {
		return nil, cli.Usage("renewing a v2 receipt verifies the new one under the trust bundle: give --trust FILE")
	}
	if publicURL == "" {
		if len(tb.PublicEndpoints) == 0 {
			return nil, cli.Usage("renewing a v2 receipt reads the log's tiles: give --public URL (or --trust, a trust bundle with public endpoints)")
		}
		publicURL = tb.PublicEndpoints[0]
	}
	s, err := connect(cmd, client.WithAlgorithm(doc.Algorithm))
	if err != nil {
		return nil, err
	}
	defer s.close()
	if dk, derr := hex.DecodeString(old.GetDocument().GetCodeKey()); derr == nil && len(dk) > 0 {
		doc.CodeKey = dk
	}
	fresh, err := s.c.ReceiptV2(s.ctx, doc)
	if err != nil {
		return nil, s.fail(err)
	}
	if fresh.GetChainId() != old.GetChainId() {
		return nil, cli.Fail(cli.ExitFailure, fmt.Errorf("%s: the receipt is for chain %q, the node is on %q", path, old.GetChainId(), fresh.GetChainId()))
	}
	tiles := logproof.HTTPTiles{URL: publicURL, Client: &http.Client{Timeout: 30 * time.Second}}
	r, ren, err := logproof.Renew(s.ctx, tiles, old, fresh.GetLog().GetCheckpoint())
	if err != nil {
		if errors.Is(err, logproof.ErrOlder) || errors.Is(err, logproof.ErrInconsistent) || errors.Is(err, logproof.ErrLeafNotFound) {
			return nil, cli.Fail(cli.ExitFailure, fmt.Errorf("%s: renewal refused: %w", path, err))
		}
		return nil, cli.Fail(cli.ExitUnavail, fmt.Errorf("%s: public endpoint %s: %w", path, publicURL, err))
	}
	if r.GetLog().GetLeafIndex() != fresh.GetLog().GetLeafIndex() || !bytes.Equal(r.GetLog().GetLeaf(), fresh.GetLog().GetLeaf()) {
		return nil, cli.Fail(cli.ExitFailure, fmt.Errorf("%s: the node places the batch at leaf %d, the receipt at %d", path, fresh.GetLog().GetLeafIndex(), r.GetLog().GetLeafIndex()))
	}
	if v, err := verify.VerifyReceipt(r, tb, nil); err != nil || v.Verdict == verify.NotValid {
		if err == nil {
			err = fmt.Errorf("%s: %s", v.Reason, v.Detail)
		}
		return nil, cli.Fail(cli.ExitFailure, fmt.Errorf("%s: the renewed receipt does not verify under the trust bundle, the receipt is kept: %w", path, err))
	}
	if err := writeReceipt(path, r); err != nil {
		return nil, cli.Fail(cli.ExitFailure, err)
	}
	res, err := summarizeReceipt(t.Arg, path, receiptRenewed, r, 0)
	if err != nil {
		return nil, err
	}
	res.Log.PreviousCheckpointSize = ren.OldSize
	return res, nil
}

// summarizeReceipt reads back what a receipt claims, for the result.
func summarizeReceipt(input, path, action string, r *notaryv1.Receipt, previous int64) (*receiptResult, error) {
	doc, err := documentOfReceipt(r)
	if err != nil {
		return nil, cli.Fail(cli.ExitFailure, fmt.Errorf("receipt %s: %w", path, err))
	}
	if r.GetVersion() == 2 {
		return summarizeReceiptV2(input, path, action, r, doc)
	}
	batch := &notaryv1.Batch{}
	if err := proto.Unmarshal(r.GetInclusion().GetBatch(), batch); err != nil {
		return nil, cli.Fail(cli.ExitFailure, fmt.Errorf("receipt %s: batch record: %w", path, err))
	}
	res := &receiptResult{
		Input: input, Receipt: path, Action: action, Version: 1,
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

// summarizeReceiptV2 is summarizeReceipt of a v2 receipt: the batch record
// is its log leaf's.
func summarizeReceiptV2(input, path, action string, r *notaryv1.Receipt, doc client.Document) (*receiptResult, error) {
	leaf, err := ledger.DecodeLogLeaf(r.GetLog().GetLeaf())
	if err != nil || leaf.Kind != ledger.LogLeafBatch {
		return nil, cli.Fail(cli.ExitFailure, fmt.Errorf("receipt %s: log leaf is not a batch record (%v)", path, err))
	}
	batch := &notaryv1.Batch{}
	if err := proto.Unmarshal(leaf.Value, batch); err != nil {
		return nil, cli.Fail(cli.ExitFailure, fmt.Errorf("receipt %s: batch record: %w", path, err))
	}
	cp, err := logproof.ParseCheckpoint(r.GetLog().GetCheckpoint())
	if err != nil {
		return nil, cli.Fail(cli.ExitFailure, fmt.Errorf("receipt %s: %w", path, err))
	}
	return &receiptResult{
		Input: input, Receipt: path, Action: action, Version: 2,
		Document: viewDocument(doc),
		Batch:    viewBatch(batch, r.GetInclusion().GetLeafIndex()),
		Log:      &receiptLogView{LeafIndex: r.GetLog().GetLeafIndex(), CheckpointSize: cp.Size},
	}, nil
}
