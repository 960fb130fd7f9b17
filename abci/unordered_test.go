package abci

import (
	"context"
	"fmt"
	"testing"

	abcitypes "github.com/cometbft/cometbft/abci/types"

	"github.com/gobtechlab/notary/abci/abcitest"
	"github.com/gobtechlab/notary/app/identity"
	"github.com/gobtechlab/notary/ledger"
	notaryv1 "github.com/gobtechlab/notary/proto/notary/v1"
)

// TestUnorderedMempool: the mempool takes unordered transactions of one key
// in any number and order, relayed or not, never holding one; it refuses a
// second transaction with the same (signer, nonce); a recheck evicts one
// whose valid_until_height the next block would reach; PrepareProposal keeps
// them in place, and the block commits them.
func TestUnorderedMempool(t *testing.T) {
	ctx := context.Background()
	agency := abcitest.Agencies[0]
	k := abcitest.Key("agency/" + agency)
	unordered := func(nonce string, until int64, tag string) []byte {
		return identity.SignTx(testChain, k, &notaryv1.TxBody{Nonce: []byte(nonce), ValidUntilHeight: until, Msg: &notaryv1.TxBody_AnchorBatch{AnchorBatch: &notaryv1.AnchorBatch{
			AgencyId: agency, HashAlgorithm: notaryv1.HashAlgorithm_HASH_ALGORITHM_SHA2_256, Digests: digestsOf(tag, 2)}}})
	}
	a := relayedApp(t, true)
	finalizeCommit(t, a, 1, nil)
	check := func(tx []byte, typ abcitypes.CheckTxType) uint32 {
		t.Helper()
		res, err := a.CheckTx(ctx, &abcitypes.RequestCheckTx{Tx: tx, Type: typ})
		if err != nil {
			t.Fatal(err)
		}
		return res.Code
	}
	var txs [][]byte
	for i := range 6 {
		tx := unordered(fmt.Sprintf("sender-%010d", i), 10, fmt.Sprint("u", i))
		if i%2 == 0 {
			a.MarkLocal(ledger.TxHash(tx))
		}
		if c := check(tx, abcitypes.CheckTxType_New); c != abcitypes.CodeTypeOK {
			t.Fatalf("unordered %d: code %d", i, c)
		}
		txs = append(txs, tx)
	}
	if c := check(unordered(fmt.Sprintf("sender-%010d", 3), 11, "other"), abcitypes.CheckTxType_New); c != ledger.ErrNonceUsed.Code() {
		t.Fatalf("same nonce, other transaction: code %d, want %d", c, ledger.ErrNonceUsed.Code())
	}
	// CheckTx judges for the next height, 2: valid_until_height 2 has expired.
	if c := check(unordered("expires-at-2-0000", 2, "x"), abcitypes.CheckTxType_New); c != ledger.ErrTxExpired.Code() {
		t.Fatalf("valid until the next height: code %d, want %d", c, ledger.ErrTxExpired.Code())
	}
	late := unordered("expires-at-3-0000", 3, "late")
	if c := check(late, abcitypes.CheckTxType_New); c != abcitypes.CodeTypeOK {
		t.Fatalf("valid until height 3: code %d", c)
	}
	prep, err := a.PrepareProposal(ctx, &abcitypes.RequestPrepareProposal{Txs: txs, MaxTxBytes: 22 << 20, Height: 2})
	if err != nil {
		t.Fatal(err)
	}
	if len(prep.Txs) != len(txs) {
		t.Fatalf("proposal of %d unordered transactions: %d", len(txs), len(prep.Txs))
	}
	for i, r := range finalizeCommit(t, a, 2, prep.Txs).TxResults {
		if r.Code != abcitypes.CodeTypeOK {
			t.Fatalf("transaction %d: code %d (%s)", i, r.Code, r.Log)
		}
	}
	// The recheck after block 2 judges for height 3: the late one expired.
	if c := check(late, abcitypes.CheckTxType_Recheck); c != ledger.ErrTxExpired.Code() {
		t.Fatalf("recheck of a transaction valid until the next height: code %d, want %d", c, ledger.ErrTxExpired.Code())
	}
	// The committed ones are refused again, as spent.
	if c := check(txs[0], abcitypes.CheckTxType_New); c != ledger.ErrNonceUsed.Code() {
		t.Fatalf("committed transaction again: code %d, want %d", c, ledger.ErrNonceUsed.Code())
	}
}
