package app

import (
	"errors"
	"fmt"

	dbm "github.com/cometbft/cometbft-db"
	cmtlog "github.com/cometbft/cometbft/libs/log"
	sm "github.com/cometbft/cometbft/state"
	"github.com/cometbft/cometbft/store"

	"github.com/gobtechlab/notary/abci"
)

// dropUnexecutableBlock removes from the block store a block CometBFT saved
// but neither it nor the application executed, when the block names by
// reference a transaction the node does not hold. CometBFT's handshake
// would replay it before the node's p2p layer runs, when the node cannot
// ask its peers for the transaction, and the node could not start. That
// happens only to a node that stopped between saving a block it had not
// checked (one decided while it was behind) and fetching its transactions.
// Without the block, the state, the application and the block store agree
// on the height before it; the node gets the block again from its
// consensus log or its peers, and fetches the transaction then
// (app/internal/txsync). It reports whether it removed a block.
func dropUnexecutableBlock(backend dbm.BackendType, dataDir string, app *abci.Application, logger cmtlog.Logger) (bool, error) {
	appHeight, _, _ := app.LastCommit()
	db, err := OpenBlockStore(backend, dataDir)
	if err != nil {
		return false, err
	}
	defer func() { _ = db.Close() }()
	bs := store.NewBlockStore(db)
	if bs.Height() != appHeight+1 {
		return false, nil
	}
	blk := bs.LoadBlock(bs.Height())
	if blk == nil {
		return false, nil
	}
	txs := make([][]byte, len(blk.Txs))
	for i, tx := range blk.Txs {
		txs[i] = tx
	}
	if _, err := app.ResolveTxs(txs); err == nil {
		return false, nil
	} else if !errors.Is(err, abci.ErrTxUnavailable) {
		return false, err
	}
	stateDB, err := dbm.NewDB("state", backend, dataDir)
	if err != nil {
		return false, err
	}
	defer func() { _ = stateDB.Close() }()
	st, err := sm.NewStore(stateDB, sm.StoreOptions{}).Load()
	if err != nil {
		return false, fmt.Errorf("state store: %w", err)
	}
	if st.LastBlockHeight != appHeight {
		return false, nil // CometBFT's handshake does not execute it
	}
	logger.Info("removing the last block from the block store: it was saved but not executed, and names a transaction this node does not hold; the node gets both again from its peers",
		"height", blk.Height)
	if err := bs.DeleteLatestBlock(); err != nil {
		return false, fmt.Errorf("remove block %d: %w", blk.Height, err)
	}
	return true, nil
}
