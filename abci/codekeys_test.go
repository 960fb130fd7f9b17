package abci

import (
	"context"
	"crypto/sha256"
	"fmt"
	"path/filepath"
	"slices"
	"testing"

	abcitypes "github.com/cometbft/cometbft/abci/types"
	"google.golang.org/protobuf/encoding/protojson"
	"google.golang.org/protobuf/proto"

	"github.com/gobtechlab/notary/abci/abcitest"
	"github.com/gobtechlab/notary/app/identity"
	"github.com/gobtechlab/notary/ledger"
	notaryv1 "github.com/gobtechlab/notary/proto/notary/v1"
)

// keysOf returns n code keys derived from a tag.
func keysOf(tag string, n int) []byte {
	var out []byte
	for i := 0; i < n; i++ {
		k := sha256.Sum256([]byte("code/" + tag + string(rune(i))))
		out = append(out, k[:ledger.CodeKeySize]...)
	}
	return out
}

func keyOf(keys []byte, i int) []byte {
	return keys[i*ledger.CodeKeySize : (i+1)*ledger.CodeKeySize]
}

// codedSigner signs coded AnchorBatches of the first test agency with
// consecutive sequences.
type codedSigner struct{ seq uint64 }

func (s *codedSigner) anchor(ds, keys []byte) []byte {
	agency := abcitest.Agencies[0]
	raw := identity.SignTx(testChain, abcitest.Key("agency/"+agency), &notaryv1.TxBody{Sequence: s.seq, Msg: &notaryv1.TxBody_AnchorBatch{AnchorBatch: &notaryv1.AnchorBatch{
		AgencyId: agency, HashAlgorithm: notaryv1.HashAlgorithm_HASH_ALGORITHM_SHA2_256, Digests: ds, CodeKeys: keys}}})
	s.seq++
	return raw
}

