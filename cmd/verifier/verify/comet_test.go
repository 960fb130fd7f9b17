package verify_test

import (
	"bytes"
	"fmt"
	"math/rand/v2"
	"testing"
	"time"

	cmted25519 "github.com/cometbft/cometbft/crypto/ed25519"
	cmtproto "github.com/cometbft/cometbft/proto/tendermint/types"
	cmtversion "github.com/cometbft/cometbft/proto/tendermint/version"
	cmttypes "github.com/cometbft/cometbft/types"
	"google.golang.org/protobuf/encoding/protowire"
	"google.golang.org/protobuf/types/known/timestamppb"

	"github.com/gobtechlab/notary/app/receipt"
	"github.com/gobtechlab/notary/app/receipt/receipttest"
	"github.com/gobtechlab/notary/cmd/verifier/verify"
	notaryv1 "github.com/gobtechlab/notary/proto/notary/v1"
)

// Cross-checks of the verifier's CometBFT mirror against CometBFT v0.38
// itself, on seeded random inputs.

func randBytes(r *rand.Rand, n int) []byte {
	b := make([]byte, n)
	for i := range b {
		b[i] = byte(r.UintN(256))
	}
	return b
}

// maybe returns a random hash, or nothing one time in five.
func maybe(r *rand.Rand) []byte {
	if r.IntN(5) == 0 {
		return nil
	}
	return randBytes(r, 32)
}

func randTime(r *rand.Rand) time.Time {
	t := time.Unix(r.Int64N(4_000_000_000), 0).UTC()
	switch r.IntN(3) {
	case 0:
		return t
	case 1:
		return t.Add(time.Duration(r.IntN(1000)) * time.Millisecond)
	}
	return t.Add(time.Duration(r.IntN(1_000_000_000)))
}

func randHeader(r *rand.Rand) *cmttypes.Header {
	h := &cmttypes.Header{
		Version:            cmtversion.Consensus{Block: uint64(r.IntN(20)), App: uint64(r.IntN(3))},
		ChainID:            []string{"", "notary-dev", "a", "gobtechlab-consortium-1"}[r.IntN(4)],
		Height:             r.Int64N(1 << 40),
		Time:               randTime(r),
		LastCommitHash:     maybe(r),
		DataHash:           maybe(r),
		ValidatorsHash:     randBytes(r, 32),
		NextValidatorsHash: maybe(r),
		ConsensusHash:      maybe(r),
		AppHash:            maybe(r),
		LastResultsHash:    maybe(r),
		EvidenceHash:       maybe(r),
		ProposerAddress:    randBytes(r, r.IntN(2)*20),
	}
	if r.IntN(4) != 0 {
		h.LastBlockID = cmttypes.BlockID{Hash: randBytes(r, 32), PartSetHeader: cmttypes.PartSetHeader{Total: uint32(r.IntN(100)), Hash: maybe(r)}}
	}
	return h
}

func TestHeaderHashMatchesCometBFT(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	for i := 0; i < 2000; i++ {
		h := randHeader(r)
		bz, err := h.ToProto().Marshal()
		if err != nil {
			t.Fatal(err)
		}
		ph, err := verify.DecodeHeader(bz)
		if err != nil {
			t.Fatalf("header %d: CometBFT's encoding refused: %v", i, err)
		}
		if got, want := verify.HeaderHash(ph), h.Hash(); !bytes.Equal(got, want) {
			t.Fatalf("header %d: hash %x, CometBFT %X", i, got, want)
		}
	}
}

