package digestindex

import (
	"bytes"
	"context"
	"encoding/binary"
	"fmt"
	"hash/crc32"
	"math/rand/v2"
	"os"
	"path/filepath"
	"runtime/debug"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	cmtlog "github.com/cometbft/cometbft/libs/log"
	"golang.org/x/time/rate"

	"github.com/gobtechlab/notary/ledger"
	notaryv1 "github.com/gobtechlab/notary/proto/notary/v1"
)

const (
	idxSHA2 = notaryv1.HashAlgorithm_HASH_ALGORITHM_SHA2_256
	idxSHA3 = notaryv1.HashAlgorithm_HASH_ALGORITHM_SHA3_256
)

// idxKey is a digest under an algorithm, as the index keys it.
type idxKey [recKeySize]byte

func mkIdxKey(alg ledger.HashAlgorithm, d []byte) idxKey {
	k, ok := indexKey(alg, d)
	if !ok {
		panic(fmt.Sprintf("bad key %d %x", alg, d))
	}
	return idxKey(k)
}

func (k idxKey) alg() ledger.HashAlgorithm { return ledger.HashAlgorithm(k[0]) }
func (k idxKey) digest() []byte            { return k[1:] }

// idxModel is what the index must answer: every digest saved, with its
// locator, and the height indexed.
type idxModel struct {
	r           *rand.Rand
	locs        map[idxKey]ledger.Locator
	keys        []idxKey        // in the order saved
	crafted     map[idxKey]bool // digests sharing prefixes on purpose
	craftedKeys []idxKey        // those saved, in the order saved
	height      int64

	p8 [8]byte // the first 8 digest bytes of a family of digests
	p7 [7]byte // the first 7 digest bytes of another (the index's key prefix is the algorithm and 7 digest bytes)
}

func newIdxModel(seed uint64) *idxModel {
	m := &idxModel{
		r:       rand.New(rand.NewPCG(seed, seed^0x9e3779b97f4a7c15)),
		locs:    map[idxKey]ledger.Locator{},
		crafted: map[idxKey]bool{},
	}
	copy(m.p8[:], m.randDigest())
	copy(m.p7[:], m.randDigest())
	return m
}

func (m *idxModel) randDigest() []byte {
	d := make([]byte, ledger.DigestSize)
	for i := 0; i < len(d); i += 8 {
		binary.BigEndian.PutUint64(d[i:], m.r.Uint64())
	}
	return d
}

func (m *idxModel) digestWith(p []byte) []byte {
	d := m.randDigest()
	copy(d, p)
	return d
}

// nextHeight builds the entries of the next height: n random digests (of
// alg, or of either algorithm if alg is 0), and the crafted ones craft adds;
// keys never repeat (a digest is anchored once).
func (m *idxModel) nextHeight(n int, alg ledger.HashAlgorithm, craft func(add func(alg ledger.HashAlgorithm, d []byte, crafted bool))) []ledger.IndexEntry {
	h := m.height + 1
	var out []ledger.IndexEntry
	seen := map[idxKey]bool{}
	add := func(alg ledger.HashAlgorithm, d []byte, crafted bool) {
		k := mkIdxKey(alg, d)
		if _, dup := m.locs[k]; dup || seen[k] {
			return
		}
		seen[k] = true
		if crafted {
			m.crafted[k] = true
		}
		out = append(out, ledger.IndexEntry{Algorithm: alg, Digest: append([]byte(nil), d...),
			Locator: ledger.Locator{Height: h, TxIndex: m.r.Uint32(), Leaf: m.r.Uint32()}})
	}
	for i := 0; i < n; i++ {
		a := alg
		if a == 0 {
			a = idxSHA2
			if m.r.IntN(3) == 0 {
				a = idxSHA3
			}
		}
		add(a, m.randDigest(), false)
	}
	if craft != nil {
		craft(add)
	}
	m.r.Shuffle(len(out), func(i, j int) { out[i], out[j] = out[j], out[i] })
	return out
}

// saved records entries as saved at the model's next height.
func (m *idxModel) saved(entries []ledger.IndexEntry) {
	m.height++
	for _, e := range entries {
		k := mkIdxKey(e.Algorithm, e.Digest)
		m.locs[k] = e.Locator
		m.keys = append(m.keys, k)
		if m.crafted[k] {
			m.craftedKeys = append(m.craftedKeys, k)
		}
	}
}

func (m *idxModel) save(t testing.TB, x *Index, entries []ledger.IndexEntry) {
	t.Helper()
	if err := x.Save(batchesOf(entries), m.height+1); err != nil {
		t.Fatalf("save height %d (%d entries): %v", m.height+1, len(entries), err)
	}
	m.saved(entries)
}

// saveMarked saves as FinalizeBlock and Commit do: each entry is first
// looked up with mark (not found: it is new), which adds it to the filter,
// then the height is saved with marked.
func (m *idxModel) saveMarked(t testing.TB, x *Index, entries []ledger.IndexEntry) {
	t.Helper()
	h := m.height + 1
	v := x.ExecView(h)
	for _, e := range entries {
		if loc, ok, err := v.Lookup(e.Algorithm, e.Digest); ok || err != nil {
			t.Fatalf("height %d: new digest %x found: %+v %v", h, e.Digest, loc, err)
		}
	}
	if err := x.saveBlock(batchesOf(entries), h, true); err != nil {
		t.Fatalf("save height %d (%d entries): %v", h, len(entries), err)
	}
	m.saved(entries)
}

