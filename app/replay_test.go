package app

import (
	"context"
	"crypto/sha256"
	"path/filepath"
	"testing"
	"time"

	dbm "github.com/cometbft/cometbft-db"
	abcitypes "github.com/cometbft/cometbft/abci/types"
	"github.com/cometbft/cometbft/crypto/ed25519"
	cmtlog "github.com/cometbft/cometbft/libs/log"
	sm "github.com/cometbft/cometbft/state"
	"github.com/cometbft/cometbft/store"
	cmttypes "github.com/cometbft/cometbft/types"
	"google.golang.org/protobuf/encoding/protojson"

	"github.com/gobtechlab/notary/abci"
	"github.com/gobtechlab/notary/abci/abcitest"
)

// TestDropUnexecutableBlock: at start, a last block that CometBFT saved
// but did not execute is removed from the block store only if it names a
// transaction the node does not hold and the state store is at the block
// before it.
func TestDropUnexecutableBlock(t *testing.T) {
	held := []byte("a transaction this node holds, long enough to be named by reference")
	cases := []struct {
		name       string
		tx         []byte // block 2's transaction
		stateAt    int64  // the state store's last block height
		wantDrop   bool
		wantHeight int64 // the block store's height after
	}{
		{"a transaction not held", abci.EncodeTxRef(sha256.Sum256([]byte("never seen"))), 1, true, 1},
		{"a transaction held", abci.EncodeTxRef(sha256.Sum256(held)), 1, false, 2},
		{"an inline transaction", []byte("inline"), 1, false, 2},
		{"the state store already past it", abci.EncodeTxRef(sha256.Sum256([]byte("never seen"))), 2, false, 2},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			const chainID = "replay-test"
			a, err := abci.NewApplication(abci.DefaultOptions(filepath.Join(dir, "app"), chainID))
			if err != nil {
				t.Fatal(err)
			}
			defer func() { _ = a.Close() }()
			appState, err := protojson.Marshal(abcitest.Genesis())
			if err != nil {
				t.Fatal(err)
			}
			ctx := context.Background()
			t0 := time.Date(2026, 12, 2, 10, 0, 0, 0, time.UTC)
			if _, err := a.InitChain(ctx, &abcitypes.RequestInitChain{ChainId: chainID, InitialHeight: 1, AppStateBytes: appState, Time: t0}); err != nil {
				t.Fatal(err)
			}
			if _, err := a.FinalizeBlock(ctx, &abcitypes.RequestFinalizeBlock{Height: 1, Time: t0, Hash: []byte("b1")}); err != nil {
				t.Fatal(err)
			}
			if _, err := a.Commit(ctx, &abcitypes.RequestCommit{}); err != nil {
				t.Fatal(err)
			}
			if _, err := a.StoreTx(held); err != nil {
				t.Fatal(err)
			}

			pv := ed25519.GenPrivKey()
			db, err := OpenBlockStore(dbm.GoLevelDBBackend, dir)
			if err != nil {
				t.Fatal(err)
			}
			bs := store.NewBlockStore(db)
			last := &cmttypes.Commit{} // block 1 has no previous block; an empty commit stands in
			for h, txs := range [][]cmttypes.Tx{nil, {tc.tx}} {
				blk := cmttypes.MakeBlock(int64(h+1), txs, last, nil)
				blk.ChainID, blk.ProposerAddress = chainID, pv.PubKey().Address()
				parts, err := blk.MakePartSet(cmttypes.BlockPartSizeBytes)
				if err != nil {
					t.Fatal(err)
				}
				last = &cmttypes.Commit{Height: blk.Height, BlockID: cmttypes.BlockID{Hash: blk.Hash(), PartSetHeader: parts.Header()}}
				sig, err := pv.Sign(blk.Hash())
				if err != nil {
					t.Fatal(err)
				}
				last.Signatures = []cmttypes.CommitSig{{BlockIDFlag: cmttypes.BlockIDFlagCommit, ValidatorAddress: pv.PubKey().Address(), Timestamp: t0, Signature: sig}}
				bs.SaveBlock(blk, parts, last)
			}
			_ = db.Close()

			gen := &cmttypes.GenesisDoc{ChainID: chainID, GenesisTime: t0, InitialHeight: 1,
				Validators: []cmttypes.GenesisValidator{{PubKey: pv.PubKey(), Power: 10}}}
			if err := gen.ValidateAndComplete(); err != nil {
				t.Fatal(err)
			}
			st, err := sm.MakeGenesisState(gen)
			if err != nil {
				t.Fatal(err)
			}
			st.LastBlockHeight, st.LastValidators = tc.stateAt, st.Validators.Copy()
			stateDB, err := dbm.NewDB("state", dbm.GoLevelDBBackend, dir)
			if err != nil {
				t.Fatal(err)
			}
			if err := sm.NewStore(stateDB, sm.StoreOptions{}).Save(st); err != nil {
				t.Fatal(err)
			}
			_ = stateDB.Close()

			dropped, err := dropUnexecutableBlock(dbm.GoLevelDBBackend, dir, a, cmtlog.NewNopLogger())
			if err != nil || dropped != tc.wantDrop {
				t.Fatalf("dropUnexecutableBlock = %v, %v; want %v", dropped, err, tc.wantDrop)
			}
			db, err = OpenBlockStore(dbm.GoLevelDBBackend, dir)
			if err != nil {
				t.Fatal(err)
			}
			defer func() { _ = db.Close() }()
			if h := store.NewBlockStore(db).Height(); h != tc.wantHeight {
				t.Fatalf("block store height %d, want %d", h, tc.wantHeight)
			}
		})
	}
}
