package abci

import (
	"context"
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
			opts := DefaultOptions(t.TempDir(), testChain)
			opts.LightRelayedChecks = tc.light
			a, err := NewApplication(opts)
			if err != nil {
				t.Fatal(err)
			}
			defer a.Close()
			gen, _ := protojson.Marshal(abcitest.Genesis())
			initChainWith(t, a, gen)
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
