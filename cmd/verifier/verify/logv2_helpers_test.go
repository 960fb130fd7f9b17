package verify_test

import (
	"crypto/ed25519"
	"crypto/sha256"
	"encoding/base64"
	"encoding/binary"
	"fmt"
	"sort"
	"strconv"
	"strings"
	"testing"

	flog "github.com/transparency-dev/formats/log"
	fnote "github.com/transparency-dev/formats/note"
	"github.com/transparency-dev/merkle/proof"
	"github.com/transparency-dev/merkle/rfc6962"
	"golang.org/x/mod/sumdb/note"
	"google.golang.org/protobuf/proto"

	"github.com/gobtechlab/notary/app/receipt/receipttest"
	"github.com/gobtechlab/notary/cmd/verifier/verify"
	"github.com/gobtechlab/notary/ledger"
	notaryv1 "github.com/gobtechlab/notary/proto/notary/v1"
)

// Receipts v2 built synthetically from a receipt v1 of the synthetic
// chain: its document binding, Merkle path and batch record, the batch's
// leaf (docs/receipt.md, "The evidence log") at a chosen index of a log of
// a chosen size, and a checkpoint signed with the validators' known keys.
// The inclusion proof's sibling hashes are fixed made-up subtree hashes
// (the other leaves of the log are never materialized), and the root is
// computed from them and the leaf with the merkle package, so a proof has
// the depth of a real log of that size (25 hashes for 2^25 leaves)
// without building one.

// logIndex and logSize place the fixtures' leaf in a log of about 2^25
// leaves.
const (
	logIndex = 20_000_017
	logSize  = 33_550_001
)

// consKey is the consensus key of a synthetic chain's ministry.
func consKey(ministry string) ed25519.PrivateKey { return receipttest.Key("cons/" + ministry) }

