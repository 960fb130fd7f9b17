package digestindex

import (
	"bytes"
	"cmp"
	"encoding/binary"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"sync"

	"github.com/gobtechlab/notary/ledger"
)

// BlockRun is a block's index entries encoded as a run's records, sorted by
// key, and the records' key prefixes. The application encodes it when it
// executes the block (during the optimistic execution, while the votes are
// exchanged), so that Commit only hands it to SaveRun.
type BlockRun struct {
	height   int64
	recs     []byte
	prefixes []uint64
}

// EncodeRun sorts a block's entries, given as its transactions' batches,
// by key into a BlockRun; nil if there are none. Entries must be of height
// and have distinct keys: a batch of another height, an algorithm that is
// not a byte, digests that are not whole ledger.DigestSize ones, leaves past
// 2^32 or a repeated key is refused.
func EncodeRun(batches []ledger.IndexBatch, height int64) (*BlockRun, error) {
	n, oneAlg := 0, true
	for i, bt := range batches {
		if bt.Algorithm < 0 || bt.Algorithm > 255 || len(bt.Digests)%ledger.DigestSize != 0 || bt.Locator.Height != height ||
			uint64(bt.Locator.Leaf)+uint64(bt.Len()) > 1<<32 {
			return nil, fmt.Errorf("bad index batch %d (algorithm %d, %d bytes of digests, height %d, first leaf %d)",
				i, bt.Algorithm, len(bt.Digests), bt.Locator.Height, bt.Locator.Leaf)
		}
		n += bt.Len()
		oneAlg = oneAlg && bt.Algorithm == batches[0].Algorithm
	}
	if n == 0 {
		return nil, nil
	}
	b := &BlockRun{height: height, recs: getRecBuffer(n * recSize), prefixes: make([]uint64, n)}
	if oneAlg && n >= 1<<12 {
		scatterRecords(b.recs, batches)
	} else {
		entries := ledger.Entries(batches)
		keys := make([]sortKey, len(entries))
		for i, e := range entries {
			// A record's key is the algorithm byte and the digest: its
			// first 8 bytes are the algorithm and the digest's first 7.
			keys[i] = sortKey{uint64(e.Algorithm)<<56 | binary.BigEndian.Uint64(e.Digest)>>8, int32(i)}
		}
		slices.SortFunc(keys, func(a, b sortKey) int {
			if c := cmp.Compare(a.p, b.p); c != 0 {
				return c
			}
			return bytes.Compare(entries[a.i].Digest[7:], entries[b.i].Digest[7:])
		})
		for i, k := range keys {
			e := entries[k.i]
			putRecord(b.recs[i*recSize:(i+1)*recSize], e.Algorithm, e.Digest, e.Locator)
		}
	}
	for i := range b.prefixes {
		rec := b.recs[i*recSize : (i+1)*recSize]
		b.prefixes[i] = prefix(rec)
		if i > 0 && b.prefixes[i] == b.prefixes[i-1] && bytes.Equal(rec[:recKeySize], b.recs[(i-1)*recSize:(i-1)*recSize+recKeySize]) {
			return nil, fmt.Errorf("digest index: key %x repeated", rec[:recKeySize])
		}
	}
	return b, nil
}

