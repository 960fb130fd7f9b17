package txstore

import (
	"crypto/sha256"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sync"
	"sync/atomic"

	"github.com/syndtr/goleveldb/leveldb"
	"github.com/syndtr/goleveldb/leveldb/opt"
	"github.com/syndtr/goleveldb/leveldb/util"
)

// Store keeps the bytes of transactions by their SHA-256. See the package
// documentation for its files and crash rules. It is safe for concurrent
// use.
type Store struct {
	dir  string
	opts Options

	mu      sync.Mutex
	pend    map[[32]byte]recordLoc // records appended since the last Sync, not yet indexed
	pending []pendingEntry         // the same, in order
	segs    map[uint32]*os.File    // open segments (the last is written)
	seg     uint32                 // the segment being written
	off     int64                  // its length
	mem     map[[32]byte][]byte    // recent transactions' bytes
	memFIFO [][32]byte
	memSize int
	waiters map[[32]byte][]chan struct{} // closed when the transaction is Put
	// doomed holds the unnamed records past the retention, with the height
	// at which they were marked: a collection at a later height drops them,
	// unless one is read or Put before.
	doomed map[[32]byte]int64
	// markFrom is the height from which the next mark walks the 'u' keys;
	// rescan makes it walk from the start (a marked record was spared).
	markFrom int64
	rescan   bool

	// readMu is held for reading while a segment file is read outside mu,
	// and for writing while a compacted segment is closed.
	readMu sync.RWMutex

	// syncMu serialises the writers of the index: Sync, Named and the
	// collection's drops and compactions. height and dead are read and
	// written under it.
	syncMu sync.Mutex
	index  *leveldb.DB
	height int64            // the last height Named recorded
	dead   map[uint32]int64 // bytes of each segment's records no index entry points to

	dropped atomic.Uint64
	kick    chan struct{} // wakes the collector
	stop    chan struct{}
	done    chan struct{}
}

// Options tunes a Store.
type Options struct {
	// Retention is the number of blocks after which a record that no block
	// named is dropped, counted in the heights Named reports; 0 keeps every
	// record.
	Retention int64
	// Logger receives the collector's failures and what it reclaimed.
	// Optional.
	Logger Logger
}

// Logger is what the store logs to (CometBFT's log.Logger is one).
type Logger interface {
	Info(msg string, keyvals ...any)
	Error(msg string, keyvals ...any)
}

type recordLoc struct {
	seg uint32
	off int64 // of the record's bytes, after its header
	n   uint32
}

type pendingEntry struct {
	hash [32]byte
	loc  recordLoc
	// move is set for a copy the compaction wrote; from is the record it
	// copies.
	move bool
	from recordLoc
}

const (
	headerSize = 4 + 32
	// memBytes bounds the transactions held in memory; the oldest leave
	// first.
	memBytes = 256 << 20
)

// maxSegmentBytes is where a segment ends and the next begins (a variable
// for tests).
var maxSegmentBytes int64 = 1 << 30

var (
	endKey    = []byte("end")    // the segment and length up to which the log is synced and indexed
	heightKey = []byte("height") // the last height Named recorded
)

// Index keys other than a hash's (32 bytes), "end" and "height":
//
//	'u' | received height (8) | hash (32)   a record no block named yet
//	'd' | segment (4)                       bytes of that segment's dead records (8)
const (
	unnamedPrefix = 'u'
	unnamedKeyLen = 1 + 8 + 32
	deadPrefix    = 'd'
	deadKeyLen    = 1 + 4
)

func unnamedKey(height int64, h [32]byte) []byte {
	k := make([]byte, unnamedKeyLen)
	k[0] = unnamedPrefix
	binary.BigEndian.PutUint64(k[1:], uint64(height))
	copy(k[9:], h[:])
	return k
}

func deadKey(seg uint32) []byte {
	k := make([]byte, deadKeyLen)
	k[0] = deadPrefix
	binary.BigEndian.PutUint32(k[1:], seg)
	return k
}