// absent returns keys never saved: random ones, ones sharing the crafted
// prefixes, neighbours of saved ones and saved digests under the other
// algorithm.
func (m *idxModel) absent(n int) []idxKey {
	var out []idxKey
	try := func(alg ledger.HashAlgorithm, d []byte) {
		k := mkIdxKey(alg, d)
		if _, ok := m.locs[k]; !ok {
			out = append(out, k)
		}
	}
	for len(out) < n {
		alg := idxSHA2
		if m.r.IntN(2) == 0 {
			alg = idxSHA3
		}
		switch m.r.IntN(5) {
		case 0:
			try(alg, m.randDigest())
		case 1:
			try(alg, m.digestWith(m.p8[:]))
		case 2:
			try(alg, m.digestWith(m.p7[:]))
		case 3, 4:
			if len(m.keys) == 0 {
				continue
			}
			k := m.keys[m.r.IntN(len(m.keys))]
			d := append([]byte(nil), k.digest()...)
			if m.r.IntN(2) == 0 {
				try(idxSHA2+idxSHA3-k.alg(), d) // the other algorithm
			} else {
				d[m.r.IntN(len(d))] ^= 1 << m.r.IntN(8)
				try(k.alg(), d)
			}
		}
	}
	return out
}

// check compares the index with the model: sample keys and as many crafted
// ones (every key if sample < 0) are found with their locator below
// any height above theirs and not below their own; absent keys are not
// found.
func (m *idxModel) check(t *testing.T, x *Index, sample int, what string) {
	t.Helper()
	if h := x.IndexedHeight(); h != m.height {
		t.Fatalf("%s: indexed height %d, want %d", what, h, m.height)
	}
	keys := m.keys
	if sample >= 0 && sample < len(keys) {
		keys = nil
		for i := 0; i < sample; i++ {
			keys = append(keys, m.keys[m.r.IntN(len(m.keys))])
			if len(m.craftedKeys) > 0 {
				keys = append(keys, m.craftedKeys[m.r.IntN(len(m.craftedKeys))])
			}
		}
	}
	top := m.height + 1
	for _, k := range keys {
		want := m.locs[k]
		// Just above its height, and either the top or a random height
		// between; not at its height, nor (sometimes) below.
		befores := []int64{want.Height + 1}
		switch m.r.IntN(4) {
		case 0:
			befores = append(befores, top)
		case 1:
			befores = append(befores, want.Height+1+m.r.Int64N(top-want.Height))
		}
		for _, before := range befores {
			loc, ok, err := x.Lookup(k.alg(), k.digest(), before)
			if err != nil || !ok || loc != want {
				t.Fatalf("%s: %d/%x before %d: got %+v %v %v, want %+v", what, k.alg(), k.digest(), before, loc, ok, err, want)
			}
		}
		nots := []int64{want.Height}
		if m.r.IntN(4) == 0 {
			nots = append(nots, m.r.Int64N(want.Height+1))
		}
		for _, before := range nots {
			if loc, ok, err := x.Lookup(k.alg(), k.digest(), before); err != nil || ok {
				t.Fatalf("%s: %d/%x (height %d) found before %d: %+v %v", what, k.alg(), k.digest(), want.Height, before, loc, err)
			}
		}
	}
	for _, k := range m.absent(500) {
		if loc, ok, err := x.Lookup(k.alg(), k.digest(), top+10); err != nil || ok {
			t.Fatalf("%s: %d/%x never saved, found: %+v %v", what, k.alg(), k.digest(), loc, err)
		}
	}
}

// idxSpans returns the heights of the index's runs.
func idxSpans(x *Index) [][2]int64 {
	x.mu.RLock()
	defer x.mu.RUnlock()
	var s [][2]int64
	for _, r := range x.runs {
		s = append(s, [2]int64{r.lo, r.hi})
	}
	return s
}

func idxMerges(x *Index) int {
	x.mu.RLock()
	defer x.mu.RUnlock()
	return x.merges
}

// idxFiles lists the files of the index directory.
func idxFiles(t testing.TB, x *Index) []string {
	t.Helper()
	es, err := os.ReadDir(x.dir)
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, e := range es {
		names = append(names, e.Name())
	}
	return names
}

// settleIdx waits until no merge is due and the directory holds exactly the
// runs (and HEIGHT): merged runs' inputs are removed after the merge is
// published. It checks that the runs are ordered, disjoint and not above the
// indexed height.
func settleIdx(t testing.TB, x *Index) [][2]int64 {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for {
		_, due := x.nextMerge()
		spans := idxSpans(x)
		want := []string{}
		for _, s := range spans {
			want = append(want, runName(s[0], s[1]))
		}
		h := x.IndexedHeight()
		if h > 0 {
			want = append(want, heightFile)
		}
		slices.Sort(want)
		got := idxFiles(t, x)
		slices.Sort(got)
		if due == nil && slices.Equal(got, want) {
			for i, s := range spans {
				if s[0] > s[1] || s[1] > h || (i > 0 && spans[i-1][1] >= s[0]) {
					t.Fatalf("runs %v at indexed height %d", spans, h)
				}
			}
			return spans
		}
		if time.Now().After(deadline) {
			t.Fatalf("index does not settle: merge due %v, files %v, runs %v", due != nil, got, want)
		}
		time.Sleep(2 * time.Millisecond)
	}
}

// idxLog fails the test on any error the index logs (a failed merge).
type idxLog struct{ t testing.TB }

func (l idxLog) Debug(string, ...any) {}
func (l idxLog) Info(string, ...any)  {}
func (l idxLog) Error(msg string, kv ...any) {
	l.t.Errorf("digest index logged an error: %s %v", msg, kv)
}
func (l idxLog) With(...any) cmtlog.Logger { return l }

func openIdx(t testing.TB, dir string, filterBytes int) *Index {
	t.Helper()
	x, err := Open(dir, filterBytes, idxLog{t})
	if err != nil {
		t.Fatalf("open digest index: %v", err)
	}
	return x
}

func closeIdx(t testing.TB, x *Index) {
	t.Helper()
	if err := x.Close(); err != nil {
		t.Fatalf("close: %v", err)
	}
}