// scatterRecords encodes the entries of batches of one algorithm into recs
// in key order, by the digests' first two bytes (digests are uniform) then
// a sort of each bucket of a few records. The first byte scatters the
// records into a scratch buffer, reading the digests in their order; the
// second scatters each first-byte bucket, which fits in the processor's
// cache, into recs. Putting the records in key order one by one reads the
// digests in random order, a cache miss each, and so does one scatter into
// 65,536 buckets, written at as many places at once. Digests that share
// their first bytes on purpose fill one bucket, which is sorted through an
// index, never one record at a time.
func scatterRecords(recs []byte, batches []ledger.IndexBatch) {
	scratch := getRecBuffer(len(recs))
	defer putRecBuffer(scratch)
	var start1 [257]int32
	for _, bt := range batches {
		for i := 0; i < len(bt.Digests); i += ledger.DigestSize {
			start1[int(bt.Digests[i])+1]++
		}
	}
	for i := 1; i < len(start1); i++ {
		start1[i] += start1[i-1]
	}
	next := start1
	for _, bt := range batches {
		loc := bt.Locator
		for i := 0; i < len(bt.Digests); i += ledger.DigestSize {
			k := bt.Digests[i]
			putRecord(scratch[int(next[k])*recSize:(int(next[k])+1)*recSize], bt.Algorithm, bt.Digests[i:i+ledger.DigestSize], loc)
			next[k]++
			loc.Leaf++
		}
	}
	for k1 := 0; k1 < 256; k1++ {
		lo1, hi1 := int(start1[k1]), int(start1[k1+1])
		var start2 [257]int32
		for i := lo1; i < hi1; i++ {
			start2[int(scratch[i*recSize+2])+1]++ // the digest's second byte
		}
		for i := 1; i < len(start2); i++ {
			start2[i] += start2[i-1]
		}
		next := start2
		for i := lo1; i < hi1; i++ {
			k := scratch[i*recSize+2]
			at := lo1 + int(next[k])
			copy(recs[at*recSize:(at+1)*recSize], scratch[i*recSize:(i+1)*recSize])
			next[k]++
		}
		for k2 := 0; k2 < 256; k2++ {
			sortRecords(recs, lo1+int(start2[k2]), lo1+int(start2[k2+1]))
		}
	}
}

// recBuffers holds record buffers for reuse: a new buffer of a block's
// records, megabytes, is pages the kernel maps and zeroes one by one, which
// costs as much as sorting into it.
var recBuffers sync.Pool

// getRecBuffer returns a buffer of n bytes, not zeroed.
func getRecBuffer(n int) []byte {
	if p, ok := recBuffers.Get().(*[]byte); ok && cap(*p) >= n {
		return (*p)[:n]
	}
	return make([]byte, n, n+n/4)
}

func putRecBuffer(b []byte) {
	recBuffers.Put(&b)
}

// sortRecords sorts the records [lo, hi) of recs by key, in place.
func sortRecords(recs []byte, lo, hi int) {
	key := func(i int) []byte { return recs[i*recSize : i*recSize+recKeySize] }
	switch {
	case hi-lo < 2:
	case hi-lo <= 32:
		// Insertion sort.
		var tmp [recSize]byte
		for i := lo + 1; i < hi; i++ {
			j := i
			for j > lo && bytes.Compare(key(j-1), key(i)) > 0 {
				j--
			}
			if j < i {
				copy(tmp[:], recs[i*recSize:(i+1)*recSize])
				copy(recs[(j+1)*recSize:(i+1)*recSize], recs[j*recSize:i*recSize])
				copy(recs[j*recSize:(j+1)*recSize], tmp[:])
			}
		}
	default:
		order := make([]int, hi-lo)
		for i := range order {
			order[i] = lo + i
		}
		slices.SortFunc(order, func(a, b int) int { return bytes.Compare(key(a), key(b)) })
		sorted := make([]byte, 0, (hi-lo)*recSize)
		for _, i := range order {
			sorted = append(sorted, recs[i*recSize:(i+1)*recSize]...)
		}
		copy(recs[lo*recSize:hi*recSize], sorted)
	}
}

// memRun returns the encoded block as a run held in memory, until syncRuns
// writes it.
func (b *BlockRun) memRun(dir string) *run {
	r := &run{lo: b.height, hi: b.height, n: len(b.prefixes), path: filepath.Join(dir, runName(b.height, b.height)), mem: b.recs}
	r.fences = make([]uint64, 0, (r.n+pageRecs-1)/pageRecs)
	for i := 0; i < r.n; i += pageRecs {
		r.fences = append(r.fences, b.prefixes[i])
	}
	return r
}

// writeMemRun writes a run held in memory to its file, synced with its name,
// and returns the file open for reading. A block's run is written around the
// page cache as a merge's is (newDirectRunWriter): copying it into the page
// cache would cost Commit's goroutine more processor time than sorting it.
// The merge that reads it back reads it from the disk.
func writeMemRun(dir string, r *run) (*os.File, error) {
	w, err := newDirectRunWriter(dir, r.lo, r.hi)
	if err != nil {
		return nil, err
	}
	if err := w.addSorted(r.mem); err != nil {
		return nil, w.fail(err)
	}
	written, err := w.finish(r.lo, r.hi, true)
	if err != nil {
		return nil, err
	}
	return written.f, nil
}

// sortKey is a record's key prefix and its position.
type sortKey struct {
	p uint64
	i int32
}
