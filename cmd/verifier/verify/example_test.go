package verify_test

import (
	"bytes"
	"encoding/hex"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	ics23 "github.com/cosmos/ics23/go"
	"github.com/transparency-dev/merkle/proof"
	"github.com/transparency-dev/merkle/rfc6962"

	"github.com/gobtechlab/notary/cmd/verifier/verify"
	"github.com/gobtechlab/notary/ledger"
	notaryv1 "github.com/gobtechlab/notary/proto/notary/v1"
)

// TestIndependentChecks verifies a receipt's proofs with the unmodified
// libraries an independent verifier would use: ics23.VerifyMembership and
// VerifyNonMembership with ics23.IavlSpec, and an RFC 6962 verifier.
func TestIndependentChecks(t *testing.T) {
	for _, opts := range []fixtureOpts{{governed: true}, {revoked: true}} {
		f := newFixture(t, opts)
		r := f.receipt
		anchor, err := verify.DecodeHeader(r.Anchor.Header)
		if err != nil {
			t.Fatal(err)
		}
		status, err := verify.DecodeHeader(r.Status.Checkpoint.Header)
		if err != nil {
			t.Fatal(err)
		}
		var batch notaryv1.Batch
		if err := ledger.DecodeCanonical(r.Inclusion.Batch, &batch); err != nil {
			t.Fatal(err)
		}
		var agency notaryv1.Agency
		if err := ledger.DecodeCanonical(r.Issuer.Record, &agency); err != nil {
			t.Fatal(err)
		}
		member := func(what string, root, pb, key, value []byte) {
			var p ics23.CommitmentProof
			if err := p.Unmarshal(pb); err != nil {
				t.Fatal(err)
			}
			if !ics23.VerifyMembership(ics23.IavlSpec, root, &p, key, value) {
				t.Errorf("%s: ics23.VerifyMembership refuses", what)
			}
			value = append(append([]byte(nil), value...), 0)
			if ics23.VerifyMembership(ics23.IavlSpec, root, &p, key, value) {
				t.Errorf("%s: ics23.VerifyMembership accepts another value", what)
			}
		}
		member("batch", anchor.AppHash, r.Inclusion.BatchProof, ledger.BatchKey(batch.Height, batch.TxIndex), r.Inclusion.Batch)
		member("issuer", anchor.AppHash, r.Issuer.Proof, ledger.AgencyKey(agency.Id), r.Issuer.Record)
		for i, s := range r.Anchor.Signers {
			var m notaryv1.Ministry
			if err := ledger.DecodeCanonical(s.Record, &m); err != nil {
				t.Fatal(err)
			}
			member(fmt.Sprintf("signer %d", i), anchor.AppHash, s.Proof, ledger.MinistryKey(m.Id), s.Record)
		}
		anchored, _ := hex.DecodeString(r.Document.AnchoredDigest)
		key := ledger.RevocationKey(batch.HashAlgorithm, anchored)
		if len(r.Status.Revocation) > 0 {
			member("revocation", status.AppHash, r.Status.Proof, key, r.Status.Revocation)
		} else {
			var p ics23.CommitmentProof
			if err := p.Unmarshal(r.Status.Proof); err != nil {
				t.Fatal(err)
			}
			if !ics23.VerifyNonMembership(ics23.IavlSpec, status.AppHash, &p, key) {
				t.Error("ics23.VerifyNonMembership refuses")
			}
			if ics23.VerifyNonMembership(ics23.IavlSpec, anchor.AppHash, &p, key) && !bytes.Equal(anchor.AppHash, status.AppHash) {
				t.Error("ics23.VerifyNonMembership accepts another root")
			}
		}
		var path [][]byte
		for _, h := range r.Inclusion.MerklePath {
			b, _ := hex.DecodeString(h)
			path = append(path, b)
		}
		if err := proof.VerifyInclusion(rfc6962.DefaultHasher, uint64(r.Inclusion.LeafIndex), uint64(batch.Count),
			rfc6962.DefaultHasher.HashLeaf(anchored), path, batch.Root); err != nil {
			t.Errorf("RFC 6962 inclusion: %v", err)
		}
	}
}

// TestWorkedExample keeps docs/receipt.md's worked example true: its values
// are those of the vector valid-salted-sha2.
func TestWorkedExample(t *testing.T) {
	docs, err := os.ReadFile("../../../docs/receipt.md")
	if err != nil {
		t.Fatal(err)
	}
	dir := filepath.Join(vectorsDir, "valid-salted-sha2")
	rb, err := os.ReadFile(filepath.Join(dir, "receipt.json"))
	if err != nil {
		t.Fatal(err)
	}
	r, err := verify.DecodeReceipt(rb)
	if err != nil {
		t.Fatal(err)
	}
	tb, err := os.ReadFile(filepath.Join(dir, "trust.json"))
	if err != nil {
		t.Fatal(err)
	}
	trust, err := verify.DecodeTrustBundle(tb)
	if err != nil {
		t.Fatal(err)
	}
	anchor, _ := verify.DecodeHeader(r.Anchor.Header)
	status, _ := verify.DecodeHeader(r.Status.Checkpoint.Header)
	anchored, _ := hex.DecodeString(r.Document.AnchoredDigest)
	var batch notaryv1.Batch
	if err := ledger.DecodeCanonical(r.Inclusion.Batch, &batch); err != nil {
		t.Fatal(err)
	}
	c := r.Anchor.Commit
	sb := verify.VoteSignBytes(r.ChainId, c.Height, c.Round, c.BlockId, c.Signatures[0].Timestamp)
	want := map[string]string{
		"document digest": r.Document.DocumentDigest,
		"salt":            r.Document.Salt,
		"anchored digest": r.Document.AnchoredDigest,
		"leaf hash":       hex.EncodeToString(ledger.LeafHash(anchored)),
		"batch root":      hex.EncodeToString(batch.Root),
		"batch key":       hex.EncodeToString(ledger.BatchKey(batch.Height, batch.TxIndex)),
		"anchor app hash": hex.EncodeToString(anchor.AppHash),
		"header hash":     hex.EncodeToString(verify.HeaderHash(anchor)),
		"status app hash": hex.EncodeToString(status.AppHash),
	}
	for i, p := range r.Inclusion.MerklePath {
		want[fmt.Sprintf("path[%d]", i)] = p
	}
	var vals []verify.Validator
	for _, v := range trust.Validators {
		vals = append(vals, verify.Validator{PubKey: v.PubKey, Power: v.Power})
		want["key of "+v.MinistryId] = hex.EncodeToString(v.PubKey)
	}
	want["validator set hash"] = hex.EncodeToString(verify.ValidatorSetHash(vals))
	text := strings.ReplaceAll(string(docs), " ", "")
	for name, v := range want {
		if !strings.Contains(text, strings.ReplaceAll(v[:min(len(v), 64)], " ", "")) {
			t.Errorf("docs/receipt.md does not show the %s %s", name, v)
		}
	}
	if !strings.Contains(string(docs), fmt.Sprintf("%d bytes", len(r.Anchor.Header))) || !strings.Contains(string(docs), fmt.Sprintf("the %d\nbytes", len(sb))) {
		t.Errorf("docs/receipt.md: header of %d bytes, sign bytes of %d", len(r.Anchor.Header), len(sb))
	}
}
