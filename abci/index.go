package abci

import (
	"bytes"
	"cmp"
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"hash/crc32"
	"math/bits"
	"math/rand/v2"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	cmtlog "github.com/cometbft/cometbft/libs/log"
	"golang.org/x/time/rate"

	"github.com/gobtechlab/notary/ledger"
)

// digestIndex maps every anchored digest to its batch and leaf (a
// ledger.Locator). It lives outside the IAVL tree so that a batch of N
// digests costs N index records instead of N tree leaves (docs/DESIGN.md,
// "Digest index"). It is never what a proof rests on, and it is rebuilt from
// the block store when it falls behind the state.
//
// It is a small log-structured index of fixed-size records, made for what
// it stores: keys are digests (uniformly spread, written once, never
// changed or deleted) and nearly every lookup is for an absent one, which
// the digest filter answers in memory. Each committed block with digests
// becomes one sorted run file (run.go); a background goroutine merges runs
// when sixteen of a size class accumulate in a row, up to runs of half a
// million to 8 million records (finalClass), which are kept as they are;
// a lookup that the filter lets through reads one page of each run.
// Writing a block costs a sort and a sequential write, and each record is
// rewritten once per size class below finalClass (a factor of sixteen) by
// merges: a fraction of what a general-purpose LSM store spends per key
// (docs/performance.md).
//
// Crash consistency: Commit writes a block's run without waiting for the
// disk; a background goroutine syncs the runs written and then saves the
// indexed height (the file HEIGHT), so HEIGHT never names a height whose
// run may not be on disk, and may lag the state by a few heights. At open,
// runs above HEIGHT (not known to be synced, or a Commit that did not
// finish) are removed, as are runs contained in a merged run (a merge that
// did not finish removing its inputs) and temporary files; the heights
// between HEIGHT and the state's are indexed again from the block store
// (Options.Blocks). An entry whose height is not below the height being
// executed is ignored, and saving a height already indexed does nothing
// (the replayed block's entries are the same). Close syncs everything.
type digestIndex struct {
	dir    string
	filter *digestFilter // nil: every lookup reads the runs
	log    cmtlog.Logger

	mu     sync.RWMutex
	runs   []*run // by height, oldest first; they do not overlap
	height int64  // every height up to this one is indexed
	// durable is the height HEIGHT holds (guarded by heightMu, which
	// orders its writes).
	heightMu sync.Mutex
	durable  int64
	// durableAt is durable, for nextMerge: a merge takes only runs at or
	// below HEIGHT, since at open a run above it is removed whole.
	durableAt atomic.Int64
	syncWake  chan struct{}
	syncDone  chan struct{}
	// unwritten is the bytes of the runs held in memory, and syncErr the
	// last failure to write one (both guarded by mu): Commit fails rather
	// than hold more than maxUnwritten.
	unwritten int
	syncErr   error
	syncMu    sync.Mutex // serializes syncRuns
	entries   int        // records in the runs
	full      bool       // the filter holds more than its capacity (logged once)
	// The sorted key prefixes of the entries of the last height saved
	// (recent), for rechecks of the mempool (checkView).
	recentHeight int64
	recent       []uint64

	wake      chan struct{}
	stop      chan struct{}
	done      chan struct{}
	closeOnce sync.Once
	merges    int // merges done (tests)

	mergeOnce sync.Once
	mergeRate *rate.Limiter
	mergeCtx  context.Context
}

const (
	indexDirName = "digests"
	heightFile   = "HEIGHT"
	mergeFanIn   = 16
	// mergeBytesPerSecond paces merges' writes. A merge runs in the
	// background and may take its time; unpaced, the large ones wrote (and
	// synced) hundreds of megabytes at once on every node together, and the
	// Commits' own synced writes waited behind them (docs/performance.md).
	// Steady anchoring at 120,000 digests a second needs about a third of it.
	mergeBytesPerSecond = 32 << 20
	// mergeReadBytes is each input's read buffer in a merge.
	mergeReadBytes = 256 << 10
	// maxUnwritten bounds the blocks' runs held in memory while the disk
	// refuses them: about 20 blocks of the bench's largest.
	maxUnwritten = 256 << 20
	// staggerFrom and staggerMax: see mergeDelay.
	staggerFrom = 256 << 20
	staggerMax  = time.Minute
)

