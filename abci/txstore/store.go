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

	"github.com/syndtr/goleveldb/leveldb"
	"github.com/syndtr/goleveldb/leveldb/opt"
)

// Store keeps the bytes of transactions by their SHA-256. See the package
// documentation for its files and crash rules. It is safe for concurrent
// use.
type Store struct {
	dir string

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

	syncMu sync.Mutex // one Sync at a time
	index  *leveldb.DB
}

type recordLoc struct {
	seg uint32
	off int64 // of the record's bytes, after its header
	n   uint32
}

type pendingEntry struct {
	hash [32]byte
	loc  recordLoc
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

var endKey = []byte("end") // the segment and length up to which the log is synced and indexed

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

func segmentName(dir string, seg uint32) string {
	return filepath.Join(dir, fmt.Sprintf("%08d.seg", seg))
}

// Open opens (or creates) the store in dir, indexes the records a crash
// left unindexed and truncates a record the crash cut.
func Open(dir string) (*Store, error) {
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, fmt.Errorf("transaction store: %w", err)
	}
	index, err := leveldb.OpenFile(filepath.Join(dir, "index"), &opt.Options{})
	if err != nil {
		return nil, fmt.Errorf("transaction store: open index: %w", err)
	}
	s := &Store{dir: dir, index: index, pend: map[[32]byte]recordLoc{}, segs: map[uint32]*os.File{}, mem: map[[32]byte][]byte{}}
	s.waiters = map[[32]byte][]chan struct{}{}
	if err := s.recover(); err != nil {
		_ = index.Close()
		s.closeSegments()
		return nil, err
	}
	return s, nil
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
// returns where they end.
func (s *Store) scan(f *os.File, seg uint32, off int64) (int64, error) {
	var hdr [headerSize]byte
	for {
		if _, err := f.ReadAt(hdr[:], off); err != nil {
			if errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) {
				return off, nil
			}
			return 0, fmt.Errorf("transaction store: %w", err)
		}
		n := binary.BigEndian.Uint32(hdr[:4])
		b := make([]byte, n)
		if _, err := f.ReadAt(b, off+headerSize); err != nil {
			if errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) {
				return off, nil
			}
			return 0, fmt.Errorf("transaction store: %w", err)
		}
		var h [32]byte
		copy(h[:], hdr[4:])
		if sha256.Sum256(b) != h {
			return off, nil
		}
		loc := recordLoc{seg: seg, off: off + headerSize, n: n}
		s.pend[h] = loc
		s.pending = append(s.pending, pendingEntry{h, loc})
		off += headerSize + int64(n)
	}
}

// Has reports whether the store holds the transaction whose hash is h.
func (s *Store) Has(h [32]byte) (bool, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	_, ok, err := s.locate(h)
	return ok, err
}

// locate finds the record of h (s.mu held).
func (s *Store) locate(h [32]byte) (recordLoc, bool, error) {
	if loc, ok := s.pend[h]; ok {
		return loc, true, nil
	}
	v, err := s.index.Get(h[:], nil)
	if errors.Is(err, leveldb.ErrNotFound) {
		return recordLoc{}, false, nil
	}
	if err != nil {
		return recordLoc{}, false, fmt.Errorf("transaction store: read index: %w", err)
	}
	if len(v) != 16 {
		return recordLoc{}, false, fmt.Errorf("transaction store: index entry of %X has %d bytes", h[:8], len(v))
	}
	return recordLoc{seg: binary.BigEndian.Uint32(v), off: int64(binary.BigEndian.Uint64(v[4:])), n: binary.BigEndian.Uint32(v[12:])}, true, nil
}

