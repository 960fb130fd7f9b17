package txstore

import (
	"crypto/sha256"
	"encoding/binary"
	"errors"
	"fmt"
	"os"
	"slices"

	"github.com/syndtr/goleveldb/leveldb/util"
)

// What the collector does at each Named, in the background: it drops the
// records marked at an earlier height that nothing read since, marks the
// unnamed records past the retention, and compacts the sealed segments
// whose dead share reached compactShare.
var (
	// compactShare is the share of a sealed segment's bytes that are dead
	// at which it is compacted.
	compactShare = 0.5
	// moveChunk is how many bytes a compaction copies between two syncs.
	moveChunk int64 = 8 << 20
)

const (
	// dropBatch bounds the records one index batch drops (Put and Get
	// wait for it).
	dropBatch = 1024
	// maxMarked bounds the records marked at one height.
	maxMarked = 1 << 16
)

var (
	errStopped = errors.New("transaction store: closed")
	// errCrashed ends an operation at a test's crash point.
	errCrashed = errors.New("transaction store: crash point")
	// crashPoint, set by tests, ends the operation at the point it names
	// when it returns true: the files are left as a crash there leaves
	// them.
	crashPoint func(point string) bool
)

func hit(point string) bool { return crashPoint != nil && crashPoint(point) }

// run is the collector: one collection after each Named, until Close.
func (s *Store) run() {
	defer close(s.done)
	for {
		select {
		case <-s.stop:
			return
		case <-s.kick:
		}
		if err := s.collect(); err != nil && !errors.Is(err, errStopped) && s.opts.Logger != nil {
			s.opts.Logger.Error("transaction store: collection failed", "err", err)
		}
	}
}

// collect drops, marks and compacts once.
func (s *Store) collect() error {
	if s.opts.Retention <= 0 {
		return nil
	}
	if err := s.drop(); err != nil {
		return err
	}
	if err := s.mark(); err != nil {
		return err
	}
	return s.compact()
}

func (s *Store) stopped() bool {
	select {
	case <-s.stop:
		return true
	default:
		return false
	}
}

// mark marks the records no block named that the store indexed at least
// Retention blocks before the last named height: the next collection at a
// later height drops those nothing reads or Puts in between. A proposal
// that names one reads it (ProcessProposal; FinalizeBlock for a block
// fetched while catching up; Put in PrepareProposal), and the block is
// named by Commit before the height moves past the mark's.
func (s *Store) mark() error {
	s.syncMu.Lock()
	cutoff := s.height - s.opts.Retention
	s.syncMu.Unlock()
	if cutoff < 0 {
		return nil
	}
	// The 'u' keys below markFrom were marked already (dropped since, or
	// marked still): deleted keys stay in goleveldb's files for a while, and
	// are not walked again. A record spared since is found again by a walk
	// from the start.
	s.mu.Lock()
	from := s.markFrom
	if s.rescan {
		from, s.rescan = 0, false
	}
	s.mu.Unlock()
	var start, lim [9]byte
	start[0], lim[0] = unnamedPrefix, unnamedPrefix
	binary.BigEndian.PutUint64(start[1:], uint64(from))
	binary.BigEndian.PutUint64(lim[1:], uint64(cutoff)+1)
	next := cutoff + 1
	it := s.index.NewIterator(&util.Range{Start: start[:], Limit: lim[:]}, nil)
	defer it.Release()
	var hs [][32]byte
	for it.Next() {
		k := it.Key()
		if len(k) != unnamedKeyLen {
			continue
		}
		if len(hs) == maxMarked {
			next = int64(binary.BigEndian.Uint64(k[1:]))
			break
		}
		hs = append(hs, [32]byte(k[9:]))
	}
	if err := it.Error(); err != nil {
		return fmt.Errorf("transaction store: read index: %w", err)
	}
	// Marked at the height when they are marked, read under both locks: a
	// Get for a proposal of the next height, if it came before, came after
	// this height was named.
	s.syncMu.Lock()
	s.mu.Lock()
	for _, h := range hs {
		if _, ok := s.doomed[h]; !ok {
			s.doomed[h] = s.height
		}
	}
	s.markFrom = max(s.markFrom, next)
	s.mu.Unlock()
	s.syncMu.Unlock()
	return nil
}

// drop drops the marked records, at a height after their mark's, that no
// block named since and nothing read since; dropBatch at a time.
func (s *Store) drop() error {
	for {
		if s.stopped() {
			return errStopped
		}
		n, more, err := s.dropBatch()
		s.dropped.Add(uint64(n))
		if err != nil || !more {
			return err
		}
	}
}

// dropBatch drops up to dropBatch marked records. Their entries are read
// first; then, with s.mu held, those still marked (not read since) are
// dropped in one index batch, so that a Get either spared its record before
// or finds it gone after.
func (s *Store) dropBatch() (dropped int, more bool, err error) {
	s.syncMu.Lock()
	defer s.syncMu.Unlock()
	cutoff := s.height - s.opts.Retention
	var cands [][32]byte
	s.mu.Lock()
	for h, at := range s.doomed {
		if len(cands) == dropBatch {
			more = true
			break
		}
		if at < s.height {
			cands = append(cands, h)
		}
	}
	s.mu.Unlock()
	if len(cands) == 0 {
		return 0, false, nil
	}
	entries := make([]entry, len(cands))
	live := make([]bool, len(cands))
	for i, h := range cands {
		e, ok, err := s.readEntry(h)
		if err != nil {
			return 0, false, err
		}
		entries[i], live[i] = e, ok && !e.named && e.height <= cutoff
	}
	w := s.newIndexWrite()
	var gone [][32]byte
	s.mu.Lock()
	defer s.mu.Unlock()
	for i, h := range cands {
		if _, marked := s.doomed[h]; !marked {
			continue // read since
		}
		delete(s.doomed, h)
		if _, ok := s.pend[h]; ok {
			s.rescan = true // marked again later
			continue
		}
		if !live[i] {
			continue
		}
		w.del(h)
		w.b.Delete(unnamedKey(entries[i].height, h))
		w.addDead(entries[i].loc)
		gone = append(gone, h)
	}
	if len(gone) == 0 {
		return 0, more, nil
	}
	if hit("drop-before-index") {
		return 0, false, errCrashed
	}
	// Synced: goleveldb does not sync an earlier journal when a later
	// write syncs, and a compaction's synced repoint must not outlive the
	// drop it trusts (its dead counts) across a power loss.
	if err := w.commit(true); err != nil {
		s.rescan = true // marked again later
		return 0, false, err
	}
	for _, h := range gone {
		s.forget(h)
	}
	return len(gone), more, nil
}

