package txstore

import (
	"bytes"
	"crypto/sha256"
	"errors"
	"fmt"
	"os"
	"sync"
	"testing"
)

// life is a store opened without its background collector: the test runs
// each collection itself.
type life struct {
	t   testing.TB
	dir string
	s   *Store
	ret int64
}

func openLife(t testing.TB, dir string, retention int64) *life {
	t.Helper()
	s, err := open(dir, Options{Retention: retention})
	if err != nil {
		t.Fatal(err)
	}
	return &life{t: t, dir: dir, s: s, ret: retention}
}

func (l *life) reopen() {
	l.t.Helper()
	s, err := open(l.dir, Options{Retention: l.ret})
	if err != nil {
		l.t.Fatal(err)
	}
	l.s = s
}

func (l *life) put(i int) [32]byte {
	l.t.Helper()
	h := sha256.Sum256(txOf(i))
	if _, err := l.s.Put(h, txOf(i)); err != nil {
		l.t.Fatalf("Put %d: %v", i, err)
	}
	return h
}

// block names is and collects, as Commit and the collector do.
func (l *life) block(height int64, is ...int) {
	l.t.Helper()
	var hs [][32]byte
	for _, i := range is {
		hs = append(hs, sha256.Sum256(txOf(i)))
	}
	if err := l.s.Named(height, hs); err != nil {
		l.t.Fatalf("Named %d: %v", height, err)
	}
	l.s.Forget(hs)
	if err := l.s.collect(); err != nil {
		l.t.Fatalf("collect at %d: %v", height, err)
	}
}

// check asserts that the transactions of held are held (their bytes, read
// back and hash-checked) and those of gone are not.
func (l *life) check(what string, held, gone []int) {
	l.t.Helper()
	for _, i := range held {
		if raw, ok, err := l.s.Get(sha256.Sum256(txOf(i))); err != nil || !ok || !bytes.Equal(raw, txOf(i)) {
			l.t.Errorf("%s: transaction %d: Get = %v %v, want its bytes", what, i, ok, err)
		}
	}
	for _, i := range gone {
		if _, ok, err := l.s.Get(sha256.Sum256(txOf(i))); ok || err != nil {
			l.t.Errorf("%s: transaction %d: Get = %v %v, want not held", what, i, ok, err)
		}
	}
}

func ints(from, to int) []int {
	var out []int
	for i := from; i < to; i++ {
		out = append(out, i)
	}
	return out
}

// TestStoreRetention: what a store with a retention of 3 blocks drops, and
// what it keeps: named records, records indexed within the retention,
// records something read since they were marked.
func TestStoreRetention(t *testing.T) {
	cases := []struct {
		name    string
		run     func(l *life)
		held    []int
		gone    []int
		dropped uint64
	}{
		{"named kept, unnamed dropped a block after they are marked", func(l *life) {
			for i := range 4 {
				l.put(i)
			}
			l.block(1, 0, 1)
			l.block(2)
			l.block(3) // indexed at 0, 3 blocks before: marked
			l.block(4) // dropped
		}, []int{0, 1}, []int{2, 3}, 2},
		{"within the retention", func(l *life) {
			l.block(1)
			l.put(0)
			l.block(2)
			l.block(3)
			l.put(1)
			l.block(4) // 0 indexed at 1, 1 at 3: neither marked
		}, []int{0, 1}, nil, 0},
		{"a read spares a marked record", func(l *life) {
			l.put(0)
			l.put(1)
			l.block(1)
			l.block(2)
			l.block(3) // both marked
			l.check("read", []int{0}, nil)
			l.block(4) // 1 dropped, 0 spared and marked again
			l.check("after a read", nil, []int{1})
			l.block(5)
		}, nil, []int{0, 1}, 2},
		{"a Put spares a marked record", func(l *life) {
			l.put(0)
			l.block(1)
			l.block(2)
			l.block(3)
			l.put(0) // PrepareProposal's Put of a held transaction
			l.block(4, 0)
			l.block(5)
			l.block(6)
		}, []int{0}, nil, 0},
		{"named by the block after the mark", func(l *life) {
			l.put(0)
			l.block(1)
			l.block(2)
			l.block(3)
			l.block(4, 0)
			l.block(5)
		}, []int{0}, nil, 0},
		{"read for a proposal just before the mark, named by it", func(l *life) {
			l.put(0)
			l.block(1)
			l.block(2)
			if err := l.s.Named(3, nil); err != nil {
				l.t.Fatal(err)
			}
			l.check("ProcessProposal of height 4", []int{0}, nil)
			if err := l.s.collect(); err != nil { // marks 0
				l.t.Fatal(err)
			}
			l.block(4, 0)
			l.block(5)
		}, []int{0}, nil, 0},
		{"dropped, then stored again", func(l *life) {
			l.put(0)
			l.block(1)
			l.block(2)
			l.block(3)
			l.block(4)
			l.check("dropped", nil, []int{0})
			l.put(0) // fetched from a peer for a block that names it
			l.block(5, 0)
			l.block(9)
		}, []int{0}, nil, 1},
		{"a block replayed after a restart", func(l *life) {
			l.put(0)
			l.put(1)
			l.block(1, 0)
			l.block(2)
			l.block(1, 1) // a height already named: its names still count
			l.block(3)
			l.block(4)
			l.block(5)
		}, []int{0, 1}, nil, 0},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			l := openLife(t, t.TempDir(), 3)
			tc.run(l)
			l.check("before a reopen", tc.held, tc.gone)
			if got := l.s.Dropped(); got != tc.dropped {
				t.Errorf("Dropped = %d, want %d", got, tc.dropped)
			}
			if err := l.s.Close(); err != nil {
				t.Fatal(err)
			}
			l.reopen()
			defer func() { _ = l.s.Close() }()
			l.check("after a reopen", tc.held, tc.gone)
		})
	}
}

