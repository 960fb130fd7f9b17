package digestindex

import (
	"crypto/sha256"
	"encoding/binary"
	"runtime"
	"testing"

	"github.com/gobtechlab/notary/ledger"
	notaryv1 "github.com/gobtechlab/notary/proto/notary/v1"
)

func filterDigest(tag byte, i int) []byte {
	var b [9]byte
	b[0] = tag
	binary.BigEndian.PutUint64(b[1:], uint64(i))
	d := sha256.Sum256(b[:])
	return d[:]
}

// TestDigestFilter: no false negatives, few false positives, and the
// algorithm is part of the key.
func TestDigestFilter(t *testing.T) {
	const n = 100_000
	f := newDigestFilter(n * 10 / 8) // 10 bits per key
	for i := 0; i < n; i++ {
		f.add(notaryv1.HashAlgorithm_HASH_ALGORITHM_SHA2_256, filterDigest('a', i))
	}
	for i := 0; i < n; i++ {
		if !f.mayContain(notaryv1.HashAlgorithm_HASH_ALGORITHM_SHA2_256, filterDigest('a', i)) {
			t.Fatalf("false negative for digest %d", i)
		}
	}
	fp := 0
	for i := 0; i < n; i++ {
		if f.mayContain(notaryv1.HashAlgorithm_HASH_ALGORITHM_SHA2_256, filterDigest('b', i)) {
			fp++
		}
	}
	if rate := float64(fp) / n; rate > 0.03 {
		t.Fatalf("false-positive rate %.4f at 10 bits per key", rate)
	}
	other := 0
	for i := 0; i < 1000; i++ {
		if f.mayContain(notaryv1.HashAlgorithm_HASH_ALGORITHM_SHA3_256, filterDigest('a', i)) {
			other++
		}
	}
	if other > 100 {
		t.Fatalf("%d of 1000 digests found under the other algorithm", other)
	}
	if newDigestFilter(63) != nil {
		t.Fatal("a filter smaller than one block")
	}
}

// TestDigestFilterCapacity: filled to its capacity, the filter lets through
// at most 0.01 % of absent digests (each costs a page read per run).
func TestDigestFilterCapacity(t *testing.T) {
	f := newDigestFilter(256 << 10)
	n := f.capacity()
	if n != 256<<10*8/filterBitsPerKey {
		t.Fatalf("capacity %d", n)
	}
	for i := 0; i < n; i++ {
		f.add(notaryv1.HashAlgorithm_HASH_ALGORITHM_SHA2_256, filterDigest('a', i))
	}
	fp := 0
	const probes = 200_000
	for i := 0; i < probes; i++ {
		if f.mayContain(notaryv1.HashAlgorithm_HASH_ALGORITHM_SHA2_256, filterDigest('b', i)) {
			fp++
		}
	}
	if rate := float64(fp) / probes; rate > 0.0001 {
		t.Fatalf("false-positive rate %.5f at capacity", rate)
	}
	t.Logf("false positives at capacity: %d of %d", fp, probes)
}