// compact compacts the sealed segments whose dead share reached
// compactShare, and forgets the dead bytes of segments already removed.
func (s *Store) compact() error {
	s.mu.Lock()
	current := s.seg
	s.mu.Unlock()
	s.syncMu.Lock()
	var segs []uint32
	for seg := range s.dead {
		if seg < current {
			segs = append(segs, seg)
		}
	}
	s.syncMu.Unlock()
	slices.Sort(segs)
	var errs []error
	for _, seg := range segs {
		if s.stopped() {
			return errStopped
		}
		st, err := os.Stat(segmentName(s.dir, seg))
		if errors.Is(err, os.ErrNotExist) {
			if err := s.forgetDead(seg); err != nil {
				return err
			}
			continue
		}
		if err != nil {
			return fmt.Errorf("transaction store: %w", err)
		}
		s.syncMu.Lock()
		dead := s.dead[seg]
		s.syncMu.Unlock()
		if dead < st.Size() && float64(dead) < compactShare*float64(st.Size()) {
			continue
		}
		if err := s.compactSegment(seg); err != nil {
			if errors.Is(err, errStopped) || errors.Is(err, errCrashed) {
				return err
			}
			errs = append(errs, err) // the next segments still
		}
	}
	return errors.Join(errs...)
}

// compactSegment copies the records of a sealed segment that the index
// still points to to the end of the log, syncs them and repoints their
// entries in a synced batch, then removes the segment.
func (s *Store) compactSegment(seg uint32) error {
	f, err := os.Open(segmentName(s.dir, seg))
	if err != nil {
		return fmt.Errorf("transaction store: %w", err)
	}
	defer func() { _ = f.Close() }()
	var off, copied, kept int64
	for {
		if s.stopped() {
			return errStopped
		}
		h, b, err := readRecord(f, off)
		if errors.Is(err, errCutRecord) {
			break
		}
		if err != nil {
			return err
		}
		loc := recordLoc{seg: seg, off: off + headerSize, n: uint32(len(b))}
		off += headerSize + int64(len(b))
		s.mu.Lock()
		cur, ok, err := s.locate(h)
		if err == nil && ok && cur == loc {
			if sha256.Sum256(b) != h {
				err = fmt.Errorf("transaction store: transaction %X is damaged on disk (%s): segment not compacted", h[:8], segmentName(s.dir, seg))
			} else {
				_, err = s.appendRecord(h, b, pendingEntry{move: true, from: loc})
				copied += headerSize + int64(len(b))
				kept += headerSize + int64(len(b))
			}
		}
		s.mu.Unlock()
		if err != nil {
			return err
		}
		if copied >= moveChunk {
			if err := s.syncDurable(); err != nil {
				return err
			}
			copied = 0
		}
	}
	if hit("compact-before-sync") {
		return errCrashed
	}
	// Synced and written even without copies: "end" moves past seg, so
	// that Open never looks for it.
	if err := s.syncDurable(); err != nil {
		return err
	}
	// Every byte of the segment is dead now (dropped, or copied and
	// repointed): otherwise a record was not read (a damaged header), and
	// the segment stays.
	s.syncMu.Lock()
	dead := s.dead[seg]
	s.syncMu.Unlock()
	if st, err := f.Stat(); err != nil || dead != st.Size() {
		return fmt.Errorf("transaction store: %s: %d of its bytes dead after compaction (%v): segment kept", segmentName(s.dir, seg), dead, err)
	}
	if hit("compact-before-remove") {
		return errCrashed
	}
	s.mu.Lock()
	open := s.segs[seg]
	delete(s.segs, seg)
	s.mu.Unlock()
	if open != nil {
		s.readMu.Lock() // no Get reads it any more
		_ = open.Close()
		s.readMu.Unlock()
	}
	if err := os.Remove(segmentName(s.dir, seg)); err != nil && !errors.Is(err, os.ErrNotExist) {
		return fmt.Errorf("transaction store: %w", err)
	}
	if s.opts.Logger != nil {
		s.opts.Logger.Info("transaction store: segment compacted", "segment", seg, "reclaimed", off-kept, "kept", kept)
	}
	return s.forgetDead(seg)
}

// syncDurable is Sync with goleveldb's write synced.
func (s *Store) syncDurable() error {
	s.syncMu.Lock()
	defer s.syncMu.Unlock()
	return s.syncLocked(nil, 0, true)
}

// forgetDead deletes the dead bytes of a removed segment.
func (s *Store) forgetDead(seg uint32) error {
	s.syncMu.Lock()
	defer s.syncMu.Unlock()
	w := s.newIndexWrite()
	w.b.Delete(deadKey(seg))
	if err := w.commit(false); err != nil {
		return err
	}
	delete(s.dead, seg)
	return nil
}
