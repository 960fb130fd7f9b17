package snapshot_test

import (
	"bytes"
	"errors"
	"fmt"
	"testing"

	"github.com/cosmos/iavl"

	"github.com/gobtechlab/notary/abci/snapshot"
)

// write makes a snapshot of height with n transaction sections of growing
// size, in chunks of chunkSize bytes, and returns the sections written.
func write(t *testing.T, s *snapshot.Store, height int64, n, chunkSize int) (snapshot.Metadata, []snapshot.Section) {
	t.Helper()
	w, err := s.Create(height, chunkSize)
	if err != nil {
		t.Fatal(err)
	}
	want := []snapshot.Section{{Kind: snapshot.KindHeader, Payload: []byte("header")}}
	for i := range n {
		want = append(want, snapshot.Section{Kind: snapshot.KindTx, Payload: bytes.Repeat([]byte{byte(i)}, i*37)})
	}
	for _, sec := range want {
		if err := w.Add(sec.Kind, sec.Payload); err != nil {
			t.Fatal(err)
		}
	}
	m, err := w.Close()
	if err != nil {
		t.Fatal(err)
	}
	return m, append(want, snapshot.Section{Kind: snapshot.KindEnd, Payload: []byte{}})
}

func TestWriteList(t *testing.T) {
	for _, chunkSize := range []int{97, 1000, 1 << 20} {
		t.Run(fmt.Sprint(chunkSize), func(t *testing.T) {
			s, err := snapshot.Open(t.TempDir())
			if err != nil {
				t.Fatal(err)
			}
			for _, h := range []int64{10, 20, 30} {
				write(t, s, h, 5, chunkSize)
			}
			m, want := write(t, s, 40, 50, chunkSize)
			if err := s.Prune(2); err != nil {
				t.Fatal(err)
			}
			list, err := s.List()
			if err != nil {
				t.Fatal(err)
			}
			if len(list) != 2 || list[0].Height != 40 || list[1].Height != 30 {
				t.Fatalf("list after prune: %+v", list)
			}
			if !bytes.Equal(list[0].Hash(), m.Hash()) {
				t.Fatal("listed metadata differs")
			}
			back, err := snapshot.DecodeMetadata(m.Encode())
			if err != nil || !bytes.Equal(back.Hash(), m.Hash()) {
				t.Fatalf("metadata round trip: %v", err)
			}
			d := snapshot.NewDecoder(m)
			var got []snapshot.Section
			for i := range m.ChunkHashes {
				c, err := s.LoadChunk(40, uint32(i))
				if err != nil {
					t.Fatal(err)
				}
				secs, err := d.Chunk(uint32(i), c)
				if err != nil {
					t.Fatal(err)
				}
				got = append(got, secs...)
			}
			if !d.Done() || len(got) != len(want) {
				t.Fatalf("%d sections, want %d", len(got), len(want))
			}
			for i := range got {
				if got[i].Kind != want[i].Kind || !bytes.Equal(got[i].Payload, want[i].Payload) {
					t.Fatalf("section %d differs", i)
				}
			}
		})
	}
}

func TestDecoderRejects(t *testing.T) {
	s, err := snapshot.Open(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	m, _ := write(t, s, 5, 20, 64)
	c0, _ := s.LoadChunk(5, 0)
	c1, _ := s.LoadChunk(5, 1)
	tests := []struct {
		name  string
		index uint32
		data  []byte
		hash  bool
	}{
		{"corrupted", 0, append([]byte{c0[0] ^ 1}, c0[1:]...), true},
		{"short", 0, c0[:10], true},
		{"out of order", 1, c1, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			d := snapshot.NewDecoder(m)
			_, err := d.Chunk(tt.index, tt.data)
			if err == nil || errors.Is(err, snapshot.ErrChunkHash) != tt.hash {
				t.Fatalf("err %v", err)
			}
			// The right chunk is still taken after a refused one.
			if _, err := d.Chunk(0, c0); err != nil {
				t.Fatal(err)
			}
		})
	}
	for _, bad := range [][]byte{nil, []byte("NTRYSNP1"), append(m.Encode(), 1)} {
		if _, err := snapshot.DecodeMetadata(bad); err == nil {
			t.Fatalf("metadata %x decoded", bad)
		}
	}
	// A stream that does not end with KindEnd is refused at its last chunk.
	w, _ := s.Create(6, 8)
	_ = w.Add(snapshot.KindHeader, []byte("x"))
	_ = w.Add(snapshot.KindEnd, nil)
	if err := w.Add(snapshot.KindTx, []byte("after")); err == nil {
		t.Fatal("section after the end taken")
	}
	w.Abort()
}

func TestNodeEncoding(t *testing.T) {
	for _, n := range []*iavl.ExportNode{
		{Key: []byte("k"), Value: []byte("v"), Version: 7, Height: 0},
		{Key: []byte("k"), Value: []byte{}, Version: 1, Height: 0},
		{Key: []byte("inner"), Version: 1 << 40, Height: 12},
	} {
		got, err := snapshot.DecodeNode(snapshot.EncodeNode(n))
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(got.Key, n.Key) || !bytes.Equal(got.Value, n.Value) || (got.Value == nil) != (n.Value == nil) ||
			got.Version != n.Version || got.Height != n.Height {
			t.Fatalf("%+v decoded as %+v", n, got)
		}
	}
	for _, bad := range [][]byte{nil, {0}, {0, 1, 5, 'a'}, {0, 1, 0, 2}} {
		if _, err := snapshot.DecodeNode(bad); err == nil {
			t.Fatalf("%x decoded", bad)
		}
	}
}
