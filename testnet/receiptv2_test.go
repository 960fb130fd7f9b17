package testnet

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/transparency-dev/merkle/proof"
	"github.com/transparency-dev/merkle/rfc6962"
	"golang.org/x/mod/sumdb/note"
	"golang.org/x/mod/sumdb/tlog"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/proto"

	"github.com/gobtechlab/notary/app/checkpoint"
	"github.com/gobtechlab/notary/app/logproof"
	"github.com/gobtechlab/notary/app/witness"
	"github.com/gobtechlab/notary/cmd/verifier/verify"
	"github.com/gobtechlab/notary/ledger"
	notaryv1 "github.com/gobtechlab/notary/proto/notary/v1"
	"github.com/gobtechlab/notary/testnet/internal/harness"
)

// checkReceiptV2 checks a v2 receipt of digest independently of the
// verifier: the digest's path to the batch root, the leaf's framing and
// batch record, the leaf's inclusion in the checkpoint's log
// (tlog.CheckRecord) and the checkpoint's signatures (note.Open with the
// validators' keys, more than 2/3 of them). It returns the checkpoint's
// size.
func checkReceiptV2(t *testing.T, chainID string, vals []verify.LogValidator, r *notaryv1.Receipt, digest []byte) uint64 {
	t.Helper()
	if r.Version != 2 || r.ChainId != chainID || r.Anchor != nil || r.Status != nil || r.Issuer != nil || len(r.ValidatorChain) != 0 || r.Inclusion.Batch != nil {
		t.Fatalf("not a v2 receipt: version %d, anchor %v, status %v", r.Version, r.Anchor != nil, r.Status != nil)
	}
	if r.Document.AnchoredDigest != hex.EncodeToString(digest) {
		t.Fatalf("receipt of %s, want %x", r.Document.AnchoredDigest, digest)
	}
	leaf, err := ledger.DecodeLogLeaf(r.Log.Leaf)
	if err != nil || leaf.Kind != ledger.LogLeafBatch {
		t.Fatalf("log leaf: kind %d, %v", leaf.Kind, err)
	}
	batch := &notaryv1.Batch{}
	if err := proto.Unmarshal(leaf.Value, batch); err != nil {
		t.Fatal(err)
	}
	if string(leaf.Key) != string(ledger.BatchKey(batch.Height, batch.TxIndex)) {
		t.Fatalf("leaf key %x is not the batch %d/%d's", leaf.Key, batch.Height, batch.TxIndex)
	}
	var path [][]byte
	for _, h := range r.Inclusion.MerklePath {
		b, err := hex.DecodeString(h)
		if err != nil {
			t.Fatal(err)
		}
		path = append(path, b)
	}
	if err := proof.VerifyInclusion(rfc6962.DefaultHasher, uint64(r.Inclusion.LeafIndex), uint64(batch.Count), rfc6962.DefaultHasher.HashLeaf(digest), path, batch.Root); err != nil {
		t.Fatalf("digest in batch %d/%d: %v", batch.Height, batch.TxIndex, err)
	}
	var vs []note.Verifier
	for _, v := range vals {
		nv, err := checkpoint.Verifier(verify.LogKeyName(chainID, v.MinistryID), v.PubKey)
		if err != nil {
			t.Fatal(err)
		}
		vs = append(vs, nv)
	}
	n, err := note.Open(r.Log.Checkpoint, note.VerifierList(vs...))
	if err != nil || 3*len(n.Sigs) <= 2*len(vals) {
		t.Fatalf("checkpoint note: %d signatures, %v\n%s", len(n.Sigs), err, r.Log.Checkpoint)
	}
	cp, err := logproof.ParseCheckpoint(r.Log.Checkpoint)
	if err != nil || cp.Origin != verify.LogOrigin(chainID) {
		t.Fatalf("checkpoint %+v: %v", cp, err)
	}
	var rp tlog.RecordProof
	for _, h := range r.Log.Proof {
		rp = append(rp, tlog.Hash(h))
	}
	if err := tlog.CheckRecord(rp, int64(cp.Size), cp.Root, int64(r.Log.LeafIndex), tlog.RecordHash(r.Log.Leaf)); err != nil {
		t.Fatalf("leaf %d in the log of %d: %v", r.Log.LeafIndex, cp.Size, err)
	}
	return cp.Size
}

func readReceiptFile(t *testing.T, path string) *notaryv1.Receipt {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	r, err := verify.DecodeReceipt(b)
	if err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	return r
}

