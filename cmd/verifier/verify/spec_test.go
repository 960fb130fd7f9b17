package verify_test

import (
	"crypto/sha256"
	"strings"
	"testing"
	"time"

	cmtproto "github.com/cometbft/cometbft/proto/tendermint/types"
	cmttypes "github.com/cometbft/cometbft/types"
	cmtversion "github.com/cometbft/cometbft/version"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/timestamppb"

	"github.com/gobtechlab/notary/app/receipt"
	"github.com/gobtechlab/notary/cmd/verifier/verify"
	"github.com/gobtechlab/notary/ledger"
	notaryv1 "github.com/gobtechlab/notary/proto/notary/v1"
)

// The rules of docs/receipt.md that a receipt from a real chain always
// meets, each broken once: a receipt of the synthetic chain changed in one
// place, re-signed by the chain's validators where the change is inside a
// signed header or commit, is refused with the reason and detail the
// document gives.

// decodeHeaderBytes returns CometBFT's header of a receipt's header bytes.
func decodeHeaderBytes(t *testing.T, b []byte) *cmttypes.Header {
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

// resign changes a signed header of a receipt with fn and replaces its
// commit by one that the header's validators sign, at round, for the
// changed header.
func resign(t *testing.T, f *fixture, header *[]byte, commit **notaryv1.LightCommit, round int32, fn func(h *cmttypes.Header)) {
	t.Helper()
	h := decodeHeaderBytes(t, *header)
	fn(h)
	b, err := h.ToProto().Marshal()
	if err != nil {
		t.Fatal(err)
	}
	vals, err := f.chain.Validators(h.Height)
	if err != nil {
		t.Fatal(err)
	}
	hash := h.Hash()
	psh := sha256.Sum256(hash)
	blockID := cmttypes.BlockID{Hash: hash, PartSetHeader: cmttypes.PartSetHeader{Total: 1, Hash: psh[:]}}
	*header = b
	*commit = receipt.LightCommit(f.chain.SignCommit(f.chain.ChainID(), h.Height, round, blockID, vals, h.Time.Add(400*time.Millisecond), nil))
}

// record changes a state record of a receipt, re-encoded canonically.
func record[M proto.Message](t *testing.T, b *[]byte, m M, fn func(m M)) {
	t.Helper()
	if err := ledger.DecodeCanonical(*b, m); err != nil {
		t.Fatal(err)
	}
	fn(m)
	*b = ledger.Encode(m)
}

func batchOf(t *testing.T, r *notaryv1.Receipt) *notaryv1.Batch {
	t.Helper()
	b := &notaryv1.Batch{}
	if err := ledger.DecodeCanonical(r.Inclusion.Batch, b); err != nil {
		t.Fatal(err)
	}
	return b
}

func TestSpecRules(t *testing.T) {
	plain := newFixture(t, fixtureOpts{later: 2})
	revoked := newFixture(t, fixtureOpts{revoked: true, later: 1})
	governed := newFixture(t, fixtureOpts{governed: true, later: 1})
	for _, f := range []*fixture{plain, revoked, governed} {
		if res := f.check(t, f.file); res.Verdict == verify.NotValid {
			t.Fatalf("fixture not valid: %s", res.Detail)
		}
	}
	revocation := func(fn func(t *testing.T, r *notaryv1.Receipt, rv *notaryv1.Revocation)) func(t *testing.T, r *notaryv1.Receipt) {
		return func(t *testing.T, r *notaryv1.Receipt) {
			record(t, &r.Status.Revocation, &notaryv1.Revocation{}, func(rv *notaryv1.Revocation) { fn(t, r, rv) })
		}
	}
	batch := func(fn func(t *testing.T, r *notaryv1.Receipt, b *notaryv1.Batch)) func(t *testing.T, r *notaryv1.Receipt) {
		return func(t *testing.T, r *notaryv1.Receipt) {
			record(t, &r.Inclusion.Batch, &notaryv1.Batch{}, func(b *notaryv1.Batch) { fn(t, r, b) })
		}
	}
	// unsigned changes a header without re-signing it (the change is
	// refused before any signature is checked).
	unsigned := func(fn func(h *cmttypes.Header)) func(t *testing.T, r *notaryv1.Receipt) {
		return func(t *testing.T, r *notaryv1.Receipt) { r.Anchor.Header = mutateHeader(t, r.Anchor.Header, fn) }
	}
	anchorTime := func(t *testing.T, r *notaryv1.Receipt) time.Time {
		return decodeHeaderBytes(t, r.Anchor.Header).Time
	}
	cases := []struct {
		name   string
		f      *fixture
		fn     func(t *testing.T, r *notaryv1.Receipt)
		trust  func(tb *notaryv1.TrustBundle)
		reason verify.Reason
		detail string
	}{
		// Step 1: header fields as CometBFT's light client requires them.
		{"header version.block not 11", plain, unsigned(func(h *cmttypes.Header) { h.Version.Block = 10 }), nil, malformed, "version.block 10, want 11"},
		{"header chain_id of 51 bytes", plain, unsigned(func(h *cmttypes.Header) { h.ChainID = strings.Repeat("n", 51) }), nil, malformed, "chain_id of 51 bytes"},
		{"header data_hash of 31 bytes", plain, unsigned(func(h *cmttypes.Header) { h.DataHash = h.DataHash[:31] }), nil, malformed, "data_hash of 31 bytes"},
		{"header last_block_id hash of 31 bytes", plain, unsigned(func(h *cmttypes.Header) { h.LastBlockID.Hash = h.LastBlockID.Hash[:31] }), nil, malformed, "last_block_id.hash of 31 bytes"},
		{"header evidence_hash of 33 bytes", plain, unsigned(func(h *cmttypes.Header) { h.EvidenceHash = append(h.EvidenceHash, 0) }), nil, malformed, "evidence_hash of 33 bytes"},
		{"header proposer_address of 19 bytes", plain, unsigned(func(h *cmttypes.Header) { h.ProposerAddress = h.ProposerAddress[:19] }), nil, malformed, "proposer_address of 19 bytes"},
		{"header without proposer_address", plain, unsigned(func(h *cmttypes.Header) { h.ProposerAddress = nil }), nil, malformed, "proposer_address of 0 bytes"},
		// Step 3: the validator chain.
		{"transition header below the bundle's initial_height", governed, func(*testing.T, *notaryv1.Receipt) {}, func(tb *notaryv1.TrustBundle) { tb.InitialHeight = 4 },
			notReached, "is below the chain's initial height 4"},
		{"transition time not after the previous transition's", governed, func(t *testing.T, r *notaryv1.Receipt) {
			prev := decodeHeaderBytes(t, r.ValidatorChain[0].Header).Time
			resign(t, governed, &r.ValidatorChain[1].Header, &r.ValidatorChain[1].Commit, 0, func(h *cmttypes.Header) { h.Time = prev })
		}, nil, notReached, "not after the time"},
		{"transition app hash of 31 bytes", governed, func(t *testing.T, r *notaryv1.Receipt) {
			resign(t, governed, &r.ValidatorChain[0].Header, &r.ValidatorChain[0].Commit, 0, func(h *cmttypes.Header) { h.AppHash = h.AppHash[:31] })
		}, nil, proofInv, "validator_chain[0]: header app hash of 31 bytes"},
		{"transition to a set with a validator of power 0", governed, func(t *testing.T, r *notaryv1.Receipt) {
			nv := r.ValidatorChain[0].NextValidators
			nv[len(nv)-1].Power = 0
			var set []verify.Validator
			for _, v := range nv {
				set = append(set, verify.Validator{PubKey: v.PubKey, Power: v.Power})
			}
			resign(t, governed, &r.ValidatorChain[0].Header, &r.ValidatorChain[0].Commit, 0, func(h *cmttypes.Header) {
				h.NextValidatorsHash = verify.ValidatorSetHash(set)
			})
		}, nil, notReached, "voting power 0 out of range"},
		{"transition commit of round -1", governed, func(t *testing.T, r *notaryv1.Receipt) {
			resign(t, governed, &r.ValidatorChain[0].Header, &r.ValidatorChain[0].Commit, -1, func(*cmttypes.Header) {})
		}, nil, sigInv, "commit round -1 is negative"},
		{"ministry record id outside the alphabet", governed, func(t *testing.T, r *notaryv1.Receipt) {
			record(t, &r.ValidatorChain[1].Signers[0].Record, &notaryv1.Ministry{}, func(m *notaryv1.Ministry) { m.Id = "Educacion" })
		}, nil, proofInv, `ministry record id "Educacion" is not`},
		// Step 4: the anchor checkpoint.
		{"anchor header below the bundle's initial_height", plain, func(*testing.T, *notaryv1.Receipt) {}, func(tb *notaryv1.TrustBundle) { tb.InitialHeight = 100 },
			notReached, "header height 3 is below the chain's initial height 100"},
		{"anchor commit of round -1", plain, func(t *testing.T, r *notaryv1.Receipt) {
			resign(t, plain, &r.Anchor.Header, &r.Anchor.Commit, -1, func(*cmttypes.Header) {})
		}, nil, sigInv, "commit round -1 is negative"},
		{"anchor app hash of 31 bytes", plain, func(t *testing.T, r *notaryv1.Receipt) {
			resign(t, plain, &r.Anchor.Header, &r.Anchor.Commit, 0, func(h *cmttypes.Header) { h.AppHash = h.AppHash[:31] })
		}, nil, proofInv, "anchor: header app hash of 31 bytes"},
		{"anchor app hash empty", plain, func(t *testing.T, r *notaryv1.Receipt) {
			resign(t, plain, &r.Anchor.Header, &r.Anchor.Commit, 0, func(h *cmttypes.Header) { h.AppHash = nil })
		}, nil, proofInv, "anchor: header app hash of 0 bytes"},
		// Step 5: the status checkpoint.
		{"status height below the anchor height", plain, func(_ *testing.T, r *notaryv1.Receipt) { r.Status.Checkpoint.Height = r.Anchor.Height - 1 }, nil,
			proofInv, "status height 1 is below the anchor height 2"},
		{"status header older than the anchor header", plain, func(t *testing.T, r *notaryv1.Receipt) {
			at := anchorTime(t, r)
			resign(t, plain, &r.Status.Checkpoint.Header, &r.Status.Checkpoint.Commit, 0, func(h *cmttypes.Header) { h.Time = at.Add(-time.Second) })
		}, nil, proofInv, "status checkpoint header 5 has time"},
		{"status header as old as the anchor header", plain, func(t *testing.T, r *notaryv1.Receipt) {
			at := anchorTime(t, r)
			resign(t, plain, &r.Status.Checkpoint.Header, &r.Status.Checkpoint.Commit, 0, func(h *cmttypes.Header) { h.Time = at })
		}, nil, proofInv, "not after the time"},
		{"status header of the anchor's height, another header", plain, func(t *testing.T, r *notaryv1.Receipt) {
			r.Status.Checkpoint = proto.CloneOf(r.Anchor)
			resign(t, plain, &r.Status.Checkpoint.Header, &r.Status.Checkpoint.Commit, 0, func(h *cmttypes.Header) { h.LastResultsHash[0] ^= 1 })
		}, nil, proofInv, "two different headers of height 3"},
		{"transition header older than the anchor header", governed, func(t *testing.T, r *notaryv1.Receipt) {
			at := anchorTime(t, r)
			last := len(r.ValidatorChain) - 1
			// The last transition is below the anchor: give it a time after it.
			resign(t, governed, &r.ValidatorChain[last].Header, &r.ValidatorChain[last].Commit, 0, func(h *cmttypes.Header) { h.Time = at.Add(time.Second) })
		}, nil, proofInv, "not after the time"},
		// Step 6: the batch record.
		{"batch record without a time", plain, batch(func(_ *testing.T, _ *notaryv1.Receipt, b *notaryv1.Batch) { b.Time = nil }), nil,
			proofInv, "the batch record has no time"},
		{"batch record time with negative nanoseconds", plain, batch(func(_ *testing.T, _ *notaryv1.Receipt, b *notaryv1.Batch) { b.Time.Nanos = -1 }), nil,
			proofInv, "the batch record has an invalid time"},
		{"batch record time after year 9999", plain, batch(func(_ *testing.T, _ *notaryv1.Receipt, b *notaryv1.Batch) { b.Time.Seconds = 253402300800 }), nil,
			proofInv, "the batch record has an invalid time"},
		{"batch record time not before the anchor header's", plain, batch(func(t *testing.T, r *notaryv1.Receipt, b *notaryv1.Batch) {
			b.Time = timestamppb.New(anchorTime(t, r))
		}), nil, proofInv, "is not before the time"},
		{"batch record agency id outside the alphabet", plain, batch(func(_ *testing.T, _ *notaryv1.Receipt, b *notaryv1.Batch) { b.AgencyId = "registro civil" }), nil,
			proofInv, `agency id "registro civil" is not`},
		{"batch record agency id starting with -", plain, batch(func(_ *testing.T, _ *notaryv1.Receipt, b *notaryv1.Batch) { b.AgencyId = "-registro" }), nil,
			proofInv, `agency id "-registro" is not`},
		// Step 9: the status.
		{"revocation record without a time", revoked, revocation(func(_ *testing.T, _ *notaryv1.Receipt, rv *notaryv1.Revocation) { rv.Time = nil }), nil,
			proofInv, "the revocation record has no time"},
		{"revocation record time before 0001", revoked, revocation(func(_ *testing.T, _ *notaryv1.Receipt, rv *notaryv1.Revocation) {
			rv.Time = &timestamppb.Timestamp{Seconds: -62135596801}
		}), nil, proofInv, "the revocation record has an invalid time"},
		{"revocation record height above the status height", revoked, revocation(func(_ *testing.T, _ *notaryv1.Receipt, rv *notaryv1.Revocation) { rv.Height += 10 }), nil,
			proofInv, "above the status height"},
		{"revocation record at a height before its batch", revoked, revocation(func(t *testing.T, r *notaryv1.Receipt, rv *notaryv1.Revocation) {
			rv.Height = batchOf(t, r).Height - 1
		}), nil, proofInv, "is dated before its batch"},
		{"revocation record of negative height", revoked, revocation(func(_ *testing.T, _ *notaryv1.Receipt, rv *notaryv1.Revocation) { rv.Height = -1 }), nil,
			proofInv, "is dated before its batch"},
		{"revocation record at a time before its batch", revoked, revocation(func(t *testing.T, r *notaryv1.Receipt, rv *notaryv1.Revocation) {
			rv.Time = timestamppb.New(batchOf(t, r).Time.AsTime().Add(-time.Nanosecond))
		}), nil, proofInv, "is dated before its batch"},
		{"revocation record time not before the status header's", revoked, revocation(func(t *testing.T, r *notaryv1.Receipt, rv *notaryv1.Revocation) {
			rv.Time = timestamppb.New(decodeHeaderBytes(t, r.Status.Checkpoint.Header).Time)
		}), nil, proofInv, "is not before the time"},
		{"revoked_by of another form", revoked, revocation(func(_ *testing.T, _ *notaryv1.Receipt, rv *notaryv1.Revocation) { rv.RevokedBy = "registro-civil" }), nil,
			proofInv, "revoked_by"},
		{"revoked_by an agency id outside the alphabet", revoked, revocation(func(_ *testing.T, _ *notaryv1.Receipt, rv *notaryv1.Revocation) { rv.RevokedBy = "agency/Registro" }), nil,
			proofInv, "revoked_by"},
		{"revoked_by a proposal id with a leading zero", revoked, revocation(func(_ *testing.T, _ *notaryv1.Receipt, rv *notaryv1.Revocation) { rv.RevokedBy = "governance/07" }), nil,
			proofInv, "revoked_by"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			r := proto.CloneOf(tc.f.receipt)
			tc.fn(t, r)
			trust := tc.f.trust
			if tc.trust != nil {
				trust = proto.CloneOf(trust)
				tc.trust(trust)
			}
			res := checkWith(t, encode(t, r), trust, tc.f.doc)
			if res.Verdict != verify.NotValid || res.Reason != tc.reason || !strings.Contains(res.Detail, tc.detail) {
				t.Fatalf("got %s %s (%s), want %s with %q", res.Verdict, res.Reason, res.Detail, tc.reason, tc.detail)
			}
		})
	}
}

