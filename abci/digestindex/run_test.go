package digestindex

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"math/rand/v2"
	"os"
	"slices"
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
			b, err := EncodeRun(entries, 7)
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
	b, err := EncodeRun(entries, 3)
	if err != nil {
		t.Fatal(err)
	}
	want := make([][]byte, len(entries))
	for i, e := range entries {
		rec := make([]byte, recSize)
		putRecord(rec, e)
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
	if _, err := EncodeRun(append(slices.Clone(entries), ledger.IndexEntry{Algorithm: idxSHA2, Digest: entries[9].Digest, Locator: ledger.Locator{Height: 4}}), 3); err == nil {
		t.Fatal("an entry of another height was encoded")
	}
	if _, err := EncodeRun(append(slices.Clone(entries), entries[17]), 3); err == nil {
		t.Fatal("a repeated key was encoded")
	}
}