// TestDigestIndexModel saves random heights (empty ones, thousands of
// digests, families sharing their first bytes across several pages, equal
// digests under both algorithms, some saved as FinalizeBlock and Commit do)
// and compares every answer with a map, while runs merge in the background
// and another goroutine looks up, and after reopening with and without the
// filter. Seed 1 lets merges finish after each save (the run count is then
// bounded by the merge policy alone); the others do not wait.
func TestDigestIndexModel(t *testing.T) {
	seeds := []uint64{1, 2, 3}
	if raceEnabled() {
		seeds = []uint64{2} // concurrency is the point there; the seeds differ in data
	}
	for _, seed := range seeds {
		t.Run(fmt.Sprintf("seed=%d", seed), func(t *testing.T) {
			const heights = 60
			m := newIdxModel(seed)
			dir := t.TempDir()
			filterBytes := []int{1 << 16, -1, 1 << 20}[seed%3]
			x := openIdx(t, dir, filterBytes)
			defer func() { _ = x.Close() }()
			rd := startIdxReader(t, x, seed)
			defer rd.close()
			bigShared := int64(3 + m.r.IntN(10))
			settled := seed == 1
			merges := 0
			for h := int64(1); h <= heights; h++ {
				n, alg := 0, ledger.HashAlgorithm(0)
				switch r := m.r.IntN(100); {
				case h == bigShared:
					// Enough keys of one algorithm for the bucketed sort.
					n, alg = 4200, idxSHA2
				case h == bigShared+1:
					// As many, of both algorithms.
					n = 4200
				case r < 15: // an empty height
				case r < 25:
					n = m.r.IntN(8)
				case r < 85:
					n = m.r.IntN(700)
				default:
					n = m.r.IntN(3000)
				}
				entries := m.nextHeight(n, alg, func(add func(ledger.HashAlgorithm, []byte, bool)) {
					if n == 0 && m.r.IntN(2) == 0 {
						return
					}
					if h == bigShared {
						// Four pages of one 8-byte prefix, and more
						// keys sharing the run's 8-byte key prefix.
						for i := 0; i < 400; i++ {
							add(idxSHA2, m.digestWith(m.p8[:]), true)
						}
						for i := 0; i < 200; i++ {
							add(idxSHA2, m.digestWith(m.p7[:]), true)
						}
						return
					}
					if h == bigShared+1 {
						for i := 0; i < 150; i++ {
							add(idxSHA3, m.digestWith(m.p8[:]), true)
						}
					}
					if m.r.IntN(4) == 0 {
						for i, k := 0, m.r.IntN(40); i < k; i++ {
							add(idxSHA2, m.digestWith(m.p8[:]), true)
						}
						for i, k := 0, m.r.IntN(20); i < k; i++ {
							add(idxSHA3, m.digestWith(m.p7[:]), true)
						}
					}
					// Digests saved earlier, now under the other
					// algorithm; and new digests under both at once.
					for i, k := 0, m.r.IntN(20); i < k && len(m.keys) > 0; i++ {
						old := m.keys[m.r.IntN(len(m.keys))]
						add(idxSHA2+idxSHA3-old.alg(), old.digest(), false)
					}
					for i, k := 0, m.r.IntN(10); i < k; i++ {
						d := m.randDigest()
						add(idxSHA2, d, false)
						add(idxSHA3, d, false)
					}
				})
				if m.r.IntN(2) == 0 {
					m.saveMarked(t, x, entries)
				} else {
					m.save(t, x, entries)
				}
				rd.add <- entries
				if settled {
					// Each merge (and the merges it leads to) ends
					// before the next save: the runs are what the
					// merge policy makes of these sizes, whatever the
					// machine's speed.
					if spans := settleIdx(t, x); len(spans) > 40 {
						t.Fatalf("height %d: %d runs %v", h, len(spans), spans)
					}
				}
				if h%12 == 6 {
					// While merges may be under way.
					m.check(t, x, 100, fmt.Sprintf("height %d, unsettled", h))
				}
				if h%12 == 0 {
					settleIdx(t, x)
					m.check(t, x, 300, fmt.Sprintf("height %d", h))
				}
				if h == heights/2 {
					// Reopen halfway, possibly with merges under way.
					rd.mu.Lock()
					merges += idxMerges(x)
					closeIdx(t, x)
					x = openIdx(t, dir, filterBytes)
					rd.x = x
					rd.mu.Unlock()
					m.check(t, x, 300, "reopened halfway")
				}
			}
			t.Logf("%d lookups while saving", rd.close())
			// A height already indexed is not saved again, and a bad entry
			// is refused.
			stale := m.nextHeight(5, 0, nil)
			for i := range stale {
				stale[i].Locator.Height = m.height
			}
			if err := x.Save(batchesOf(stale), m.height); err != nil {
				t.Fatalf("save of an indexed height: %v", err)
			}
			bad := m.nextHeight(3, 0, nil)
			bad[1].Locator.Height = m.height
			if err := x.Save(batchesOf(bad), m.height+1); err == nil {
				t.Fatal("entry of another height saved")
			}
			for _, e := range append(stale, bad...) {
				if _, ok, _ := x.Lookup(e.Algorithm, e.Digest, m.height+10); ok {
					t.Fatalf("%x refused or ignored, found", e.Digest)
				}
			}
			if _, ok, err := x.Lookup(idxSHA2, m.randDigest()[:31], m.height+1); ok || err != nil {
				t.Fatalf("31-byte digest: %v %v", ok, err)
			}
			if _, ok, err := x.Lookup(300, m.randDigest(), m.height+1); ok || err != nil {
				t.Fatalf("algorithm 300: %v %v", ok, err)
			}

			spans := settleIdx(t, x)
			merges += idxMerges(x)
			t.Logf("%d digests, %d heights, %d runs %v, %d merges", len(m.keys), m.height, len(spans), spans, merges)
			if merges == 0 {
				t.Fatal("no merge")
			}
			// Without settling, how many runs remain depends on the
			// machine's speed (see TestDigestIndexMergeBacklog).
			if settled && len(spans) > 40 {
				t.Fatalf("%d runs", len(spans))
			}
			m.check(t, x, -1, "end")
			closeIdx(t, x)
			for _, size := range []int{1 << 16, -1} {
				x = openIdx(t, dir, size)
				if got := settleIdx(t, x); !slices.Equal(got, spans) {
					t.Fatalf("reopened (filter %d): runs %v, want %v", size, got, spans)
				}
				m.check(t, x, 1000, fmt.Sprintf("reopened, filter %d", size))
				closeIdx(t, x)
			}
			// Saving goes on after a reopen.
			x = openIdx(t, dir, filterBytes)
			m.save(t, x, m.nextHeight(500, 0, nil))
			m.check(t, x, 500, "saved after reopen")
		})
	}
}