// TestReceiptV2: four validators anchor batches; once a valid checkpoint
// covers them, GetReceipt version 2 answers receipts whose inclusion and
// checkpoint check independently; after more batches and a newer
// checkpoint, `notaryctl receipt` renews a v2 receipt and `verifier renew`
// renews a v1 and a v2 receipt (the real binaries) to the newer size.
func TestReceiptV2(t *testing.T) {
	if testing.Short() {
		t.Skip("runs four validator processes")
	}
	notaryctl := harness.Tool(t, "github.com/gobtechlab/notary/cmd/notaryctl")
	verifier := harness.Tool(t, "github.com/gobtechlab/notary/cmd/verifier")
	net := harness.NewNet(t, harness.NetOptions{Validators: 4, Agencies: 1, BlockInterval: 200 * time.Millisecond, NoEmptyBlocks: true})
	for _, n := range net.Nodes {
		n.Start()
	}
	ctx := context.Background()
	for _, n := range net.Nodes {
		if err := n.WaitHeight(ctx, 1, 90*time.Second); err != nil {
			t.Fatal(err)
		}
	}
	vals := genesisValidators(t, net.Nodes[0].Home)
	agency := net.Agencies[0]
	node := net.Nodes[0]
	pub := publicURL(node)
	anchor := func(tag string, n int) [][]byte {
		var ds [][]byte
		var raw []byte
		for i := range n {
			d := sha256.Sum256([]byte(fmt.Sprint(tag, i)))
			ds, raw = append(ds, d[:]), append(raw, d[:]...)
		}
		if _, _, err := harness.Submit(ctx, node.Proc, agency, &notaryv1.TxBody{Msg: &notaryv1.TxBody_AnchorBatch{
			AnchorBatch: &notaryv1.AnchorBatch{AgencyId: agency.ID, HashAlgorithm: notaryv1.HashAlgorithm_HASH_ALGORITHM_SHA2_256, Digests: raw}}}); err != nil {
			t.Fatal(err)
		}
		return ds
	}
	// untilCheckpoint anchors small batches until the node serves a valid
	// checkpoint of more than size leaves (the chain records one every
	// checkpoint_interval heights of a log that grew).
	fillers := 0
	untilCheckpoint := func(size uint64) uint64 {
		t.Helper()
		deadline := time.Now().Add(90 * time.Second)
		for {
			code, b, _, err := httpGet(ctx, pub+"/log/checkpoint")
			if err == nil && code == 200 {
				c, err := verify.VerifyLogCheckpoint(net.ChainID, b, vals)
				if err != nil {
					t.Fatalf("%v\n%s", err, b)
				}
				if c.Size > size {
					return c.Size
				}
			}
			if time.Now().After(deadline) {
				t.Fatalf("no checkpoint of more than %d leaves within 90s", size)
			}
			anchor(fmt.Sprint("v2-fill", fillers), 1)
			fillers++
		}
	}
	var batches [][][]byte
	for i := range 3 {
		batches = append(batches, anchor(fmt.Sprint("v2-a", i), 3+i))
	}
	untilCheckpoint(2)

	gw, err := net.Gateway(node, nil)
	if err != nil {
		t.Fatal(err)
	}
	// GetReceipt version 2 for a digest of every batch, retried while the
	// node's latest valid checkpoint does not cover it yet.
	getV2 := func(digest []byte) *notaryv1.Receipt {
		deadline := time.Now().Add(30 * time.Second)
		for {
			res, err := gw.GetReceipt(ctx, &notaryv1.GetReceiptRequest{HashAlgorithm: notaryv1.HashAlgorithm_HASH_ALGORITHM_SHA2_256, Digest: digest, Version: 2})
			if err == nil {
				return res.Receipt
			}
			if status.Code(err) != codes.FailedPrecondition || time.Now().After(deadline) {
				t.Fatalf("GetReceipt v2 of %x: %v", digest, err)
			}
			time.Sleep(300 * time.Millisecond)
		}
	}
	tb, err := os.ReadFile(net.TrustBundle)
	if err != nil {
		t.Fatal(err)
	}
	trust, err := verify.DecodeTrustBundle(tb)
	if err != nil {
		t.Fatal(err)
	}
	var first uint64
	for i, ds := range batches {
		d := ds[len(ds)-1]
		r := getV2(d)
		size := checkReceiptV2(t, net.ChainID, vals, r, d)
		// And as a relying party checks it: the verify package, under the
		// network's trust bundle.
		if res, err := verify.VerifyReceipt(r, trust, nil); err != nil || res.Verdict == verify.NotValid {
			t.Fatalf("verify v2 receipt of %x: %v %+v", d, err, res)
		}
		if first == 0 || size < first {
			first = size
		}
		if i == 0 {
			b, err := verify.EncodeReceiptFile(r)
			if err != nil {
				t.Fatal(err)
			}
			t.Logf("v2 receipt with 4 validators: %d bytes (log of %d leaves, %d proof hashes)", len(b), size, len(r.Log.Proof))
		}
	}
	if _, err := gw.GetReceipt(ctx, &notaryv1.GetReceiptRequest{HashAlgorithm: notaryv1.HashAlgorithm_HASH_ALGORITHM_SHA2_256, Digest: batches[0][0], Version: 3}); status.Code(err) != codes.InvalidArgument {
		t.Fatalf("GetReceipt version 3: %v", err)
	}

	// The CLI's receipts: v2 of two documents, v1 of a third.
	dir := t.TempDir()
	ctl := func(args ...string) string {
		t.Helper()
		out, code := runCLI(t, notaryctl, append(args, "--identity", agency.Dir(), "--node", node.Gateway, "-o", "json")...)
		if code != 0 {
			t.Fatalf("notaryctl %v: exit %d\n%s", args, code, out)
		}
		return out
	}
	v2a, v2b, v1 := filepath.Join(dir, "a.receipt.json"), filepath.Join(dir, "b.receipt.json"), filepath.Join(dir, "c.receipt.json")
	ctl("receipt", hex.EncodeToString(batches[0][0]), "--version", "2", "--receipt", v2a)
	ctl("receipt", hex.EncodeToString(batches[1][0]), "--version", "2", "--receipt", v2b)
	ctl("receipt", hex.EncodeToString(batches[2][0]), "--receipt", v1)
	oldA := checkReceiptV2(t, net.ChainID, vals, readReceiptFile(t, v2a), batches[0][0])
	if r := readReceiptFile(t, v1); r.Version != 1 {
		t.Fatalf("notaryctl receipt wrote version %d by default", r.Version)
	}

	// More batches, until the node serves a newer checkpoint.
	untilCheckpoint(oldA)

	// Under a trust bundle that requires a witness's cosignature, the
	// renewed receipt does not verify: notaryctl refuses and keeps the
	// receipt.
	_, wkey, err := witness.GenerateKey("witness.example/w1")
	if err != nil {
		t.Fatal(err)
	}
	wrong := proto.Clone(trust).(*notaryv1.TrustBundle)
	wrong.Witnesses = []*notaryv1.Witness{{Name: "Testigo", Key: wkey}}
	wrong.WitnessThreshold = 1
	wb, err := verify.EncodeTrustBundle(wrong)
	if err != nil {
		t.Fatal(err)
	}
	wrongPath := filepath.Join(dir, "wrong-trust.json")
	if err := os.WriteFile(wrongPath, wb, 0o644); err != nil {
		t.Fatal(err)
	}
	beforeA, err := os.ReadFile(v2a)
	if err != nil {
		t.Fatal(err)
	}
	if o, code := runCLI(t, notaryctl, "receipt", hex.EncodeToString(batches[0][0]), "--receipt", v2a, "--public", pub, "--trust", wrongPath, "--identity", agency.Dir(), "--node", node.Gateway); code != 1 || !strings.Contains(o, "does not verify") {
		t.Fatalf("notaryctl renew under a wrong trust bundle: exit %d\n%s", code, o)
	}
	if after, _ := os.ReadFile(v2a); string(after) != string(beforeA) {
		t.Fatal("a refused renewal replaced the receipt")
	}

	// notaryctl renews a v2 receipt in place, checking consistency from
	// the node's tiles.
	out := ctl("receipt", hex.EncodeToString(batches[0][0]), "--receipt", v2a, "--public", pub)
	var res struct {
		Action string `json:"action"`
		Log    struct {
			CheckpointSize         uint64 `json:"checkpoint_size"`
			PreviousCheckpointSize uint64 `json:"previous_checkpoint_size"`
		} `json:"log"`
	}
	if err := json.Unmarshal([]byte(out), &res); err != nil {
		t.Fatalf("%v\n%s", err, out)
	}
	renewed := checkReceiptV2(t, net.ChainID, vals, readReceiptFile(t, v2a), batches[0][0])
	if res.Action != "renewed" || res.Log.PreviousCheckpointSize != oldA || res.Log.CheckpointSize != renewed || renewed <= oldA {
		t.Fatalf("notaryctl renew: %s (receipt at %d, was %d)", out, renewed, oldA)
	}
	t.Logf("notaryctl renewed a v2 receipt from size %d to %d", oldA, renewed)

	// verifier renew, from the public endpoint only: v2 and v1 in, v2 out.
	for _, tc := range []struct {
		in     string
		digest []byte
	}{{v2b, batches[1][0]}, {v1, batches[2][0]}} {
		outPath := filepath.Join(dir, filepath.Base(tc.in)+".renewed.json")
		before, err := os.ReadFile(tc.in)
		if err != nil {
			t.Fatal(err)
		}
		o, code := runCLI(t, verifier, "renew", tc.in, "--trust", net.TrustBundle, "--node", pub, "--out", outPath, "-o", "json", "--lang", "en")
		if code != 0 {
			t.Fatalf("verifier renew %s: exit %d\n%s", tc.in, code, o)
		}
		size := checkReceiptV2(t, net.ChainID, vals, readReceiptFile(t, outPath), tc.digest)
		if size <= oldA {
			t.Fatalf("verifier renew %s: size %d\n%s", tc.in, size, o)
		}
		if after, _ := os.ReadFile(tc.in); string(after) != string(before) {
			t.Fatalf("verifier renew changed its input %s", tc.in)
		}
		t.Logf("verifier renew %s: %s", filepath.Base(tc.in), o)
	}
}