// entry is a hash's index entry: where its record is, the height at which
// the store indexed it, and whether a block named it. An entry written
// before the store knew of names (16 bytes: the location only) counts as
// named: it is kept.
type entry struct {
	loc    recordLoc
	height int64
	named  bool
}

const (
	entryLen       = 16 + 8 + 1
	legacyEntryLen = 16
)

func (e entry) encode() []byte {
	v := make([]byte, entryLen)
	binary.BigEndian.PutUint32(v, e.loc.seg)
	binary.BigEndian.PutUint64(v[4:], uint64(e.loc.off))
	binary.BigEndian.PutUint32(v[12:], e.loc.n)
	binary.BigEndian.PutUint64(v[16:], uint64(e.height))
	if e.named {
		v[24] = 1
	}
	return v
}

func decodeEntry(h [32]byte, v []byte) (entry, error) {
	if len(v) != entryLen && len(v) != legacyEntryLen {
		return entry{}, fmt.Errorf("transaction store: index entry of %X has %d bytes", h[:8], len(v))
	}
	e := entry{loc: recordLoc{seg: binary.BigEndian.Uint32(v), off: int64(binary.BigEndian.Uint64(v[4:])), n: binary.BigEndian.Uint32(v[12:])}, named: true}
	if len(v) == entryLen {
		e.height, e.named = int64(binary.BigEndian.Uint64(v[16:])), v[24] == 1
	}
	return e, nil
}

// Bytes returns the size of the store's segment files: the transactions'
// bytes and their record headers, not the index.
func (s *Store) Bytes() (int64, error) {
	paths, err := filepath.Glob(filepath.Join(s.dir, "*.seg"))
	if err != nil {
		return 0, err
	}
	var n int64
	for _, p := range paths {
		info, err := os.Stat(p)
		if err != nil {
			if errors.Is(err, os.ErrNotExist) {
				continue
			}
			return 0, err
		}
		n += info.Size()
	}
	return n, nil
}

// Dropped returns the number of records no block named that the store
// dropped since it was opened.
func (s *Store) Dropped() uint64 { return s.dropped.Load() }

func segmentName(dir string, seg uint32) string {
	return filepath.Join(dir, fmt.Sprintf("%08d.seg", seg))
}

// Open opens (or creates) the store in dir, indexes the records a crash
// left unindexed and truncates a record the crash cut. With a retention,
// a collector runs in the background after each Named.
func Open(dir string, opts Options) (*Store, error) {
	s, err := open(dir, opts)
	if err != nil {
		return nil, err
	}
	if opts.Retention > 0 {
		s.done = make(chan struct{})
		go s.run()
	}
	return s, nil
}

// open opens the store without starting its collector (tests run
// collect themselves).
func open(dir string, opts Options) (*Store, error) {
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, fmt.Errorf("transaction store: %w", err)
	}
	index, err := leveldb.OpenFile(filepath.Join(dir, "index"), &opt.Options{})
	if err != nil {
		return nil, fmt.Errorf("transaction store: open index: %w", err)
	}
	s := &Store{
		dir: dir, opts: opts, index: index,
		pend: map[[32]byte]recordLoc{}, segs: map[uint32]*os.File{}, mem: map[[32]byte][]byte{},
		waiters: map[[32]byte][]chan struct{}{}, doomed: map[[32]byte]int64{}, dead: map[uint32]int64{},
		kick: make(chan struct{}, 1), stop: make(chan struct{}), done: make(chan struct{}),
	}
	close(s.done) // no collector yet
	if err := s.loadMeta(); err != nil {
		_ = index.Close()
		return nil, err
	}
	if err := s.recover(); err != nil {
		_ = index.Close()
		s.closeSegments()
		return nil, err
	}
	return s, nil
}