// TestCodeKeysIndexed: the code keys of committed batches are in the
// digest index (LookupCodeKey finds each document's locator) and in its
// filter, and their digests are not; a key is refused again in the same block, in the mempool (pending
// or committed), after a reopen, and after the index is rebuilt from the
// block store.
func TestCodeKeysIndexed(t *testing.T) {
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
	s := &codedSigner{}
	dupCode := ledger.ErrDuplicateCode.Code()

	// Height 1: a coded batch, a batch reusing one of its keys (refused),
	// a plain batch.
	ds1, keys1 := digestsOf("coded-1", 20), keysOf("coded-1", 20)
	blocks[1] = [][]byte{
		s.anchor(ds1, keys1),
		s.anchor(digestsOf("coded-1b", 1), keyOf(keys1, 7)),
	}
	s.seq--
	blocks[1] = append(blocks[1], s.anchor(digestsOf("plain-1", 5), nil))
	res := finalizeCommit(t, a, 1, blocks[1])
	for i, want := range []uint32{abcitypes.CodeTypeOK, dupCode, abcitypes.CodeTypeOK} {
		if r := res.TxResults[i]; r.Code != want {
			t.Fatalf("height 1 tx %d: code %d (%s), want %d", i, r.Code, r.Log, want)
		}
	}
	var existing notaryv1.TxResult
	if err := proto.Unmarshal(res.TxResults[1].Data, &existing); err != nil || string(existing.GetExisting().GetCodeKey()) != string(keyOf(keys1, 7)) ||
		existing.GetExisting().GetLocator().GetLeafIndex() != 7 {
		t.Fatalf("duplicate code result %v %v", &existing, err)
	}
	// Heights 2 and 3: more coded batches.
	ds2, keys2 := digestsOf("coded-2", 30), keysOf("coded-2", 30)
	ds3, keys3 := digestsOf("coded-3", 10), keysOf("coded-3", 10)
	blocks[2] = [][]byte{s.anchor(ds2, keys2)}
	blocks[3] = [][]byte{s.anchor(ds3, keys3)}
	for h := int64(2); h <= 3; h++ {
		if r := finalizeCommit(t, a, h, blocks[h]).TxResults[0]; r.Code != abcitypes.CodeTypeOK {
			t.Fatalf("height %d: %d %s", h, r.Code, r.Log)
		}
	}
	coded := []struct {
		height   int64
		ds, keys []byte
	}{{1, ds1, keys1}, {2, ds2, keys2}, {3, ds3, keys3}}

	check := func(a *Application, what string) {
		t.Helper()
		for _, c := range coded {
			n := len(c.ds) / ledger.DigestSize
			for i := 0; i < n; i++ {
				want := ledger.Locator{Height: c.height, TxIndex: 0, Leaf: uint32(i)}
				loc, ok, err := a.LookupCodeKey(keyOf(c.keys, i))
				if err != nil || !ok || loc != want {
					t.Fatalf("%s: key %d of height %d: %+v %v %v", what, i, c.height, loc, ok, err)
				}
				// A coded document is indexed by its key only.
				if loc, ok, err := a.LookupDigest(notaryv1.HashAlgorithm_HASH_ALGORITHM_SHA2_256, c.ds[i*32:(i+1)*32]); err != nil || ok {
					t.Fatalf("%s: digest %d of height %d is indexed: %+v %v", what, i, c.height, loc, err)
				}
			}
			// The filter holds every key: the mempool's first check, which
			// asks the filter alone, never rules one out.
			h, _, _ := a.LastCommit()
			absent := make([]bool, n)
			kd := make([]byte, 0, n*ledger.DigestSize)
			for i := 0; i < n; i++ {
				kd = append(kd, ledger.CodeKeyIndexDigest(keyOf(c.keys, i))...)
			}
			a.index.CheckView(h+1).NotIndexed(ledger.CodeKeyIndex, kd, absent)
			if i := slices.Index(absent, true); i >= 0 {
				t.Fatalf("%s: key %d of height %d ruled out by the filter", what, i, c.height)
			}
		}
		for _, k := range [][]byte{keysOf("never", 1), nil, make([]byte, 15)} {
			if _, ok, err := a.LookupCodeKey(k); ok || err != nil {
				t.Fatalf("%s: key %x found: %v", what, k, err)
			}
		}
	}
	check(a, "after commit")

	mempool := func(a *Application, name string, tx []byte, want uint32) {
		t.Helper()
		a.MarkLocal(ledger.TxHash(tx)) // as a gateway does: checked in full
		res, err := a.CheckTx(ctx, &abcitypes.RequestCheckTx{Tx: tx, Type: abcitypes.CheckTxType_New})
		if err != nil || res.Code != want {
			t.Fatalf("%s: code %d (%s) %v, want %d", name, res.GetCode(), res.GetLog(), err, want)
		}
	}
	pendingKeys := keysOf("pending", 3)
	mempool(a, "new keys", s.anchor(digestsOf("mp-a", 3), pendingKeys), abcitypes.CodeTypeOK)
	mempool(a, "a pending key", s.anchor(digestsOf("mp-b", 1), keyOf(pendingKeys, 1)), dupCode)
	s.seq--
	mempool(a, "a committed key", s.anchor(digestsOf("mp-c", 1), keyOf(keys2, 29)), dupCode)
	s.seq--
	if err := a.Close(); err != nil {
		t.Fatal(err)
	}

	// Reopened: the filter is built again from the runs.
	a = openWith(t, opts)
	check(a, "after reopen")
	if err := a.Close(); err != nil {
		t.Fatal(err)
	}

	// HEIGHT back at 1, as after a stop before the background sync: heights
	// 2 and 3 are indexed again from the block store, keys included.
	saveIndexHeight(t, filepath.Join(dir, digestsDir), 1)
	a = openWith(t, opts)
	defer func() { _ = a.Close() }()
	if h := a.index.IndexedHeight(); h != 3 {
		t.Fatalf("indexed height %d after the rebuild", h)
	}
	check(a, "after the rebuild")
	s.seq = 4 // committed: 0 and 1 at height 1, 2 and 3; the mempool was not
	mempool(a, "a key of a rebuilt height", s.anchor(digestsOf("mp-d", 1), keyOf(keys3, 4)), dupCode)
	s.seq--
	mempool(a, "new keys after the rebuild", s.anchor(digestsOf("mp-e", 2), keysOf("after", 2)), abcitypes.CodeTypeOK)
}

func openWith(t *testing.T, opts Options) *Application {
	t.Helper()
	a, err := NewApplication(opts)
	if err != nil {
		t.Fatal(fmt.Errorf("reopen: %w", err))
	}
	return a
}