func TestDecodeHeaderRefusesOtherEncodings(t *testing.T) {
	h := randHeader(rand.New(rand.NewPCG(3, 4)))
	bz, err := h.ToProto().Marshal()
	if err != nil {
		t.Fatal(err)
	}
	if _, err := verify.DecodeHeader(bz); err != nil {
		t.Fatal(err)
	}
	unknown := protowire.AppendVarint(protowire.AppendTag(append([]byte(nil), bz...), 99, protowire.VarintType), 1)
	dup := protowire.AppendVarint(protowire.AppendTag(append([]byte(nil), bz...), 3, protowire.VarintType), uint64(h.Height))
	// Field 3 (height) moved to the end.
	var moved []byte
	var heightField []byte
	for b := bz; len(b) > 0; {
		num, typ, n := protowire.ConsumeTag(b)
		m := protowire.ConsumeFieldValue(num, typ, b[n:])
		if num == 3 {
			heightField = b[:n+m]
		} else {
			moved = append(moved, b[:n+m]...)
		}
		b = b[n+m:]
	}
	moved = append(moved, heightField...)
	var noTime []byte // field 4 (time) left out
	for b := bz; len(b) > 0; {
		num, typ, n := protowire.ConsumeTag(b)
		m := protowire.ConsumeFieldValue(num, typ, b[n:])
		if num != 4 {
			noTime = append(noTime, b[:n+m]...)
		}
		b = b[n+m:]
	}
	for name, b := range map[string][]byte{
		"unknown field": unknown, "duplicate field": dup, "reordered": moved, "truncated": bz[:len(bz)-1], "no time": noTime,
	} {
		if _, err := verify.DecodeHeader(b); err == nil {
			t.Errorf("%s: accepted", name)
		}
	}
}

func randValidatorSet(r *rand.Rand, n int) (*cmttypes.ValidatorSet, []cmttypes.MockPV) {
	var vals []*cmttypes.Validator
	var pvs []cmttypes.MockPV
	for i := 0; i < n; i++ {
		pv := cmttypes.NewMockPVWithParams(cmted25519.GenPrivKeyFromSecret(randBytes(r, 16)), false, false)
		power := int64(1 + r.IntN(3)) // few distinct powers: ties ordered by address
		if r.IntN(10) == 0 {
			power = 1 + r.Int64N(1<<40)
		}
		vals = append(vals, cmttypes.NewValidator(pv.PrivKey.PubKey(), power))
		pvs = append(pvs, pv)
	}
	return cmttypes.NewValidatorSet(vals), pvs
}

func lightSet(vs *cmttypes.ValidatorSet) []verify.Validator {
	out := make([]verify.Validator, len(vs.Validators))
	for i, v := range vs.Validators {
		out[i] = verify.Validator{PubKey: v.PubKey.Bytes(), Power: v.VotingPower}
	}
	return out
}

func TestValidatorSetHashMatchesCometBFT(t *testing.T) {
	r := rand.New(rand.NewPCG(7, 8))
	for _, n := range []int{1, 2, 3, 4, 5, 7, 8, 13, 64, 100, 150} {
		vs, _ := randValidatorSet(r, n)
		if got, want := verify.ValidatorSetHash(lightSet(vs)), vs.Hash(); !bytes.Equal(got, want) {
			t.Fatalf("%d validators: hash %x, CometBFT %X", n, got, want)
		}
		// The receipt's form of the set gives the same hash.
		var fromLight []verify.Validator
		for _, v := range receipt.LightValidators(vs) {
			fromLight = append(fromLight, verify.Validator{PubKey: v.PubKey, Power: v.Power})
		}
		if !bytes.Equal(verify.ValidatorSetHash(fromLight), vs.Hash()) {
			t.Fatalf("%d validators: LightValidators changes the hash", n)
		}
	}
}

func pbBlockID(id cmttypes.BlockID) *notaryv1.CometBlockID {
	return &notaryv1.CometBlockID{Hash: id.Hash, PartSetHeader: &notaryv1.CometPartSetHeader{Total: id.PartSetHeader.Total, Hash: id.PartSetHeader.Hash}}
}

func TestVoteSignBytesMatchesCometBFT(t *testing.T) {
	r := rand.New(rand.NewPCG(9, 10))
	for i := 0; i < 2000; i++ {
		v := &cmttypes.Vote{
			Type:      cmtproto.PrecommitType,
			Height:    r.Int64N(1 << 50),
			Round:     int32(r.IntN(3)) * int32(r.IntN(1000)),
			Timestamp: randTime(r),
			BlockID:   cmttypes.BlockID{Hash: randBytes(r, 32), PartSetHeader: cmttypes.PartSetHeader{Total: uint32(r.IntN(5)), Hash: maybe(r)}},
		}
		if r.IntN(10) == 0 {
			v.BlockID = cmttypes.BlockID{} // a nil vote: no block id in the sign bytes
		}
		chainID := []string{"", "notary-dev", "x"}[r.IntN(3)]
		want := cmttypes.VoteSignBytes(chainID, v.ToProto())
		got := verify.VoteSignBytes(chainID, v.Height, v.Round, pbBlockID(v.BlockID), timestamppb.New(v.Timestamp))
		if !bytes.Equal(got, want) {
			t.Fatalf("vote %d: sign bytes\n %x\nCometBFT\n %x", i, got, want)
		}
	}
}