// TestStoreRetentionOff: without a retention nothing is dropped.
func TestStoreRetentionOff(t *testing.T) {
	l := openLife(t, t.TempDir(), 0)
	defer func() { _ = l.s.Close() }()
	l.put(0)
	for h := int64(1); h < 10; h++ {
		l.block(h)
	}
	l.check("retention 0", []int{0}, nil)
}

// TestStoreLegacyEntries: a store written before names were recorded (index
// entries of 16 bytes) keeps every record.
func TestStoreLegacyEntries(t *testing.T) {
	dir := t.TempDir()
	l := openLife(t, dir, 2)
	h := l.put(0)
	if err := l.s.Sync(); err != nil {
		t.Fatal(err)
	}
	e, ok, err := l.s.readEntry(h)
	if err != nil || !ok {
		t.Fatal(ok, err)
	}
	if err := l.s.index.Put(h[:], e.encode()[:legacyEntryLen], nil); err != nil {
		t.Fatal(err)
	}
	if err := l.s.index.Delete(unnamedKey(0, h), nil); err != nil {
		t.Fatal(err)
	}
	for height := int64(1); height < 8; height++ {
		l.block(height)
	}
	l.check("legacy", []int{0}, nil)
	_ = l.s.Close()
}

// fill puts n transactions from first, in segments of maxSegmentBytes.
func (l *life) fill(first, n int) {
	l.t.Helper()
	for i := first; i < first+n; i++ {
		l.put(i)
	}
	if err := l.s.Sync(); err != nil {
		l.t.Fatal(err)
	}
}

func (l *life) bytes() int64 {
	l.t.Helper()
	n, err := l.s.Bytes()
	if err != nil {
		l.t.Fatal(err)
	}
	return n
}

func segmentExists(dir string, seg uint32) bool {
	_, err := os.Stat(segmentName(dir, seg))
	return err == nil
}

func smallSegments(t *testing.T) {
	t.Helper()
	seg, chunk := maxSegmentBytes, moveChunk
	t.Cleanup(func() { maxSegmentBytes, moveChunk = seg, chunk })
	maxSegmentBytes = 64 << 10 // about 40 records of txOf
	moveChunk = 8 << 10
}

