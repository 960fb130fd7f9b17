package abci

import (
	"bytes"
	"context"
	"io/fs"
	"path/filepath"
	"testing"

	abcitypes "github.com/cometbft/cometbft/abci/types"
	"google.golang.org/protobuf/encoding/protojson"

	"github.com/gobtechlab/notary/abci/abcitest"
	"github.com/gobtechlab/notary/ledger"
)

// dirBytes is the size of the files under dir.
func dirBytes(t *testing.T, dir string) int64 {
	t.Helper()
	var n int64
	err := filepath.WalkDir(dir, func(_ string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		info, err := d.Info()
		if err != nil {
			return err
		}
		n += info.Size()
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return n
}

// TestIdleBlocksKeepAppHash: blocks without transactions leave the app hash
// as it was while the state's version follows the height (Info's
// LastBlockHeight, which CometBFT's handshake compares with its block
// store); the state of an idle height is readable and provable; after a
// restart the application reports the last height, its hash and the time
// of its block (from the block store); and idle blocks add little to the
// application's files.
func TestIdleBlocksKeepAppHash(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	blocks := memBlocks{}
	opts := DefaultOptions(dir, testChain)
	opts.Blocks = blocks
	a, err := NewApplication(opts)
	if err != nil {
		t.Fatal(err)
	}
	gen, _ := protojson.Marshal(abcitest.Genesis())
	initChainWith(t, a, gen)
	g := abcitest.New(7, testChain)
	tx := g.Anchor(abcitest.Agencies[0], 10)
	blocks[1] = [][]byte{tx.Raw}
	first := finalizeCommit(t, a, 1, blocks[1])
	if r := first.TxResults[0]; r.Code != abcitypes.CodeTypeOK {
		t.Fatalf("anchor: %s", r.Log)
	}
	const idle = 200
	before := dirBytes(t, dir)
	for h := int64(2); h <= 1+idle; h++ {
		blocks[h] = nil
		if fin := finalizeCommit(t, a, h, nil); !bytes.Equal(fin.AppHash, first.AppHash) {
			t.Fatalf("height %d: app hash %X, the last block that changed the state gave %X", h, fin.AppHash, first.AppHash)
		}
	}
	grown := dirBytes(t, dir) - before
	// A version that changes nothing is a reference to the previous root.
	if perBlock := grown / idle; perBlock > 512 {
		t.Errorf("an idle block adds %d bytes to the application's files, want at most 512", perBlock)
	}
	t.Logf("%d idle blocks added %d bytes (%d per block)", idle, grown, grown/idle)
	last := int64(1 + idle)
	info, err := a.Info(ctx, &abcitypes.RequestInfo{})
	if err != nil {
		t.Fatal(err)
	}
	if info.LastBlockHeight != last || !bytes.Equal(info.LastBlockAppHash, first.AppHash) {
		t.Fatalf("Info: height %d hash %X, want %d %X", info.LastBlockHeight, info.LastBlockAppHash, last, first.AppHash)
	}
	digest := tx.Digests[:ledger.DigestSize]
	for _, h := range []int64{1, last / 2, last} {
		res, err := a.Query(ctx, &abcitypes.RequestQuery{Path: QueryStore, Data: ledger.AccountKey(abcitest.Pub(abcitest.Key(tx.Signer))), Height: h, Prove: true})
		if err != nil || res.Code != 0 || res.Value == nil {
			t.Fatalf("query at height %d: %v %v", h, res, err)
		}
	}
	if _, found, err := a.LookupDigest(ledger.HashAlgorithm(1), digest); err != nil || !found {
		t.Fatalf("lookup: %v %v", found, err)
	}
	if err := a.Close(); err != nil {
		t.Fatal(err)
	}

	a, err = NewApplication(opts)
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = a.Close() }()
	h, hash, tm := a.LastCommit()
	if h != last || !bytes.Equal(hash, first.AppHash) || !tm.Equal(blockTimeAt(last)) {
		t.Fatalf("after restart: height %d hash %X time %s, want %d %X %s", h, hash, tm, last, first.AppHash, blockTimeAt(last))
	}
	if fin := finalizeCommit(t, a, last+1, nil); !bytes.Equal(fin.AppHash, first.AppHash) {
		t.Fatalf("height %d after restart: app hash %X, want %X", last+1, fin.AppHash, first.AppHash)
	}
}
