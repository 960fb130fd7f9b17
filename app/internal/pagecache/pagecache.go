// Package pagecache keeps files a node writes once and seldom reads out of
// the kernel's page cache, leaving it to the files the node reads: the
// digest index's runs, which merges read back minutes after writing them.
//
// A validator writes each block twice more than it keeps in the index: the
// block store's tables and the consensus write-ahead log. Neither is read in
// normal operation (the block store serves receipts, a block at a time, and
// peers catching up; the log is read after a crash). Left to the kernel,
// they filled the bench machine's 18 GB of page cache by the sixth minute of
// load on four nodes, and the digest index's largest merge then read its
// inputs from disk at up to 113 MB/s while the chain slowed to half
// (docs/performance.md, finding 21).
//
// Every few seconds the Trimmer tells the kernel (posix_fadvise
// POSIX_FADV_DONTNEED) that the matching files older than a minute will not
// be needed soon. The kernel drops their clean pages; nothing changes for
// the files' contents. On systems without posix_fadvise it does nothing.
package pagecache

import (
	"os"
	"path/filepath"
	"sync"
	"time"

	"github.com/cometbft/cometbft/libs/log"
)

// Trimmer drops the cached pages of files matching its patterns, once each
// is older than MinAge, and again if it has grown since.
type Trimmer struct {
	patterns []string
	MinAge   time.Duration
	Every    time.Duration
	log      log.Logger

	done map[string]int64 // path -> size when its pages were last dropped
	quit chan struct{}
	wg   sync.WaitGroup
}

// New returns a Trimmer of the files matching the filepath.Glob patterns.
func New(logger log.Logger, patterns ...string) *Trimmer {
	return &Trimmer{patterns: patterns, MinAge: time.Minute, Every: 10 * time.Second, log: logger, done: map[string]int64{}}
}

// Start implements app.Service.
func (t *Trimmer) Start() error {
	t.quit = make(chan struct{})
	t.wg.Add(1)
	go func() {
		defer t.wg.Done()
		tick := time.NewTicker(t.Every)
		defer tick.Stop()
		for {
			select {
			case <-t.quit:
				return
			case now := <-tick.C:
				t.Pass(now)
			}
		}
	}()
	return nil
}

// Stop implements app.Service.
func (t *Trimmer) Stop() error {
	if t.quit != nil {
		close(t.quit)
		t.wg.Wait()
		t.quit = nil
	}
	return nil
}

// Pass drops the pages of the files due at now and returns how many files
// it advised.
func (t *Trimmer) Pass(now time.Time) int {
	seen := map[string]bool{}
	n := 0
	for _, p := range t.patterns {
		matches, err := filepath.Glob(p)
		if err != nil {
			continue // a malformed pattern matches nothing
		}
		for _, m := range matches {
			seen[m] = true
			fi, err := os.Stat(m)
			if err != nil || !fi.Mode().IsRegular() || now.Sub(fi.ModTime()) < t.MinAge || t.done[m] == fi.Size() {
				continue
			}
			if err := dropCache(m); err != nil {
				t.log.Debug("page cache: advice failed", "file", m, "err", err)
				continue
			}
			t.done[m] = fi.Size()
			n++
		}
	}
	for m := range t.done {
		if !seen[m] {
			delete(t.done, m)
		}
	}
	return n
}