// idxReader looks up digests already saved, and new ones, while the test
// saves more and runs merge: answers must not change under it.
type idxReader struct {
	mu   sync.RWMutex // the test holds it to reopen x
	x    *Index
	add  chan []ledger.IndexEntry // entries saved
	stop chan struct{}
	done chan struct{}
	n    int
}

func startIdxReader(t *testing.T, x *Index, seed uint64) *idxReader {
	rd := &idxReader{x: x, add: make(chan []ledger.IndexEntry, 100), stop: make(chan struct{}), done: make(chan struct{})}
	go func() {
		defer close(rd.done)
		r := rand.New(rand.NewPCG(seed, 1))
		var saved []ledger.IndexEntry
		var height int64
		absent := make([]byte, ledger.DigestSize)
		for {
			select {
			case <-rd.stop:
				return
			case es := <-rd.add:
				saved = append(saved, es...)
				if len(es) > 0 {
					height = es[0].Locator.Height
				}
				continue
			default:
			}
			if len(saved) == 0 {
				time.Sleep(time.Millisecond)
				continue
			}
			rd.mu.RLock()
			for i := 0; i < 10; i++ {
				e := saved[r.IntN(len(saved))]
				before := e.Locator.Height + 1 + r.Int64N(height+5-e.Locator.Height)
				if loc, ok, err := rd.x.Lookup(e.Algorithm, e.Digest, before); !ok || err != nil || loc != e.Locator {
					t.Errorf("concurrent lookup of %x before %d: %+v %v %v, want %+v", e.Digest, before, loc, ok, err, e.Locator)
				}
				if loc, ok, err := rd.x.Lookup(e.Algorithm, e.Digest, e.Locator.Height); ok || err != nil {
					t.Errorf("concurrent lookup of %x before %d: %+v %v", e.Digest, e.Locator.Height, loc, err)
				}
				for j := 0; j < len(absent); j += 8 {
					binary.BigEndian.PutUint64(absent[j:], r.Uint64())
				}
				if loc, ok, err := rd.x.Lookup(idxSHA2, absent, height+5); ok || err != nil {
					t.Errorf("concurrent lookup of new %x: %+v %v", absent, loc, err)
				}
				rd.n++
			}
			rd.mu.RUnlock()
			if t.Failed() {
				return
			}
			time.Sleep(time.Millisecond)
		}
	}()
	return rd
}

// close stops the reader and returns how many lookups it made.
func (rd *idxReader) close() int {
	select {
	case <-rd.stop:
	default:
		close(rd.stop)
	}
	<-rd.done
	return rd.n
}

// raceEnabled reports a test binary built with -race (five times slower).
func raceEnabled() bool {
	bi, ok := debug.ReadBuildInfo()
	if !ok {
		return false
	}
	for _, s := range bi.Settings {
		if s.Key == "-race" {
			return s.Value == "true"
		}
	}
	return false
}

func idxRunPath(x *Index, lo, hi int64) string { return filepath.Join(x.dir, runName(lo, hi)) }

// TestDigestIndexCrashLeftovers: what a crash can leave behind (temporary
// files, a run saved above the indexed height, runs already merged) is
// removed at open, and the index answers as before.
func TestDigestIndexCrashLeftovers(t *testing.T) {
	dir := t.TempDir()
	m := newIdxModel(7)
	x := openIdx(t, dir, 1<<16)
	copies := map[int64][]byte{}
	last := int64(mergeFanIn + 3) // heights 1..F merge; F+1..F+3 stay
	for h := int64(1); h <= last; h++ {
		m.save(t, x, m.nextHeight(100, 0, func(add func(ledger.HashAlgorithm, []byte, bool)) {
			for i := 0; i < 30; i++ {
				add(idxSHA2, m.digestWith(m.p8[:]), true)
			}
		}))
		if h == 1 || h == 3 {
			// Before any merge: there are fewer than mergeFanIn runs.
			settleIdx(t, x) // written in the background
			b, err := os.ReadFile(idxRunPath(x, h, h))
			if err != nil {
				t.Fatal(err)
			}
			copies[h] = b
		}
		if h == mergeFanIn {
			// The merge of heights 1..F, before F+1 is saved: a merger that
			// starts late (a loaded machine) would take F+1 in too.
			settleIdx(t, x)
		}
	}
	spans := settleIdx(t, x)
	if want := [][2]int64{{1, mergeFanIn}, {mergeFanIn + 1, mergeFanIn + 1}, {mergeFanIn + 2, mergeFanIn + 2}, {last, last}}; !slices.Equal(spans, want) {
		t.Fatalf("runs %v, want %v", spans, want)
	}
	m.check(t, x, -1, "before the crash")
	xdir := x.dir
	closeIdx(t, x)

	// A merge that renamed its run but did not remove its inputs (one of
	// them starting where the merged run starts).
	for h, b := range copies {
		if err := os.WriteFile(filepath.Join(xdir, runName(h, h)), b, 0o600); err != nil {
			t.Fatal(err)
		}
	}
	// A Commit that renamed the last height's run but did not write HEIGHT.
	if err := writeHeight(xdir, last-1); err != nil {
		t.Fatal(err)
	}
	// Temporary files of an unfinished run, merge and HEIGHT.
	for _, name := range []string{runName(last+1, last+1) + ".tmp", runName(mergeFanIn+1, 2*mergeFanIn) + ".tmp", heightFile + ".tmp"} {
		if err := os.WriteFile(filepath.Join(xdir, name), []byte("partial"), 0o600); err != nil {
			t.Fatal(err)
		}
	}

	x = openIdx(t, dir, 1<<16)
	defer func() { _ = x.Close() }()
	if h := x.IndexedHeight(); h != last-1 {
		t.Fatalf("indexed height %d, want %d", h, last-1)
	}
	spans = settleIdx(t, x) // also: no file but the runs and HEIGHT
	if want := [][2]int64{{1, mergeFanIn}, {mergeFanIn + 1, mergeFanIn + 1}, {mergeFanIn + 2, mergeFanIn + 2}}; !slices.Equal(spans, want) {
		t.Fatalf("runs %v, want %v", spans, want)
	}
	// The last height is not indexed any more; the rest is.
	var h11 []ledger.IndexEntry
	for _, k := range m.keys {
		loc := m.locs[k]
		found, ok, err := x.Lookup(k.alg(), k.digest(), 100)
		if err != nil {
			t.Fatal(err)
		}
		if loc.Height == last {
			if ok {
				t.Fatalf("%x of height %d found after its run was dropped", k.digest(), last)
			}
			h11 = append(h11, ledger.IndexEntry{Algorithm: k.alg(), Digest: slices.Clone(k.digest()), Locator: loc})
			continue
		}
		if !ok || found != loc {
			t.Fatalf("%x: %+v %v, want %+v", k.digest(), found, ok, loc)
		}
	}
	if len(h11) != 130 {
		t.Fatalf("%d entries at height %d", len(h11), last)
	}
	// The block is replayed: the last height is saved again.
	if err := x.Save(batchesOf(h11), last); err != nil {
		t.Fatalf("save replayed height %d: %v", last, err)
	}
	m.check(t, x, -1, "after replaying the last height")
	closeIdx(t, x)
	x = openIdx(t, dir, -1)
	m.check(t, x, -1, "reopened")
}

