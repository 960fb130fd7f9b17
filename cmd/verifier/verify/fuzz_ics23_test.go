package verify_test

import (
	"bytes"
	"testing"

	"github.com/gobtechlab/notary/app/receipt/receipttest"
	"github.com/gobtechlab/notary/cmd/verifier/verify"
	"github.com/gobtechlab/notary/ledger"
	notaryv1 "github.com/gobtechlab/notary/proto/notary/v1"
)

// FuzzICS23 checks the verifier's ICS23 proof path (decodeProof, then
// verifyMembership or verifyNonMembership with the unmodified ics23
// verifier and ics23.IavlSpec) against one real state: a synthetic chain
// with a batch anchored and one of its digests revoked, whose every key and
// value the test knows. Whatever the proof bytes, key and value, nothing
// panics; an accepted existence proof names a key the state holds with
// exactly that value, and an accepted non-existence proof names a key the
// state does not hold. Seeds are the node's own proofs of present and
// absent keys. Run with `go test -fuzz FuzzICS23 ./cmd/verifier/verify/`.
func FuzzICS23(f *testing.F) {
	c := receipttest.New(f, receipttest.Options{})
	a, b := receipttest.Digest("ics23/a"), receipttest.Digest("ics23/b")
	c.Anchor(sha2, "fuzz", a, b)
	c.Revoke(sha2, a, notaryv1.RevocationReason_REVOCATION_REASON_SUPERSEDED, "fuzz")
	c.Empty(1)
	h, _, _ := c.App.LastCommit()
	view, err := c.StateAt(h)
	if err != nil {
		f.Fatal(err)
	}
	root := view.Hash()
	state := map[string][]byte{}
	var keys [][]byte
	if err := view.Iterate(nil, nil, func(k, v []byte) bool {
		state[string(k)] = append([]byte(nil), v...)
		keys = append(keys, append([]byte(nil), k...))
		return true
	}); err != nil {
		f.Fatal(err)
	}
	if len(keys) < 5 {
		f.Fatalf("the state holds only %d keys", len(keys))
	}
	absent := [][]byte{
		ledger.RevocationKey(sha2, b),
		ledger.AgencyKey("nadie"),
		{},
		{0xff, 0xff, 0xff},
	}
	for _, k := range append(append([][]byte(nil), keys...), absent...) {
		v, p, err := view.Prove(k)
		if err != nil {
			f.Fatalf("prove %q: %v", k, err)
		}
		pb, err := p.Marshal()
		if err != nil {
			f.Fatal(err)
		}
		f.Add(pb, k, v, v != nil)
	}
	f.Fuzz(func(t *testing.T, proofBytes, key, value []byte, exist bool) {
		p, err := verify.DecodeProof("fuzz", proofBytes, exist)
		if err != nil {
			return
		}
		if exist {
			if !verify.VerifyMembership(root, p, key, value) {
				return
			}
			if have, ok := state[string(key)]; !ok || !bytes.Equal(have, value) {
				t.Fatalf("existence proof accepted for %q = %x; the state holds %x (present %v)", key, value, have, ok)
			}
			return
		}
		if !verify.VerifyNonMembership(root, p, key) {
			return
		}
		if _, ok := state[string(key)]; ok {
			t.Fatalf("non-existence proof accepted for %q, which the state holds", key)
		}
	})
}
