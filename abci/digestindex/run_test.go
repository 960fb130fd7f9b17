package digestindex

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"math/rand/v2"
	"os"
	"slices"
	"strings"
	"testing"

	"github.com/gobtechlab/notary/ledger"
)

// TestRunWritersAgree writes the same records three ways, record by record
// through the page cache (newRunWriter), record by record around it
// (newDirectRunWriter, merges) and at once (addSorted, blocks), and checks
// that the files are the same bytes, open as runs and find every record.
// The counts straddle the writers' 1 MB buffer (21,399 records) and
// O_DIRECT's 4 kB alignment.
func TestRunWritersAgree(t *testing.T) {
	const perBuffer = ioBufferLen / recSize
	for _, n := range []int{1, 83, 84, pageRecs, perBuffer - 1, perBuffer, perBuffer + 1, 2*perBuffer + 7} {
		t.Run(fmt.Sprint(n), func(t *testing.T) {
			r := rand.New(rand.NewPCG(uint64(n), 5))
			entries := make([]ledger.IndexEntry, n)
			for i := range entries {
				d := make([]byte, ledger.DigestSize)
				for j := range d {
					d[j] = byte(r.Uint32())
				}
				entries[i] = ledger.IndexEntry{Algorithm: idxSHA2, Digest: d, Locator: ledger.Locator{Height: 7, TxIndex: uint32(i / 100), Leaf: uint32(i % 100)}}
			}
			b, err := EncodeRun(batchesOf(entries), 7)
			if err != nil {
				t.Fatal(err)
			}
			write := func(open func(dir string, lo, hi int64) (*runWriter, error), sorted bool) (string, []byte) {
				dir := t.TempDir()
				w, err := open(dir, 7, 7)
				if err != nil {
					t.Fatal(err)
				}
				if sorted {
					err = w.addSorted(b.recs)
				} else {
					for i := 0; i < n && err == nil; i++ {
						err = w.add(b.recs[i*recSize : (i+1)*recSize])
					}
				}
				if err != nil {
					t.Fatal(err)
				}
				rn, err := w.finish(7, 7, true)
				if err != nil {
					t.Fatal(err)
				}
				_ = rn.f.Close()
				data, err := os.ReadFile(rn.path)
				if err != nil {
					t.Fatal(err)
				}
				return rn.path, data
			}
			_, want := write(newRunWriter, false)
			if len(want) != n*recSize+footerSize {
				t.Fatalf("buffered run is %d bytes, want %d", len(want), n*recSize+footerSize)
			}
			if n == 1 {
				if w, err := newDirectRunWriter(t.TempDir(), 7, 7); err == nil {
					if !w.direct {
						t.Log("O_DIRECT is refused here: the merge's writer fell back to the page cache")
					}
					_ = w.fail(nil)
				}
			}
			direct, got := write(newDirectRunWriter, false)
			if !bytes.Equal(got, want) {
				t.Fatalf("direct run differs from the buffered one (%d and %d bytes)", len(got), len(want))
			}
			_, got = write(newRunWriter, true)
			if !bytes.Equal(got, want) {
				t.Fatalf("addSorted's run differs from the buffered one (%d and %d bytes)", len(got), len(want))
			}
			_, got = write(newDirectRunWriter, true)
			if !bytes.Equal(got, want) {
				t.Fatalf("addSorted's direct run differs from the buffered one (%d and %d bytes)", len(got), len(want))
			}
			// The direct writer's buffering, padding and truncation, on
			// a file opened through the page cache (so that they are
			// tested where O_DIRECT is refused too).
			for _, sorted := range []bool{false, true} {
				_, got = write(paddedRunWriter, sorted)
				if !bytes.Equal(got, want) {
					t.Fatalf("padded run (sorted %v) differs from the buffered one (%d and %d bytes)", sorted, len(got), len(want))
				}
			}
			rn, err := openRun(direct, 7, 7, nil)
			if err != nil {
				t.Fatal(err)
			}
			defer func() { _ = rn.f.Close() }()
			for _, e := range entries {
				key, _ := indexKey(e.Algorithm, e.Digest)
				loc, ok, err := rn.find(key[:])
				if err != nil || !ok || loc != e.Locator {
					t.Fatalf("find %x = %v, %v, %v; want %v", e.Digest[:8], loc, ok, err, e.Locator)
				}
			}
		})
	}
}

// paddedRunWriter is newDirectRunWriter's writer on a file opened through
// the page cache.
func paddedRunWriter(dir string, lo, hi int64) (*runWriter, error) {
	w, err := newRunWriter(dir, lo, hi)
	if err != nil {
		return nil, err
	}
	w.buf, w.direct = alignedBuffer(ioBufferLen), true
	return w, nil
}

// batchesOf gives each entry a batch of its own.
func batchesOf(entries []ledger.IndexEntry) []ledger.IndexBatch {
	out := make([]ledger.IndexBatch, len(entries))
	for i, e := range entries {
		out[i] = ledger.IndexBatch{Algorithm: e.Algorithm, Digests: e.Digest, Locator: e.Locator}
	}
	return out
}