// openDigestIndex opens the index in dir/digests, with a digest filter of
// about filterBytes (none if filterBytes < 64), built from every entry.
func openDigestIndex(dir string, filterBytes int, log cmtlog.Logger) (*digestIndex, error) {
	if log == nil {
		log = cmtlog.NewNopLogger()
	}
	x := &digestIndex{
		dir: filepath.Join(dir, indexDirName), filter: newDigestFilter(filterBytes), log: log,
		wake: make(chan struct{}, 1), stop: make(chan struct{}), done: make(chan struct{}),
		syncWake: make(chan struct{}, 1), syncDone: make(chan struct{}),
	}
	if err := x.load(); err != nil {
		x.closeRuns()
		return nil, fmt.Errorf("open digest index: %w (remove %s to rebuild it from the block store)", err, x.dir)
	}
	go x.mergeLoop()
	go x.syncLoop()
	x.poke()
	return x, nil
}

func (x *digestIndex) load() error {
	if err := os.MkdirAll(x.dir, 0o700); err != nil {
		return err
	}
	h, err := readHeight(x.dir)
	if err != nil {
		return err
	}
	x.height, x.durable = h, h
	x.durableAt.Store(h)
	names, err := os.ReadDir(x.dir)
	if err != nil {
		return err
	}
	type span struct{ lo, hi int64 }
	var spans []span
	for _, e := range names {
		name := e.Name()
		if strings.HasSuffix(name, ".tmp") {
			if err := os.Remove(filepath.Join(x.dir, name)); err != nil {
				return err
			}
			continue
		}
		if lo, hi, ok := parseRunName(name); ok {
			spans = append(spans, span{lo, hi})
		}
	}
	// Oldest first, and the widest first among runs that start together.
	slices.SortFunc(spans, func(a, b span) int {
		if a.lo != b.lo {
			return cmp.Compare(a.lo, b.lo)
		}
		return cmp.Compare(b.hi, a.hi)
	})
	var covered int64
	for _, s := range spans {
		if s.hi > x.height || s.hi <= covered {
			// Above the indexed height, or inside a merged run.
			if err := os.Remove(filepath.Join(x.dir, runName(s.lo, s.hi))); err != nil {
				return err
			}
			continue
		}
		if s.lo <= covered {
			return fmt.Errorf("%w: runs overlap at height %d", errDamaged, s.lo)
		}
		var each func([]byte)
		if x.filter != nil {
			each = func(k []byte) { x.filter.add(ledger.HashAlgorithm(k[0]), k[1:]) }
		}
		r, err := openRun(filepath.Join(x.dir, runName(s.lo, s.hi)), s.lo, s.hi, each)
		if err != nil {
			return err
		}
		r.synced = true // at or below HEIGHT
		x.runs = append(x.runs, r)
		x.entries += r.n
		covered = s.hi
	}
	x.checkFilterLoad()
	return nil
}

// checkFilterLoad logs, once, that the index holds more digests than its
// filter was sized for: lookups of new digests then read the runs more
// often (slower, never wrong). Called with x.mu held or before x is shared.
func (x *digestIndex) checkFilterLoad() {
	if x.filter == nil || x.full || x.entries <= x.filter.capacity() {
		return
	}
	x.full = true
	x.log.Info("digest filter is full: lookups of new digests read the index's files more often; raise state.digest_filter_mb (4 bytes per digest)",
		"digests", x.entries, "capacity", x.filter.capacity())
}

// readHeight reads the indexed height: 8 bytes big-endian and their CRC-32C.
func readHeight(dir string) (int64, error) {
	b, err := os.ReadFile(filepath.Join(dir, heightFile))
	if errors.Is(err, os.ErrNotExist) {
		return 0, nil
	}
	if err != nil {
		return 0, err
	}
	if len(b) != 12 || crc32.Checksum(b[:8], crcTable) != binary.BigEndian.Uint32(b[8:]) {
		return 0, fmt.Errorf("%s is %w", filepath.Join(dir, heightFile), errDamaged)
	}
	return int64(binary.BigEndian.Uint64(b)), nil
}

func writeHeight(dir string, h int64) error {
	b := binary.BigEndian.AppendUint64(nil, uint64(h))
	b = binary.BigEndian.AppendUint32(b, crc32.Checksum(b, crcTable))
	tmp := filepath.Join(dir, heightFile+".tmp")
	f, err := os.OpenFile(tmp, os.O_CREATE|os.O_TRUNC|os.O_WRONLY, 0o600)
	if err != nil {
		return err
	}
	if _, err := f.Write(b); err != nil {
		f.Close()
		return err
	}
	if err := f.Sync(); err != nil {
		f.Close()
		return err
	}
	if err := f.Close(); err != nil {
		return err
	}
	if err := os.Rename(tmp, filepath.Join(dir, heightFile)); err != nil {
		return err
	}
	return syncDir(dir)
}

