package main

import (
	"bytes"
	"encoding/hex"
	"errors"
	"fmt"
	"io/fs"
	"maps"
	"os"
	"path/filepath"
	"slices"

	"google.golang.org/protobuf/proto"

	"github.com/gobtechlab/notary/app/client"
	"github.com/gobtechlab/notary/app/inputfile"
	"github.com/gobtechlab/notary/cmd/internal/cli"
	"github.com/gobtechlab/notary/cmd/verifier/verify"
	"github.com/gobtechlab/notary/ledger"
	notaryv1 "github.com/gobtechlab/notary/proto/notary/v1"
)

// refreshStatus replaces the status part of an existing receipt (and the
// validator chain, which must reach the signers of the new status
// checkpoint) with those of a fresh receipt of the same anchoring. The
// document binding, inclusion, issuer and anchor checkpoint are kept.
func refreshStatus(old, fresh *notaryv1.Receipt) (*notaryv1.Receipt, error) {
	if old.GetChainId() != fresh.GetChainId() {
		return nil, fmt.Errorf("the receipt is for chain %q, the node is on %q", old.GetChainId(), fresh.GetChainId())
	}
	if old.GetDocument().GetAnchoredDigest() != fresh.GetDocument().GetAnchoredDigest() ||
		old.GetDocument().GetHashAlgorithm() != fresh.GetDocument().GetHashAlgorithm() {
		return nil, fmt.Errorf("the receipt is for another anchored digest")
	}
	if !bytes.Equal(old.GetInclusion().GetBatch(), fresh.GetInclusion().GetBatch()) ||
		old.GetInclusion().GetLeafIndex() != fresh.GetInclusion().GetLeafIndex() {
		return nil, fmt.Errorf("the receipt names another batch than the chain's record")
	}
	r := proto.Clone(old).(*notaryv1.Receipt)
	r.Status = fresh.Status
	r.ValidatorChain = fresh.ValidatorChain
	return r, nil
}

// readReceipt reads and strictly decodes a receipt file.
func readReceipt(path string) (*notaryv1.Receipt, error) {
	b, err := inputfile.ReadFile(path)
	if err != nil {
		return nil, err
	}
	r, err := verify.DecodeReceipt(b)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return r, nil
}

// checkReceiptPaths checks, before anything is anchored or asked, that a
// receipt can be written at each of paths: its folder exists (it is
// created if missing, as writeReceipt would), a file can be created in
// it, and the path itself is not a folder. A failure is a usage error.
func checkReceiptPaths(paths []string) error {
	dirs := map[string]bool{}
	for _, p := range paths {
		st, err := os.Lstat(p)
		switch {
		case err == nil && st.IsDir():
			return cli.Usage("receipt %s is a directory: move it, or write the receipts elsewhere with --out", p)
		case err != nil && !errors.Is(err, fs.ErrNotExist):
			return cli.Usage("receipt %w", err)
		}
		dirs[filepath.Dir(p)] = true
	}
	for _, dir := range slices.Sorted(maps.Keys(dirs)) {
		if err := os.MkdirAll(dir, 0o755); err != nil {
			return cli.Usage("receipts cannot be written in %s: %w", dir, err)
		}
		f, err := os.CreateTemp(dir, ".notaryctl-check-*")
		if err != nil {
			return cli.Usage("receipts cannot be written in %s: %w", dir, err)
		}
		name := f.Name()
		_ = f.Close()
		if err := os.Remove(name); err != nil {
			return cli.Usage("receipts folder %s: %w", dir, err)
		}
	}
	return nil
}

// writeReceipt writes r to path in the receipt file form (canonical JSON,
// indented), through a temporary file renamed into place so that a reader
// never sees half a receipt.
func writeReceipt(path string, r *notaryv1.Receipt) error {
	b, err := verify.EncodeReceiptFile(r)
	if err != nil {
		return fmt.Errorf("receipt %s: %w", path, err)
	}
	dir := filepath.Dir(path)
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	if err := cli.WriteFileAtomic(path, b); err != nil {
		return fmt.Errorf("receipt %s: %w", path, err)
	}
	return nil
}

// documentOfReceipt returns the Document a receipt binds (the digest and
// salt it carries).
func documentOfReceipt(r *notaryv1.Receipt) (client.Document, error) {
	b := r.GetDocument()
	alg, ok := ledger.ParseAlgorithm(b.GetHashAlgorithm())
	if !ok {
		return client.Document{}, fmt.Errorf("unknown hash algorithm %q", b.GetHashAlgorithm())
	}
	anchored, err := hex.DecodeString(b.GetAnchoredDigest())
	if err != nil || len(anchored) != ledger.DigestSize {
		return client.Document{}, fmt.Errorf("bad anchored digest %q", b.GetAnchoredDigest())
	}
	doc := client.Document{Algorithm: alg, Anchored: anchored}
	if doc.Digest, err = hex.DecodeString(b.GetDocumentDigest()); err != nil {
		return client.Document{}, fmt.Errorf("bad document digest %q", b.GetDocumentDigest())
	}
	if doc.Salt, err = hex.DecodeString(b.GetSalt()); err != nil {
		return client.Document{}, fmt.Errorf("bad salt %q", b.GetSalt())
	}
	if len(doc.Salt) == 0 {
		doc.Salt = nil
	}
	return doc, nil
}
