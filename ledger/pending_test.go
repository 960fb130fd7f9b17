package ledger

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"

	notaryv1 "github.com/gobtechlab/notary/proto/notary/v1"
)

const (
	pSHA2 = notaryv1.HashAlgorithm_HASH_ALGORITHM_SHA2_256
	pSHA3 = notaryv1.HashAlgorithm_HASH_ALGORITHM_SHA3_256
)

// pd returns a digest whose first 8 bytes are head and whose bytes 8..15
// are tail (the rest zero): digests with equal heads share their prefix.
func pd(head, tail uint64) []byte {
	d := make([]byte, DigestSize)
	binary.BigEndian.PutUint64(d, head)
	binary.BigEndian.PutUint64(d[8:], tail)
	return d
}

// pdLast is pd(head, 0) with its last byte set: it differs from its
// siblings only at the end.
func pdLast(head uint64, last byte) []byte {
	d := pd(head, 0)
	d[DigestSize-1] = last
	return d
}

func cat32(ds ...[]byte) []byte { return bytes.Join(ds, nil) }

// refDuplicate is findDuplicate's specification: the first i whose digest
// equals an earlier one, and the first j it equals.
func refDuplicate(digests []byte, n int) (int, int, bool) {
	for i := 0; i < n; i++ {
		for j := 0; j < i; j++ {
			if bytes.Equal(digestAt(digests, i), digestAt(digests, j)) {
				return j, i, true
			}
		}
	}
	return 0, 0, false
}

// sharedHeads returns n distinct digests with the same first 8 bytes.
func sharedHeads(head uint64, n int) [][]byte {
	out := make([][]byte, n)
	for i := range out {
		out[i] = pd(head, uint64(i)*0x0101)
	}
	return out
}

func TestFindDuplicate(t *testing.T) {
	a, b, c := pd(1, 1), pd(2, 2), pd(3, 3)
	same := sharedHeads(0xdeadbeefcafef00d, 300)
	lasts := [][]byte{pdLast(7, 1), pdLast(7, 2), pdLast(7, 3), pdLast(7, 4)}
	withDup := func(ds [][]byte, from, at int) [][]byte {
		out := slices.Clone(ds)
		return slices.Insert(out, at, ds[from])
	}
	r := rand.New(rand.NewPCG(1, 2))
	random := make([][]byte, 2000)
	for i := range random {
		random[i] = pd(r.Uint64(), r.Uint64())
	}
	for _, tc := range []struct {
		name string
		ds   [][]byte
		j, i int // the first repeat, if dup
		dup  bool
	}{
		{name: "one", ds: [][]byte{a}},
		{name: "distinct", ds: [][]byte{a, b, c}},
		{name: "2000 random", ds: random},
		{name: "300 sharing 8 bytes", ds: same},
		{name: "sharing all but the last byte", ds: lasts},
		{name: "two equal", ds: [][]byte{a, a}, j: 0, i: 1, dup: true},
		{name: "three equal", ds: [][]byte{a, a, a}, j: 0, i: 1, dup: true},
		{name: "repeat at the end", ds: [][]byte{a, b, c, a}, j: 0, i: 3, dup: true},
		{name: "first repeat, not first digest repeated", ds: [][]byte{a, b, b, a}, j: 1, i: 2, dup: true},
		{name: "two repeats", ds: [][]byte{a, b, c, b, a}, j: 1, i: 3, dup: true},
		{name: "repeat among shared 8 bytes", ds: withDup(same, 57, 150), j: 57, i: 150, dup: true},
		{name: "repeat of the last of shared 8 bytes", ds: withDup(same, 299, 300), j: 299, i: 300, dup: true},
		{name: "repeat after a prefix clash", ds: [][]byte{lasts[0], lasts[1], a, c, a}, j: 2, i: 4, dup: true},
		{name: "repeat among digests sharing all but the last byte", ds: [][]byte{lasts[0], lasts[1], lasts[2], lasts[1]}, j: 1, i: 3, dup: true},
		{name: "repeat among random", ds: withDup(random, 1999, 3), j: 3, i: 2000, dup: true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ds := cat32(tc.ds...)
			n := len(tc.ds)
			j, i, dup := findDuplicate(ds, n)
			if dup != tc.dup || (dup && (j != tc.j || i != tc.i)) {
				t.Fatalf("findDuplicate = %d, %d, %v; want %d, %d, %v", j, i, dup, tc.j, tc.i, tc.dup)
			}
			if rj, ri, rdup := refDuplicate(ds, n); rdup != dup || rj != j || ri != i {
				t.Fatalf("reference: %d, %d, %v", rj, ri, rdup)
			}
			got, err := checkDigestList(ds, 0)
			switch {
			case !tc.dup && (err != nil || got != n):
				t.Fatalf("checkDigestList = %d, %v; want %d", got, err, n)
			case tc.dup && !errors.Is(err, ErrDuplicateInBatch):
				t.Fatalf("checkDigestList = %d, %v; want ErrDuplicateInBatch", got, err)
			case tc.dup && !strings.Contains(err.Error(), fmt.Sprintf("%x at positions %d and %d", tc.ds[tc.i], tc.j, tc.i)):
				t.Fatalf("error %q does not name the digest and positions %d and %d", err, tc.j, tc.i)
			}
		})
	}
}

