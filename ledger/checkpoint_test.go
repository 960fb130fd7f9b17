package ledger

import (
	"bytes"
	"crypto/ed25519"
	"errors"
	"fmt"
	"testing"

	"golang.org/x/mod/sumdb/note"

	notaryv1 "github.com/gobtechlab/notary/proto/notary/v1"
)

// checkpointBody is the CheckpointSignature of k over the checkpoint (size,
// root) of testChain.
func checkpointBody(k ed25519.PrivateKey, size uint64, root []byte) *notaryv1.TxBody {
	sig := ed25519.Sign(k, CheckpointText(CheckpointOrigin(testChain), size, root))
	return &notaryv1.TxBody{Msg: &notaryv1.TxBody_CheckpointSignature{CheckpointSignature: &notaryv1.CheckpointSignature{
		Size: size, PubKey: pub(k), Signature: sig,
	}}}
}

// anchorBlocks runs n blocks, each anchoring one batch of aeat, and
// returns the heights of the blocks that recorded a checkpoint point.
func anchorBlocks(t *testing.T, f *fixture, tag string, n int) []int64 {
	t.Helper()
	var points []int64
	for i := range n {
		before, _, _, _ := LastCheckpoint(f.st)
		mustOK(t, f.one(f.sign(agencyKey("aeat"), anchorBody("aeat", digests(fmt.Sprint(tag, i), 2)))))
		after, _, ok, err := LastCheckpoint(f.st)
		if err != nil {
			t.Fatal(err)
		}
		if ok && after != before {
			points = append(points, after)
		}
	}
	return points
}

func TestCheckpointPoints(t *testing.T) {
	for _, tc := range []struct {
		name     string
		interval uint64
		idle     int // idle blocks between anchoring blocks
		want     []int64
	}{
		// Genesis is height 1 in the fixture: the first block is height 1.
		{name: "every block", interval: 0, want: []int64{1, 2, 3, 4, 5, 6}},
		{name: "interval 1", interval: 1, want: []int64{1, 2, 3, 4, 5, 6}},
		{name: "interval 3", interval: 3, want: []int64{1, 4}},
		{name: "interval 10", interval: 10, want: []int64{1}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			g := testGenesis()
			g.Params.CheckpointInterval = tc.interval
			f := newFixture(t, g)
			got := anchorBlocks(t, f, tc.name, 6)
			if fmt.Sprint(got) != fmt.Sprint(tc.want) {
				t.Fatalf("checkpoint points at heights %v, want %v", got, tc.want)
			}
			// Each point's record holds the log's size and root at its
			// height, and the four validators.
			_, size, _, _ := LastCheckpoint(f.st)
			c, err := LoadCheckpoint(f.st, size)
			if err != nil || c == nil {
				t.Fatalf("LoadCheckpoint(%d): %v, %v", size, c, err)
			}
			if c.Size != size || len(c.Validators) != 4 || c.Height != tc.want[len(tc.want)-1] {
				t.Fatalf("checkpoint %+v", c)
			}
		})
	}
}

// TestCheckpointIdle: idle blocks, and blocks whose transactions append
// nothing to the log, record no checkpoint point, however long the
// interval since the last one.
func TestCheckpointIdle(t *testing.T) {
	g := testGenesis()
	g.Params.CheckpointInterval = 2
	f := newFixture(t, g)
	anchorBlocks(t, f, "idle", 1)
	snapshot := f.st.Len()
	for range 5 {
		f.block()
	}
	mustOK(t, f.one(f.sign(citizenKey("ana"), grantBy(citizenKey("ana")))))
	if got := countPrefix(t, f.st, prefixCheckpoint); got != 1 {
		t.Fatalf("%d checkpoint keys, want 1", got)
	}
	if f.st.Len() <= snapshot {
		t.Fatal("the consent wrote nothing")
	}
	// A chain without the evidence log records no checkpoint.
	g = testGenesis()
	g.Params.EvidenceLog = false
	f = newFixture(t, g)
	anchorBlocks(t, f, "nolog", 3)
	if got := countPrefix(t, f.st, prefixCheckpoint) + countPrefix(t, f.st, keyLastCheckpoint); got != 0 {
		t.Fatalf("%d checkpoint keys on a chain without the log", got)
	}
}