// TestEncodeBatches: a block's batches encode to the records of their
// entries one by one, in the scatter (one algorithm, 4,096 entries or
// more) and in the sort; batches that are not whole digests or run past
// leaf 2^32 are refused.
func TestEncodeBatches(t *testing.T) {
	r := rand.New(rand.NewPCG(3, 4))
	batch := func(alg ledger.HashAlgorithm, n int, tx, leaf uint32) ledger.IndexBatch {
		d := make([]byte, n*ledger.DigestSize)
		for i := range d {
			d[i] = byte(r.Uint32())
		}
		return ledger.IndexBatch{Algorithm: alg, Digests: d, Locator: ledger.Locator{Height: 5, TxIndex: tx, Leaf: leaf}}
	}
	for name, bs := range map[string][]ledger.IndexBatch{
		"scatter": {batch(idxSHA2, 3000, 0, 0), batch(idxSHA2, 1, 1, 0), batch(idxSHA2, 2500, 2, 7)},
		"sort":    {batch(idxSHA2, 3000, 0, 0), batch(idxSHA2+1, 2000, 1, 0), batch(idxSHA2, 5, 2, 3)},
		"small":   {batch(idxSHA2, 30, 0, 0), {Algorithm: idxSHA2, Locator: ledger.Locator{Height: 5, TxIndex: 1}}, batch(idxSHA2, 2, 2, 0)},
	} {
		t.Run(name, func(t *testing.T) {
			got, err := EncodeRun(bs, 5)
			if err != nil {
				t.Fatal(err)
			}
			want, err := EncodeRun(batchesOf(ledger.Entries(bs)), 5)
			if err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(got.recs, want.recs) || !slices.Equal(got.prefixes, want.prefixes) {
				t.Fatal("the batches' records differ from their entries'")
			}
			for i := 0; i < len(got.recs); i += recSize {
				loc := recordLocator(got.recs[i : i+recSize])
				if j := slices.IndexFunc(bs, func(b ledger.IndexBatch) bool { return b.Locator.TxIndex == loc.TxIndex }); j < 0 || loc.Leaf < bs[j].Locator.Leaf ||
					!bytes.Equal(bs[j].Entry(int(loc.Leaf-bs[j].Locator.Leaf)).Digest, got.recs[i+1:i+recKeySize]) {
					t.Fatalf("record %d: %+v names another digest", i/recSize, loc)
				}
			}
		})
	}
	for name, b := range map[string]ledger.IndexBatch{
		"part of a digest": {Algorithm: idxSHA2, Digests: make([]byte, 40), Locator: ledger.Locator{Height: 5}},
		"past leaf 2^32":   {Algorithm: idxSHA2, Digests: make([]byte, 64), Locator: ledger.Locator{Height: 5, Leaf: 1<<32 - 1}},
		"another height":   {Algorithm: idxSHA2, Digests: make([]byte, 32), Locator: ledger.Locator{Height: 6}},
		"algorithm 256":    {Algorithm: 256, Digests: make([]byte, 32), Locator: ledger.Locator{Height: 5}},
	} {
		if _, err := EncodeRun([]ledger.IndexBatch{b}, 5); err == nil || !strings.Contains(err.Error(), "bad index batch 0") {
			t.Errorf("%s: %v, want a bad index batch", name, err)
		}
	}
}

// TestEncodeBlockRun checks the encoded block: records in key order, their
// prefixes, and the refusals (an entry of another height, a repeated key).
func TestEncodeBlockRun(t *testing.T) {
	if b, err := EncodeRun(nil, 3); b != nil || err != nil {
		t.Fatalf("no entries: %v, %v; want nil, nil", b, err)
	}
	r := rand.New(rand.NewPCG(9, 9))
	var entries []ledger.IndexEntry
	for i := 0; i < 5000; i++ {
		d := make([]byte, ledger.DigestSize)
		binary.BigEndian.PutUint64(d, r.Uint64()&^0xffffff) // first bytes shared among some
		d[31] = byte(i)
		entries = append(entries, ledger.IndexEntry{Algorithm: idxSHA2, Digest: d, Locator: ledger.Locator{Height: 3, Leaf: uint32(i)}})
	}
	b, err := EncodeRun(batchesOf(entries), 3)
	if err != nil {
		t.Fatal(err)
	}
	want := make([][]byte, len(entries))
	for i, e := range entries {
		rec := make([]byte, recSize)
		putRecord(rec, e.Algorithm, e.Digest, e.Locator)
		want[i] = rec
	}
	slices.SortFunc(want, func(a, b []byte) int { return bytes.Compare(a[:recKeySize], b[:recKeySize]) })
	if !bytes.Equal(b.recs, bytes.Join(want, nil)) {
		t.Fatal("records are not the entries in key order")
	}
	for i, rec := range want {
		if b.prefixes[i] != prefix(rec) {
			t.Fatalf("prefix %d = %x, want %x", i, b.prefixes[i], prefix(rec))
		}
	}
	if _, err := EncodeRun(batchesOf(append(slices.Clone(entries), ledger.IndexEntry{Algorithm: idxSHA2, Digest: entries[9].Digest, Locator: ledger.Locator{Height: 4}})), 3); err == nil {
		t.Fatal("an entry of another height was encoded")
	}
	if _, err := EncodeRun(batchesOf(append(slices.Clone(entries), entries[17])), 3); err == nil {
		t.Fatal("a repeated key was encoded")
	}
}
