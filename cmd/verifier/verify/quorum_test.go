package verify_test

import (
	"bytes"
	"testing"

	cmtproto "github.com/cometbft/cometbft/proto/tendermint/types"
	cmttypes "github.com/cometbft/cometbft/types"
	"google.golang.org/protobuf/proto"

	"github.com/gobtechlab/notary/app/receipt"
	"github.com/gobtechlab/notary/app/receipt/receipttest"
	"github.com/gobtechlab/notary/cmd/verifier/verify"
	"github.com/gobtechlab/notary/ledger"
	notaryv1 "github.com/gobtechlab/notary/proto/notary/v1"
)

// TestQuorum: receipts whose commits were really signed by some validators
// only (the others absent), at and around the 2/3 threshold.
func TestQuorum(t *testing.T) {
	cases := []struct {
		name       string
		ministries []receipttest.Ministry
		absent     []string // ministry ids that do not sign the anchor's header
		want       verify.Verdict
		reason     verify.Reason
	}{
		{name: "all sign", want: verify.Valid},
		{name: "3 of 4", absent: []string{"sanidad"}, want: verify.Valid},
		{name: "2 of 4", absent: []string{"sanidad", "interior"}, want: verify.NotValid, reason: tooFew},
		{name: "none", absent: []string{"sanidad", "interior", "hacienda", "justicia"}, want: verify.NotValid, reason: tooFew},
		{name: "exactly 2/3", ministries: []receipttest.Ministry{{ID: "a", Name: "A", Power: 10}, {ID: "b", Name: "B", Power: 10}, {ID: "c", Name: "C", Power: 10}}, absent: []string{"c"},
			want: verify.NotValid, reason: tooFew},
		{name: "just over 2/3", ministries: []receipttest.Ministry{{ID: "a", Name: "A", Power: 34}, {ID: "b", Name: "B", Power: 33}, {ID: "c", Name: "C", Power: 33}}, absent: []string{"c"},
			want: verify.Valid},
		{name: "just under 2/3", ministries: []receipttest.Ministry{{ID: "a", Name: "A", Power: 33}, {ID: "b", Name: "B", Power: 33}, {ID: "c", Name: "C", Power: 34}}, absent: []string{"c"},
			want: verify.NotValid, reason: tooFew},
		{name: "big one alone", ministries: []receipttest.Ministry{{ID: "a", Name: "A", Power: 67}, {ID: "b", Name: "B", Power: 11}, {ID: "c", Name: "C", Power: 11}, {ID: "d", Name: "D", Power: 11}}, absent: []string{"b", "c", "d"},
			want: verify.Valid},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			c := receipttest.New(t, receipttest.Options{Ministries: tc.ministries})
			absent := map[string]bool{}
			for _, id := range tc.absent {
				absent[string(receipttest.PrivValidator("cons/"+id).PrivKey.PubKey().Address())] = true
			}
			d := receipttest.Digest("q")
			h := c.Anchor(sha2, "", d)
			c.Absent = func(height int64) map[int]bool {
				if height != h+1 {
					return nil
				}
				vals, _ := c.Validators(height)
				out := map[int]bool{}
				for i, v := range vals.Validators {
					out[i] = absent[string(v.Address)]
				}
				return out
			}
			c.Empty(1)
			c.Absent = nil
			c.Empty(1)
			r := c.Receipt(sha2, d)
			// The status checkpoint (signed by everyone) is the anchor's
			// successor; the anchor is the one with the absent signers.
			if got := len(r.Anchor.Commit.Signatures); got != len(c.TrustBundle().Validators)-len(tc.absent) {
				t.Fatalf("anchor commit has %d signatures", got)
			}
			res := checkWith(t, encode(t, r), c.TrustBundle(), nil)
			if res.Verdict != tc.want || res.Reason != tc.reason {
				t.Fatalf("verdict %s (%s: %s), want %s (%s)", res.Verdict, res.Reason, res.Detail, tc.want, tc.reason)
			}
		})
	}
}