// TestFindDuplicateRandom compares findDuplicate with its specification on
// lists drawn from a few prefixes and tails, so that prefix clashes,
// duplicates and clean lists all occur.
func TestFindDuplicateRandom(t *testing.T) {
	r := rand.New(rand.NewPCG(42, 7))
	counts := map[string]int{}
	for iter := 0; iter < 3000; iter++ {
		heads := 1 + r.IntN(40)
		tails := 1 + r.IntN(40)
		n := 1 + r.IntN(60)
		var ds []byte
		for k := 0; k < n; k++ {
			ds = append(ds, pd(uint64(r.IntN(heads))*0x0123456789abcdef, uint64(r.IntN(tails)))...)
		}
		j, i, dup := findDuplicate(ds, n)
		rj, ri, rdup := refDuplicate(ds, n)
		if dup != rdup || j != rj || i != ri {
			t.Fatalf("iteration %d: findDuplicate = %d, %d, %v; want %d, %d, %v", iter, j, i, dup, rj, ri, rdup)
		}
		_, err := checkDigestList(ds, 0)
		if dup != errors.Is(err, ErrDuplicateInBatch) || (!dup && err != nil) {
			t.Fatalf("iteration %d: checkDigestList: %v (duplicate %v)", iter, err, dup)
		}
		counts[fmt.Sprint(dup)]++
	}
	if counts["true"] < 100 || counts["false"] < 100 {
		t.Fatalf("unbalanced cases: %v", counts)
	}
}

// TestCheckDigestsList: checkDigestList's errors, in their order.
func TestCheckDigestsList(t *testing.T) {
	ten := digests("ten", 10)
	dup := cat32(digestAt(ten, 0), digestAt(ten, 1), digestAt(ten, 0))
	for _, tc := range []struct {
		name string
		ds   []byte
		max  uint32
		n    int
		err  *Error
	}{
		{name: "nil", ds: nil, err: ErrEmptyBatch},
		{name: "empty", ds: []byte{}, max: 5, err: ErrEmptyBatch},
		{name: "short", ds: ten[:31], err: ErrBadDigestLength},
		{name: "long", ds: ten[:33], err: ErrBadDigestLength},
		{name: "not whole", ds: ten[:DigestSize*3-1], max: 1, err: ErrBadDigestLength},
		{name: "one", ds: ten[:DigestSize], max: 1, n: 1},
		{name: "unbounded", ds: ten, max: 0, n: 10},
		{name: "at the bound", ds: ten, max: 10, n: 10},
		{name: "over the bound", ds: ten, max: 9, err: ErrBatchTooLarge},
		{name: "duplicate", ds: dup, err: ErrDuplicateInBatch},
		{name: "duplicate over the bound: the bound first", ds: dup, max: 2, err: ErrBatchTooLarge},
	} {
		t.Run(tc.name, func(t *testing.T) {
			n, err := checkDigestList(tc.ds, tc.max)
			if tc.err == nil {
				if err != nil || n != tc.n {
					t.Fatalf("got %d, %v; want %d", n, err, tc.n)
				}
				return
			}
			if !errors.Is(err, tc.err) || n != 0 {
				t.Fatalf("got %d, %v; want %v", n, err, tc.err)
			}
		})
	}
}