// TestStoreCompaction: a sealed segment whose records are mostly dropped is
// compacted: its named records are copied to the end of the log and read
// from there, the file is removed and its space counted no more, before
// and after a reopen. A sealed segment whose records are all named stays.
func TestStoreCompaction(t *testing.T) {
	cases := []struct {
		name     string
		named    func(i int, seg uint32) bool
		maxRatio float64 // of the segments' bytes after to before
	}{
		{"one record in five named", func(i int, _ uint32) bool { return i%5 == 0 }, 0.5},
		{"segment 0 named, the rest not", func(_ int, seg uint32) bool { return seg == 0 }, 0.6},
		{"nothing named", func(int, uint32) bool { return false }, 0.4},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			smallSegments(t)
			dir := t.TempDir()
			l := openLife(t, dir, 2)
			l.fill(0, 120)
			last := l.s.seg
			if last < 3 {
				t.Fatalf("the records fill %d segments, want at least 4", last+1)
			}
			segOf := map[int]uint32{}
			var named, gone []int
			for i := range 120 {
				loc, _, _ := l.s.locate(sha256.Sum256(txOf(i)))
				segOf[i] = loc.seg
				if tc.named(i, loc.seg) {
					named = append(named, i)
				} else {
					gone = append(gone, i)
				}
			}
			before := l.bytes()
			l.block(1, named...)
			l.block(2)
			l.block(3)
			l.block(4) // dropped and compacted
			l.check("compacted", named, gone)
			for seg := uint32(0); seg < last; seg++ {
				all, none := true, true
				for i, s := range segOf {
					if s == seg {
						all = all && tc.named(i, s)
						none = none && !tc.named(i, s)
					}
				}
				switch exists := segmentExists(dir, seg); {
				case all && !exists:
					t.Errorf("segment %d, all named, removed", seg)
				case !all && exists:
					t.Errorf("segment %d, mostly dropped, not removed", seg)
				}
			}
			if after := l.bytes(); float64(after) > tc.maxRatio*float64(before) {
				t.Errorf("segments hold %d bytes, %d before: want at most %.1f of it", after, before, tc.maxRatio)
			}
			if got := l.s.Dropped(); got != uint64(len(gone)) {
				t.Errorf("Dropped = %d, want %d", got, len(gone))
			}
			// The store goes on: new records, a reopen, another compaction.
			l.fill(200, 60)
			l.block(5, 200)
			if err := l.s.Close(); err != nil {
				t.Fatal(err)
			}
			l.reopen()
			defer func() { _ = l.s.Close() }()
			l.block(6)
			l.block(7)
			l.block(8)
			l.check("reopened", append([]int{200}, named...), append(gone, ints(201, 260)...))
		})
	}
}

// TestStoreCrashRetention: a crash at each point where dropping and
// compacting write leaves every named record readable and hash-checked,
// and the dropped ones gone, once the store reopens and its collection
// runs again.
func TestStoreCrashRetention(t *testing.T) {
	cases := []struct {
		point string
		nth   int // the crash is at the nth time the point is reached (from 1)
	}{
		{"drop-before-index", 1},
		{"compact-before-sync", 1},
		{"sync-before-segment", 1}, // the compaction's first chunk
		{"sync-before-index", 1},
		{"sync-before-index", 3}, // a later chunk: some copies indexed
		{"compact-before-remove", 1},
		{"compact-before-remove", 2},
	}
	named := []int{0, 5, 10, 15, 20, 25, 30, 35, 40, 45, 50, 55, 60, 65, 70, 75, 80}
	for _, tc := range cases {
		t.Run(fmt.Sprintf("%s #%d", tc.point, tc.nth), func(t *testing.T) {
			smallSegments(t)
			dir := t.TempDir()
			l := openLife(t, dir, 2)
			l.fill(0, 120)
			l.block(1, named...)
			l.block(2) // marked
			var gone []int
			for i := range 120 {
				if !contains(named, i) {
					gone = append(gone, i)
				}
			}
			// Crash during the collection at height 3.
			var mu sync.Mutex
			seen := 0
			if err := l.s.Named(3, nil); err != nil {
				t.Fatal(err)
			}
			crashPoint = func(p string) bool {
				mu.Lock()
				defer mu.Unlock()
				if p == tc.point {
					seen++
				}
				return seen == tc.nth && p == tc.point
			}
			defer func() { crashPoint = nil }()
			err := l.s.collect()
			crashPoint = nil
			if !errors.Is(err, errCrashed) {
				t.Fatalf("collect: %v, want the crash point reached", err)
			}
			crash(l.s)
			l.reopen()
			l.check("after the crash", named, nil)
			// The block is replayed and the collection runs again.
			l.block(3)
			l.block(4)
			l.check("collected again", named, gone)
			for _, seg := range []uint32{0, 1} {
				if segmentExists(dir, seg) {
					t.Errorf("segment %d not removed", seg)
				}
			}
			l.fill(300, 5)
			l.block(6, 300)
			if err := l.s.Close(); err != nil {
				t.Fatal(err)
			}
			l.reopen()
			defer func() { _ = l.s.Close() }()
			l.check("reopened", append([]int{300}, named...), gone)
		})
	}
}

