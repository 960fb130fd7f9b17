package ledger

import (
	"bytes"
	"errors"
	"testing"

	"golang.org/x/mod/sumdb/tlog"

	notaryv1 "github.com/gobtechlab/notary/proto/notary/v1"
)

// logHashes keeps the stored hashes of a tlog tree in memory, to compute
// the evidence log's root independently of the ledger's compact range.
type logHashes []tlog.Hash

func (h logHashes) ReadHashes(idx []int64) ([]tlog.Hash, error) {
	out := make([]tlog.Hash, len(idx))
	for i, x := range idx {
		out[i] = h[x]
	}
	return out, nil
}

// logModel is every leaf appended so far, as the tests expect them.
type logModel struct {
	leaves [][]byte
	hashes logHashes
}

func (m *logModel) add(t *testing.T, leaf []byte) {
	t.Helper()
	hs, err := tlog.StoredHashes(int64(len(m.leaves)), leaf, m.hashes)
	if err != nil {
		t.Fatal(err)
	}
	m.hashes = append(m.hashes, hs...)
	m.leaves = append(m.leaves, leaf)
}

// check compares the state's log with the model: size and root (computed
// by golang.org/x/mod/sumdb/tlog).
func (m *logModel) check(t *testing.T, st Store) {
	t.Helper()
	l, err := LoadEvidenceLog(st)
	if err != nil {
		t.Fatal(err)
	}
	root, err := tlog.TreeHash(int64(len(m.leaves)), m.hashes)
	if err != nil {
		t.Fatal(err)
	}
	if l.Size != uint64(len(m.leaves)) || !bytes.Equal(l.Root, root[:]) {
		t.Fatalf("log size %d root %x, want %d %x", l.Size, l.Root, len(m.leaves), root[:])
	}
}

// recordLeaf is the leaf of the state record at key.
func recordLeaf(t *testing.T, st Store, kind byte, key []byte) []byte {
	t.Helper()
	v, err := st.Get(key)
	if err != nil || v == nil {
		t.Fatalf("record %q: %v (missing: %v)", key, err, v == nil)
	}
	return EncodeLogLeaf(kind, key, v)
}

// TestEvidenceLogOrder: batches and revocations (a transaction's, in
// message order, and a governance proposal's, after the transactions) are
// appended in block order as their state records; failed transactions and
// other messages append nothing, and a block without evidence writes
// nothing.
func TestEvidenceLogOrder(t *testing.T) {
	h := newGovHarness(t, testGenesis())
	f := h.fixture
	var m logModel
	sha := notaryv1.HashAlgorithm_HASH_ALGORITHM_SHA2_256

	first := digests("log-first", 4)
	mustOK(t, f.one(f.sign(agencyKey("aeat"), anchorBody("aeat", first))))
	m.add(t, recordLeaf(t, f.st, LogLeafBatch, BatchKey(f.height-1, 0)))
	m.check(t, f.st)
	if len(f.leaves) != 1 || !bytes.Equal(f.leaves[0], m.leaves[0]) {
		t.Fatalf("block leaves %x, want the batch's", f.leaves)
	}

	// One block: a revocation of two digests (in message order: the
	// second digest first), a failed anchor (duplicate), a batch of sepe.
	revoked := append(append([]byte(nil), digestAt(first, 2)...), digestAt(first, 0)...)
	h2 := f.height
	outs, _ := h.run(
		h.tx(agencyKey("aeat"), revokeBody(revoked)),
		f.sign(agencyKey("sepe"), anchorBody("sepe", digestAt(first, 1))), // fails: its sequence is not consumed
		h.tx(agencyKey("sepe"), anchorBody("sepe", digests("log-second", 2))),
	)
	mustOK(t, outs[0])
	mustFail(t, outs[1], ErrAlreadyAnchored)
	mustOK(t, outs[2])
	m.add(t, recordLeaf(t, f.st, LogLeafRevocation, RevocationKey(sha, digestAt(first, 2))))
	m.add(t, recordLeaf(t, f.st, LogLeafRevocation, RevocationKey(sha, digestAt(first, 0))))
	m.add(t, recordLeaf(t, f.st, LogLeafBatch, BatchKey(h2, 2)))
	m.check(t, f.st)
	if len(f.leaves) != 3 || !bytes.Equal(f.leaves[2], m.leaves[3]) {
		t.Fatalf("block leaves: %d, want 3 in block order", len(f.leaves))
	}

	// A block without evidence (a failed anchor, an enrolment) writes
	// nothing.
	before := dump(f.st)
	mustFail(t, f.one(f.sign(agencyKey("aeat"), anchorBody("aeat", digestAt(first, 3)))), ErrAlreadyAnchored)
	f.block()
	if !bytes.Equal(before, dump(f.st)) {
		t.Fatal("a block without evidence changed the state")
	}
	if len(f.leaves) != 0 {
		t.Fatalf("%d leaves in a block without evidence", len(f.leaves))
	}

	// A governance revocation: leaves in the block that executes it, after
	// the block's transactions.
	outs, _ = h.run(h.propose("hacienda", actRevoke(digestAt(first, 3))))
	mustOK(t, outs[0])
	id := uint64(1)
	h3 := f.height
	outs, _ = h.run(
		h.vote("hacienda", id, yes),
		h.vote("interior", id, yes),
		h.vote("sanidad", id, yes),
		h.tx(agencyKey("aeat"), anchorBody("aeat", digests("log-third", 1))),
	)
	for _, o := range outs {
		mustOK(t, o)
	}
	m.add(t, recordLeaf(t, f.st, LogLeafBatch, BatchKey(h3, 3)))
	m.add(t, recordLeaf(t, f.st, LogLeafRevocation, RevocationKey(sha, digestAt(first, 3))))
	m.check(t, f.st)

	// Every leaf decodes to its record.
	for i, leaf := range m.leaves {
		l, err := DecodeLogLeaf(leaf)
		if err != nil {
			t.Fatalf("leaf %d: %v", i, err)
		}
		v, _ := f.st.Get(l.Key)
		if !bytes.Equal(v, l.Value) {
			t.Fatalf("leaf %d: value is not the record at %q", i, l.Key)
		}
	}
}

