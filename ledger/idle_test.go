package ledger

import (
	"bytes"
	"testing"
)

// dump renders every record of a MemStore.
func dump(s *MemStore) []byte {
	var b bytes.Buffer
	_ = s.Iterate(nil, nil, func(k, v []byte) bool {
		b.Write(k)
		b.WriteByte(0)
		b.Write(v)
		b.WriteByte(0)
		return true
	})
	return b.Bytes()
}

// TestEmptyBlockWritesNothing: on a chain with stateless_empty_blocks (new
// chains), a block without transactions changes no record, so that the
// app hash stays the same; a chain created before the parameter records
// each block's height and time in ChainMeta, as it always did.
func TestEmptyBlockWritesNothing(t *testing.T) {
	for _, tc := range []struct {
		name      string
		stateless bool
	}{
		{"new chain", true},
		{"existing chain", false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			g := testGenesis()
			g.Params.StatelessEmptyBlocks = tc.stateless
			f := newFixture(t, g)
			mustOK(t, f.one(f.sign(agencyKey("aeat"), anchorBody("aeat", digests("idle", 3)))))
			before := dump(f.st)
			height := f.height
			f.block()
			f.block()
			changed := !bytes.Equal(before, dump(f.st))
			if changed == tc.stateless {
				t.Fatalf("empty blocks changed the state: %v, want %v", changed, !tc.stateless)
			}
			last, err := LastBlock(f.st)
			if err != nil {
				t.Fatal(err)
			}
			want := height + 1
			if tc.stateless {
				want = 0
			}
			if last.Height != want {
				t.Errorf("LastBlock height %d, want %d", last.Height, want)
			}
		})
	}
}

// TestStatelessEmptyBlocksByGovernance: a chain created before the
// parameter turns it on by governance; from the next block on, empty
// blocks leave the state as it was.
func TestStatelessEmptyBlocksByGovernance(t *testing.T) {
	g := testGenesis()
	g.Params.StatelessEmptyBlocks = false
	h := newGovHarness(t, g)
	p := DefaultParams()
	p.StatelessEmptyBlocks = true
	h.enactPassed(actChangeParams(p))
	h.block() // the first block under the new params
	before := dump(h.st)
	h.block()
	h.block()
	if !bytes.Equal(before, dump(h.st)) {
		t.Fatal("empty blocks changed the state after governance turned stateless_empty_blocks on")
	}
}