// TestStoreCrashNamed: a crash before Named's names are written loses
// them with the block (Commit did not save the state): the replayed block
// names them again, and nothing it names is dropped.
func TestStoreCrashNamed(t *testing.T) {
	l := openLife(t, t.TempDir(), 1)
	l.put(0)
	l.put(1)
	l.block(1)
	crashPoint = func(p string) bool { return p == "sync-before-index" }
	err := l.s.Named(2, [][32]byte{sha256.Sum256(txOf(0))})
	crashPoint = nil
	if !errors.Is(err, errCrashed) {
		t.Fatalf("Named: %v, want the crash point reached", err)
	}
	crash(l.s)
	l.reopen()
	defer func() { _ = l.s.Close() }()
	l.block(2, 0)
	l.block(3)
	l.block(4)
	l.check("replayed", []int{0}, []int{1})
}

// TestStoreCompactionConcurrent: Put, Get and Named go on while the
// background collector compacts; what a block names while its record is
// being copied is kept.
func TestStoreCompactionConcurrent(t *testing.T) {
	smallSegments(t)
	dir := t.TempDir()
	s, err := Open(dir, Options{Retention: 1})
	if err != nil {
		t.Fatal(err)
	}
	var named []int
	height := int64(0)
	next := 0
	for round := range 30 {
		// Each block: 12 new transactions, a third of them named by the
		// next block; the rest dropped two blocks later.
		first := next
		for i := first; i < first+12; i++ {
			if _, err := s.Put(sha256.Sum256(txOf(i)), txOf(i)); err != nil {
				t.Fatal(err)
			}
		}
		next += 12
		if err := s.Sync(); err != nil {
			t.Fatal(err)
		}
		var hs [][32]byte
		for i := first; i < first+12; i += 3 {
			hs = append(hs, sha256.Sum256(txOf(i)))
			named = append(named, i)
		}
		height++
		if err := s.Named(height, hs); err != nil {
			t.Fatal(err)
		}
		s.Forget(hs)
		// Reads of earlier named records while the collector runs.
		for _, i := range named[max(0, len(named)-8):] {
			if raw, ok, err := s.Get(sha256.Sum256(txOf(i))); err != nil || !ok || !bytes.Equal(raw, txOf(i)) {
				t.Fatalf("round %d: transaction %d: %v %v", round, i, ok, err)
			}
		}
	}
	dropped := s.Dropped()
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	s, err = Open(dir, Options{Retention: 1})
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = s.Close() }()
	for _, i := range named {
		if raw, ok, err := s.Get(sha256.Sum256(txOf(i))); err != nil || !ok || !bytes.Equal(raw, txOf(i)) {
			t.Errorf("transaction %d after a reopen: %v %v", i, ok, err)
		}
	}
	t.Logf("dropped %d, segment 0 removed: %v", dropped, !segmentExists(dir, 0))
}

// TestStoreCompactionDamaged: a segment holding a kept record damaged on
// disk, or a header that no longer reads (its length damaged), is not
// removed; the collection reports it, and the other records stay readable.
func TestStoreCompactionDamaged(t *testing.T) {
	cases := []struct {
		name   string
		victim int                       // 0 is kept, 1 dropped
		at     func(loc recordLoc) int64 // the byte damaged
	}{
		{"a kept record's bytes", 0, func(loc recordLoc) int64 { return loc.off + 5 }},
		{"a dropped record's length", 1, func(loc recordLoc) int64 { return loc.off - headerSize }},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			smallSegments(t)
			dir := t.TempDir()
			l := openLife(t, dir, 2)
			defer func() { _ = l.s.Close() }()
			l.fill(0, 120)
			var named []int
			for i := range 120 {
				if i%5 == 0 {
					named = append(named, i)
				}
			}
			l.block(1, named...)
			l.block(2)
			victim := tc.victim
			loc, _, _ := l.s.locate(sha256.Sum256(txOf(victim)))
			if loc.seg != 0 {
				t.Fatal("transaction not in segment 0")
			}
			flipByte(t, segmentName(dir, 0), tc.at(loc))
			if err := l.s.Named(3, nil); err != nil {
				t.Fatal(err)
			}
			if err := l.s.collect(); err == nil {
				t.Fatal("collect: no error")
			}
			if !segmentExists(dir, 0) {
				t.Fatal("segment 0 removed")
			}
			if segmentExists(dir, 1) {
				t.Fatal("segment 1 not compacted")
			}
			var held []int
			for _, i := range named {
				if !(victim == 0 && i == 0) {
					held = append(held, i)
				}
			}
			l.check("after the failed compaction", held, nil)
		})
	}
}