// validatorSigner signs checkpoints of chainID as ministry's validator.
func validatorSigner(t testing.TB, chainID, ministry string) note.Signer {
	t.Helper()
	k := consKey(ministry)
	name := verify.LogKeyName(chainID, ministry)
	vkey, err := note.NewEd25519VerifierKey(name, k.Public().(ed25519.PublicKey))
	if err != nil {
		t.Fatal(err)
	}
	parts := strings.Split(vkey, "+")
	skey := "PRIVATE+KEY+" + name + "+" + parts[1] + "+" + b64(append([]byte{1}, k.Seed()...))
	s, err := note.NewSigner(skey)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// cosigner is a witness's cosignature/v1 signer at a fixed time, so that
// the vectors do not depend on the clock.
type cosigner struct {
	name string
	hash uint32
	key  ed25519.PrivateKey
	time uint64
}

func (c cosigner) Name() string    { return c.name }
func (c cosigner) KeyHash() uint32 { return c.hash }
func (c cosigner) Sign(msg []byte) ([]byte, error) {
	m := fmt.Appendf(nil, "cosignature/v1\ntime %d\n%s", c.time, msg)
	sig := binary.BigEndian.AppendUint64(nil, c.time)
	return append(sig, ed25519.Sign(c.key, m)...), nil
}

// witnessTime is the time of the test witnesses' cosignatures.
const witnessTime = 1_767_225_600 // 2026-01-01T00:00:00Z

// witness returns a test witness's cosigner and its bundle entry.
func witness(t testing.TB, name string) (note.Signer, *notaryv1.Witness) {
	t.Helper()
	k := receipttest.Key("witness/" + name)
	keyName := "witness.example/" + name
	plain, err := note.NewEd25519VerifierKey(keyName, k.Public().(ed25519.PublicKey))
	if err != nil {
		t.Fatal(err)
	}
	vkey, err := fnote.VKeyToCosignatureV1(plain)
	if err != nil {
		t.Fatal(err)
	}
	v, err := verify.ParseWitnessKey(vkey)
	if err != nil {
		t.Fatal(err)
	}
	return cosigner{name: keyName, hash: v.KeyHash(), key: k, time: witnessTime}, &notaryv1.Witness{Name: "Testigo " + name, Key: vkey}
}

// signCheckpoint writes the checkpoint note of chainID's log of size and
// root, signed by the validators of ministries and cosigned by witnesses.
func signCheckpoint(t testing.TB, chainID string, size uint64, root []byte, ministries, witnesses []string) []byte {
	t.Helper()
	return signCheckpointOf(t, verify.LogOrigin(chainID), chainID, size, root, ministries, witnesses)
}

// signCheckpointOf is signCheckpoint with the body's origin given.
func signCheckpointOf(t testing.TB, origin, chainID string, size uint64, root []byte, ministries, witnesses []string) []byte {
	t.Helper()
	body := flog.Checkpoint{Origin: origin, Size: size, Hash: root}.Marshal()
	var signers []note.Signer
	for _, m := range ministries {
		signers = append(signers, validatorSigner(t, chainID, m))
	}
	for _, w := range witnesses {
		s, _ := witness(t, w)
		signers = append(signers, s)
	}
	b, err := note.Sign(&note.Note{Text: string(body)}, signers...)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// batchLeaf is the evidence log leaf of a receipt v1's batch record.
func batchLeaf(t testing.TB, r *notaryv1.Receipt) []byte {
	t.Helper()
	b := &notaryv1.Batch{}
	if err := ledger.DecodeCanonical(r.Inclusion.Batch, b); err != nil {
		t.Fatal(err)
	}
	key := ledger.BatchKey(b.Height, b.TxIndex)
	leaf := []byte{1}
	leaf = binary.BigEndian.AppendUint16(leaf, uint16(len(key)))
	leaf = append(leaf, key...)
	leaf = binary.BigEndian.AppendUint16(leaf, uint16(len(r.Inclusion.Batch)))
	return append(leaf, r.Inclusion.Batch...)
}

// synthProof returns an inclusion proof of leaf at index in a log of size
// with made-up sibling hashes, and the root they lead to.
func synthProof(t testing.TB, leaf []byte, index, size uint64) ([][]byte, []byte) {
	t.Helper()
	lh := rfc6962.DefaultHasher.HashLeaf(leaf)
	var p [][]byte
	for n := 0; n <= 64; n++ {
		root, err := proof.RootFromInclusionProof(rfc6962.DefaultHasher, index, size, lh, p)
		if err == nil {
			return p, root
		}
		h := sha256.Sum256([]byte("receipt v2 test sibling " + strconv.Itoa(n)))
		p = append(p, h[:])
	}
	t.Fatalf("no proof length fits leaf %d of %d", index, size)
	return nil, nil
}

// v2Opts choose a synthetic receipt v2.
type v2Opts struct {
	index, size uint64   // 0: logIndex, logSize
	signers     []string // nil: every default ministry
	witnesses   []string
	// signedSize, if set, is the size the checkpoint states instead of size.
	signedSize uint64
}

// makeV2 builds a receipt v2 of a v1 fixture's document.
func makeV2(t testing.TB, f *fixture, o v2Opts) *notaryv1.Receipt {
	t.Helper()
	if o.size == 0 {
		o.index, o.size = logIndex, logSize
	}
	if o.signers == nil {
		for _, m := range receipttest.DefaultMinistries {
			o.signers = append(o.signers, m.ID)
		}
	}
	leaf := batchLeaf(t, f.receipt)
	p, root := synthProof(t, leaf, o.index, o.size)
	signed := o.size
	if o.signedSize != 0 {
		signed = o.signedSize
	}
	chainID := f.receipt.ChainId
	return &notaryv1.Receipt{
		Version:  verify.VersionLog,
		ChainId:  chainID,
		Document: proto.CloneOf(f.receipt.Document),
		Inclusion: &notaryv1.BatchInclusion{
			LeafIndex: f.receipt.Inclusion.LeafIndex, MerklePath: f.receipt.Inclusion.MerklePath,
		},
		Log: &notaryv1.LogInclusion{
			LeafIndex: o.index, Leaf: leaf, Proof: p,
			Checkpoint: signCheckpoint(t, chainID, signed, root, o.signers, o.witnesses),
		},
	}
}

// logRoot is the root of the fixture's synthetic log of size (as makeV2
// builds it).
func logRoot(t testing.TB, f *fixture, index, size uint64) []byte {
	_, root := synthProof(t, batchLeaf(t, f.receipt), index, size)
	return root
}

// bundleOpts choose a trust bundle with the evidence log's fields.
type bundleOpts struct {
	size       uint64   // of the bundle's checkpoint; 0: none
	root       []byte   // nil: a made-up root
	logVals    []string // the checkpoint's validator set (default ministries' ids if nil)
	cosigners  []string // witnesses cosigning the bundle's checkpoint
	witnesses  []string // the bundle's witnesses
	threshold  uint32
	ministries []receipttest.Ministry // names and powers of logVals (default ministries if nil)
}

// logBundle returns base with the evidence log's trust fields.
func logBundle(t testing.TB, base *notaryv1.TrustBundle, o bundleOpts) *notaryv1.TrustBundle {
	t.Helper()
	tb := proto.CloneOf(base)
	for _, w := range o.witnesses {
		_, e := witness(t, w)
		tb.Witnesses = append(tb.Witnesses, e)
	}
	tb.WitnessThreshold = o.threshold
	if o.size != 0 {
		ms := o.ministries
		if ms == nil {
			ms = receipttest.DefaultMinistries
		}
		ids := o.logVals
		if ids == nil {
			for _, m := range ms {
				ids = append(ids, m.ID)
			}
		}
		for _, id := range ids {
			for _, m := range ms {
				if m.ID == id {
					tb.LogValidators = append(tb.LogValidators, &notaryv1.TrustedValidator{
						MinistryId: m.ID, Name: m.Name, PubKey: consKey(m.ID).Public().(ed25519.PublicKey), Power: m.Power,
					})
				}
			}
		}
		sort.Slice(tb.LogValidators, func(i, j int) bool { return tb.LogValidators[i].MinistryId < tb.LogValidators[j].MinistryId })
		root := o.root
		if root == nil {
			h := sha256.Sum256([]byte("receipt v2 test bundle root"))
			root = h[:]
		}
		tb.LogCheckpoint = signCheckpoint(t, tb.ChainId, o.size, root, ids, o.cosigners)
	}
	if err := verify.CheckTrustBundle(tb); err != nil {
		t.Fatal(err)
	}
	return tb
}

func b64(b []byte) string { return base64.StdEncoding.EncodeToString(b) }