// TestSpecRulesKeepValid: what the document says a verifier does not check
// leaves a receipt valid.
func TestSpecRulesKeepValid(t *testing.T) {
	revoked := newFixture(t, fixtureOpts{revoked: true, later: 1})
	cases := []struct {
		name string
		fn   func(t *testing.T, r *notaryv1.Receipt)
	}{
		// A revocation in the block of its batch is dated as its batch.
		{"revocation at its batch's height and time", func(t *testing.T, r *notaryv1.Receipt) {
			b := batchOf(t, r)
			record(t, &r.Status.Revocation, &notaryv1.Revocation{}, func(rv *notaryv1.Revocation) { rv.Height, rv.Time = b.Height, b.Time })
		}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			r := proto.CloneOf(revoked.receipt)
			tc.fn(t, r)
			res := revoked.check(t, encode(t, r))
			// The changed record no longer verifies against the app hash:
			// the checks of its dates passed when the ICS23 proof is what fails.
			if res.Reason != proofInv || !strings.Contains(res.Detail, "does not verify against app hash") {
				t.Fatalf("got %s %s (%s), want the ICS23 proof to be what fails", res.Verdict, res.Reason, res.Detail)
			}
		})
	}
}

// TestBlockProtocol: the block protocol the verifier requires is CometBFT's.
func TestBlockProtocol(t *testing.T) {
	h := decodeHeaderBytes(t, newFixture(t, fixtureOpts{}).receipt.Anchor.Header)
	if h.Version.Block != cmtversion.BlockProtocol {
		t.Fatalf("header version.block %d, CometBFT %d", h.Version.Block, cmtversion.BlockProtocol)
	}
	ph := &notaryv1.CometHeader{Version: &notaryv1.CometConsensusVersion{Block: cmtversion.BlockProtocol}, Height: 1, ProposerAddress: make([]byte, 20)}
	if err := verify.CheckHeaderFields(ph); err != nil {
		t.Fatal(err)
	}
}

// TestTrustBundleMinistryID: a trust bundle whose ministry id is outside
// the alphabet of ids is refused (a usage error, not a verdict).
func TestTrustBundleMinistryID(t *testing.T) {
	f := newFixture(t, fixtureOpts{})
	for _, id := range []string{"Justicia", "-justicia", "justicia/x", strings.Repeat("j", 65)} {
		tb := proto.CloneOf(f.trust)
		tb.Validators[0].MinistryId = id
		if err := verify.CheckTrustBundle(tb); err == nil || !strings.Contains(err.Error(), "is not 1..64 characters") {
			t.Errorf("ministry_id %q: %v", id, err)
		}
	}
}