// Put adds the bytes of a transaction whose SHA-256 is h (the caller
// computed it) and reports whether they were new. They are readable at
// once, and durable after the next Sync.
func (s *Store) Put(h [32]byte, raw []byte) (bool, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if _, ok := s.mem[h]; ok {
		return false, nil
	}
	if _, ok, err := s.locate(h); ok || err != nil {
		return false, err
	}
	if s.off+headerSize+int64(len(raw)) > maxSegmentBytes && s.off > 0 {
		if err := s.segs[s.seg].Sync(); err != nil {
			return false, fmt.Errorf("transaction store: %w", err)
		}
		f, err := os.OpenFile(segmentName(s.dir, s.seg+1), os.O_RDWR|os.O_CREATE|os.O_TRUNC, 0o600)
		if err != nil {
			return false, fmt.Errorf("transaction store: %w", err)
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
		return false, fmt.Errorf("transaction store: %w", err)
	}
	if _, err := s.segs[s.seg].WriteAt(raw, s.off+headerSize); err != nil {
		return false, fmt.Errorf("transaction store: %w", err)
	}
	loc := recordLoc{seg: s.seg, off: s.off + headerSize, n: uint32(len(raw))}
	s.off += headerSize + int64(len(raw))
	s.pend[h] = loc
	s.pending = append(s.pending, pendingEntry{h, loc})
	s.remember(h, raw)
	for _, ch := range s.waiters[h] {
		close(ch)
	}
	delete(s.waiters, h)
	return true, nil
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
		if b, ok := s.mem[h]; ok {
			s.memSize -= len(b)
			delete(s.mem, h)
		}
	}
}

// Get returns the bytes of the transaction whose hash is h, or ok false if
// the store does not hold it. A record damaged on disk (its bytes do not
// hash to h) is an error naming the segment.
func (s *Store) Get(h [32]byte) (raw []byte, ok bool, err error) {
	s.mu.Lock()
	if b, ok := s.mem[h]; ok {
		s.mu.Unlock()
		return b, true, nil
	}
	loc, ok, err := s.locate(h)
	if !ok || err != nil {
		s.mu.Unlock()
		return nil, false, err
	}
	f, err := s.segment(loc.seg)
	s.mu.Unlock()
	if err != nil {
		return nil, false, err
	}
	b := make([]byte, loc.n)
	if _, err := f.ReadAt(b, loc.off); err != nil {
		return nil, false, fmt.Errorf("transaction store: read transaction %X: %w", h[:8], err)
	}
	if sha256.Sum256(b) != h {
		return nil, false, fmt.Errorf("transaction store: transaction %X is damaged on disk (%s)", h[:8], segmentName(s.dir, loc.seg))
	}
	return b, true, nil
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
	s.mu.Lock()
	entries := s.pending
	s.pending = nil
	seg, end := s.seg, s.off
	f := s.segs[seg]
	s.mu.Unlock()
	if len(entries) == 0 {
		return nil
	}
	if err := f.Sync(); err != nil {
		s.requeue(entries)
		return fmt.Errorf("transaction store: sync: %w", err)
	}
	var b leveldb.Batch
	for _, e := range entries {
		var v [16]byte
		binary.BigEndian.PutUint32(v[:], e.loc.seg)
		binary.BigEndian.PutUint64(v[4:], uint64(e.loc.off))
		binary.BigEndian.PutUint32(v[12:], e.loc.n)
		b.Put(e.hash[:], v[:])
	}
	var v [12]byte
	binary.BigEndian.PutUint32(v[:], seg)
	binary.BigEndian.PutUint64(v[4:], uint64(end))
	b.Put(endKey, v[:])
	if err := s.index.Write(&b, nil); err != nil {
		s.requeue(entries)
		return fmt.Errorf("transaction store: write index: %w", err)
	}
	s.mu.Lock()
	for _, e := range entries {
		delete(s.pend, e.hash)
	}
	s.mu.Unlock()
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

// Close syncs and closes the store.
func (s *Store) Close() error {
	err := s.Sync()
	s.mu.Lock()
	s.closeSegments()
	s.segs = map[uint32]*os.File{}
	s.mu.Unlock()
	return errors.Join(err, s.index.Close())
}