// TestStoreEntryInRemovedSegment: an index entry that points into a
// segment that no longer exists (a drop lost in a power loss, its segment
// compacted away) counts as absent: Has and Get do not hold the record, a
// Put writes it again and a block names it; records in the other segments
// read as before, and so after a reopen and more collections.
func TestStoreEntryInRemovedSegment(t *testing.T) {
	smallSegments(t)
	dir := t.TempDir()
	l := openLife(t, dir, 2)
	l.fill(0, 120)
	segOf := map[int]uint32{}
	var lost, kept []int
	for i := range 120 {
		loc, ok, err := l.s.locate(sha256.Sum256(txOf(i)))
		if !ok || err != nil {
			t.Fatalf("transaction %d: %v %v", i, ok, err)
		}
		segOf[i] = loc.seg
		if loc.seg == 0 {
			lost = append(lost, i)
		} else {
			kept = append(kept, i)
		}
	}
	if len(lost) < 2 || len(kept) == 0 {
		t.Fatalf("%d records in segment 0, %d after", len(lost), len(kept))
	}
	if err := l.s.Close(); err != nil {
		t.Fatal(err)
	}
	if err := os.Remove(segmentName(dir, 0)); err != nil {
		t.Fatal(err)
	}
	l.reopen()
	defer func() { _ = l.s.Close() }()
	for _, i := range lost {
		h := sha256.Sum256(txOf(i))
		if ok, err := l.s.Has(h); ok || err != nil {
			t.Fatalf("Has(%d) = %v %v, want not held", i, ok, err)
		}
	}
	l.check("segment 0 gone", kept, lost)
	again := lost[0]
	for _, tc := range []struct {
		name  string
		i     int
		isNew bool
	}{
		{"written again", again, true},
		{"held since", again, false},
		{"held in another segment", kept[0], false},
	} {
		isNew, err := l.s.Put(sha256.Sum256(txOf(tc.i)), txOf(tc.i))
		if err != nil || isNew != tc.isNew {
			t.Fatalf("%s: Put(%d) = %v %v, want %v", tc.name, tc.i, isNew, err, tc.isNew)
		}
	}
	l.block(1, again, kept[0])
	l.check("written again", []int{again, kept[0]}, lost[1:])
	if err := l.s.Close(); err != nil {
		t.Fatal(err)
	}
	l.reopen()
	l.block(2)
	l.block(3)
	l.block(4)
	l.check("reopened and collected", []int{again, kept[0]}, append(lost[1:], kept[1:]...))
	if loc, ok, err := l.s.locate(sha256.Sum256(txOf(again))); !ok || err != nil || loc.seg == 0 {
		t.Fatalf("the record written again is at %+v (%v %v)", loc, ok, err)
	}
}

// logged records what a store logs.
type logged struct {
	mu   sync.Mutex
	msgs []string
}

func (l *logged) Info(string, ...any) {}

func (l *logged) Error(msg string, _ ...any) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.msgs = append(l.msgs, msg)
}

// TestNamedWithoutEntry: Named logs each named hash it has no entry for,
// and names the others.
func TestNamedWithoutEntry(t *testing.T) {
	lg := &logged{}
	s, err := open(t.TempDir(), Options{Logger: lg})
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = s.Close() }()
	held := sha256.Sum256(txOf(1))
	if _, err := s.Put(held, txOf(1)); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		height int64
		hs     [][32]byte
		logs   int
	}{
		{1, [][32]byte{held}, 0},
		{2, [][32]byte{sha256.Sum256(txOf(2))}, 1},
		{3, [][32]byte{sha256.Sum256(txOf(3)), held, sha256.Sum256(txOf(4))}, 3},
	} {
		if err := s.Named(tc.height, tc.hs); err != nil {
			t.Fatal(err)
		}
		lg.mu.Lock()
		n := len(lg.msgs)
		lg.mu.Unlock()
		if n != tc.logs {
			t.Fatalf("after height %d: %d messages logged, want %d", tc.height, n, tc.logs)
		}
	}
	if e, ok, err := s.readEntry(held); !ok || err != nil || !e.named {
		t.Fatalf("the held record: %+v %v %v, want named", e, ok, err)
	}
}