// TestUnreachedValidatorSet: headers signed by validators the trust bundle
// does not lead to are refused, however well signed.
func TestUnreachedValidatorSet(t *testing.T) {
	f := newFixture(t, fixtureOpts{})

	// Another consortium with its own keys and the same chain id.
	other := receipttest.New(t, receipttest.Options{Ministries: []receipttest.Ministry{
		{ID: "x1", Name: "Impostor 1", Power: 10}, {ID: "x2", Name: "Impostor 2", Power: 10}, {ID: "x3", Name: "Impostor 3", Power: 10},
	}})
	d := receipttest.Digest("forged")
	other.Anchor(sha2, "", d)
	other.Empty(1)
	forged := other.Receipt(sha2, d)
	if res := checkWith(t, encode(t, forged), f.trust, nil); res.Reason != notReached {
		t.Errorf("receipt of another consortium: %s (%s)", res.Reason, res.Detail)
	}
	if res := checkWith(t, encode(t, forged), other.TrustBundle(), nil); res.Verdict != verify.Valid {
		t.Errorf("the same receipt with its own trust bundle: %s (%s)", res.Reason, res.Detail)
	}

	// A forged transition to an impostor set, signed by two of the four
	// genesis validators (a compromised minority) and the impostors.
	c := f.chain
	impostors := []cmttypes.MockPV{receipttest.PrivValidator("impostor/1"), receipttest.PrivValidator("impostor/2")}
	for _, pv := range impostors {
		c.AddSigner(pv)
	}
	genesis, _ := c.Validators(1)
	header, _ := c.Header(2)
	forgedHeader := *header
	var evil []*cmttypes.Validator
	for _, pv := range impostors {
		evil = append(evil, cmttypes.NewValidator(pv.PrivKey.PubKey(), 100))
	}
	evilSet := cmttypes.NewValidatorSet(evil)
	forgedHeader.NextValidatorsHash = evilSet.Hash()
	id := cmttypes.BlockID{Hash: forgedHeader.Hash(), PartSetHeader: cmttypes.PartSetHeader{Total: 1, Hash: bytes.Repeat([]byte{7}, 32)}}
	commit := c.SignCommit(c.ChainID(), 2, 0, id, genesis, header.Time, map[int]bool{2: true, 3: true})
	hb, _ := forgedHeader.ToProto().Marshal()
	transition := &notaryv1.ValidatorTransition{Header: hb, Commit: receipt.LightCommit(commit), NextValidators: receipt.LightValidators(evilSet)}

	// The anchor checkpoint re-made by the impostor set.
	r := proto.CloneOf(f.receipt)
	r.ValidatorChain = []*notaryv1.ValidatorTransition{transition}
	anchorHeader := mustHeader(t, r.Anchor.Header)
	anchorHeader.ValidatorsHash = evilSet.Hash()
	aid := cmttypes.BlockID{Hash: anchorHeader.Hash(), PartSetHeader: cmttypes.PartSetHeader{Total: 1, Hash: bytes.Repeat([]byte{8}, 32)}}
	r.Anchor.Header, _ = anchorHeader.ToProto().Marshal()
	r.Anchor.Commit = receipt.LightCommit(c.SignCommit(c.ChainID(), anchorHeader.Height, 0, aid, evilSet, anchorHeader.Time, nil))
	r.Anchor.Signers = nil
	if res := f.check(t, encode(t, r)); res.Reason != tooFew {
		t.Errorf("transition signed by 2 of 4: %s (%s)", res.Reason, res.Detail)
	}
	// Without the transition, the impostor-signed anchor is not reached.
	r.ValidatorChain = nil
	if res := f.check(t, encode(t, r)); res.Reason != notReached {
		t.Errorf("impostor-signed anchor: %s (%s)", res.Reason, res.Detail)
	}
}