// buildIdx saves heights 1..n of per digests each and closes the index.
func buildIdx(t testing.TB, dir string, n, per int, seed uint64) *idxModel {
	t.Helper()
	m := newIdxModel(seed)
	x := openIdx(t, dir, 1<<16)
	for h := 0; h < n; h++ {
		m.save(t, x, m.nextHeight(per, 0, nil))
	}
	settleIdx(t, x)
	closeIdx(t, x)
	return m
}

// TestDigestIndexDamaged: a damaged run or HEIGHT file is refused at open
// with an error saying so, never a panic or a silently wrong index.
func TestDigestIndexDamaged(t *testing.T) {
	flip := func(name func(d string) string, off func(size int64) int64) func(t *testing.T, d string) {
		return func(t *testing.T, d string) {
			p := name(d)
			b, err := os.ReadFile(p)
			if err != nil {
				t.Fatal(err)
			}
			b[off(int64(len(b)))] ^= 0x40
			if err := os.WriteFile(p, b, 0o600); err != nil {
				t.Fatal(err)
			}
		}
	}
	truncate := func(name func(d string) string, size func(size int64) int64) func(t *testing.T, d string) {
		return func(t *testing.T, d string) {
			p := name(d)
			st, err := os.Stat(p)
			if err != nil {
				t.Fatal(err)
			}
			if err := os.Truncate(p, size(st.Size())); err != nil {
				t.Fatal(err)
			}
		}
	}
	run2 := func(d string) string { return filepath.Join(d, runName(2, 2)) }
	heightPath := func(d string) string { return filepath.Join(d, heightFile) }
	at := func(o int64) func(int64) int64 { return func(int64) int64 { return o } }
	fromEnd := func(o int64) func(int64) int64 { return func(s int64) int64 { return s - o } }
	// rewriteFooter changes run 2's footer and writes its checksum again.
	rewriteFooter := func(change func(f []byte)) func(t *testing.T, d string) {
		return func(t *testing.T, d string) {
			b, err := os.ReadFile(run2(d))
			if err != nil {
				t.Fatal(err)
			}
			f := b[len(b)-footerSize:]
			change(f)
			binary.BigEndian.PutUint32(f[footerSize-4:], crc32.Checksum(f[:footerSize-4], crcTable))
			if err := os.WriteFile(run2(d), b, 0o600); err != nil {
				t.Fatal(err)
			}
		}
	}
	// craft writes a run with a valid footer and checksum.
	craft := func(lo, hi int64, recs ...ledger.IndexEntry) func(t *testing.T, d string) {
		return func(t *testing.T, d string) {
			slices.SortFunc(recs, func(a, b ledger.IndexEntry) int {
				ka, kb := mkIdxKey(a.Algorithm, a.Digest), mkIdxKey(b.Algorithm, b.Digest)
				return bytes.Compare(ka[:], kb[:])
			})
			w, err := newRunWriter(d, lo, hi)
			if err != nil {
				t.Fatal(err)
			}
			rec := make([]byte, recSize)
			for _, e := range recs {
				putRecord(rec, e.Algorithm, e.Digest, e.Locator)
				if err := w.add(rec); err != nil {
					t.Fatal(err)
				}
			}
			r, err := w.finish(lo, hi, true)
			if err != nil {
				t.Fatal(err)
			}
			_ = r.f.Close()
		}
	}
	both := func(fs ...func(t *testing.T, d string)) func(t *testing.T, d string) {
		return func(t *testing.T, d string) {
			for _, f := range fs {
				f(t, d)
			}
		}
	}
	entry := func(h int64, b byte) ledger.IndexEntry {
		d := bytes.Repeat([]byte{b}, ledger.DigestSize)
		return ledger.IndexEntry{Algorithm: idxSHA2, Digest: d, Locator: ledger.Locator{Height: h}}
	}
	swap := func(t *testing.T, d string) {
		b, err := os.ReadFile(run2(d))
		if err != nil {
			t.Fatal(err)
		}
		r0 := slices.Clone(b[:recSize])
		copy(b[:recSize], b[recSize:2*recSize])
		copy(b[recSize:2*recSize], r0)
		if err := os.WriteFile(run2(d), b, 0o600); err != nil {
			t.Fatal(err)
		}
	}

	for _, tc := range []struct {
		name   string
		damage func(t *testing.T, d string)
	}{
		{"record key byte", flip(run2, at(5*recSize+10))},
		{"record height byte", flip(run2, at(7*recSize+recKeySize+7))},
		{"record leaf byte", flip(run2, at(199*recSize+recSize-1))},
		{"records swapped", swap},
		{"truncated by a record", truncate(run2, fromEnd(recSize))},
		{"truncated mid-record", truncate(run2, at(3*recSize+17))},
		{"truncated to the footer's size", truncate(run2, at(footerSize))},
		{"truncated below the footer", truncate(run2, at(footerSize-1))},
		{"empty run file", truncate(run2, at(0))},
		{"footer magic", flip(run2, fromEnd(footerSize))},
		{"footer record count", flip(run2, fromEnd(footerSize-24-7))},
		{"footer records checksum", flip(run2, fromEnd(8))},
		{"footer checksum", flip(run2, fromEnd(1))},
		{"footer names other heights", rewriteFooter(func(f []byte) { binary.BigEndian.PutUint64(f[8:], 1) })},
		{"footer counts other records", rewriteFooter(func(f []byte) { binary.BigEndian.PutUint64(f[24:], 199) })},
		{"records checksum rewritten", rewriteFooter(func(f []byte) { f[32] ^= 1 })},
		{"record outside its run's heights", craft(2, 2, entry(2, 1), entry(3, 2))},
		{"overlapping runs", both(craft(1, 2, entry(1, 1)), craft(2, 3, entry(3, 2)))},
		{"HEIGHT checksum", flip(heightPath, at(10))},
		{"HEIGHT value", flip(heightPath, at(7))},
		{"HEIGHT truncated", truncate(heightPath, at(8))},
		{"HEIGHT empty", truncate(heightPath, at(0))},
		{"HEIGHT too long", truncate(heightPath, at(13))},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			buildIdx(t, dir, 3, 200, 11)
			tc.damage(t, dir)
			x, err := Open(dir, 1<<16, nil)
			if err == nil {
				_ = x.Close()
				t.Fatal("damaged index opened")
			}
			if x != nil {
				t.Fatal("index returned with an error")
			}
			if !strings.Contains(err.Error(), "damaged") {
				t.Fatalf("error %q does not say damaged", err)
			}
		})
	}
	// The same damage above the indexed height is a leftover, not damage.
	t.Run("damaged run above HEIGHT", func(t *testing.T) {
		dir := t.TempDir()
		m := buildIdx(t, dir, 3, 200, 11)
		d := dir
		if err := writeHeight(d, 2); err != nil {
			t.Fatal(err)
		}
		truncate(func(d string) string { return filepath.Join(d, runName(3, 3)) }, at(100))(t, d)
		x := openIdx(t, dir, 1<<16)
		defer func() { _ = x.Close() }()
		var keep []idxKey
		for _, k := range m.keys {
			if m.locs[k].Height <= 2 {
				keep = append(keep, k)
			} else {
				delete(m.locs, k)
			}
		}
		m.keys, m.height = keep, 2
		m.check(t, x, -1, "run 3 dropped")
	})
}

