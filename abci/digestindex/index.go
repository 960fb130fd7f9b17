package digestindex

import (
	"cmp"
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"hash/crc32"
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

// Index maps every anchored digest to its batch and leaf (a
// ledger.Locator). See the package documentation for what it stores, its
// files and its crash rules.
type Index struct {
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
	// (recent), for rechecks of the mempool (CheckView).
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
	heightFile = "HEIGHT"
	mergeFanIn = 16
	// mergeBytesPerSecond paces merges' writes. A merge runs in the
	// background and may take its time; unpaced, the large ones write (and
	// sync) hundreds of megabytes at once on every node together, and the
	// Commits' own synced writes wait behind them. The pace is a few times
	// what the index's steady growth needs.
	mergeBytesPerSecond = 32 << 20
	// mergeReadBytes is each input's read buffer in a merge.
	mergeReadBytes = 256 << 10
	// maxUnwritten bounds the blocks' runs held in memory while the disk
	// refuses them: a few dozen of the largest blocks.
	maxUnwritten = 256 << 20
	// staggerFrom and staggerMax: see mergeDelay.
	staggerFrom = 256 << 20
	staggerMax  = time.Minute
)

// Open opens (or creates) the index in dir, with a digest filter of about
// filterBytes (none if filterBytes < 64) built from every entry, and starts
// its background sync and merges. It removes what a crash left behind (see
// the package documentation) and refuses a damaged file with an error that
// says so; log (optional) receives the failures of the background work.
func Open(dir string, filterBytes int, log cmtlog.Logger) (*Index, error) {
	if log == nil {
		log = cmtlog.NewNopLogger()
	}
	x := &Index{
		dir: dir, filter: newDigestFilter(filterBytes), log: log,
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

func (x *Index) load() error {
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
func (x *Index) checkFilterLoad() {
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
		_ = f.Close()
		return err
	}
	if err := f.Sync(); err != nil {
		_ = f.Close()
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

// Lookup returns the locator of a digest anchored below height before; ok is
// false if it was not (or if alg or digest cannot be a key).
func (x *Index) Lookup(alg ledger.HashAlgorithm, digest []byte, before int64) (ledger.Locator, bool, error) {
	return x.lookupMark(alg, digest, before, false)
}

// lookupMark is Lookup; with mark, the digest is also added to the filter
// (digestFilter.mayContainAdd).
func (x *Index) lookupMark(alg ledger.HashAlgorithm, digest []byte, before int64, mark bool) (ledger.Locator, bool, error) {
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

// Save adds a block's entries, given as its transactions' batches, as the
// run of height and marks height as indexed: lookups find them when it
// returns, and they are on disk once HEIGHT names height (Sync, or the
// background sync). The filter learns the entries first, so that it never
// lacks one the index has. A height already indexed is not written again.
// Entries must be of height and have distinct keys.
func (x *Index) Save(batches []ledger.IndexBatch, height int64) error {
	return x.saveBlock(batches, height, false)
}

// saveBlock is Save; with marked, the entries were looked up with mark (by
// FinalizeBlock) and are in the filter already.
func (x *Index) saveBlock(batches []ledger.IndexBatch, height int64, marked bool) error {
	x.mu.RLock()
	indexed := x.height
	x.mu.RUnlock()
	if height <= indexed {
		return nil
	}
	b, err := EncodeRun(batches, height)
	if err != nil {
		return fmt.Errorf("digest index: save height %d: %w", height, err)
	}
	if !marked && x.filter != nil {
		for _, bt := range batches {
			for i := 0; i < len(bt.Digests); i += ledger.DigestSize {
				x.filter.add(bt.Algorithm, bt.Digests[i:i+ledger.DigestSize])
			}
		}
	}
	return x.SaveRun(b, height)
}

// SaveRun is Save for a block's run encoded by EncodeRun (nil: the block
// anchored nothing), whose digests were looked up through an ExecView of
// height (which added them to the filter).
func (x *Index) SaveRun(b *BlockRun, height int64) error {
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
func (x *Index) syncLoop() {
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
			// error if the disk still refuses (SaveRun).
			x.log.Error("digest index: sync runs", "err", err)
		}
	}
}

// Sync writes the blocks' runs held in memory and saves HEIGHT, as the
// background sync does, and returns the disk's error if it refuses.
func (x *Index) Sync() error { return x.syncRuns() }

// syncRuns writes the blocks' runs held in memory, each around the page
// cache and synced with its name, then saves the indexed height they reach
// in HEIGHT. A failure is kept for the next save (SaveRun) and cleared
// by a later success.
func (x *Index) syncRuns() error {
	x.syncMu.Lock()
	defer x.syncMu.Unlock()
	err := x.writeRuns()
	x.mu.Lock()
	x.syncErr = err
	x.mu.Unlock()
	return err
}

func (x *Index) writeRuns() error {
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
func (x *Index) saveHeight(h int64) error {
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
func (x *Index) recentPrefixes(height int64) ([]uint64, bool) {
	x.mu.RLock()
	defer x.mu.RUnlock()
	if x.recentHeight != height || height == 0 {
		return nil, false
	}
	return x.recent, true
}

// IndexedHeight is the last height whose entries were saved (0 if none).
// After a crash, it is where HEIGHT stood: the heights after it are saved
// again.
func (x *Index) IndexedHeight() int64 {
	x.mu.RLock()
	defer x.mu.RUnlock()
	return x.height
}

// DurableHeight is the height HEIGHT holds: a restart indexes the heights
// after it again, from the block store.
func (x *Index) DurableHeight() int64 { return x.durableAt.Load() }

// Stats describe an index's size, for monitoring.
type Stats struct {
	// Records are the entries of the runs: digests and code keys.
	Records int
	// Files are the runs, on disk or (the latest blocks') still in memory.
	Files int
	// FilterCapacity is the number of records the filter is sized for; 0
	// without a filter.
	FilterCapacity int
}

// Stats returns the index's size.
func (x *Index) Stats() Stats {
	x.mu.RLock()
	defer x.mu.RUnlock()
	st := Stats{Records: x.entries, Files: len(x.runs)}
	if x.filter != nil {
		st.FilterCapacity = x.filter.capacity()
	}
	return st
}

func (x *Index) closeRuns() {
	for _, r := range x.runs {
		if r.f != nil {
			_ = r.f.Close()
		}
	}
	x.runs = nil
}

// Close stops merging (an unfinished merge leaves only a temporary file),
// syncs the runs and saves HEIGHT, and closes the runs. Lookups must not
// follow it.
func (x *Index) Close() error {
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