func mustHeader(t *testing.T, b []byte) *cmttypes.Header {
	t.Helper()
	var ph cmtproto.Header
	if err := ph.Unmarshal(b); err != nil {
		t.Fatal(err)
	}
	h, err := cmttypes.HeaderFromProto(&ph)
	if err != nil {
		t.Fatal(err)
	}
	return &h
}

// TestWrongChain: a receipt of another chain is refused, whether its
// chain_id says so or not.
func TestWrongChain(t *testing.T) {
	f := newFixture(t, fixtureOpts{})
	other := newFixture(t, fixtureOpts{chain: receipttest.Options{ChainID: "notary-other"}})
	// Same validators (the synthetic chains share keys), other chain id.
	if res := f.check(t, other.file); res.Reason != wrongChain {
		t.Errorf("receipt of another chain: %s (%s)", res.Reason, res.Detail)
	}
	r := proto.CloneOf(other.receipt)
	r.ChainId = f.trust.ChainId
	if res := f.check(t, encode(t, r)); res.Reason != wrongChain {
		t.Errorf("receipt of another chain claiming this one: %s (%s)", res.Reason, res.Detail)
	}
	tb := proto.CloneOf(f.trust)
	tb.ChainId = "notary-other"
	if res := checkWith(t, f.file, tb, f.doc); res.Reason != wrongChain {
		t.Errorf("trust bundle of another chain: %s (%s)", res.Reason, res.Detail)
	}
}

// TestValidatorChurn: validators added and removed by governance until
// half of the genesis set is gone; receipts anchored before, during and
// after verify with the original trust bundle.
func TestValidatorChurn(t *testing.T) {
	c := receipttest.New(t, receipttest.Options{})
	c.Empty(1)
	before := receipttest.Digest("before")
	c.Anchor(sha2, "", before)
	all := []string{"hacienda", "interior", "justicia", "sanidad"}
	c.AddValidator(all, receipttest.Ministry{ID: "educacion", Name: "Ministerio de Educación", Power: 10})
	c.Empty(2)
	during := receipttest.Digest("during")
	c.Anchor(sha3, "", during)
	all = append(all, "educacion")
	c.AddValidator(all, receipttest.Ministry{ID: "fomento", Name: "Ministerio de Fomento", Power: 10})
	c.Empty(2)
	all = append(all, "fomento")
	c.RemoveValidator(all, "hacienda")
	c.Empty(2)
	all = []string{"interior", "justicia", "sanidad", "educacion", "fomento"}
	c.RemoveValidator(all, "interior")
	c.Empty(2)
	after := receipttest.Digest("after")
	c.Anchor(sha2, "", after)
	c.Empty(3)
	trust := c.TrustBundle()
	for name, d := range map[string]struct {
		alg    ledger.HashAlgorithm
		digest []byte
	}{"before": {sha2, before}, "during": {sha3, during}, "after": {sha2, after}} {
		r := c.Receipt(d.alg, d.digest)
		if len(r.ValidatorChain) != 4 {
			t.Fatalf("%s: %d transitions, want 4", name, len(r.ValidatorChain))
		}
		res := checkWith(t, encode(t, r), trust, nil)
		if res.Verdict != verify.Valid {
			t.Fatalf("%s: %s (%s: %s)", name, res.Verdict, res.Reason, res.Detail)
		}
		var names []string
		for _, s := range res.Proven.Anchor.Signers {
			names = append(names, s.MinistryID+"/"+s.Source)
		}
		t.Logf("%s: anchor signed by %v", name, names)
	}
	// The checkpoint API gives the same chain.
	cp, chain, err := c.Builder().Checkpoint(t.Context(), 0)
	if err != nil || len(chain) != 4 || cp.Height != c.Height()-1 {
		t.Fatalf("checkpoint %v, %d transitions, %v", cp.GetHeight(), len(chain), err)
	}
}