func TestCheckpointSignature(t *testing.T) {
	f := newFixture(t, testGenesis())
	anchorBlocks(t, f, "sig", 1)
	_, size, ok, err := LastCheckpoint(f.st)
	if err != nil || !ok {
		t.Fatalf("no checkpoint: %v", err)
	}
	c, err := LoadCheckpoint(f.st, size)
	if err != nil {
		t.Fatal(err)
	}
	hacienda := ministryCons("hacienda")
	signed := signTx(testChain, hacienda, checkpointBody(hacienda, size, c.Root))
	mustOK(t, f.one(signed))

	otherRoot := bytes.Repeat([]byte{7}, 32)
	for _, tc := range []struct {
		name string
		tx   func() []byte
		want *Error
	}{
		{name: "again", tx: func() []byte { return signed }, want: ErrCheckpointSigned},
		{name: "another signature of the same size", tx: func() []byte {
			b := checkpointBody(hacienda, size, c.Root)
			b.GetCheckpointSignature().Signature = ed25519.Sign(hacienda, append(CheckpointText(CheckpointOrigin(testChain), size, c.Root), 'x'))
			return signTx(testChain, hacienda, b)
		}, want: ErrCheckpointSigned},
		{name: "unknown size", tx: func() []byte {
			k := ministryCons("interior")
			return signTx(testChain, k, checkpointBody(k, size+1, c.Root))
		}, want: ErrCheckpointNotFound},
		{name: "wrong root", tx: func() []byte {
			k := ministryCons("interior")
			return signTx(testChain, k, checkpointBody(k, size, otherRoot))
		}, want: ErrBadCheckpointSignature},
		{name: "not a validator", tx: func() []byte {
			k := agencyKey("aeat")
			return signTx(testChain, k, checkpointBody(k, size, c.Root))
		}, want: ErrNotCheckpointValidator},
		{name: "governance key", tx: func() []byte {
			k := ministryGov("interior")
			return signTx(testChain, k, checkpointBody(k, size, c.Root))
		}, want: ErrNotCheckpointValidator},
		{name: "signer is not the key", tx: func() []byte {
			k := ministryCons("interior")
			return signTx(testChain, agencyKey("aeat"), checkpointBody(k, size, c.Root))
		}, want: ErrSignerMismatch},
		{name: "sequence", tx: func() []byte {
			k := ministryCons("interior")
			b := checkpointBody(k, size, c.Root)
			b.Sequence = 1
			return signTx(testChain, k, b)
		}, want: ErrInvalidField},
		{name: "nonce", tx: func() []byte {
			k := ministryCons("interior")
			b := checkpointBody(k, size, c.Root)
			b.Nonce, b.ValidUntilHeight = testNonce("ckpt"), f.height+2
			return signTx(testChain, k, b)
		}, want: ErrInvalidField},
		{name: "short signature", tx: func() []byte {
			k := ministryCons("interior")
			b := checkpointBody(k, size, c.Root)
			b.GetCheckpointSignature().Signature = b.GetCheckpointSignature().Signature[:63]
			return signTx(testChain, k, b)
		}, want: ErrBadCheckpointSignature},
	} {
		t.Run(tc.name, func(t *testing.T) {
			raw := tc.tx()
			tx, err := DecodeTx(testChain, raw, 0)
			if err != nil {
				t.Fatal(err)
			}
			if err := ValidateBasic(tx); err != nil {
				if !errors.Is(err, tc.want) {
					t.Fatalf("ValidateBasic: %v, want %v", err, tc.want)
				}
				return
			}
			mustFail(t, f.one(raw), tc.want)
		})
	}

	// The other validators sign; the state then holds the four signatures,
	// each of which verifies as a signed-note signature.
	for _, id := range []string{"interior", "sanidad", "trabajo"} {
		k := ministryCons(id)
		mustOK(t, f.one(signTx(testChain, k, checkpointBody(k, size, c.Root))))
	}
	sigs, err := LoadCheckpointSignatures(f.st, size)
	if err != nil || len(sigs) != 4 {
		t.Fatalf("%d signatures, %v", len(sigs), err)
	}
	text := CheckpointText(CheckpointOrigin(testChain), size, c.Root)
	for _, s := range sigs {
		name := CheckpointKeyName(testChain, s.MinistryID)
		vkey, err := note.NewEd25519VerifierKey(name, pub(ministryCons(s.MinistryID)))
		if err != nil {
			t.Fatal(err)
		}
		v, err := note.NewVerifier(vkey)
		if err != nil {
			t.Fatal(err)
		}
		if !v.Verify(text, s.Signature) {
			t.Fatalf("%s: the stored signature does not verify as a note signature", s.MinistryID)
		}
	}
}