// TestCheckViewRecheck: Lookup answers from the whole index, in a recheck
// as in a first check (a revocation rechecked after a block must still find
// its digest, anchored in any earlier block); NotIndexed, in a recheck,
// rules out what the block just committed does not hold (a batch rechecked
// passed a check of its digests' novelty before it), and never a digest of
// that block; without that block's digests in memory, it asks the filter.
func TestCheckViewRecheck(t *testing.T) {
	dir := t.TempDir()
	m := newIdxModel(5)
	x := openIdx(t, dir, 1<<16)
	defer func() { _ = x.Close() }()
	e1 := m.nextHeight(300, 0, nil)
	m.save(t, x, e1)
	e2 := m.nextHeight(300, 0, nil)
	m.save(t, x, e2)

	lookup := func(v *CheckView, e ledger.IndexEntry) bool {
		t.Helper()
		loc, ok, err := v.Lookup(e.Algorithm, e.Digest)
		if err != nil {
			t.Fatal(err)
		}
		if ok && loc != e.Locator {
			t.Fatalf("%x: %+v, want %+v", e.Digest, loc, e.Locator)
		}
		return ok
	}
	ruledOut := func(v *CheckView, e ledger.IndexEntry) bool {
		t.Helper()
		out := []bool{false}
		v.NotIndexed(e.Algorithm, e.Digest, out)
		return out[0]
	}
	v := x.CheckView(3)
	if !v.haveRecent {
		t.Fatal("no recent digests for height 2")
	}
	absent := m.absent(300)
	for _, recheck := range []bool{true, false} {
		v.SetRecheck(recheck)
		for _, e := range append(slices.Clone(e1), e2...) {
			if !lookup(v, e) {
				t.Fatalf("recheck %v: height-%d digest %x not found", recheck, e.Locator.Height, e.Digest)
			}
		}
		for _, k := range absent {
			if _, ok, _ := v.Lookup(k.alg(), k.digest()); ok {
				t.Fatalf("recheck %v: absent %x found", recheck, k.digest())
			}
		}
		for _, e := range e2 {
			if ruledOut(v, e) {
				t.Fatalf("recheck %v: height-2 digest %x ruled out", recheck, e.Digest)
			}
		}
		if recheck {
			for _, e := range e1 {
				if !ruledOut(v, e) {
					t.Fatalf("recheck: height-1 digest %x not ruled out", e.Digest)
				}
			}
		}
	}
	if _, ok := any(v).(ledger.DigestPrefilter); ok {
		t.Fatal("the mempool's view promises to rule out pending digests")
	}
	// A digest of an earlier block whose key prefix (algorithm and 7 bytes)
	// is one of the last block's is not ruled out by a recheck.
	p := mkIdxKey(e2[0].Algorithm, e2[0].Digest)
	d := m.digestWith(p[1:8])
	e3 := ledger.IndexEntry{Algorithm: e2[0].Algorithm, Digest: d, Locator: ledger.Locator{Height: 3, Leaf: 9}}
	m.save(t, x, []ledger.IndexEntry{e3})
	v = x.CheckView(4)
	v.SetRecheck(true)
	for _, e := range append(slices.Clone(e1), e2...) {
		if !lookup(v, e) {
			t.Fatalf("recheck at height 4: %x not found", e.Digest)
		}
	}
	if !lookup(v, e3) || ruledOut(v, e3) {
		t.Fatal("height-3 digest not found, or ruled out")
	}
	// A view of a height other than the one after the last saved, or
	// after an empty block.
	if v := x.CheckView(3); v.haveRecent {
		t.Fatal("recent digests of height 2 after height 3 was saved")
	}
	m.save(t, x, nil)
	v = x.CheckView(5)
	v.SetRecheck(true)
	if !v.haveRecent {
		t.Fatal("no recent digests after an empty block")
	}
	for _, e := range append(append(slices.Clone(e1), e2...), e3) {
		if !ruledOut(v, e) {
			t.Fatalf("recheck after an empty block: %x not ruled out", e.Digest)
		}
		if !lookup(v, e) {
			t.Fatalf("recheck after an empty block: %x not found", e.Digest)
		}
	}
	// After a restart, nothing is known of the last block: a recheck asks
	// the filter and the index.
	closeIdx(t, x)
	x = openIdx(t, dir, 1<<16)
	v = x.CheckView(5)
	v.SetRecheck(true)
	if v.haveRecent {
		t.Fatal("recent digests after reopening")
	}
	for _, e := range append(append(slices.Clone(e1), e2...), e3) {
		if !lookup(v, e) || ruledOut(v, e) {
			t.Fatalf("recheck after reopening: %x not found, or ruled out", e.Digest)
		}
	}
}