// TestCheckDigestsMemo: a transaction's digest list is searched for
// duplicates once; the count bound, which depends on the params in force,
// is applied every time.
func TestCheckDigestsMemo(t *testing.T) {
	ds := digests("memo", 1000)
	tx := &Tx{}
	if n, err := tx.checkDigests(ds, 0); err != nil || n != 1000 {
		t.Fatalf("first check: %d, %v", n, err)
	}
	if !tx.digestsOK.Load() {
		t.Fatal("digestsOK not set after a good list")
	}
	// Checked again without searching: a list with a duplicate, which a
	// search refuses, passes the memoized check (and the transaction's
	// own list never changes).
	withDup := append(slices.Clone(ds), ds[:DigestSize]...)
	if _, err := checkDigestList(withDup, 0); !errors.Is(err, ErrDuplicateInBatch) {
		t.Fatalf("search of a list with a duplicate: %v", err)
	}
	if a := testing.AllocsPerRun(20, func() {
		if _, err := tx.checkDigests(withDup, 1001); err != nil {
			t.Fatal(err)
		}
	}); a != 0 {
		t.Fatalf("memoized check allocates %v times", a)
	}
	for _, tc := range []struct {
		max uint32
		n   int
		err *Error
	}{{0, 1000, nil}, {1000, 1000, nil}, {5000, 1000, nil}, {999, 0, ErrBatchTooLarge}, {1, 0, ErrBatchTooLarge}} {
		n, err := tx.checkDigests(ds, tc.max)
		if tc.err == nil && (err != nil || n != tc.n) || tc.err != nil && !errors.Is(err, tc.err) {
			t.Fatalf("max %d: %d, %v; want %d, %v", tc.max, n, err, tc.n, tc.err)
		}
	}
	if !tx.digestsOK.Load() {
		t.Fatal("a refused bound cleared the memo")
	}

	// A bad list is not memoized: every check refuses it.
	bad := &Tx{}
	dup := cat32(ds[:DigestSize*3], ds[DigestSize:DigestSize*2])
	for k := 0; k < 2; k++ {
		if _, err := bad.checkDigests(dup, 0); !errors.Is(err, ErrDuplicateInBatch) {
			t.Fatalf("check %d: %v", k, err)
		}
		if bad.digestsOK.Load() {
			t.Fatal("digestsOK set for a list with a duplicate")
		}
	}
	over := &Tx{}
	if _, err := over.checkDigests(ds, 10); !errors.Is(err, ErrBatchTooLarge) || over.digestsOK.Load() {
		t.Fatalf("over the bound: %v, memo %v", err, over.digestsOK.Load())
	}
	if _, err := over.checkDigests(ds, 0); err != nil || !over.digestsOK.Load() {
		t.Fatalf("then unbounded: %v, memo %v", err, over.digestsOK.Load())
	}
}