// TestEvidenceLogOff: a chain created before the log keeps none, and no
// change-params proposal turns it on or off.
func TestEvidenceLogOff(t *testing.T) {
	g := testGenesis()
	g.Params.EvidenceLog = false
	h := newGovHarness(t, g)
	f := h.fixture
	mustOK(t, f.one(f.sign(agencyKey("aeat"), anchorBody("aeat", digests("off", 2)))))
	if v, _ := f.st.Get(EvidenceLogKey()); v != nil || len(f.leaves) != 0 {
		t.Fatalf("a chain without the log wrote %x (%d leaves)", v, len(f.leaves))
	}
	p := DefaultParams()
	outs, _ := h.run(h.propose("hacienda", actChangeParams(p)))
	mustFail(t, outs[0], ErrInvalidParams)
}

func TestLogLeafEncoding(t *testing.T) {
	key := BatchKey(7, 3)
	leaf := EncodeLogLeaf(LogLeafBatch, key, []byte("value"))
	want := append(append(append([]byte{1, 0, 18}, key...), 0, 5), "value"...)
	if !bytes.Equal(leaf, want) {
		t.Fatalf("leaf %x, want %x", leaf, want)
	}
	l, err := DecodeLogLeaf(leaf)
	if err != nil || l.Kind != LogLeafBatch || !bytes.Equal(l.Key, key) || string(l.Value) != "value" {
		t.Fatalf("decode: %+v %v", l, err)
	}
	for _, tc := range []struct {
		name string
		leaf []byte
	}{
		{"short", []byte{1, 0}},
		{"key overruns", []byte{1, 0, 9, 'b', 0, 0}},
		{"trailing bytes", append(bytes.Clone(leaf), 0)},
		{"unknown kind", EncodeLogLeaf(3, key, nil)},
		{"kind and key disagree", EncodeLogLeaf(LogLeafRevocation, key, nil)},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if _, err := DecodeLogLeaf(tc.leaf); err == nil {
				t.Fatal("decoded")
			}
		})
	}
	if _, err := decodeEvidenceLog([]byte{0, 0, 0, 0, 0, 0, 0, 3}); err == nil {
		t.Fatal("a record of size 3 without hashes decoded")
	}
	var se *StoreError
	st := NewMemStore()
	_ = st.Set(EvidenceLogKey(), []byte{1})
	if _, err := LoadEvidenceLog(st); !errors.As(err, &se) {
		t.Fatalf("damaged record: %v, want a StoreError", err)
	}
}