// TestDigestIndexFilter: lookups agree with and without the filter, also
// after a reopen that rebuilds the filter from the index.
func TestDigestIndexFilter(t *testing.T) {
	dir := t.TempDir()
	x, err := Open(dir, 1<<16, nil)
	if err != nil {
		t.Fatal(err)
	}
	var entries []ledger.IndexEntry
	for i := 0; i < 500; i++ {
		entries = append(entries, ledger.IndexEntry{Algorithm: notaryv1.HashAlgorithm_HASH_ALGORITHM_SHA2_256, Digest: filterDigest('a', i),
			Locator: ledger.Locator{Height: 5, TxIndex: 1, Leaf: uint32(i)}})
	}
	if err := x.Save(batchesOf(entries), 5); err != nil {
		t.Fatal(err)
	}
	check := func(x *Index, what string) {
		t.Helper()
		for i := 0; i < 500; i++ {
			loc, ok, err := x.Lookup(notaryv1.HashAlgorithm_HASH_ALGORITHM_SHA2_256, filterDigest('a', i), 6)
			if err != nil || !ok || loc.Leaf != uint32(i) {
				t.Fatalf("%s: digest %d: %v %v %v", what, i, loc, ok, err)
			}
			if _, ok, _ := x.Lookup(notaryv1.HashAlgorithm_HASH_ALGORITHM_SHA2_256, filterDigest('a', i), 5); ok {
				t.Fatalf("%s: digest %d visible below its height", what, i)
			}
			if _, ok, _ := x.Lookup(notaryv1.HashAlgorithm_HASH_ALGORITHM_SHA2_256, filterDigest('b', i), 6); ok {
				t.Fatalf("%s: digest never saved found", what)
			}
		}
	}
	check(x, "filter")
	if err := x.Close(); err != nil {
		t.Fatal(err)
	}
	for _, size := range []int{1 << 16, -1} {
		y, err := Open(dir, size, nil)
		if err != nil {
			t.Fatal(err)
		}
		if (y.filter == nil) != (size < 0) {
			t.Fatalf("size %d: filter %v", size, y.filter != nil)
		}
		check(y, "reopened")
		if err := y.Close(); err != nil {
			t.Fatal(err)
		}
	}
}

// TestDigestFilterReleased: filters outside the Go heap are released when
// garbage, and one in use is not (it would fault).
func TestDigestFilterReleased(t *testing.T) {
	keep := newDigestFilter(1 << 20)
	for i := 0; i < 64; i++ {
		f := newDigestFilter(16 << 20)
		f.add(notaryv1.HashAlgorithm_HASH_ALGORITHM_SHA2_256, filterDigest('a', i))
		keep.add(notaryv1.HashAlgorithm_HASH_ALGORITHM_SHA2_256, filterDigest('k', i))
		if !f.mayContain(notaryv1.HashAlgorithm_HASH_ALGORITHM_SHA2_256, filterDigest('a', i)) {
			t.Fatal("false negative")
		}
		runtime.GC()
	}
	for i := 0; i < 64; i++ {
		if !keep.mayContain(notaryv1.HashAlgorithm_HASH_ALGORITHM_SHA2_256, filterDigest('k', i)) {
			t.Fatalf("false negative for digest %d after collections", i)
		}
	}
}

// TestDigestFilterCodeKeys: the index digests of code keys (16 bytes of
// hash, then zeros), in a filter of digests and keys, get as few false
// positives as digests.
func TestDigestFilterCodeKeys(t *testing.T) {
	const n, queries = 50_000, 200_000
	sha2 := notaryv1.HashAlgorithm_HASH_ALGORITHM_SHA2_256
	keyDigest := func(tag byte, i int) []byte {
		return ledger.CodeKeyIndexDigest(filterDigest(tag, i)[:ledger.CodeKeySize])
	}
	f := newDigestFilter(2 * n * 16 / 8) // 16 bits per entry
	for i := 0; i < n; i++ {
		f.add(sha2, filterDigest('a', i))
		f.add(ledger.CodeKeyIndex, keyDigest('k', i))
	}
	var fpDigests, fpKeys int
	for i := 0; i < queries; i++ {
		if i < n && (!f.mayContain(sha2, filterDigest('a', i)) || !f.mayContain(ledger.CodeKeyIndex, keyDigest('k', i))) {
			t.Fatalf("false negative for %d", i)
		}
		if f.mayContain(sha2, filterDigest('b', i)) {
			fpDigests++
		}
		if f.mayContain(ledger.CodeKeyIndex, keyDigest('c', i)) {
			fpKeys++
		}
	}
	t.Logf("false positives of %d: %d digests, %d code keys", queries, fpDigests, fpKeys)
	if fpKeys > fpDigests*3/2+20 {
		t.Fatalf("%d false positives for code keys, %d for digests", fpKeys, fpDigests)
	}
}