// commitCase builds a commit for a random header signed by some of a set,
// possibly corrupted, and checks the verifier and CometBFT agree on it.
type commitCase struct {
	name    string
	powers  []int64
	absent  []int // validator indices that do not sign
	corrupt func(c *cmttypes.Commit, vs *cmttypes.ValidatorSet)
	// lightOnly: CometBFT's VerifyCommitLight accepts (it stops at 2/3),
	// the verifier must refuse (it checks every signature present).
	lightOnly bool
	want      bool
	random    bool // want is not known
	// anyLight: a random corruption may fall past the quorum, where
	// VerifyCommitLight does not look.
	anyLight bool
}

func TestVerifyCommitAgreesWithCometBFT(t *testing.T) {
	flipSig := func(i int) func(c *cmttypes.Commit, _ *cmttypes.ValidatorSet) {
		return func(c *cmttypes.Commit, _ *cmttypes.ValidatorSet) { c.Signatures[i].Signature[0] ^= 1 }
	}
	cases := []commitCase{
		{name: "all sign", powers: []int64{10, 10, 10, 10}, want: true},
		{name: "3 of 4", powers: []int64{10, 10, 10, 10}, absent: []int{3}, want: true},
		{name: "2 of 4 is half", powers: []int64{10, 10, 10, 10}, absent: []int{2, 3}, want: false},
		{name: "exactly 2/3", powers: []int64{10, 10, 10}, absent: []int{2}, want: false},
		{name: "just over 2/3", powers: []int64{34, 33, 33}, absent: []int{2}, want: true},
		{name: "66 of 100", powers: []int64{66, 1, 1, 1, 31}, absent: []int{1, 2, 3, 4}, want: false},
		{name: "67 of 100", powers: []int64{66, 1, 1, 1, 31}, absent: []int{2, 3, 4}, want: true},
		{name: "power 7 of 10", powers: []int64{3, 3, 3, 1}, absent: []int{2}, want: true},
		{name: "power 6 of 10", powers: []int64{3, 3, 3, 1}, absent: []int{2, 3}, want: false},
		{name: "one validator", powers: []int64{5}, want: true},
		{name: "one validator absent", powers: []int64{5}, absent: []int{0}, want: false},
		{name: "bad signature below quorum", powers: []int64{10, 10, 10, 10}, corrupt: flipSig(0), want: false},
		{name: "bad signature past quorum", powers: []int64{10, 10, 10, 10}, corrupt: flipSig(3), lightOnly: true, want: false},
		{name: "wrong height", powers: []int64{10, 10, 10, 10}, corrupt: func(c *cmttypes.Commit, _ *cmttypes.ValidatorSet) { c.Height++ }, want: false},
		{name: "wrong round", powers: []int64{10, 10, 10, 10}, corrupt: func(c *cmttypes.Commit, _ *cmttypes.ValidatorSet) { c.Round++ }, want: false},
		{name: "wrong part set", powers: []int64{10, 10, 10, 10}, corrupt: func(c *cmttypes.Commit, _ *cmttypes.ValidatorSet) { c.BlockID.PartSetHeader.Total++ }, want: false},
		{name: "timestamp changed", powers: []int64{10, 10, 10, 10}, corrupt: func(c *cmttypes.Commit, _ *cmttypes.ValidatorSet) {
			c.Signatures[1].Timestamp = c.Signatures[1].Timestamp.Add(time.Nanosecond)
		}, want: false},
		{name: "signature moved to another validator", powers: []int64{10, 10, 10, 10}, corrupt: func(c *cmttypes.Commit, _ *cmttypes.ValidatorSet) {
			c.Signatures[0].Signature, c.Signatures[1].Signature = c.Signatures[1].Signature, c.Signatures[0].Signature
		}, want: false},
	}
	r := rand.New(rand.NewPCG(11, 12))
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) { runCommitCase(t, r, tc) })
	}
	// Seeded random sets, signer subsets and corruptions.
	for i := 0; i < 200; i++ {
		n := 1 + r.IntN(12)
		tc := commitCase{name: fmt.Sprintf("random %d", i), random: true}
		for j := 0; j < n; j++ {
			tc.powers = append(tc.powers, 1+r.Int64N(20))
			if r.IntN(3) == 0 {
				tc.absent = append(tc.absent, j)
			}
		}
		if r.IntN(4) == 0 {
			tc.anyLight = true
			k := r.IntN(n)
			tc.corrupt = func(c *cmttypes.Commit, _ *cmttypes.ValidatorSet) {
				if c.Signatures[k].BlockIDFlag == cmttypes.BlockIDFlagCommit {
					c.Signatures[k].Signature[r.IntN(64)] ^= byte(1 + r.IntN(255))
				}
			}
		}
		runCommitCase(t, r, tc)
	}
}