// TestCheckDigestsMemoInBlock: a transaction that passed ValidateBasic (which
// sets the memo, without a bound) is still refused by the params' bound when
// it runs, in a block or in the mempool.
func TestCheckDigestsMemoInBlock(t *testing.T) {
	g := testGenesis()
	g.Params.MaxDigestsPerBatch = 5
	f := newFixture(t, g)
	aeat := agencyKey("aeat")
	for _, mode := range []Mode{ModeCheck, ModeDeliver} {
		tx, err := DecodeTx(testChain, f.sign(aeat, anchorBody("aeat", digests(fmt.Sprint("big", mode), 6))), 0)
		if err != nil {
			t.Fatal(err)
		}
		if err := ValidateBasic(tx); err != nil {
			t.Fatalf("ValidateBasic: %v", err)
		}
		if !tx.digestsOK.Load() {
			t.Fatal("ValidateBasic did not memoize the digest check")
		}
		for k := 0; k < 2; k++ {
			e, err := f.l.NewExec(f.st, f.idx, BlockInfo{Height: f.height, Time: f.time}, mode)
			if err != nil {
				t.Fatal(err)
			}
			out, err := e.Run(0, tx)
			if err != nil {
				t.Fatal(err)
			}
			mustFail(t, out, ErrBatchTooLarge)
		}
	}
	// Within the bound, the memoized transaction anchors.
	tx, err := DecodeTx(testChain, f.sign(aeat, anchorBody("aeat", digests("small", 5))), 0)
	if err != nil {
		t.Fatal(err)
	}
	if err := ValidateBasic(tx); err != nil || !tx.digestsOK.Load() {
		t.Fatalf("ValidateBasic: %v", err)
	}
	e, err := f.l.NewExec(f.st, f.idx, BlockInfo{Height: f.height, Time: f.time}, ModeDeliver)
	if err != nil {
		t.Fatal(err)
	}
	out, err := e.Run(0, tx)
	if err != nil {
		t.Fatal(err)
	}
	mustOK(t, out)
	if got := len(Entries(e.NewBatches())); got != 5 {
		t.Fatalf("%d new digests", got)
	}
	if got := e.Pending(); got != 5 {
		t.Fatalf("Pending %d, want 5", got)
	}
}

// addEntries adds each entry as a batch of its own.
func addEntries(p *pendingDigests, es []IndexEntry) {
	for _, e := range es {
		p.add(IndexBatch{Algorithm: e.Algorithm, Digests: e.Digest, Locator: e.Locator})
	}
}

type pendingCase struct {
	alg HashAlgorithm
	d   []byte
}

func (c pendingCase) String() string { return fmt.Sprintf("%d/%x", c.alg, c.d) }

func TestPendingDigests(t *testing.T) {
	loc := func(i int) Locator { return Locator{Height: 7, TxIndex: uint32(i / 3), Leaf: uint32(i)} }
	head := uint64(0x00a1b2c3d4e5f607)
	// The prefix XORs the algorithm into the first byte: a SHA2 digest
	// starting 0x00 and a SHA3 digest starting 0x03 with the same next 7
	// bytes have the same map key.
	xorTwin := pd(head^uint64(pSHA2^pSHA3)<<56, 5)
	chunks := [][]pendingCase{
		{{pSHA2, pd(head, 1)}, {pSHA2, pd(1, 1)}},
		{{pSHA2, pd(head, 2)}},                       // second with head: both moved to shared
		{{pSHA2, pd(head, 3)}, {pSHA2, pd(head, 4)}}, // more in shared
		{{pSHA3, pd(1, 1)}, {pSHA2, pd(2, 9)}},       // the same digest under the other algorithm
		{{pSHA3, xorTwin}, {pSHA2, pd(head, 5)}},     // XOR clash across algorithms
		{},
		{{pSHA3, pd(head, 1)}, {pSHA3, pd(2^uint64(pSHA2^pSHA3)<<56, 9)}}, // XOR clash with a single entry
		{{pSHA2, pdLast(3, 1)}, {pSHA2, pdLast(3, 2)}, {pSHA3, pdLast(3, 1)}},
	}
	absent := []pendingCase{
		{pSHA2, pd(head, 6)}, // shares the clashing prefix
		{pSHA3, pd(head, 2)}, // the other algorithm of a shared one
		{pSHA2, pd(1, 2)},    // shares a single entry's prefix
		{pSHA3, pd(2, 9)},    // the other algorithm of a single entry
		{pSHA2, xorTwin},     // the XOR twin under the algorithm it was not added under
		{pSHA3, pd(head^uint64(pSHA2^pSHA3)<<56, 6)},
		{pSHA2, pdLast(3, 3)},
		{pSHA3, pdLast(3, 2)},
		{pSHA2, pd(0, 0)},
		{notaryv1.HashAlgorithm_HASH_ALGORITHM_UNSPECIFIED, pd(1, 1)},
	}
	var p pendingDigests
	p.reserve(4)
	want := map[digestKey]Locator{}
	var order []IndexEntry
	i := 0
	for ci, chunk := range chunks {
		var es []IndexEntry
		for _, c := range chunk {
			es = append(es, IndexEntry{Algorithm: c.alg, Digest: c.d, Locator: loc(i)})
			i++
		}
		// Not yet added: absent.
		for _, e := range es {
			if l, ok := p.lookup(e.Algorithm, e.Digest); ok {
				t.Fatalf("chunk %d: %d/%x found before it was added: %+v", ci, e.Algorithm, e.Digest, l)
			}
		}
		addEntries(&p, es)
		order = append(order, es...)
		for _, e := range es {
			want[makeDigestKey(e.Algorithm, e.Digest)] = e.Locator
		}
		for k, l := range want {
			if got, ok := p.lookup(HashAlgorithm(k[0]), k[1:]); !ok || got != l {
				t.Fatalf("after chunk %d: %d/%x: %+v %v, want %+v", ci, k[0], k[1:], got, ok, l)
			}
		}
	}
	for _, c := range absent {
		if l, ok := p.lookup(c.alg, c.d); ok {
			t.Fatalf("%v never added, found: %+v", c, l)
		}
	}
	if got := Entries(p.chunks); !slices.EqualFunc(got, order, func(a, b IndexEntry) bool {
		return a.Algorithm == b.Algorithm && bytes.Equal(a.Digest, b.Digest) && a.Locator == b.Locator
	}) {
		t.Fatalf("entries %v, want %v", got, order)
	}
	var empty pendingDigests
	if _, ok := empty.lookup(pSHA2, pd(1, 1)); ok {
		t.Fatal("found in an empty set")
	}
	empty.add(IndexBatch{})
	if len(empty.chunks) != 0 {
		t.Fatal("entries of an empty set")
	}
}

