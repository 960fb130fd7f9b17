package abci

import (
	"bytes"
	"context"
	"fmt"
	"testing"

	abcitypes "github.com/cometbft/cometbft/abci/types"
	"google.golang.org/protobuf/encoding/protojson"

	"github.com/gobtechlab/notary/abci/abcitest"
	"github.com/gobtechlab/notary/app/identity"
	"github.com/gobtechlab/notary/ledger"
	notaryv1 "github.com/gobtechlab/notary/proto/notary/v1"
)

// TestLightRelayedChecks: with Options.LightRelayedChecks, a transaction the
// node did not receive from its sender skips the novelty of its digests in
// CheckTx (and only that: a replayed sequence is still refused), one named by
// MarkLocal is checked in full, and the block decides either way.
func TestLightRelayedChecks(t *testing.T) {
	ctx := context.Background()
	agency := abcitest.Agencies[0]
	signer := "agency/" + agency
	anchor := func(seq uint64, ds []byte) []byte {
		return identity.SignTx(testChain, abcitest.Key(signer), &notaryv1.TxBody{Sequence: seq, Msg: &notaryv1.TxBody_AnchorBatch{AnchorBatch: &notaryv1.AnchorBatch{
			AgencyId: agency, HashAlgorithm: notaryv1.HashAlgorithm_HASH_ALGORITHM_SHA2_256, Digests: ds}}})
	}
	ds := digestsOf("relayed", 3)
	first := anchor(0, ds)
	repeat := anchor(1, ds) // the same digests again, next sequence
	dupCode := uint32(35)   // ErrAlreadyAnchored's registered code

	for _, tc := range []struct {
		name      string
		light     bool
		markLocal bool
		wantCheck uint32
	}{
		{"light, relayed", true, false, abcitypes.CodeTypeOK},
		{"light, local", true, true, dupCode},
		{"full, relayed", false, false, dupCode},
	} {
		t.Run(tc.name, func(t *testing.T) {
			a := relayedApp(t, tc.light)
			if res := finalizeCommit(t, a, 1, [][]byte{first}); res.TxResults[0].Code != abcitypes.CodeTypeOK {
				t.Fatalf("first anchoring: %d %s", res.TxResults[0].Code, res.TxResults[0].Log)
			}
			if tc.markLocal {
				a.MarkLocal(ledger.TxHash(repeat))
			}
			res, err := a.CheckTx(ctx, &abcitypes.RequestCheckTx{Tx: repeat, Type: abcitypes.CheckTxType_New})
			if err != nil {
				t.Fatal(err)
			}
			if res.Code != tc.wantCheck {
				t.Fatalf("CheckTx: code %d (%s), want %d", res.Code, res.Log, tc.wantCheck)
			}
			// A replayed sequence is refused by a light check too.
			if res, _ := a.CheckTx(ctx, &abcitypes.RequestCheckTx{Tx: first}); res.Code == abcitypes.CodeTypeOK {
				t.Fatal("CheckTx accepted a replayed sequence")
			}
			fin := finalizeCommit(t, a, 2, [][]byte{repeat})
			if r := fin.TxResults[0]; r.Code != dupCode {
				t.Fatalf("FinalizeBlock: code %d (%s), want %d", r.Code, r.Log, dupCode)
			}
		})
	}
}

// relayedApp is an application with the abcitest genesis, closed when the
// test ends.
func relayedApp(t *testing.T, light bool) *Application {
	t.Helper()
	opts := DefaultOptions(t.TempDir(), testChain)
	opts.LightRelayedChecks = light
	a, err := NewApplication(opts)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = a.Close() })
	gen, _ := protojson.Marshal(abcitest.Genesis())
	initChainWith(t, a, gen)
	return a
}