// loadMeta reads the last named height and the dead bytes of each segment.
func (s *Store) loadMeta() error {
	if v, err := s.index.Get(heightKey, nil); err == nil && len(v) == 8 {
		s.height = int64(binary.BigEndian.Uint64(v))
	} else if err != nil && !errors.Is(err, leveldb.ErrNotFound) {
		return fmt.Errorf("transaction store: read index: %w", err)
	}
	it := s.index.NewIterator(util.BytesPrefix([]byte{deadPrefix}), nil)
	defer it.Release()
	for it.Next() {
		if k, v := it.Key(), it.Value(); len(k) == deadKeyLen && len(v) == 8 {
			s.dead[binary.BigEndian.Uint32(k[1:])] = int64(binary.BigEndian.Uint64(v))
		}
	}
	if err := it.Error(); err != nil {
		return fmt.Errorf("transaction store: read index: %w", err)
	}
	return nil
}

// recover indexes the records after the recorded end, truncates a cut
// record and opens the segment to write.
func (s *Store) recover() error {
	var seg uint32
	var off int64
	if v, err := s.index.Get(endKey, nil); err == nil && len(v) == 12 {
		seg, off = binary.BigEndian.Uint32(v), int64(binary.BigEndian.Uint64(v[4:]))
	} else if err != nil && !errors.Is(err, leveldb.ErrNotFound) {
		return fmt.Errorf("transaction store: read index: %w", err)
	}
	for {
		f, err := os.OpenFile(segmentName(s.dir, seg), os.O_RDWR|os.O_CREATE, 0o600)
		if err != nil {
			return fmt.Errorf("transaction store: %w", err)
		}
		s.segs[seg] = f
		end, err := s.scan(f, seg, off)
		if err != nil {
			return err
		}
		s.seg, s.off = seg, end
		if _, err := os.Stat(segmentName(s.dir, seg+1)); err != nil {
			if st, err := f.Stat(); err == nil && st.Size() > end {
				if err := f.Truncate(end); err != nil {
					return fmt.Errorf("transaction store: truncate a cut record: %w", err)
				}
			}
			break
		}
		seg, off = seg+1, 0
	}
	return s.Sync()
}

// scan indexes (as pending) the complete records of f from off and
// returns where they end. Sync finds which of them are copies of records
// indexed elsewhere (a compaction a crash cut).
func (s *Store) scan(f *os.File, seg uint32, off int64) (int64, error) {
	for {
		h, b, err := readRecord(f, off)
		if err != nil {
			if errors.Is(err, errCutRecord) {
				return off, nil
			}
			return 0, err
		}
		if sha256.Sum256(b) != h {
			return off, nil
		}
		loc := recordLoc{seg: seg, off: off + headerSize, n: uint32(len(b))}
		s.pend[h] = loc
		s.pending = append(s.pending, pendingEntry{hash: h, loc: loc})
		off += headerSize + int64(len(b))
	}
}

var errCutRecord = errors.New("transaction store: record cut")

// readRecord reads the record at off of f: its header's hash and its
// bytes, unchecked; errCutRecord if the file ends within it.
func readRecord(f *os.File, off int64) ([32]byte, []byte, error) {
	var hdr [headerSize]byte
	var h [32]byte
	if _, err := f.ReadAt(hdr[:], off); err != nil {
		if errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) {
			return h, nil, errCutRecord
		}
		return h, nil, fmt.Errorf("transaction store: %w", err)
	}
	n := binary.BigEndian.Uint32(hdr[:4])
	if st, err := f.Stat(); err == nil && off+headerSize+int64(n) > st.Size() {
		return h, nil, errCutRecord
	}
	b := make([]byte, n)
	if _, err := f.ReadAt(b, off+headerSize); err != nil {
		if errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) {
			return h, nil, errCutRecord
		}
		return h, nil, fmt.Errorf("transaction store: %w", err)
	}
	copy(h[:], hdr[4:])
	return h, b, nil
}