// TestPendingDigestsRandom compares pendingDigests with a map, on digests
// drawn from a few prefixes so that clashes are common.
func TestPendingDigestsRandom(t *testing.T) {
	for _, seed := range []uint64{1, 2, 3, 4} {
		t.Run(fmt.Sprint(seed), func(t *testing.T) {
			r := rand.New(rand.NewPCG(seed, 99))
			heads := make([]uint64, 1+r.IntN(200))
			for i := range heads {
				heads[i] = r.Uint64()
				if i%5 == 1 {
					// The XOR twin of an earlier head.
					heads[i] = heads[i-1] ^ uint64(pSHA2^pSHA3)<<56
				}
			}
			digest := func() (HashAlgorithm, []byte) {
				alg := pSHA2
				if r.IntN(2) == 0 {
					alg = pSHA3
				}
				return alg, pd(heads[r.IntN(len(heads))], uint64(r.IntN(30)))
			}
			var p pendingDigests
			p.reserve(r.IntN(1000))
			model := map[digestKey]Locator{}
			var order []IndexEntry
			for tx := 0; tx < 60; tx++ {
				var es []IndexEntry
				seen := map[digestKey]bool{}
				for k, n := 0, r.IntN(80); k < n; k++ {
					alg, d := digest()
					key := makeDigestKey(alg, d)
					if _, ok := model[key]; ok || seen[key] {
						continue // a digest is anchored once
					}
					seen[key] = true
					es = append(es, IndexEntry{Algorithm: alg, Digest: d, Locator: Locator{Height: 3, TxIndex: uint32(tx), Leaf: uint32(len(es))}})
				}
				addEntries(&p, es)
				order = append(order, es...)
				for _, e := range es {
					model[makeDigestKey(e.Algorithm, e.Digest)] = e.Locator
				}
				for k := 0; k < 200; k++ {
					alg, d := digest()
					want, wok := model[makeDigestKey(alg, d)]
					got, ok := p.lookup(alg, d)
					if ok != wok || got != want {
						t.Fatalf("tx %d: %d/%x: %+v %v, want %+v %v", tx, alg, d, got, ok, want, wok)
					}
				}
			}
			for k, want := range model {
				if got, ok := p.lookup(HashAlgorithm(k[0]), k[1:]); !ok || got != want {
					t.Fatalf("%x: %+v %v, want %+v", k, got, ok, want)
				}
			}
			if got := Entries(p.chunks); len(got) != len(order) {
				t.Fatalf("%d entries, want %d", len(got), len(order))
			}
			if len(model) < 1000 {
				t.Fatalf("only %d digests", len(model))
			}
		})
	}
}

