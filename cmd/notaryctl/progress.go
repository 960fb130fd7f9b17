package main

import (
	"fmt"
	"io"
	"os"
	"strings"
	"sync"
	"time"
)

// progressMin is the number of files from which anchor shows a progress bar.
const progressMin = 20

// progress is a one-line progress bar on a terminal. A nil *progress does
// nothing, so callers need not check whether the bar is shown.
type progress struct {
	w     io.Writer
	total int

	mu    sync.Mutex
	phase string
	done  int
	last  time.Time
}

// newProgress returns a bar on w for total items if w is a terminal and
// total is at least progressMin; else nil. Results never go to w: a bar on
// stderr leaves stdout clean for --output json.
func newProgress(w io.Writer, total int) *progress {
	if total < progressMin || !isTerminal(w) {
		return nil
	}
	return &progress{w: w, total: total}
}

// isTerminal reports whether w is a character device (a terminal).
func isTerminal(w io.Writer) bool {
	f, ok := w.(*os.File)
	if !ok {
		return false
	}
	st, err := f.Stat()
	return err == nil && st.Mode()&os.ModeCharDevice != 0
}

// start begins a phase ("hashing", "anchoring") from zero.
func (p *progress) start(phase string) {
	if p == nil {
		return
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	p.phase, p.done = phase, 0
	p.draw(true)
}

// add counts n more items done.
func (p *progress) add(n int) {
	if p == nil {
		return
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	p.done += n
	p.draw(p.done >= p.total)
}

// finish clears the bar's line.
func (p *progress) finish() {
	if p == nil {
		return
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	fmt.Fprintf(p.w, "\r%s\r", strings.Repeat(" ", 72))
}

// draw redraws the bar at most ten times a second, unless forced. Called
// with the mutex held.
func (p *progress) draw(force bool) {
	now := time.Now()
	if !force && now.Sub(p.last) < 100*time.Millisecond {
		return
	}
	p.last = now
	const width = 30
	filled := width * p.done / p.total
	fmt.Fprintf(p.w, "\r%-9s [%s%s] %d/%d files", p.phase,
		strings.Repeat("=", filled), strings.Repeat(" ", width-filled), p.done, p.total)
}