// Has reports whether the store holds the transaction whose hash is h.
func (s *Store) Has(h [32]byte) (bool, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if _, ok := s.mem[h]; ok {
		s.spare(h)
		return true, nil
	}
	_, ok, err := s.locate(h)
	if ok {
		s.spare(h)
	}
	return ok, err
}

// spare keeps h from the next drop: something reads it (s.mu held).
func (s *Store) spare(h [32]byte) {
	if len(s.doomed) > 0 {
		if _, ok := s.doomed[h]; ok {
			delete(s.doomed, h)
			s.rescan = true
		}
	}
}

// locate finds the record of h (s.mu held). An index entry in a segment
// that no longer exists counts as absent: a drop lost in a crash (see the
// package doc, Retention) brought back an entry that a compaction had
// repointed from nowhere, and a Put of the record overwrites it.
func (s *Store) locate(h [32]byte) (recordLoc, bool, error) {
	if loc, ok := s.pend[h]; ok {
		return loc, true, nil
	}
	e, ok, err := s.readEntry(h)
	if !ok || err != nil {
		return e.loc, ok, err
	}
	if gone, err := s.segmentGone(e.loc.seg); gone || err != nil {
		return recordLoc{}, false, err
	}
	return e.loc, true, nil
}

// segmentGone reports whether segment seg no longer exists (s.mu held). It
// opens the segment, as a Get would, so that the next look is free.
func (s *Store) segmentGone(seg uint32) (bool, error) {
	if _, ok := s.segs[seg]; ok {
		return false, nil
	}
	_, err := s.segment(seg)
	if errors.Is(err, os.ErrNotExist) {
		return true, nil
	}
	return false, err
}

// readEntry reads h's index entry.
func (s *Store) readEntry(h [32]byte) (entry, bool, error) {
	v, err := s.index.Get(h[:], nil)
	if errors.Is(err, leveldb.ErrNotFound) {
		return entry{}, false, nil
	}
	if err != nil {
		return entry{}, false, fmt.Errorf("transaction store: read index: %w", err)
	}
	e, err := decodeEntry(h, v)
	return e, err == nil, err
}

// Put adds the bytes of a transaction whose SHA-256 is h (the caller
// computed it) and reports whether they were new. They are readable at
// once, and durable after the next Sync.
func (s *Store) Put(h [32]byte, raw []byte) (bool, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if _, ok := s.mem[h]; ok {
		s.spare(h)
		return false, nil
	}
	if _, ok, err := s.locate(h); ok || err != nil {
		s.spare(h)
		return false, err
	}
	if _, err := s.appendRecord(h, raw, pendingEntry{}); err != nil {
		return false, err
	}
	s.remember(h, raw)
	for _, ch := range s.waiters[h] {
		close(ch)
	}
	delete(s.waiters, h)
	return true, nil
}

// appendRecord writes the record of raw at the end of the log and queues
// its index entry (s.mu held); e tells a compaction's copy.
func (s *Store) appendRecord(h [32]byte, raw []byte, e pendingEntry) (recordLoc, error) {
	if s.off+headerSize+int64(len(raw)) > maxSegmentBytes && s.off > 0 {
		if err := s.segs[s.seg].Sync(); err != nil {
			return recordLoc{}, fmt.Errorf("transaction store: %w", err)
		}
		f, err := os.OpenFile(segmentName(s.dir, s.seg+1), os.O_RDWR|os.O_CREATE|os.O_TRUNC, 0o600)
		if err != nil {
			return recordLoc{}, fmt.Errorf("transaction store: %w", err)
		}
		s.seg, s.off = s.seg+1, 0
		s.segs[s.seg] = f
	}
	// The header and the bytes are written apart: the bytes are not
	// copied behind the header first.
	var hdr [headerSize]byte
	binary.BigEndian.PutUint32(hdr[:], uint32(len(raw)))
	copy(hdr[4:], h[:])
	if _, err := s.segs[s.seg].WriteAt(hdr[:], s.off); err != nil {
		return recordLoc{}, fmt.Errorf("transaction store: %w", err)
	}
	if _, err := s.segs[s.seg].WriteAt(raw, s.off+headerSize); err != nil {
		return recordLoc{}, fmt.Errorf("transaction store: %w", err)
	}
	loc := recordLoc{seg: s.seg, off: s.off + headerSize, n: uint32(len(raw))}
	s.off += headerSize + int64(len(raw))
	s.pend[h] = loc
	e.hash, e.loc = h, loc
	s.pending = append(s.pending, e)
	return loc, nil
}

