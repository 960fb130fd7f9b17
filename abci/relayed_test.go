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
