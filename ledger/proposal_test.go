package ledger

import (
	"crypto/ed25519"
	"errors"
	"fmt"
	"slices"
	"testing"
	"time"

	notaryv1 "github.com/gobtechlab/notary/proto/notary/v1"
)

// TestProposalOrder: a proposal keeps the mempool's order except that a
// transaction ahead of its signer's next sequence goes right after the one
// before it, or is left out; what it proposes in a sequence the state
// expects succeeds in the block.
func TestProposalOrder(t *testing.T) {
	aeat, sepe, ana := agencyKey("aeat"), agencyKey("sepe"), citizenKey("ana")
	for _, tc := range []struct {
		name string
		in   []string // signer (a: aeat, s: sepe, c: citizen ana) and sequence; aeat's next is 2
		want []string
	}{
		{"in order", []string{"a2", "a3", "a4"}, []string{"a2", "a3", "a4"}},
		{"reversed", []string{"a4", "a3", "a2"}, []string{"a2", "a3", "a4"}},
		{"first missing", []string{"a3", "a4"}, nil},
		{"gap", []string{"a2", "a4", "a5"}, []string{"a2"}},
		{"replayed keeps its place", []string{"a1", "a3", "a2"}, []string{"a1", "a2", "a3"}},
		{"two signers", []string{"a3", "s1", "a2", "s0"}, []string{"a2", "a3", "s0", "s1"}},
		{"repeated sequence held once", []string{"a3", "a3", "a2"}, []string{"a2", "a3"}},
		{"signer without account", []string{"c1", "c0"}, []string{"c0", "c1"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f := newFixture(t, testGenesis())
			mustOK(t, f.one(f.sign(aeat, anchorBody("aeat", digests("pre0", 1)))))
			mustOK(t, f.one(f.sign(aeat, anchorBody("aeat", digests("pre1", 1)))))
			var txs []*Tx
			for i, s := range tc.in {
				var k ed25519.PrivateKey
				var body *notaryv1.TxBody
				switch s[0] {
				case 'a':
					k, body = aeat, anchorBody("aeat", digests(fmt.Sprintf("%s-%d", tc.name, i), 2))
				case 's':
					k, body = sepe, anchorBody("sepe", digests(fmt.Sprintf("%s-%d", tc.name, i), 2))
				case 'c':
					k, body = ana, grantMsg(SubjectID(pub(ana)), "sepe", "employment", DefaultPurposes[i%len(DefaultPurposes)], f.time, f.time.Add(24*time.Hour))
				}
				tx, err := DecodeTx(testChain, f.signSeq(k, uint64(s[1]-'0'), body), 0)
				if err != nil {
					t.Fatal(err)
				}
				txs = append(txs, tx)
			}
			order, err := ProposalOrder(f.st, txs)
			if err != nil {
				t.Fatal(err)
			}
			var got []string
			var raws [][]byte
			for _, i := range order {
				got = append(got, tc.in[i])
				raws = append(raws, txs[i].Raw)
			}
			if !slices.Equal(got, tc.want) {
				t.Fatalf("order %v, want %v", got, tc.want)
			}
			for i, out := range f.block(raws...) {
				replayed := got[i] == "a1"
				if (out.Err == nil) == replayed {
					t.Errorf("%s: outcome %v", got[i], out.Err)
				}
			}
		})
	}
}

// TestRunRelayedHoldsAhead: a relayed transaction up to MaxSequenceAhead
// ahead of its signer's next sequence is held, unapplied, once its signer's
// authorization passes; farther ahead, from the sender's own node, or in a
// block, it is a skipped sequence.
func TestRunRelayedHoldsAhead(t *testing.T) {
	f := newFixture(t, testGenesis())
	aeat, readonly := agencyKey("aeat"), agencyKey("readonly")
	anchor := func(k ed25519.PrivateKey, agency string, seq uint64) *Tx {
		tx, err := DecodeTx(testChain, f.signSeq(k, seq, anchorBody(agency, digests(fmt.Sprintf("held-%s-%d", agency, seq), 2))), 0)
		if err != nil {
			t.Fatal(err)
		}
		return tx
	}
	e, err := f.l.NewExec(NewOverlay(f.st), f.idx, BlockInfo{Height: f.height, Time: f.time}, ModeCheck)
	if err != nil {
		t.Fatal(err)
	}
	run := func(relayed bool, tx *Tx) Outcome {
		t.Helper()
		var out Outcome
		if relayed {
			out, err = e.RunRelayed(0, tx)
		} else {
			out, err = e.Run(0, tx)
		}
		if err != nil {
			t.Fatal(err)
		}
		return out
	}
	if out := run(true, anchor(aeat, "aeat", 1)); !out.Held || out.Err != nil {
		t.Fatalf("relayed, one ahead: %+v", out)
	}
	if out := run(true, anchor(aeat, "aeat", MaxSequenceAhead)); !out.Held {
		t.Fatalf("relayed, %d ahead: %+v", MaxSequenceAhead, out)
	}
	mustFail(t, run(true, anchor(aeat, "aeat", MaxSequenceAhead+1)), ErrSequenceSkipped)
	mustFail(t, run(false, anchor(aeat, "aeat", 1)), ErrSequenceSkipped)
	if out := run(true, anchor(readonly, "readonly", 1)); out.Held || !errors.Is(out.Err, ErrUnauthorized) {
		t.Fatalf("relayed, ahead, without the permission: %+v", out)
	}
	// Held changed nothing: sequence 0 is next, then 1 applies in full.
	if out := run(true, anchor(aeat, "aeat", 0)); out.Held || out.Err != nil {
		t.Fatalf("relayed, next: %+v", out)
	}
	if out := run(true, anchor(aeat, "aeat", 1)); out.Held || out.Err != nil {
		t.Fatalf("relayed, next after the first: %+v", out)
	}
	// A block fails a skipped sequence.
	mustFail(t, f.one(f.signSeq(aeat, 1, anchorBody("aeat", digests("block", 1)))), ErrSequenceSkipped)
}