// Await returns a channel closed when the transaction whose hash is h is
// Put, and a function that stops waiting. Check Get after Await, not
// before, so that a transaction Put between the two is not missed.
func (s *Store) Await(h [32]byte) (<-chan struct{}, func()) {
	ch := make(chan struct{})
	s.mu.Lock()
	s.waiters[h] = append(s.waiters[h], ch)
	s.mu.Unlock()
	return ch, func() {
		s.mu.Lock()
		defer s.mu.Unlock()
		ws := s.waiters[h]
		for i, w := range ws {
			if w == ch {
				ws = append(ws[:i], ws[i+1:]...)
				break
			}
		}
		if len(ws) == 0 {
			delete(s.waiters, h)
		} else {
			s.waiters[h] = ws
		}
	}
}

// remember holds raw in memory (s.mu held), forgetting the oldest ones
// beyond memBytes.
func (s *Store) remember(h [32]byte, raw []byte) {
	s.mem[h] = raw
	s.memFIFO = append(s.memFIFO, h)
	s.memSize += len(raw)
	for s.memSize > memBytes && len(s.memFIFO) > 0 {
		old := s.memFIFO[0]
		s.memFIFO = s.memFIFO[1:]
		if b, ok := s.mem[old]; ok {
			s.memSize -= len(b)
			delete(s.mem, old)
		}
	}
	// Forget leaves its hashes in the queue: drop them once they are most
	// of it, so that it stays the size of what is held.
	if len(s.memFIFO) > 2*len(s.mem)+1024 {
		kept := s.memFIFO[:0]
		for _, h := range s.memFIFO {
			if _, ok := s.mem[h]; ok {
				kept = append(kept, h)
			}
		}
		s.memFIFO = kept
	}
}

// Forget drops transactions from memory (they stay on disk): a committed
// block's, which are read again only for receipts and peers.
func (s *Store) Forget(hs [][32]byte) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, h := range hs {
		s.forget(h)
	}
}

func (s *Store) forget(h [32]byte) {
	if b, ok := s.mem[h]; ok {
		s.memSize -= len(b)
		delete(s.mem, h)
	}
}

// Get returns the bytes of the transaction whose hash is h, or ok false if
// the store does not hold it. A record damaged on disk (its bytes do not
// hash to h) is an error naming the segment.
func (s *Store) Get(h [32]byte) (raw []byte, ok bool, err error) {
	s.mu.Lock()
	if b, ok := s.mem[h]; ok {
		s.spare(h)
		s.mu.Unlock()
		return b, true, nil
	}
	loc, ok, err := s.locate(h)
	if !ok || err != nil {
		s.mu.Unlock()
		return nil, false, err
	}
	s.spare(h)
	f, err := s.segment(loc.seg)
	if err != nil {
		s.mu.Unlock()
		return nil, false, err
	}
	// A compaction closes a segment only once no reader holds readMu.
	s.readMu.RLock()
	s.mu.Unlock()
	defer s.readMu.RUnlock()
	b := make([]byte, loc.n)
	if _, err := f.ReadAt(b, loc.off); err != nil {
		return nil, false, fmt.Errorf("transaction store: read transaction %X: %w", h[:8], err)
	}
	if sha256.Sum256(b) != h {
		return nil, false, fmt.Errorf("transaction store: transaction %X is damaged on disk (%s)", h[:8], segmentName(s.dir, loc.seg))
	}
	return b, true, nil
}