// TestDigestIndexMergeBacklog runs the merge policy (nextMerge) on a
// simulated clock: a block of 10,000 digests a second, merges writing 5
// million records a second (below what a merge does from the page cache),
// a merge asked for again as soon as one ends, as mergeLoop
// does. Merges that end after newer blocks were saved must still cascade:
// the runs below finalClass stay a few dozen at the end, and while one
// merge runs the blocks saved meanwhile add at most its duration's worth;
// the runs of finalClass hold 2^19 to 2^23 records each (2.56 million here:
// sixteen runs of sixteen blocks).
func TestDigestIndexMergeBacklog(t *testing.T) {
	const (
		blocks = 50_000
		per    = 10_000
		rate   = 5e6 // records merged a second
		bound  = 100 // runs below finalClass at any time
		final  = 40  // runs below finalClass at the end
	)
	x := &Index{}
	x.durableAt.Store(blocks) // HEIGHT is not the question here
	var (
		first     int
		in        []*run
		busyUntil float64
		most      int
	)
	start := func(now float64) {
		if first, in = x.nextMerge(); in != nil {
			n := 0
			for _, r := range in {
				n += r.n
			}
			busyUntil = now + float64(n)/rate
		}
	}
	for h := int64(1); h <= blocks; h++ {
		now := float64(h)
		for in != nil && busyUntil < now {
			n := 0
			for _, r := range in {
				n += r.n
			}
			out := &run{lo: in[0].lo, hi: in[len(in)-1].hi, n: n, synced: true}
			x.runs = slices.Replace(x.runs, first, first+len(in), out)
			in = nil
			start(busyUntil)
		}
		x.runs = append(x.runs, &run{lo: h, hi: h, n: per, synced: true})
		if in == nil {
			start(now)
		}
		most = max(most, len(x.runs)-finalRuns(x.runs))
	}
	classes := map[int]int{}
	largest := 0
	for _, r := range x.runs {
		classes[sizeClass(r.n)]++
		largest = max(largest, r.n)
	}
	open, done := len(x.runs)-finalRuns(x.runs), finalRuns(x.runs)
	if most > bound || open > final {
		t.Fatalf("%d runs below the final class after %d blocks (at most %d; by size class %v): merges slower than a block do not cascade", open, blocks, most, classes)
	}
	if done > blocks*per/(1<<19) || largest >= 1<<23 {
		t.Fatalf("%d final runs, the largest of %d records (by size class %v): want 2^19 to 2^23 records each", done, largest, classes)
	}
	t.Logf("%d runs below the final class (at most %d), %d final; by size class %v", open, most, done, classes)
}

func finalRuns(runs []*run) int {
	n := 0
	for _, r := range runs {
		if sizeClass(r.n) >= finalClass {
			n++
		}
	}
	return n
}

// BenchmarkDigestIndexLookup: lookups of absent and present digests in an
// index of 200,000 digests saved in 20 heights (runs merged).
func BenchmarkDigestIndexLookup(b *testing.B) {
	const heights, per = 20, 10_000
	dir := b.TempDir()
	m := newIdxModel(99)
	x := openIdx(b, dir, 1<<20)
	for h := 0; h < heights; h++ {
		m.save(b, x, m.nextHeight(per, 0, nil))
	}
	settleIdx(b, x)
	closeIdx(b, x)
	absent := make([]idxKey, 1<<12) // new digests, as nearly every lookup is
	for i := range absent {
		absent[i] = mkIdxKey(idxSHA2, m.randDigest())
	}
	for _, bc := range []struct {
		name   string
		filter int
		keys   []idxKey
		found  bool
	}{
		{"absent", 1 << 20, absent, false},
		{"absent-nofilter", -1, absent, false},
		{"present", 1 << 20, m.keys, true},
	} {
		b.Run(bc.name, func(b *testing.B) {
			x := openIdx(b, dir, bc.filter)
			defer func() { _ = x.Close() }()
			i := 0
			for b.Loop() {
				k := bc.keys[i%len(bc.keys)]
				i++
				if _, ok, err := x.Lookup(k.alg(), k.digest(), heights+1); ok != bc.found || err != nil {
					b.Fatalf("%x: %v %v", k.digest(), ok, err)
				}
			}
		})
	}
}