func indexKey(alg ledger.HashAlgorithm, digest []byte) ([recKeySize]byte, bool) {
	var k [recKeySize]byte
	if alg < 0 || alg > 255 || len(digest) != ledger.DigestSize {
		return k, false
	}
	k[0] = byte(alg)
	copy(k[1:], digest)
	return k, true
}

// lookup returns the locator of a digest anchored below height before.
func (x *digestIndex) lookup(alg ledger.HashAlgorithm, digest []byte, before int64) (ledger.Locator, bool, error) {
	return x.lookupMark(alg, digest, before, false)
}

// lookupMark is lookup; with mark, the digest is also added to the filter
// (digestFilter.mayContainAdd).
func (x *digestIndex) lookupMark(alg ledger.HashAlgorithm, digest []byte, before int64, mark bool) (ledger.Locator, bool, error) {
	key, ok := indexKey(alg, digest)
	if !ok {
		return ledger.Locator{}, false, nil
	}
	if x.filter != nil {
		var maybe bool
		if mark {
			maybe = x.filter.mayContainAdd(alg, digest)
		} else {
			maybe = x.filter.mayContain(alg, digest)
		}
		if !maybe {
			return ledger.Locator{}, false, nil
		}
	}
	x.mu.RLock()
	defer x.mu.RUnlock()
	for i := len(x.runs) - 1; i >= 0; i-- {
		r := x.runs[i]
		if r.lo >= before {
			continue
		}
		loc, found, err := r.find(key[:])
		if err != nil || found {
			// A digest is anchored once: found at or above before means
			// not anchored below it.
			return loc, found && loc.Height < before, err
		}
	}
	return ledger.Locator{}, false, nil
}

// save writes a block's entries and marks height as indexed, durably. The
// filter learns the entries first, so that it never lacks one the index has.
// A height already indexed is not written again.
func (x *digestIndex) save(entries []ledger.IndexEntry, height int64) error {
	return x.saveBlock(entries, height, false)
}

// saveBlock is save; with marked, the entries were looked up with mark (by
// FinalizeBlock) and are in the filter already.
func (x *digestIndex) saveBlock(entries []ledger.IndexEntry, height int64, marked bool) error {
	x.mu.RLock()
	indexed := x.height
	x.mu.RUnlock()
	if height <= indexed {
		return nil
	}
	b, err := encodeBlockRun(entries, height)
	if err != nil {
		return fmt.Errorf("digest index: save height %d: %w", height, err)
	}
	if !marked && x.filter != nil {
		for _, e := range entries {
			x.filter.add(e.Algorithm, e.Digest)
		}
	}
	return x.saveEncoded(b, height)
}

// saveEncoded writes a block's run encoded by encodeBlockRun (nil: the block
// anchored nothing), whose digests are in the filter, and marks height as
// indexed.
func (x *digestIndex) saveEncoded(b *blockRun, height int64) error {
	x.mu.RLock()
	indexed := x.height
	x.mu.RUnlock()
	if height <= indexed {
		return nil
	}
	var r *run
	var prefixes []uint64
	if b != nil {
		if b.height != height {
			return fmt.Errorf("digest index: save height %d: the run is height %d's", height, b.height)
		}
		r = b.memRun(x.dir)
		prefixes = b.prefixes
	}
	// If the background sync failed, or the runs it has not written yet
	// would pass maxUnwritten (a slow disk, a rebuild), they are written
	// now: this Commit waits for the disk, as it did when it wrote its run
	// itself, and a disk that still refuses stops the chain here.
	x.mu.RLock()
	failed, backlog := x.syncErr != nil, x.unwritten
	x.mu.RUnlock()
	if failed || (r != nil && backlog+cap(r.mem) > maxUnwritten) {
		if err := x.syncRuns(); err != nil {
			return fmt.Errorf("digest index: save height %d: %w", height, err)
		}
	}
	x.mu.Lock()
	if r != nil {
		x.runs = append(x.runs, r)
		x.entries += r.n
		x.unwritten += cap(r.mem)
		x.checkFilterLoad()
	}
	x.height = height
	x.recentHeight, x.recent = height, prefixes
	unsynced := slices.ContainsFunc(x.runs, func(r *run) bool { return !r.synced })
	x.mu.Unlock()
	if r != nil {
		x.poke()
	}
	if unsynced {
		select {
		case x.syncWake <- struct{}{}:
		default:
		}
		return nil
	}
	// Nothing waits for the disk: the height is saved now.
	if err := x.saveHeight(height); err != nil {
		return fmt.Errorf("digest index: save height %d: %w", height, err)
	}
	return nil
}