// lockedSegmentGone is segmentGone with s.mu taken; an error counts as
// not gone.
func (s *Store) lockedSegmentGone(seg uint32) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	gone, _ := s.segmentGone(seg)
	return gone
}

// segment returns an open segment file (s.mu held).
func (s *Store) segment(seg uint32) (*os.File, error) {
	if f, ok := s.segs[seg]; ok {
		return f, nil
	}
	f, err := os.Open(segmentName(s.dir, seg))
	if err != nil {
		return nil, fmt.Errorf("transaction store: %w", err)
	}
	s.segs[seg] = f
	return f, nil
}

// Sync makes every transaction Put so far durable and indexed: it syncs the
// segment, then writes the records' index entries and the end of the synced
// log in one goleveldb batch (not synced itself: Open recovers from the
// segment what it lacks).
func (s *Store) Sync() error {
	s.syncMu.Lock()
	defer s.syncMu.Unlock()
	return s.syncLocked(nil, 0, false)
}

// Named records that the block at height named the transactions hs, after
// a Sync: their records are kept for ever, and records no block named that
// the store indexed Retention blocks before height are dropped (by the
// collector, in the background). The names are durable when it returns.
// The application calls it in Commit, before it saves the state, with
// heights in order; a height named again (a block replayed after a crash)
// changes nothing.
func (s *Store) Named(height int64, hs [][32]byte) error {
	if height <= 0 {
		return fmt.Errorf("transaction store: Named at height %d", height)
	}
	s.syncMu.Lock()
	err := s.syncLocked(hs, height, len(hs) > 0)
	s.syncMu.Unlock()
	if err != nil {
		return err
	}
	select {
	case s.kick <- struct{}{}:
	default:
	}
	return nil
}

// syncLocked is Sync, then Named's names and height (if height > 0), in
// one goleveldb batch, synced if durable (s.syncMu held).
func (s *Store) syncLocked(hs [][32]byte, height int64, durable bool) error {
	named := height > s.height
	s.mu.Lock()
	entries := s.pending
	s.pending = nil
	seg, end := s.seg, s.off
	f := s.segs[seg]
	s.mu.Unlock()
	if len(entries) == 0 && !named && !durable {
		return nil
	}
	if len(entries) > 0 {
		if hit("sync-before-segment") {
			s.requeue(entries)
			return errCrashed
		}
		if err := f.Sync(); err != nil {
			s.requeue(entries)
			return fmt.Errorf("transaction store: sync: %w", err)
		}
	}
	w := s.newIndexWrite()
	for _, e := range entries {
		cur, ok, err := w.get(e.hash)
		if err != nil {
			s.requeue(entries)
			return err
		}
		switch {
		case e.move && (!ok || cur.loc != e.from):
			// Dropped since it was copied: the copy is dead.
			w.addDead(e.loc)
		case e.move:
			cur.loc = e.loc
			w.put(e.hash, cur)
			w.addDead(e.from)
		case ok && cur.loc != e.loc && s.lockedSegmentGone(cur.loc.seg):
			// An entry in a removed segment (locate): Put wrote the
			// record again.
			if !cur.named {
				w.b.Delete(unnamedKey(cur.height, e.hash))
			}
			w.put(e.hash, entry{loc: e.loc, height: s.height})
			w.b.Put(unnamedKey(s.height, e.hash), nil)
		case ok && cur.loc != e.loc:
			// A copy a compaction wrote before a crash, found again by
			// Open: the record it copies is still indexed.
			w.addDead(e.loc)
		case ok:
			// Indexed already, at this location.
		default:
			w.put(e.hash, entry{loc: e.loc, height: s.height})
			w.b.Put(unnamedKey(s.height, e.hash), nil)
		}
	}
	for _, h := range hs {
		cur, ok, err := w.get(h)
		if err != nil {
			s.requeue(entries)
			return err
		}
		if !ok {
			// Commit puts the transactions a block names before it names
			// them: a bug if not.
			if s.opts.Logger != nil {
				s.opts.Logger.Error("transaction store: a named transaction has no index entry", "hash", fmt.Sprintf("%X", h), "height", height)
			}
			continue
		}
		if cur.named {
			continue
		}
		w.b.Delete(unnamedKey(cur.height, h))
		cur.named = true
		w.put(h, cur)
	}
	if named {
		var v [8]byte
		binary.BigEndian.PutUint64(v[:], uint64(height))
		w.b.Put(heightKey, v[:])
	}
	if len(entries) > 0 || durable {
		var v [12]byte
		binary.BigEndian.PutUint32(v[:], seg)
		binary.BigEndian.PutUint64(v[4:], uint64(end))
		w.b.Put(endKey, v[:])
	}
	if hit("sync-before-index") {
		s.requeue(entries)
		return errCrashed
	}
	if err := w.commit(durable); err != nil {
		s.requeue(entries)
		return err
	}
	if named {
		s.height = height
	}
	s.mu.Lock()
	for _, e := range entries {
		if s.pend[e.hash] == e.loc {
			delete(s.pend, e.hash)
		}
	}
	s.mu.Unlock()
	return nil
}