// equalPrefixes is hasEqualPrefix for a list of values; it may reorder ps.
func equalPrefixes(ps []uint64) bool {
	t := newPrefixTable(len(ps))
	defer t.release()
	for _, p := range ps {
		dup, crowded := t.add(p)
		if crowded {
			return equalSorted(ps)
		}
		if dup {
			return true
		}
	}
	return false
}

// TestEqualPrefixes compares equalPrefixes and hasEqualPrefix with a sort of
// the whole list: uniform values, with and without one repeated value,
// values sharing their top bits, values that differ only in their top
// bits, values that differ only in their low bits (zero among them), and
// values made to share one slot of the search's table, which it then sorts.
func TestEqualPrefixes(t *testing.T) {
	r := rand.New(rand.NewPCG(8, 34))
	ref := func(ps []uint64) bool {
		s := slices.Clone(ps)
		slices.Sort(s)
		return len(slices.Compact(s)) != len(ps)
	}
	// inv * prefixMul = 1 (mod 2^64): the values inv*(base+i) hash to
	// base+i, the same top bits for every i.
	inv := uint64(prefixMul)
	for k := 0; k < 6; k++ {
		inv *= 2 - prefixMul*inv
	}
	if inv*prefixMul != 1 {
		t.Fatal("no inverse")
	}
	base := r.Uint64() &^ (1<<40 - 1)
	for iter := 0; iter < 300; iter++ {
		n := 1 + r.IntN(20000)
		if iter%10 == 0 {
			n = 1 + r.IntN(2*smallSearch)
		}
		ps := make([]uint64, n)
		for i := range ps {
			switch iter % 6 {
			case 0, 1:
				ps[i] = r.Uint64()
			case 2:
				ps[i] = 0xabcd<<48 | r.Uint64()>>16 // top bits shared
			case 3:
				ps[i] = r.Uint64() &^ (1<<50 - 1) // top bits only: many equal
			case 4:
				ps[i] = r.Uint64() & (1<<16 - 1) // low bits only: many equal
			case 5:
				ps[i] = inv * (base + uint64(i)) // one slot
			}
		}
		if iter%6 == 1 || iter%12 == 5 && n > 1 {
			ps[r.IntN(n)] = ps[r.IntN(n)]
		}
		want := ref(ps)
		if got := equalPrefixes(slices.Clone(ps)); got != want {
			t.Fatalf("iteration %d (n %d): equalPrefixes = %v, want %v", iter, n, got, want)
		}
		list := make([]byte, 0, n*CodeKeySize)
		for _, p := range ps {
			list = binary.BigEndian.AppendUint64(list, p)
			list = binary.BigEndian.AppendUint64(list, uint64(iter))
		}
		if got := hasEqualPrefix(list, CodeKeySize, n); got != want {
			t.Fatalf("iteration %d (n %d): hasEqualPrefix = %v, want %v", iter, n, got, want)
		}
	}
}

// BenchmarkFindDuplicate is the duplicate search of a full batch of 10,000
// distinct digests, which each node does once per transaction.
func BenchmarkFindDuplicate(b *testing.B) {
	r := rand.New(rand.NewPCG(1, 2))
	const n = 10000
	ds := make([]byte, n*DigestSize)
	for i := range ds {
		ds[i] = byte(r.Uint32())
	}
	b.SetBytes(int64(len(ds)))
	for b.Loop() {
		if _, _, dup := findDuplicate(ds, n); dup {
			b.Fatal("duplicate")
		}
	}
}