// TestCheckpointProposalOrder: checkpoint signatures, which have no
// sequence, keep their place in a proposal.
func TestCheckpointProposalOrder(t *testing.T) {
	f := newFixture(t, testGenesis())
	var txs []*Tx
	for _, id := range []string{"hacienda", "interior"} {
		k := ministryCons(id)
		for size := range uint64(2) {
			tx, err := DecodeTx(testChain, signTx(testChain, k, checkpointBody(k, size+1, make([]byte, 32))), 0)
			if err != nil {
				t.Fatal(err)
			}
			txs = append(txs, tx)
		}
	}
	order, err := ProposalOrder(f.st, txs)
	if err != nil {
		t.Fatal(err)
	}
	if fmt.Sprint(order) != "[0 1 2 3]" {
		t.Fatalf("order %v", order)
	}
}

// TestCheckpointValidatorSet: a checkpoint's validators are those in force
// at the end of its block. A validator removed later still signs it; one
// added later does not; the next checkpoint has the new set.
func TestCheckpointValidatorSet(t *testing.T) {
	g := govGenesis(10, 10, 10, 10, 10)
	g.Params.CheckpointInterval = 0
	h := newGovHarness(t, g)
	h.runOK(h.tx(agencyKey("aeat"), anchorBody("aeat", digests("vs-1", 1))))
	first, err := LoadCheckpoint(h.st, 1)
	if err != nil || first == nil || len(first.Validators) != 5 {
		t.Fatalf("first checkpoint %v, %v", first, err)
	}
	h.enact(actRemoveValidator("defensa"), "hacienda", "interior", "sanidad", "trabajo")
	h.enact(actAddValidator("justicia", 10), "hacienda", "interior", "sanidad", "trabajo")
	h.runOK(h.tx(agencyKey("aeat"), anchorBody("aeat", digests("vs-2", 1))))
	second, err := LoadCheckpoint(h.st, 2)
	if err != nil || second == nil {
		t.Fatalf("second checkpoint %v, %v", second, err)
	}
	var ids []string
	for _, v := range second.Validators {
		ids = append(ids, v.MinistryId)
	}
	if fmt.Sprint(ids) != "[hacienda interior justicia sanidad trabajo]" {
		t.Fatalf("second checkpoint's validators %v", ids)
	}
	for _, tc := range []struct {
		id   string
		size uint64
		root []byte
		want *Error
	}{
		{id: "defensa", size: 1, root: first.Root},
		{id: "justicia", size: 1, root: first.Root, want: ErrNotCheckpointValidator},
		{id: "justicia", size: 2, root: second.Root},
		{id: "defensa", size: 2, root: second.Root, want: ErrNotCheckpointValidator},
	} {
		k := ministryCons(tc.id)
		out := h.block(signTx(testChain, k, checkpointBody(k, tc.size, tc.root)))[0]
		if tc.want == nil {
			mustOK(t, out)
		} else {
			mustFail(t, out, tc.want)
		}
	}
}