// syncLoop syncs the blocks' runs in the background (syncRuns).
func (x *digestIndex) syncLoop() {
	defer close(x.syncDone)
	for {
		select {
		case <-x.stop:
			return
		case <-x.syncWake:
		}
		if err := x.syncRuns(); err != nil {
			// HEIGHT stays where it was: a restart indexes the heights
			// after it again. The next save retries, and fails with the
			// error if the disk still refuses (saveEncoded).
			x.log.Error("digest index: sync runs", "err", err)
		}
	}
}

// syncRuns writes the blocks' runs held in memory, each around the page
// cache and synced with its name, then saves the indexed height they reach
// in HEIGHT. A failure is kept for the next save (saveEncoded) and cleared
// by a later success.
func (x *digestIndex) syncRuns() error {
	x.syncMu.Lock()
	defer x.syncMu.Unlock()
	err := x.writeRuns()
	x.mu.Lock()
	x.syncErr = err
	x.mu.Unlock()
	return err
}

func (x *digestIndex) writeRuns() error {
	x.mu.RLock()
	h := x.height
	var todo []*run
	for _, r := range x.runs {
		if !r.synced {
			todo = append(todo, r)
		}
	}
	x.mu.RUnlock()
	for _, r := range todo {
		f, err := writeMemRun(x.dir, r)
		if err != nil {
			return fmt.Errorf("write %s: %w", r.path, err)
		}
		x.mu.Lock()
		mem := r.mem
		x.unwritten -= cap(mem)
		r.f, r.mem, r.synced = f, nil, true
		x.mu.Unlock()
		putRecBuffer(mem) // no lookup holds it: they read it under mu
	}
	if err := x.saveHeight(h); err != nil {
		return err
	}
	if len(todo) > 0 {
		x.poke() // the runs written, now at or below HEIGHT, may be merged
	}
	return nil
}

// saveHeight writes h to HEIGHT unless it holds h or more.
func (x *digestIndex) saveHeight(h int64) error {
	x.heightMu.Lock()
	defer x.heightMu.Unlock()
	if h <= x.durable {
		return nil
	}
	if err := writeHeight(x.dir, h); err != nil {
		return err
	}
	x.durable = h
	x.durableAt.Store(h)
	return nil
}

// recentPrefixes returns the sorted key prefixes of the digests anchored at
// height, if height is the last one saved since the index was opened.
func (x *digestIndex) recentPrefixes(height int64) ([]uint64, bool) {
	x.mu.RLock()
	defer x.mu.RUnlock()
	if x.recentHeight != height || height == 0 {
		return nil, false
	}
	return x.recent, true
}

// blockRun is a block's index entries encoded as a run's records, sorted by
// key, and the records' key prefixes. FinalizeBlock encodes it (during the
// optimistic execution, while the votes are exchanged), so that Commit only
// writes it.
type blockRun struct {
	height   int64
	recs     []byte
	prefixes []uint64
}

