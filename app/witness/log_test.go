package witness_test

import (
	"crypto/rand"
	"fmt"
	"testing"

	flog "github.com/transparency-dev/formats/log"
	"github.com/transparency-dev/merkle/compact"
	"github.com/transparency-dev/merkle/proof"
	"github.com/transparency-dev/merkle/rfc6962"
	"golang.org/x/mod/sumdb/note"
)

// testLog is a real RFC 6962 log: leaves appended to a compact range, every
// full subtree's hash kept, so that checkpoints and consistency proofs
// between any two sizes can be produced.
type testLog struct {
	t      *testing.T
	origin string
	rng    *compact.Range
	nodes  map[compact.NodeID][]byte
}

var rangeFactory = &compact.RangeFactory{Hash: rfc6962.DefaultHasher.HashChildren}

func newTestLog(t *testing.T, origin string) *testLog {
	t.Helper()
	return &testLog{t: t, origin: origin, rng: rangeFactory.NewEmptyRange(0), nodes: map[compact.NodeID][]byte{}}
}

// append adds n leaves named by prefix and their index.
func (l *testLog) append(prefix string, n int) {
	l.t.Helper()
	for range n {
		leaf := rfc6962.DefaultHasher.HashLeaf(fmt.Appendf(nil, "%s-%d", prefix, l.rng.End()))
		if err := l.rng.Append(leaf, func(id compact.NodeID, h []byte) { l.nodes[id] = h }); err != nil {
			l.t.Fatalf("append: %v", err)
		}
	}
}

func (l *testLog) size() uint64 { return l.rng.End() }

func (l *testLog) root() []byte {
	l.t.Helper()
	if l.size() == 0 {
		return rfc6962.DefaultHasher.EmptyRoot()
	}
	r, err := l.rng.GetRootHash(nil)
	if err != nil {
		l.t.Fatalf("root: %v", err)
	}
	return r
}

// consistency is the RFC 6962 consistency proof from size1 to the current
// size, checked here with proof.VerifyConsistency against rootAt1 unless
// it is nil.
func (l *testLog) consistency(size1 uint64, rootAt1 []byte) [][]byte {
	l.t.Helper()
	ns, err := proof.Consistency(size1, l.size())
	if err != nil {
		l.t.Fatalf("consistency nodes: %v", err)
	}
	hashes := make([][]byte, len(ns.IDs))
	for i, id := range ns.IDs {
		h, ok := l.nodes[id]
		if !ok {
			l.t.Fatalf("node %+v not in the log", id)
		}
		hashes[i] = h
	}
	p, err := ns.Rehash(hashes, rfc6962.DefaultHasher.HashChildren)
	if err != nil {
		l.t.Fatalf("rehash: %v", err)
	}
	if rootAt1 != nil {
		if err := proof.VerifyConsistency(rfc6962.DefaultHasher, size1, l.size(), p, rootAt1, l.root()); err != nil {
			l.t.Fatalf("test log's own proof: %v", err)
		}
	}
	return p
}

// checkpoint is the log's current checkpoint signed by signers.
func (l *testLog) checkpoint(signers ...note.Signer) []byte {
	l.t.Helper()
	text := flog.Checkpoint{Origin: l.origin, Size: l.size(), Hash: l.root()}.Marshal()
	b, err := note.Sign(&note.Note{Text: string(text)}, signers...)
	if err != nil {
		l.t.Fatalf("sign checkpoint: %v", err)
	}
	return b
}

// validators are n note keys, as the validators of a chain would hold.
type validators struct {
	signers  []note.Signer
	vkeys    []string
	verifier []note.Verifier
}

func newValidators(t *testing.T, n int) validators {
	t.Helper()
	var v validators
	for i := range n {
		skey, vkey, err := note.GenerateKey(rand.Reader, fmt.Sprintf("validator-%d.notary.test", i+1))
		if err != nil {
			t.Fatal(err)
		}
		s, err := note.NewSigner(skey)
		if err != nil {
			t.Fatal(err)
		}
		ver, err := note.NewVerifier(vkey)
		if err != nil {
			t.Fatal(err)
		}
		v.signers = append(v.signers, s)
		v.vkeys = append(v.vkeys, vkey)
		v.verifier = append(v.verifier, ver)
	}
	return v
}