// testChainID is the chain of the commits these tests sign.
const testChainID = "notary-test"

// signCommit signs a commit to a random header by a set of the given powers,
// the validators at absent not signing.
func signCommit(t *testing.T, r *rand.Rand, powers []int64, absentAt []int) (*cmttypes.ValidatorSet, *cmttypes.Header, *cmttypes.Commit) {
	t.Helper()
	const chainID = testChainID
	var vals []*cmttypes.Validator
	pvs := map[string]cmttypes.MockPV{}
	for i, p := range powers {
		pv := receipttest.PrivValidator(fmt.Sprintf("commit/%d/%d", r.IntN(1<<30), i))
		vals = append(vals, cmttypes.NewValidator(pv.PrivKey.PubKey(), p))
		pvs[string(pv.PrivKey.PubKey().Address())] = pv
	}
	vs := cmttypes.NewValidatorSet(vals)
	header := randHeader(r)
	header.ChainID = chainID
	header.ValidatorsHash = vs.Hash()
	blockID := cmttypes.BlockID{Hash: header.Hash(), PartSetHeader: cmttypes.PartSetHeader{Total: 1, Hash: randBytes(r, 32)}}
	absent := map[string]bool{}
	for _, i := range absentAt {
		absent[string(vals[i].Address)] = true
	}
	commit := &cmttypes.Commit{Height: header.Height, Round: int32(r.IntN(2)), BlockID: blockID}
	ts := randTime(r)
	for i, v := range vs.Validators {
		if absent[string(v.Address)] {
			commit.Signatures = append(commit.Signatures, cmttypes.CommitSig{BlockIDFlag: cmttypes.BlockIDFlagAbsent})
			continue
		}
		vote, err := cmttypes.MakeVote(pvs[string(v.Address)], chainID, int32(i), commit.Height, commit.Round, cmtproto.PrecommitType, blockID, ts.Add(time.Duration(i)))
		if err != nil {
			t.Fatal(err)
		}
		commit.Signatures = append(commit.Signatures, vote.CommitSig())
	}
	return vs, header, commit
}

// TestVerifyCommitNamesBadSignature checks that the commit verification
// names the first signature that does not verify, wherever it is, and that
// the refusal is not taken for missing power.
func TestVerifyCommitNamesBadSignature(t *testing.T) {
	r := rand.New(rand.NewPCG(21, 22))
	for _, bad := range [][]int{{0}, {1}, {3}, {2, 3}, {0, 1, 2, 3}} {
		t.Run(fmt.Sprint(bad), func(t *testing.T) {
			vs, header, commit := signCommit(t, r, []int64{10, 10, 10, 10}, nil)
			for _, i := range bad {
				commit.Signatures[i].Signature[5] ^= 0x40
			}
			_, err := verify.VerifyCommit(testChainID, lightSet(vs), vs.TotalVotingPower(), commit.BlockID.Hash, header.Height, receipt.LightCommit(commit))
			want := fmt.Sprintf("signature %d of validator %d (key %x) does not verify", bad[0], bad[0], vs.Validators[bad[0]].PubKey.Bytes())
			if err == nil || err.Error() != want {
				t.Fatalf("got %v, want %q", err, want)
			}
		})
	}
}

