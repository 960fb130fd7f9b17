package txstore

import (
	"bytes"
	"crypto/sha256"
	"os"
	"testing"
)

// txOf is the bytes of transaction i: the store does not decode them.
func txOf(i int) []byte { return bytes.Repeat([]byte{byte(i), byte(i >> 8), 0x5a}, 700+i) }

// TestStoreRecover: what a store holds after it is reopened, after a
// clean close, a crash before Sync, a record cut by the crash, and a
// record damaged on disk.
func TestStoreRecover(t *testing.T) {
	cases := []struct {
		name  string
		crash func(t *testing.T, s *Store, dir string) // ends the first life
		want  []int                                    // transactions held after reopening
		bad   []int                                    // transactions whose Get fails
	}{
		{"clean close", func(t *testing.T, s *Store, _ string) {
			if err := s.Close(); err != nil {
				t.Fatal(err)
			}
		}, []int{0, 1, 2, 3}, nil},
		{"crash after Sync of two, the rest written", func(t *testing.T, s *Store, _ string) {
			crash(s)
		}, []int{0, 1, 2, 3}, nil},
		{"crash cut the last record", func(t *testing.T, s *Store, dir string) {
			crash(s)
			seg := segmentName(dir, 0)
			st, err := os.Stat(seg)
			if err != nil {
				t.Fatal(err)
			}
			if err := os.Truncate(seg, st.Size()-10); err != nil {
				t.Fatal(err)
			}
		}, []int{0, 1, 2}, nil},
		{"a byte of an unsynced record damaged", func(t *testing.T, s *Store, dir string) {
			loc := s.pend[sha256.Sum256(txOf(2))]
			crash(s)
			flipByte(t, segmentName(dir, 0), loc.off+5)
		}, []int{0, 1}, nil},
		{"a byte of an indexed record damaged", func(t *testing.T, s *Store, dir string) {
			loc, _, _ := s.locate(sha256.Sum256(txOf(0)))
			crash(s)
			flipByte(t, segmentName(dir, 0), loc.off+5)
		}, []int{1, 2, 3}, []int{0}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			s, err := Open(dir, Options{})
			if err != nil {
				t.Fatal(err)
			}
			for i := range 4 {
				if added, err := s.Put(sha256.Sum256(txOf(i)), txOf(i)); err != nil || !added {
					t.Fatalf("Put %d: %v %v", i, added, err)
				}
				if i == 1 {
					if err := s.Sync(); err != nil {
						t.Fatal(err)
					}
				}
			}
			tc.crash(t, s, dir)
			s, err = Open(dir, Options{})
			if err != nil {
				t.Fatal(err)
			}
			defer func() { _ = s.Close() }()
			for i := range 4 {
				h := sha256.Sum256(txOf(i))
				raw, ok, err := s.Get(h)
				switch {
				case contains(tc.bad, i):
					if err == nil {
						t.Errorf("transaction %d: damaged on disk, but Get gave %v", i, ok)
					}
				case contains(tc.want, i):
					if err != nil || !ok || !bytes.Equal(raw, txOf(i)) {
						t.Errorf("transaction %d: Get = %v %v, want its bytes", i, ok, err)
					}
				default:
					if ok || err != nil {
						t.Errorf("transaction %d: Get = %v %v, want not held", i, ok, err)
					}
				}
			}
			// The store goes on: a transaction lost in the crash is stored again
			// after the records that survived, and survives a reopen.
			for i := range 5 {
				if _, err := s.Put(sha256.Sum256(txOf(i)), txOf(i)); err != nil && !contains(tc.bad, i) {
					t.Fatalf("Put %d after reopen: %v", i, err)
				}
			}
			if err := s.Close(); err != nil {
				t.Fatal(err)
			}
			s, err = Open(dir, Options{})
			if err != nil {
				t.Fatal(err)
			}
			for i := range 5 {
				if contains(tc.bad, i) {
					continue
				}
				if raw, ok, err := s.Get(sha256.Sum256(txOf(i))); err != nil || !ok || !bytes.Equal(raw, txOf(i)) {
					t.Errorf("transaction %d after the second reopen: %v %v", i, ok, err)
				}
			}
		})
	}
}

// crash ends a store's life without its final Sync: what was written is in
// the files, the index holds what the last Sync wrote.
func crash(s *Store) {
	s.closeSegments()
	_ = s.index.Close()
}

func flipByte(t *testing.T, path string, off int64) {
	t.Helper()
	f, err := os.OpenFile(path, os.O_RDWR, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = f.Close() }()
	b := make([]byte, 1)
	if _, err := f.ReadAt(b, off); err != nil {
		t.Fatal(err)
	}
	b[0] ^= 0xff
	if _, err := f.WriteAt(b, off); err != nil {
		t.Fatal(err)
	}
}

func contains(xs []int, x int) bool {
	for _, y := range xs {
		if y == x {
			return true
		}
	}
	return false
}

// TestStoreSegments: a store that fills a segment goes on in the next.
func TestStoreSegments(t *testing.T) {
	defer func(n int64) { maxSegmentBytes = n }(maxSegmentBytes)
	maxSegmentBytes = 3 << 20
	dir := t.TempDir()
	s, err := Open(dir, Options{})
	if err != nil {
		t.Fatal(err)
	}
	big := bytes.Repeat([]byte{7}, int(maxSegmentBytes/3))
	var hs [][32]byte
	for i := range 4 {
		b := append([]byte{byte(i)}, big...)
		h := sha256.Sum256(b)
		hs = append(hs, h)
		if _, err := s.Put(h, b); err != nil {
			t.Fatal(err)
		}
	}
	s.Forget(hs)
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(segmentName(dir, 1)); err != nil {
		t.Fatalf("second segment: %v", err)
	}
	s, err = Open(dir, Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = s.Close() }()
	for i, h := range hs {
		if raw, ok, err := s.Get(h); err != nil || !ok || raw[0] != byte(i) || len(raw) != len(big)+1 {
			t.Errorf("transaction %d: %v %v", i, ok, err)
		}
	}
}

// TestStoreAwait: Await's channel closes when the transaction is Put, not
// before; Has agrees with Get; a Put of bytes already held reports them
// not new.
func TestStoreAwait(t *testing.T) {
	s, err := Open(t.TempDir(), Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = s.Close() }()
	h := sha256.Sum256(txOf(1))
	arrived, cancel := s.Await(h)
	defer cancel()
	_, stop := s.Await(h) // a second waiter that gives up
	stop()
	if held, err := s.Has(h); held || err != nil {
		t.Fatalf("Has before Put: %v %v", held, err)
	}
	select {
	case <-arrived:
		t.Fatal("arrived before Put")
	default:
	}
	if added, err := s.Put(h, txOf(1)); !added || err != nil {
		t.Fatalf("Put: %v %v", added, err)
	}
	<-arrived
	if held, err := s.Has(h); !held || err != nil {
		t.Fatalf("Has after Put: %v %v", held, err)
	}
	if added, err := s.Put(h, txOf(1)); added || err != nil {
		t.Fatalf("second Put: %v %v, want not new", added, err)
	}
	s.Forget([][32]byte{h}) // from memory; read back from the segment
	if raw, ok, err := s.Get(h); !ok || err != nil || !bytes.Equal(raw, txOf(1)) {
		t.Fatalf("Get after Forget: %v %v", ok, err)
	}
	if added, err := s.Put(h, txOf(1)); added || err != nil {
		t.Fatalf("Put after Forget: %v %v, want not new", added, err)
	}
}