// TestMergeRuns merges runs larger than a merge's read buffer (and an empty
// one, and one of a single record) and checks the result against the sorted
// union, then reopens it (footer, checksum, key order).
func TestMergeRuns(t *testing.T) {
	dir := t.TempDir()
	rng := rand.New(rand.NewPCG(3, 4))
	sizes := []int{12_001, 0, 1, 7_000, mergeReadBytes / recSize}
	var want [][recSize]byte
	var in []*run
	for i, n := range sizes {
		recs := make([][recSize]byte, n)
		for j := range recs {
			for k := 0; k < recSize-8; k += 8 {
				binary.BigEndian.PutUint64(recs[j][k:], rng.Uint64())
			}
			binary.BigEndian.PutUint64(recs[j][recKeySize:], uint64(i)) // the run's height
			if j%5 == 0 && j > 0 {
				// Same first 8 bytes as the previous record: the tie is
				// broken by the rest of the key.
				copy(recs[j][:8], recs[j-1][:8])
			}
		}
		r, recs := writeRun(t, dir, int64(i), recs)
		in = append(in, r)
		want = append(want, recs...)
	}
	slices.SortFunc(want, func(a, b [recSize]byte) int { return bytes.Compare(a[:recKeySize], b[:recKeySize]) })
	x := &Index{dir: dir, stop: make(chan struct{})}
	out, err := x.merge(in)
	if err != nil {
		t.Fatal(err)
	}
	_ = out.f.Close()
	r, err := openRun(out.path, 0, int64(len(sizes)-1), nil)
	if err != nil {
		t.Fatalf("reopen: %v", err)
	}
	defer func() { _ = r.f.Close() }()
	if r.n != len(want) {
		t.Fatalf("%d records, want %d", r.n, len(want))
	}
	rd := r.records(4096)
	for i := range want {
		rec, err := rd.next()
		if err != nil || !bytes.Equal(rec, want[i][:]) {
			t.Fatalf("record %d: %x %v, want %x", i, rec, err, want[i])
		}
	}
	if rec, err := rd.next(); rec != nil || err != nil {
		t.Fatalf("after the last: %x %v", rec, err)
	}
}

// writeRun sorts recs by key, drops repeated keys, and writes them as the
// run of height h; it returns the run and the records written.
func writeRun(tb testing.TB, dir string, h int64, recs [][recSize]byte) (*run, [][recSize]byte) {
	tb.Helper()
	slices.SortFunc(recs, func(a, b [recSize]byte) int { return bytes.Compare(a[:recKeySize], b[:recKeySize]) })
	recs = slices.CompactFunc(recs, func(a, b [recSize]byte) bool { return bytes.Equal(a[:recKeySize], b[:recKeySize]) })
	w, err := newRunWriter(dir, h, h)
	if err != nil {
		tb.Fatal(err)
	}
	for j := range recs {
		if err := w.add(recs[j][:]); err != nil {
			tb.Fatal(err)
		}
	}
	r, err := w.finish(h, h, true)
	if err != nil {
		tb.Fatal(err)
	}
	return r, recs
}

// TestNextMergeFinalClass: runs of finalClass are never merged, and the
// runs newer than them still are; runs held in memory (not yet synced), and
// runs above HEIGHT, are merged once written and named by HEIGHT.
func TestNextMergeFinalClass(t *testing.T) {
	for _, tc := range []struct {
		name      string
		sizes     []int
		wantFirst int
		wantLen   int
		inMemory  int // the newest runs not yet written
		above     int // the newest runs above HEIGHT
	}{
		{"a run in memory waits", slices.Repeat([]int{1000}, mergeFanIn), 0, 0, 1, 1},
		{"the written runs before it merge", slices.Repeat([]int{1000}, mergeFanIn+2), 0, mergeFanIn, 2, 2},
		{"a run above HEIGHT waits", slices.Repeat([]int{1000}, mergeFanIn), 0, 0, 0, 1},
		{"the runs below HEIGHT merge", slices.Repeat([]int{1000}, mergeFanIn+1), 0, mergeFanIn, 0, 1},
		{"final runs stay", slices.Repeat([]int{1 << 20}, 2*mergeFanIn), 0, 0, 0, 0},
		{"largest merged class", slices.Repeat([]int{1<<19 - 1}, mergeFanIn), 0, mergeFanIn, 0, 0},
		{"newer runs merge", append(slices.Repeat([]int{1 << 22}, 3), slices.Repeat([]int{1000}, mergeFanIn)...), 3, mergeFanIn, 0, 0},
		{"window stops at a final run", append(append(slices.Repeat([]int{1000}, 5), 1<<22), slices.Repeat([]int{1000}, mergeFanIn-1)...), 0, 0, 0, 0},
	} {
		t.Run(tc.name, func(t *testing.T) {
			x := &Index{}
			x.durableAt.Store(int64(len(tc.sizes) - tc.above))
			for i, n := range tc.sizes {
				x.runs = append(x.runs, &run{lo: int64(i + 1), hi: int64(i + 1), n: n, synced: i < len(tc.sizes)-tc.inMemory})
			}
			first, in := x.nextMerge()
			if len(in) != tc.wantLen || (in != nil && first != tc.wantFirst) {
				t.Fatalf("nextMerge: first %d, %d runs; want %d, %d", first, len(in), tc.wantFirst, tc.wantLen)
			}
		})
	}
}

// BenchmarkMerge merges 16 runs of 100,000 random records each (78 MB), the
// digest index's background work: every record is merged once per size
// class. Unpaced here; nodes pace merges' writes (mergeBytesPerSecond).
func BenchmarkMerge(b *testing.B) {
	dir := b.TempDir()
	rng := rand.New(rand.NewPCG(1, 2))
	const runs, per = mergeFanIn, 100_000
	in := make([]*run, runs)
	for i := range in {
		keys := make([][recSize]byte, per)
		for j := range keys {
			for k := 1; k < recKeySize; k += 8 {
				binary.BigEndian.PutUint64(keys[j][k:], rng.Uint64())
			}
		}
		in[i], _ = writeRun(b, dir, int64(i), keys)
	}
	x := &Index{dir: dir, stop: make(chan struct{})}
	x.mergeOnce.Do(func() {
		x.mergeRate, x.mergeCtx = rate.NewLimiter(rate.Inf, 0), context.Background()
	})
	b.SetBytes(runs * per * recSize)
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		out, err := x.merge(in)
		if err != nil {
			b.Fatal(err)
		}
		if out.n != runs*per {
			b.Fatalf("%d records, want %d", out.n, runs*per)
		}
		_ = out.f.Close()
		_ = os.Remove(out.path)
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*runs*per), "ns/record")
}