// indexWrite is one goleveldb batch, with the entries it changes readable
// before it is written (s.syncMu held).
type indexWrite struct {
	s    *Store
	b    leveldb.Batch
	vals map[[32]byte]*entry // nil: deleted
	dead map[uint32]int64
}

func (s *Store) newIndexWrite() *indexWrite {
	return &indexWrite{s: s, vals: map[[32]byte]*entry{}, dead: map[uint32]int64{}}
}

func (w *indexWrite) get(h [32]byte) (entry, bool, error) {
	if e, ok := w.vals[h]; ok {
		if e == nil {
			return entry{}, false, nil
		}
		return *e, true, nil
	}
	return w.s.readEntry(h)
}

func (w *indexWrite) put(h [32]byte, e entry) {
	w.vals[h] = &e
	w.b.Put(h[:], e.encode())
}

func (w *indexWrite) del(h [32]byte) {
	w.vals[h] = nil
	w.b.Delete(h[:])
}

// addDead counts the record at loc as dead.
func (w *indexWrite) addDead(loc recordLoc) {
	n, ok := w.dead[loc.seg]
	if !ok {
		n = w.s.dead[loc.seg]
	}
	n += headerSize + int64(loc.n)
	w.dead[loc.seg] = n
	var v [8]byte
	binary.BigEndian.PutUint64(v[:], uint64(n))
	w.b.Put(deadKey(loc.seg), v[:])
}

// commit writes the batch, synced if durable.
func (w *indexWrite) commit(durable bool) error {
	if w.b.Len() == 0 {
		return nil
	}
	if err := w.s.index.Write(&w.b, &opt.WriteOptions{Sync: durable}); err != nil {
		return fmt.Errorf("transaction store: write index: %w", err)
	}
	for seg, n := range w.dead {
		w.s.dead[seg] = n
	}
	return nil
}

func (s *Store) requeue(entries []pendingEntry) {
	s.mu.Lock()
	s.pending = append(entries, s.pending...)
	s.mu.Unlock()
}

func (s *Store) closeSegments() {
	for _, f := range s.segs {
		_ = f.Close()
	}
}

// Close stops the collector, syncs and closes the store.
func (s *Store) Close() error {
	select {
	case <-s.stop:
	default:
		close(s.stop)
	}
	<-s.done
	err := s.Sync()
	s.mu.Lock()
	s.closeSegments()
	s.segs = map[uint32]*os.File{}
	s.mu.Unlock()
	return errors.Join(err, s.index.Close())
}
