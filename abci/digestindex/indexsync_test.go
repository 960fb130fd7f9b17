package digestindex

import (
	"fmt"
	"os"
	"strings"
	"testing"
	"time"
)

// TestDigestIndexSyncsInBackground: a block's run answers lookups when
// saveBlock returns (from memory until it is written), its file is written
// under its own name and HEIGHT follows once the background sync has run,
// and close leaves HEIGHT at the last height saved.
func TestDigestIndexSyncsInBackground(t *testing.T) {
	dir := t.TempDir()
	m := newIdxModel(11)
	x := openIdx(t, dir, 1<<16)
	x.syncMu.Lock() // holds the background sync: the runs stay in memory
	for h := int64(1); h <= 3; h++ {
		m.save(t, x, m.nextHeight(500, idxSHA2, nil))
		x.mu.RLock()
		inMemory := x.runs[len(x.runs)-1].mem != nil
		x.mu.RUnlock()
		if !inMemory {
			t.Fatalf("height %d's run is not held in memory", h)
		}
		m.check(t, x, -1, fmt.Sprintf("height %d saved", h))
	}
	x.syncMu.Unlock()
	deadline := time.Now().Add(10 * time.Second)
	for {
		h, err := readHeight(x.dir)
		if err != nil {
			t.Fatal(err)
		}
		if h == 3 {
			for h := int64(1); h <= 3; h++ {
				if _, err := os.Stat(idxRunPath(x, h, h)); err != nil {
					t.Fatalf("height %d's run after HEIGHT names it: %v", h, err)
				}
			}
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("HEIGHT is %d 10 s after height 3 was saved", h)
		}
		time.Sleep(5 * time.Millisecond)
	}
	m.save(t, x, m.nextHeight(500, idxSHA2, nil))
	closeIdx(t, x)
	if h, err := readHeight(dir); err != nil || h != 4 {
		t.Fatalf("HEIGHT after close: %d, %v; want 4", h, err)
	}
	x = openIdx(t, dir, 1<<16)
	defer closeIdx(t, x)
	m.check(t, x, -1, "after reopening")
}

// TestDigestIndexWriteFailure: when the background sync cannot write a
// block's run, the next save tries again itself and fails with the disk's
// error (Commit stops there); once the disk takes the writes again, the
// next save succeeds and every digest is found.
func TestDigestIndexWriteFailure(t *testing.T) {
	dir := t.TempDir()
	m := newIdxModel(13)
	x, err := Open(dir, 1<<16, nil) // its log would fail the test
	if err != nil {
		t.Fatal(err)
	}
	defer closeIdx(t, x)
	m.save(t, x, m.nextHeight(500, idxSHA2, nil))
	if err := x.syncRuns(); err != nil {
		t.Fatal(err)
	}
	// The directory goes away: the next run cannot be written.
	x.syncMu.Lock()
	m.save(t, x, m.nextHeight(500, idxSHA2, nil))
	hidden := x.dir + ".away"
	if err := os.Rename(x.dir, hidden); err != nil {
		t.Fatal(err)
	}
	x.syncMu.Unlock()
	if err := x.syncRuns(); err == nil {
		t.Fatal("the run was written without its directory")
	}
	if err := x.Save(batchesOf(m.nextHeight(500, idxSHA2, nil)), m.height+1); err == nil || !strings.Contains(err.Error(), "no such file") {
		t.Fatalf("save after a failed write: %v; want the disk's error", err)
	}
	if err := os.Rename(hidden, x.dir); err != nil {
		t.Fatal(err)
	}
	m.save(t, x, m.nextHeight(500, idxSHA2, nil))
	m.check(t, x, -1, "after the disk came back")
	if err := x.syncRuns(); err != nil {
		t.Fatal(err)
	}
	if h, err := readHeight(x.dir); err != nil || h != m.height {
		t.Fatalf("HEIGHT %d, %v; want %d", h, err, m.height)
	}
}
