package digestindex

import (
	"bytes"
	"context"
	"errors"
	"math/bits"
	"math/rand/v2"
	"os"
	"slices"
	"time"

	"golang.org/x/time/rate"
)

// sizeClass groups runs by size, in factors of sixteen (mergeFanIn).
func sizeClass(n int) int { return bits.Len(uint(n)) / 4 }

// finalClass is the size class of runs that are no longer merged: 2^19 to
// 2^23 records (25 to 411 MB), so no merge writes more than 411 MB.
// Merging them too would rewrite the whole index once more per factor of
// sixteen, in merges as large as the index, read back from disk while every
// Commit waits behind them.
// What it costs instead: a lookup of an anchored digest (a receipt, a
// revocation, a digest anchored twice) reads one page of each final run,
// about 250 runs per billion digests when blocks hold a thousand digests
// (1,900 at most, with runs of 2^19 records); absent digests, nearly every
// lookup, are answered by the filter.
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
func (x *Index) nextMerge() (first int, merge []*run) {
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

func (x *Index) poke() {
	select {
	case x.wake <- struct{}{}:
	default:
	}
}

func (x *Index) mergeLoop() {
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
				_ = r.f.Close()
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
// their large merges fall due at the same height; nodes that share a disk
// and write their largest merges together slow every block, and a chain
// needs only two thirds of its validators at full speed.
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
func (x *Index) paceMerge(n int) error {
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
func (x *Index) merge(in []*run) (*run, error) {
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