// TestHeldRelayedTransactions: a relayed transaction ahead of its signer's
// next sequence enters the mempool (held), one from the sender's own node
// does not, PrepareProposal puts the held one after the transaction before
// it (or leaves it out without it), and the block commits both.
func TestHeldRelayedTransactions(t *testing.T) {
	ctx := context.Background()
	agency := abcitest.Agencies[0]
	anchor := func(seq uint64) []byte {
		return identity.SignTx(testChain, abcitest.Key("agency/"+agency), &notaryv1.TxBody{Sequence: seq, Msg: &notaryv1.TxBody_AnchorBatch{AnchorBatch: &notaryv1.AnchorBatch{
			AgencyId: agency, HashAlgorithm: notaryv1.HashAlgorithm_HASH_ALGORITHM_SHA2_256, Digests: digestsOf(fmt.Sprint("held", seq), 3)}}})
	}
	a := relayedApp(t, true)
	finalizeCommit(t, a, 1, nil)
	first, second, local := anchor(0), anchor(1), anchor(2)
	check := func(tx []byte) uint32 {
		t.Helper()
		res, err := a.CheckTx(ctx, &abcitypes.RequestCheckTx{Tx: tx, Type: abcitypes.CheckTxType_New})
		if err != nil {
			t.Fatal(err)
		}
		return res.Code
	}
	if c := check(second); c != abcitypes.CodeTypeOK {
		t.Fatalf("relayed sequence 1 before 0: code %d, want it held", c)
	}
	a.MarkLocal(ledger.TxHash(local))
	if c := check(local); c != ledger.ErrSequenceSkipped.Code() {
		t.Fatalf("local sequence 2 before 0: code %d, want %d", c, ledger.ErrSequenceSkipped.Code())
	}
	if c := check(first); c != abcitypes.CodeTypeOK {
		t.Fatalf("relayed sequence 0: code %d", c)
	}
	prepare := func(txs ...[]byte) [][]byte {
		t.Helper()
		prep, err := a.PrepareProposal(ctx, &abcitypes.RequestPrepareProposal{Txs: txs, MaxTxBytes: 22 << 20, Height: 2})
		if err != nil {
			t.Fatal(err)
		}
		return prep.Txs
	}
	if got := prepare(second); len(got) != 0 {
		t.Fatalf("proposal of sequence 1 alone: %d transactions, want none", len(got))
	}
	got := prepare(second, first)
	if len(got) != 2 || !bytes.Equal(got[0], first) || !bytes.Equal(got[1], second) {
		t.Fatalf("proposal of sequences 1, 0: %d transactions, not 0 then 1", len(got))
	}
	for i, r := range finalizeCommit(t, a, 2, got).TxResults {
		if r.Code != abcitypes.CodeTypeOK {
			t.Fatalf("transaction %d: code %d (%s)", i, r.Code, r.Log)
		}
	}
}

// TestRecheckRevocation: a revocation accepted into the mempool stays there
// when a block that does not carry it (one proposed before it arrived) is
// committed: its recheck still finds the digest, anchored in an earlier
// block, and the next block commits it. Whether the node received it from
// its sender or from a peer, and whether the block just committed anchored
// digests or none, the answer is the same.
func TestRecheckRevocation(t *testing.T) {
	ctx := context.Background()
	agency := abcitest.Agencies[0]
	key := abcitest.Key("agency/" + agency)
	sha2 := notaryv1.HashAlgorithm_HASH_ALGORITHM_SHA2_256
	for _, tc := range []struct {
		name    string
		local   bool
		between bool // the block after the anchoring anchors other digests
	}{
		{"local, empty block", true, false},
		{"local, block with digests", true, true},
		{"relayed, empty block", false, false},
		{"relayed, block with digests", false, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			a := relayedApp(t, true)
			ds := digestsOf("revoked", 4)
			anchor := func(seq uint64, ds []byte) []byte {
				return identity.SignTx(testChain, key, &notaryv1.TxBody{Sequence: seq, Msg: &notaryv1.TxBody_AnchorBatch{AnchorBatch: &notaryv1.AnchorBatch{
					AgencyId: agency, HashAlgorithm: sha2, Digests: ds}}})
			}
			if r := finalizeCommit(t, a, 1, [][]byte{anchor(0, ds)}).TxResults[0]; r.Code != abcitypes.CodeTypeOK {
				t.Fatalf("anchoring: code %d (%s)", r.Code, r.Log)
			}
			seq := uint64(1)
			var between [][]byte
			if tc.between {
				between = [][]byte{anchor(seq, digestsOf("between", 3))}
				seq++
			}
			revoke := identity.SignTx(testChain, key, &notaryv1.TxBody{Sequence: seq, Msg: &notaryv1.TxBody_Revoke{Revoke: &notaryv1.Revoke{
				HashAlgorithm: sha2, Digests: ds[ledger.DigestSize : 2*ledger.DigestSize],
				Reason: notaryv1.RevocationReason_REVOCATION_REASON_SUPERSEDED, ReasonText: "reissued"}}})
			if tc.local {
				a.MarkLocal(ledger.TxHash(revoke))
			}
			check := func(typ abcitypes.CheckTxType, tx []byte) {
				t.Helper()
				res, err := a.CheckTx(ctx, &abcitypes.RequestCheckTx{Tx: tx, Type: typ})
				if err != nil {
					t.Fatal(err)
				}
				if res.Code != abcitypes.CodeTypeOK {
					t.Fatalf("CheckTx %v: code %d (%s)", typ, res.Code, res.Log)
				}
			}
			for _, tx := range between {
				check(abcitypes.CheckTxType_New, tx)
			}
			check(abcitypes.CheckTxType_New, revoke)
			// The block proposed before the revocation arrived.
			finalizeCommit(t, a, 2, between)
			check(abcitypes.CheckTxType_Recheck, revoke)
			// A second block without it: rechecked again.
			finalizeCommit(t, a, 3, nil)
			check(abcitypes.CheckTxType_Recheck, revoke)
			if r := finalizeCommit(t, a, 4, [][]byte{revoke}).TxResults[0]; r.Code != abcitypes.CodeTypeOK {
				t.Fatalf("revocation in a block: code %d (%s)", r.Code, r.Log)
			}
		})
	}
}