func runCommitCase(t *testing.T, r *rand.Rand, tc commitCase) {
	t.Helper()
	const chainID = testChainID
	vs, header, commit := signCommit(t, r, tc.powers, tc.absent)
	blockID := commit.BlockID
	if tc.corrupt != nil {
		tc.corrupt(commit, vs)
	}
	lc := receipt.LightCommit(commit)
	cmtAll := vs.VerifyCommitLightAllSignatures(chainID, blockID, header.Height, commit) == nil
	cmtLight := vs.VerifyCommitLight(chainID, blockID, header.Height, commit) == nil
	_, err := verify.VerifyCommit(chainID, lightSet(vs), vs.TotalVotingPower(), blockID.Hash, header.Height, lc)
	ours := err == nil
	if ours != cmtAll {
		t.Fatalf("%s: verifier %v (%v), CometBFT VerifyCommitLightAllSignatures %v", tc.name, ours, err, cmtAll)
	}
	if !tc.lightOnly && !tc.anyLight && ours != cmtLight {
		t.Fatalf("%s: verifier %v (%v), CometBFT VerifyCommitLight %v", tc.name, ours, err, cmtLight)
	}
	if tc.lightOnly && (!cmtLight || ours) {
		t.Fatalf("%s: want VerifyCommitLight to accept (%v) and the verifier to refuse (%v)", tc.name, cmtLight, ours)
	}
	if !tc.random && ours != tc.want {
		t.Fatalf("%s: verifier %v (%v), want %v", tc.name, ours, err, tc.want)
	}
}

// TestTimesBefore1970MatchCometBFT: a time before 1970 has negative
// seconds (rounded down) and non-negative nanoseconds, its seconds written
// as a 10-byte varint; headers and vote sign bytes with such times, and
// with the first and last valid instants, encode and hash as CometBFT's.
func TestTimesBefore1970MatchCometBFT(t *testing.T) {
	r := rand.New(rand.NewPCG(23, 24))
	times := []time.Time{
		time.Unix(-1, 500_000_000).UTC(), // 1969-12-31T23:59:59.5Z: seconds -1, nanos 500000000
		time.Unix(-1, 0).UTC(),
		time.Date(1900, 1, 1, 0, 0, 0, 1, time.UTC),
		time.Date(1, 1, 1, 0, 0, 0, 0, time.UTC),
		time.Date(9999, 12, 31, 23, 59, 59, 999_999_999, time.UTC),
	}
	for _, tm := range times {
		h := randHeader(r)
		h.Time = tm
		bz, err := h.ToProto().Marshal()
		if err != nil {
			t.Fatal(err)
		}
		ph, err := verify.DecodeHeader(bz)
		if err != nil {
			t.Fatalf("%s: CometBFT's encoding refused: %v", tm, err)
		}
		if ph.Time.Seconds != tm.Unix() || ph.Time.Nanos != int32(tm.Nanosecond()) {
			t.Fatalf("%s: decoded as %d s %d ns", tm, ph.Time.Seconds, ph.Time.Nanos)
		}
		if got, want := verify.HeaderHash(ph), h.Hash(); !bytes.Equal(got, want) {
			t.Fatalf("%s: hash %x, CometBFT %X", tm, got, want)
		}
		v := &cmttypes.Vote{Type: cmtproto.PrecommitType, Height: 7, Round: 1, Timestamp: tm,
			BlockID: cmttypes.BlockID{Hash: randBytes(r, 32), PartSetHeader: cmttypes.PartSetHeader{Total: 1, Hash: randBytes(r, 32)}}}
		want := cmttypes.VoteSignBytes(testChainID, v.ToProto())
		got := verify.VoteSignBytes(testChainID, v.Height, v.Round, pbBlockID(v.BlockID), timestamppb.New(tm))
		if !bytes.Equal(got, want) {
			t.Fatalf("%s: sign bytes\n %x\nCometBFT\n %x", tm, got, want)
		}
	}
	// 1969-12-31T23:59:59.5Z as google.protobuf.Timestamp: seconds -1 as a
	// 10-byte varint, nanos 500000000.
	h := randHeader(r)
	h.Time = times[0]
	bz, err := h.ToProto().Marshal()
	if err != nil {
		t.Fatal(err)
	}
	const want = "221108ffffffffffffffffff011080cab5ee01"
	if !bytes.Contains(bz, mustHex(t, want)) {
		t.Fatalf("header %x does not hold the time field %s", bz, want)
	}
}