// encodeBlockRun sorts a block's entries by key into a blockRun; nil if
// there are none. Entries must be of height and have distinct keys.
func encodeBlockRun(entries []ledger.IndexEntry, height int64) (*blockRun, error) {
	if len(entries) == 0 {
		return nil, nil
	}
	oneAlg := true
	for i, e := range entries {
		if e.Algorithm < 0 || e.Algorithm > 255 || len(e.Digest) != ledger.DigestSize || e.Locator.Height != height {
			return nil, fmt.Errorf("bad index entry %d (algorithm %d, %d-byte digest, height %d)", i, e.Algorithm, len(e.Digest), e.Locator.Height)
		}
		oneAlg = oneAlg && e.Algorithm == entries[0].Algorithm
	}
	b := &blockRun{height: height, recs: getRecBuffer(len(entries) * recSize), prefixes: make([]uint64, len(entries))}
	if oneAlg && len(entries) >= 1<<12 {
		scatterRecords(b.recs, entries)
	} else {
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
			putRecord(b.recs[i*recSize:(i+1)*recSize], entries[k.i])
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

// scatterRecords encodes entries of one algorithm into recs in key order,
// by the digests' first two bytes (digests are uniform) then a sort of each
// bucket of a few records. The first byte scatters the records into a
// scratch buffer, reading the entries in their order; the second scatters
// each first-byte bucket, which fits in the processor's cache, into recs.
// Putting the records in key order one by one read the entries' digests in
// random order, a cache miss each, and so did one scatter into 65,536
// buckets, written at as many places at once (7.6 % of a node's CPU at the
// bench's peak; docs/performance.md, finding 35). Digests that share their
// first bytes on purpose fill one bucket, which is sorted through an
// index, never one record at a time.
func scatterRecords(recs []byte, entries []ledger.IndexEntry) {
	scratch := getRecBuffer(len(recs))
	defer putRecBuffer(scratch)
	var start1 [257]int32
	for _, e := range entries {
		start1[int(e.Digest[0])+1]++
	}
	for i := 1; i < len(start1); i++ {
		start1[i] += start1[i-1]
	}
	next := start1
	for _, e := range entries {
		k := e.Digest[0]
		putRecord(scratch[int(next[k])*recSize:(int(next[k])+1)*recSize], e)
		next[k]++
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
// cost as much as sorting into it on the bench's machines.
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
func (b *blockRun) memRun(dir string) *run {
	r := &run{lo: b.height, hi: b.height, n: len(b.prefixes), path: filepath.Join(dir, runName(b.height, b.height)), mem: b.recs}
	r.fences = make([]uint64, 0, (r.n+pageRecs-1)/pageRecs)
	for i := 0; i < r.n; i += pageRecs {
		r.fences = append(r.fences, b.prefixes[i])
	}
	return r
}

// writeMemRun writes a run held in memory to its file, synced with its name,
// and returns the file open for reading. A block's run is written around the
// page cache as a merge's is: copying it into the page cache took 3.6 % of a
// node's CPU at the bench's peak, in Commit (docs/performance.md, finding
// 34). The merge that reads it back reads it from the disk.
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

// indexedHeight is the last height whose entries were saved (0 if none).
func (x *digestIndex) indexedHeight() (int64, error) {
	x.mu.RLock()
	defer x.mu.RUnlock()
	return x.height, nil
}

// sizeClass groups runs by size, in factors of sixteen (mergeFanIn).
func sizeClass(n int) int { return bits.Len(uint(n)) / 4 }

// finalClass is the size class of runs that are no longer merged: 2^19 to
// 2^23 records (25 to 411 MB), so no merge writes more than 411 MB.
// Merging them too would rewrite the whole index once more per factor of
// sixteen, in merges as large as the index (3.9 GB a node after 80 million
// digests on the bench, read back from disk while every Commit waited
// behind it: docs/performance.md, finding 27).
// What it costs instead: a lookup of an anchored digest (a receipt, a
// revocation, a digest anchored twice) reads one page of each final run,
// about 250 runs per billion digests when blocks hold a thousand digests
// (1,900 at most); absent digests, nearly every lookup, are answered by
// the filter.
const finalClass = 5

// nextMerge picks the runs to merge: going from the newest run to the
// oldest, the first run j below finalClass whose window (j and the runs
// just older than it whose size class is not above j's) holds at least
// mergeFanIn runs; the window is merged. Merging lifts a window a class, so
// a record is rewritten about once per class below finalClass and each
// such class keeps fewer than mergeFanIn runs in a row. A window need not
// end at the newest run: a merge that finishes after newer blocks were
// saved still cascades. Only runs on disk and at or below HEIGHT are
// merged: at open a run above HEIGHT is removed whole, and a merged run
// that took one would take the heights below it along.
func (x *digestIndex) nextMerge() (first int, merge []*run) {
	x.mu.RLock()
	defer x.mu.RUnlock()
	durable := x.durableAt.Load()
	for j := len(x.runs) - 1; j >= mergeFanIn-1; j-- {
		c := sizeClass(x.runs[j].n)
		if c >= finalClass || !x.runs[j].synced || x.runs[j].hi > durable {
			continue
		}
		i := j
		for i > 0 && sizeClass(x.runs[i-1].n) <= c && x.runs[i-1].synced {
			i--
		}
		if j+1-i >= mergeFanIn {
			return i, slices.Clone(x.runs[i : j+1])
		}
	}
	return 0, nil
}

func (x *digestIndex) poke() {
	select {
	case x.wake <- struct{}{}:
	default:
	}
}

func (x *digestIndex) mergeLoop() {
	defer close(x.done)
	for {
		select {
		case <-x.stop:
			return
		case <-x.wake:
		}
		for {
			first, in := x.nextMerge()
			if in == nil {
				break
			}
			if d := mergeDelay(in); d > 0 {
				select {
				case <-x.stop:
					return
				case <-time.After(d):
				}
			}
			out, err := x.merge(in)
			if errors.Is(err, errStopped) {
				return
			}
			if err != nil {
				// The inputs are untouched: lookups still find every
				// entry, only in more runs. Retried after the next block.
				x.log.Error("digest index: merge failed", "from", in[0].lo, "to", in[len(in)-1].hi, "err", err)
				break
			}
			x.mu.Lock()
			x.runs = slices.Replace(x.runs, first, first+len(in), out)
			x.merges++
			x.mu.Unlock()
			for _, r := range in {
				r.f.Close()
				if err := os.Remove(r.path); err != nil {
					x.log.Error("digest index: remove merged run", "path", r.path, "err", err)
				}
			}
		}
	}
}

var errStopped = errors.New("digest index closed")

// mergeDelay is how long a merge of in waits before it starts: a random
// time up to staggerMax for one of at least staggerFrom bytes, none for
// smaller ones. Validators' indexes grow in lockstep (the same blocks), so
// their large merges fall due at the same height; on the bench's shared
// disk, four nodes writing their largest merge together slowed every block
// (docs/performance.md, finding 22), and a chain needs only two thirds of
// its validators at full speed.
func mergeDelay(in []*run) time.Duration {
	n := 0
	for _, r := range in {
		n += r.n
	}
	if n*recSize < staggerFrom {
		return 0
	}
	return rand.N(staggerMax)
}

// paceMerge waits until a merge may write n more bytes.
func (x *digestIndex) paceMerge(n int) error {
	x.mergeOnce.Do(func() {
		x.mergeRate = rate.NewLimiter(rate.Limit(mergeBytesPerSecond), writebackEvery*recSize)
		ctx, cancel := context.WithCancel(context.Background())
		x.mergeCtx = ctx
		go func() { <-x.stop; cancel() }()
	})
	if err := x.mergeRate.WaitN(x.mergeCtx, n); err != nil {
		return errStopped
	}
	return nil
}

// merge writes the union of consecutive runs as one run.
func (x *digestIndex) merge(in []*run) (*run, error) {
	lo, hi := in[0].lo, in[len(in)-1].hi
	w, err := newDirectRunWriter(x.dir, lo, hi)
	if err != nil {
		return nil, err
	}
	w.throttle = x.paceMerge
	// A binary heap of the inputs' current records, ordered by key (the
	// first 8 bytes as a number, then the rest): about log2(16) = 4
	// comparisons a record. Each input is read a buffer at a time.
	type head struct {
		rd  *runReader
		rec []byte
		key uint64
	}
	less := func(a, b *head) bool {
		return a.key < b.key || (a.key == b.key && bytes.Compare(a.rec[:recKeySize], b.rec[:recKeySize]) < 0)
	}
	heap := make([]*head, 0, len(in))
	down := func(i int) {
		for {
			l := 2*i + 1
			if l >= len(heap) {
				return
			}
			if r := l + 1; r < len(heap) && less(heap[r], heap[l]) {
				l = r
			}
			if !less(heap[l], heap[i]) {
				return
			}
			heap[i], heap[l] = heap[l], heap[i]
			i = l
		}
	}
	for _, r := range in {
		h := &head{rd: r.records(mergeReadBytes)}
		rec, err := h.rd.next()
		if err != nil {
			return nil, w.fail(err)
		}
		if rec != nil {
			h.rec, h.key = rec, prefix(rec)
			heap = append(heap, h)
		}
	}
	for i := len(heap)/2 - 1; i >= 0; i-- {
		down(i)
	}
	for done := 0; len(heap) > 0; done++ {
		if done%65536 == 0 {
			select {
			case <-x.stop:
				return nil, w.fail(errStopped)
			default:
			}
		}
		top := heap[0]
		if err := w.add(top.rec); err != nil {
			return nil, w.fail(err)
		}
		rec, err := top.rd.next()
		if err != nil {
			return nil, w.fail(err)
		}
		if rec == nil {
			heap[0] = heap[len(heap)-1]
			heap = heap[:len(heap)-1]
		} else {
			top.rec, top.key = rec, prefix(rec)
		}
		down(0)
	}
	return w.finish(lo, hi, true)
}

func (x *digestIndex) closeRuns() {
	for _, r := range x.runs {
		if r.f != nil {
			r.f.Close()
		}
	}
	x.runs = nil
}

// close stops merging (an unfinished merge leaves only a temporary file),
// syncs the runs and saves HEIGHT, and closes the runs.
func (x *digestIndex) close() error {
	var err error
	x.closeOnce.Do(func() {
		close(x.stop)
		<-x.done
		<-x.syncDone
		err = x.syncRuns()
	})
	x.mu.Lock()
	defer x.mu.Unlock()
	x.closeRuns()
	if err != nil {
		return fmt.Errorf("digest index: close: %w", err)
	}
	return nil
}

// indexView answers ledger.DigestIndex for the execution of one height;
// with mark (FinalizeBlock), lookups add the digests to the filter.
type indexView struct {
	x      *digestIndex
	height int64
	mark   bool
}

func (v indexView) Lookup(alg ledger.HashAlgorithm, digest []byte) (ledger.Locator, bool, error) {
	return v.x.lookupMark(alg, digest, v.height, v.mark)
}

// Prefilter implements ledger.DigestPrefilter for a marking view: its filter
// holds every digest of the index and every digest looked up through it.
// Other views rule nothing out.
func (v indexView) Prefilter(alg ledger.HashAlgorithm, digests []byte, absent []bool) {
	if !v.mark || v.x.filter == nil || alg < 0 || alg > 255 || len(digests) != len(absent)*ledger.DigestSize {
		return
	}
	v.x.filter.mayContainAddBatch(alg, digests, absent)
}

// checkView answers ledger.DigestIndex for the mempool's checks on the state
// committed at height-1. A recheck (CometBFT re-runs CheckTx on every
// transaction left in the mempool after each block) asks about a transaction
// that passed a check on the state before that block, so its digests were
// not anchored then: only the block just committed can have anchored them.
// The recheck then looks among that block's digests (their sorted
// prefixes, in memory: prefixSet) and reads the index only on a match,
// instead of asking the index, and its filter, about every digest again.
type checkView struct {
	view       indexView // not embedded: its Prefilter promises too much here
	recent     *prefixSet
	haveRecent bool
	recheck    bool // set per CheckTx call, under the application's checkMu
}

func newCheckView(x *digestIndex, height int64) *checkView {
	v := &checkView{view: indexView{x: x, height: height}}
	var recent []uint64
	recent, v.haveRecent = x.recentPrefixes(height - 1)
	v.recent = newPrefixSet(recent)
	return v
}

// NotIndexed implements ledger.IndexPrefilter: the view does not add
// digests to the filter (a digest added for a transaction still in the
// mempool would send every lookup of it in FinalizeBlock to the runs), so it
// only rules digests out of the index, and the ledger still looks for them
// among its pending digests. A recheck rules out what the block just
// committed does not hold; a first check asks the filter, in bulk.
func (v *checkView) NotIndexed(alg ledger.HashAlgorithm, digests []byte, absent []bool) {
	if alg < 0 || alg > 255 || len(digests) != len(absent)*ledger.DigestSize {
		return
	}
	if v.recheck && v.haveRecent {
		ps := make([]uint64, len(absent))
		for i := range absent {
			key, _ := indexKey(alg, digests[i*ledger.DigestSize:(i+1)*ledger.DigestSize])
			ps[i] = prefix(key[:])
		}
		v.recent.containsBatch(ps, absent)
		for i := range absent {
			absent[i] = !absent[i]
		}
		return
	}
	if f := v.view.x.filter; f != nil {
		f.mayContainBatch(alg, digests, absent)
	}
}

func (v *checkView) Lookup(alg ledger.HashAlgorithm, digest []byte) (ledger.Locator, bool, error) {
	if v.recheck && v.haveRecent {
		key, ok := indexKey(alg, digest)
		if !ok {
			return ledger.Locator{}, false, nil
		}
		if !v.recent.contains(prefix(key[:])) {
			return ledger.Locator{}, false, nil
		}
	}
	return v.view.Lookup(alg, digest)
}
