package verify_test

import (
	"bytes"
	"encoding/hex"
	"fmt"
	"math/rand/v2"
	"regexp"
	"strings"
	"testing"
	"time"

	cmtproto "github.com/cometbft/cometbft/proto/tendermint/types"
	cmttypes "github.com/cometbft/cometbft/types"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/reflect/protoreflect"

	"github.com/gobtechlab/notary/app/receipt/receipttest"
	"github.com/gobtechlab/notary/cmd/verifier/verify"
	"github.com/gobtechlab/notary/ledger"
	notaryv1 "github.com/gobtechlab/notary/proto/notary/v1"
)

// The tamper matrix: every field of a valid receipt, changed, is rejected
// with the right reason; random single-byte changes of the file are never
// accepted; a changed document is rejected.

const (
	malformed  = verify.ReasonMalformed
	wrongChain = verify.ReasonWrongChain
	docMis     = verify.ReasonDocumentMismatch
	proofInv   = verify.ReasonProofInvalid
	sigInv     = verify.ReasonSignatureInvalid
	tooFew     = verify.ReasonInsufficientSignatures
	notReached = verify.ReasonValidatorSetNotReached
)

// fieldReasons gives, by field path (list indices as [i]), the reasons a
// changed value may be rejected with. The first pattern that matches wins.
var fieldReasons = []struct {
	pattern string
	reasons []verify.Reason
}{
	{`^version$`, []verify.Reason{malformed}},
	{`^chain_id$`, []verify.Reason{wrongChain}},
	{`^document\.hash_algorithm$`, []verify.Reason{malformed}},
	{`^document\.(document_digest|salt)$`, []verify.Reason{docMis}},
	{`^document\.anchored_digest$`, []verify.Reason{proofInv}},
	// A code key on a plain receipt (or one removed) is refused by the
	// Merkle path, as is any other key; a key that is not 16 bytes of hex
	// is malformed.
	{`^document\.code_key$`, []verify.Reason{malformed, proofInv}},
	{`^inclusion\.(leaf_index|merkle_path\[\d+\])$`, []verify.Reason{proofInv}},
	// Bytes of embedded blobs: a changed byte gives a non-canonical blob or
	// a different, unproven value.
	{`\.(batch|batch_proof|record|proof|revocation)$`, []verify.Reason{malformed, proofInv}},
	{`^(anchor|status\.checkpoint)\.height$`, []verify.Reason{proofInv}},
	{`\.header$`, []verify.Reason{malformed, sigInv}},
	{`\.commit\.`, []verify.Reason{sigInv}},
	{`\.next_validators\[\d+\]\.(pub_key|power)$`, []verify.Reason{notReached}},
}

func reasonsFor(path string) []verify.Reason {
	for _, fr := range fieldReasons {
		if regexp.MustCompile(fr.pattern).MatchString(path) {
			return fr.reasons
		}
	}
	return nil
}

// leaf is a scalar field of a receipt (set or not) inside messages that are set.
type leaf struct {
	path  string
	steps []step
}

type step struct {
	fd    protoreflect.FieldDescriptor
	index int // for list fields
}

// leaves lists every scalar field of m, and of every message (and list
// element) set in it.
func leaves(m protoreflect.Message, prefix string, steps []step) []leaf {
	var out []leaf
	fields := m.Descriptor().Fields()
	for i := 0; i < fields.Len(); i++ {
		fd := fields.Get(i)
		name := prefix + string(fd.Name())
		switch {
		case fd.IsList():
			l := m.Get(fd).List()
			for j := 0; j < l.Len(); j++ {
				p := fmt.Sprintf("%s[%d]", name, j)
				s := append(append([]step(nil), steps...), step{fd: fd, index: j})
				if fd.Message() != nil {
					out = append(out, leaves(l.Get(j).Message(), p+".", s)...)
				} else {
					out = append(out, leaf{path: p, steps: s})
				}
			}
		case fd.Message() != nil:
			if m.Has(fd) {
				out = append(out, leaves(m.Get(fd).Message(), name+".", append(append([]step(nil), steps...), step{fd: fd}))...)
			}
		default:
			out = append(out, leaf{path: name, steps: append(append([]step(nil), steps...), step{fd: fd})})
		}
	}
	return out
}

var hexRE = regexp.MustCompile(`^[0-9a-f]+$`)

// mutate changes the leaf's value in m (a clone of the receipt).
func mutate(m protoreflect.Message, l leaf) {
	for _, s := range l.steps[:len(l.steps)-1] {
		if s.fd.IsList() {
			m = m.Mutable(s.fd).List().Get(s.index).Message()
		} else {
			m = m.Mutable(s.fd).Message()
		}
	}
	last := l.steps[len(l.steps)-1]
	if last.fd.IsList() {
		list := m.Mutable(last.fd).List()
		list.Set(last.index, changed(last.fd, list.Get(last.index)))
		return
	}
	m.Set(last.fd, changed(last.fd, m.Get(last.fd)))
}

// changed returns a different value of the same kind: numbers + 1, hex
// strings with their last digit changed, other strings extended, bytes with
// their last bit flipped (or one byte when empty).
func changed(fd protoreflect.FieldDescriptor, v protoreflect.Value) protoreflect.Value {
	switch fd.Kind() {
	case protoreflect.Uint32Kind:
		return protoreflect.ValueOfUint32(uint32(v.Uint()) + 1)
	case protoreflect.Uint64Kind:
		return protoreflect.ValueOfUint64(v.Uint() + 1)
	case protoreflect.Int32Kind:
		return protoreflect.ValueOfInt32(int32(v.Int()) + 1)
	case protoreflect.Int64Kind:
		return protoreflect.ValueOfInt64(v.Int() + 1)
	case protoreflect.StringKind:
		s := v.String()
		if s != "" && hexRE.MatchString(s) {
			last := s[len(s)-1]
			next := "0123456789abcdef"[(strings.IndexByte("0123456789abcdef", last)+1)%16]
			return protoreflect.ValueOfString(s[:len(s)-1] + string(next))
		}
		if s == "" {
			return protoreflect.ValueOfString(strings.Repeat("a", 64))
		}
		return protoreflect.ValueOfString(s + "x")
	case protoreflect.BoolKind:
		return protoreflect.ValueOfBool(!v.Bool())
	case protoreflect.EnumKind:
		return protoreflect.ValueOfEnum(v.Enum() + 1)
	case protoreflect.BytesKind:
		b := append([]byte(nil), v.Bytes()...)
		if len(b) == 0 {
			return protoreflect.ValueOfBytes([]byte{1})
		}
		b[len(b)-1] ^= 1
		return protoreflect.ValueOfBytes(b)
	}
	panic(fmt.Sprintf("no mutation for %v", fd.Kind()))
}

func expectRejected(t *testing.T, f *fixture, what string, r *notaryv1.Receipt, doc []byte, reasons ...verify.Reason) {
	t.Helper()
	b, err := verify.EncodeReceiptFile(r)
	if err != nil {
		// protojson refuses to write it (for example invalid UTF-8): such a
		// receipt cannot be written, so it cannot be tampered into a file.
		return
	}
	res := checkWith(t, b, f.trust, doc)
	if res.Verdict != verify.NotValid {
		t.Errorf("%s: accepted (%s)", what, res.Verdict)
		return
	}
	for _, want := range reasons {
		if res.Reason == want {
			return
		}
	}
	t.Errorf("%s: rejected as %s (%s), want %v", what, res.Reason, res.Detail, reasons)
}

// TestTamperEveryField changes every scalar field of receipts (with
// validator transitions, signers outside the trust bundle, a revocation) and
// expects the right reason.
func TestTamperEveryField(t *testing.T) {
	for _, opts := range []fixtureOpts{{governed: true}, {revoked: true, later: 2}, {coded: true}} {
		f := newFixture(t, opts)
		if res := f.check(t, f.file); res.Verdict == verify.NotValid {
			t.Fatalf("fixture not valid: %s", res.Detail)
		}
		n := 0
		for _, l := range leaves(f.receipt.ProtoReflect(), "", nil) {
			reasons := reasonsFor(l.path)
			if reasons == nil {
				t.Errorf("%s: no expected reason listed", l.path)
				continue
			}
			r := proto.CloneOf(f.receipt)
			mutate(r.ProtoReflect(), l)
			expectRejected(t, f, l.path, r, f.doc, reasons...)
			n++
		}
		t.Logf("%d fields changed", n)
	}
}

// headerMutations change one field of a CometBFT header each.
var headerMutations = []struct {
	field      string
	fn         func(h *cmttypes.Header)
	checkpoint verify.Reason // reason for a checkpoint header
	transition verify.Reason // reason for a transition header
}{
	{"version.block", func(h *cmttypes.Header) { h.Version.Block++ }, malformed, malformed},
	{"version.app", func(h *cmttypes.Header) { h.Version.App++ }, sigInv, sigInv},
	{"chain_id", func(h *cmttypes.Header) { h.ChainID += "x" }, wrongChain, wrongChain},
	{"height", func(h *cmttypes.Header) { h.Height++ }, proofInv, sigInv},
	{"time", func(h *cmttypes.Header) { h.Time = h.Time.Add(time.Nanosecond) }, sigInv, sigInv},
	{"last_block_id", func(h *cmttypes.Header) { h.LastBlockID.Hash[0] ^= 1 }, sigInv, sigInv},
	{"last_block_id.part_set_header", func(h *cmttypes.Header) { h.LastBlockID.PartSetHeader.Total++ }, sigInv, sigInv},
	{"last_commit_hash", func(h *cmttypes.Header) { h.LastCommitHash[0] ^= 1 }, sigInv, sigInv},
	{"data_hash", func(h *cmttypes.Header) { h.DataHash[0] ^= 1 }, sigInv, sigInv},
	{"validators_hash", func(h *cmttypes.Header) { h.ValidatorsHash[0] ^= 1 }, notReached, notReached},
	{"next_validators_hash", func(h *cmttypes.Header) { h.NextValidatorsHash[0] ^= 1 }, sigInv, sigInv},
	{"consensus_hash", func(h *cmttypes.Header) { h.ConsensusHash[0] ^= 1 }, sigInv, sigInv},
	{"app_hash", func(h *cmttypes.Header) { h.AppHash[0] ^= 1 }, sigInv, sigInv},
	{"last_results_hash", func(h *cmttypes.Header) { h.LastResultsHash[0] ^= 1 }, sigInv, sigInv},
	{"evidence_hash", func(h *cmttypes.Header) { h.EvidenceHash[0] ^= 1 }, sigInv, sigInv},
	{"proposer_address", func(h *cmttypes.Header) { h.ProposerAddress[0] ^= 1 }, sigInv, sigInv},
}

func mutateHeader(t *testing.T, b []byte, fn func(h *cmttypes.Header)) []byte {
	t.Helper()
	var ph cmtproto.Header
	if err := ph.Unmarshal(b); err != nil {
		t.Fatal(err)
	}
	h, err := cmttypes.HeaderFromProto(&ph)
	if err != nil {
		t.Fatal(err)
	}
	fn(&h)
	out, err := h.ToProto().Marshal()
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// TestTamperHeaderFields changes each field inside each header of a receipt.
func TestTamperHeaderFields(t *testing.T) {
	f := newFixture(t, fixtureOpts{governed: true, later: 1})
	if len(f.receipt.ValidatorChain) == 0 {
		t.Fatal("fixture has no validator transition")
	}
	headers := map[string]struct {
		get        func(r *notaryv1.Receipt) *[]byte
		transition bool
	}{
		"anchor":              {func(r *notaryv1.Receipt) *[]byte { return &r.Anchor.Header }, false},
		"status":              {func(r *notaryv1.Receipt) *[]byte { return &r.Status.Checkpoint.Header }, false},
		"validator_chain[0]":  {func(r *notaryv1.Receipt) *[]byte { return &r.ValidatorChain[0].Header }, true},
		"validator_chain[-1]": {func(r *notaryv1.Receipt) *[]byte { return &r.ValidatorChain[len(r.ValidatorChain)-1].Header }, true},
	}
	for name, hd := range headers {
		for _, m := range headerMutations {
			r := proto.CloneOf(f.receipt)
			p := hd.get(r)
			*p = mutateHeader(t, *p, m.fn)
			want := m.checkpoint
			if hd.transition {
				want = m.transition
			}
			expectRejected(t, f, name+".header."+m.field, r, f.doc, want)
		}
	}
}

// TestTamperRecordFields changes each field of each state record in a
// receipt, re-encoded canonically: the ICS23 proofs reject them.
func TestTamperRecordFields(t *testing.T) {
	f := newFixture(t, fixtureOpts{governed: true, revoked: true})
	if len(f.receipt.Anchor.Signers) == 0 || len(f.receipt.Status.Revocation) == 0 {
		t.Fatal("fixture lacks signers or a revocation")
	}
	records := []struct {
		name string
		get  func(r *notaryv1.Receipt) *[]byte
		msg  func() proto.Message
	}{
		{"inclusion.batch", func(r *notaryv1.Receipt) *[]byte { return &r.Inclusion.Batch }, func() proto.Message { return &notaryv1.Batch{} }},
		{"issuer.record", func(r *notaryv1.Receipt) *[]byte { return &r.Issuer.Record }, func() proto.Message { return &notaryv1.Agency{} }},
		{"status.revocation", func(r *notaryv1.Receipt) *[]byte { return &r.Status.Revocation }, func() proto.Message { return &notaryv1.Revocation{} }},
		{"anchor.signers[0].record", func(r *notaryv1.Receipt) *[]byte { return &r.Anchor.Signers[0].Record }, func() proto.Message { return &notaryv1.Ministry{} }},
		{"validator_chain[1].signers[0].record", func(r *notaryv1.Receipt) *[]byte { return &r.ValidatorChain[1].Signers[0].Record }, func() proto.Message { return &notaryv1.Ministry{} }},
	}
	for _, rec := range records {
		m := rec.msg()
		if err := ledger.DecodeCanonical(*rec.get(f.receipt), m); err != nil {
			t.Fatalf("%s: %v", rec.name, err)
		}
		for _, l := range leaves(m.ProtoReflect(), rec.name+"/", nil) {
			l2 := proto.Clone(m)
			mutate(l2.ProtoReflect(), l)
			r := proto.CloneOf(f.receipt)
			*rec.get(r) = ledger.Encode(l2)
			expectRejected(t, f, l.path, r, f.doc, proofInv)
		}
	}
}

// TestTamperStructure removes, adds and reorders parts of receipts.
func TestTamperStructure(t *testing.T) {
	f := newFixture(t, fixtureOpts{governed: true, later: 2})
	other := newFixture(t, fixtureOpts{bare: true, later: 20, chain: receipttest.Options{ChainID: "notary-other"}})
	cases := []struct {
		name   string
		fn     func(r *notaryv1.Receipt)
		reason verify.Reason
	}{
		{"anchor signatures down to half", func(r *notaryv1.Receipt) { r.Anchor.Commit.Signatures = r.Anchor.Commit.Signatures[:2] }, tooFew},
		{"status signatures down to half", func(r *notaryv1.Receipt) {
			r.Status.Checkpoint.Commit.Signatures = r.Status.Checkpoint.Commit.Signatures[2:]
		}, tooFew},
		{"transition signatures down to 2 of 4", func(r *notaryv1.Receipt) {
			r.ValidatorChain[0].Commit.Signatures = r.ValidatorChain[0].Commit.Signatures[:2]
		}, tooFew},
		{"a signature twice", func(r *notaryv1.Receipt) {
			s := r.Anchor.Commit.Signatures
			r.Anchor.Commit.Signatures = append([]*notaryv1.LightSignature{s[0]}, s...)
		}, sigInv},
		{"signatures reordered", func(r *notaryv1.Receipt) {
			s := r.Anchor.Commit.Signatures
			s[0], s[1] = s[1], s[0]
		}, sigInv},
		{"no commit signatures", func(r *notaryv1.Receipt) { r.Anchor.Commit.Signatures = nil }, tooFew},
		{"transition left out", func(r *notaryv1.Receipt) { r.ValidatorChain = r.ValidatorChain[1:] }, notReached},
		{"all transitions left out", func(r *notaryv1.Receipt) { r.ValidatorChain = nil }, notReached},
		{"transitions swapped", func(r *notaryv1.Receipt) {
			r.ValidatorChain[0], r.ValidatorChain[1] = r.ValidatorChain[1], r.ValidatorChain[0]
		}, notReached},
		{"transition twice", func(r *notaryv1.Receipt) {
			r.ValidatorChain = append(r.ValidatorChain, r.ValidatorChain[len(r.ValidatorChain)-1])
		}, notReached},
		{"next validator left out", func(r *notaryv1.Receipt) {
			r.ValidatorChain[0].NextValidators = r.ValidatorChain[0].NextValidators[1:]
		}, notReached},
		{"next validators reordered", func(r *notaryv1.Receipt) {
			nv := r.ValidatorChain[0].NextValidators
			nv[0], nv[1] = nv[1], nv[0]
		}, notReached},
		{"signer record left out", func(r *notaryv1.Receipt) { r.Anchor.Signers = nil }, proofInv},
		{"signer record twice", func(r *notaryv1.Receipt) { r.Anchor.Signers = append(r.Anchor.Signers, r.Anchor.Signers[0]) }, proofInv},
		{"signer record of another state", func(r *notaryv1.Receipt) {
			r.ValidatorChain[1].Signers = r.Anchor.Signers
		}, proofInv},
		{"merkle path shortened", func(r *notaryv1.Receipt) { r.Inclusion.MerklePath = r.Inclusion.MerklePath[1:] }, proofInv},
		{"merkle path extended", func(r *notaryv1.Receipt) {
			r.Inclusion.MerklePath = append(r.Inclusion.MerklePath, r.Inclusion.MerklePath[0])
		}, proofInv},
		{"status of another chain", func(r *notaryv1.Receipt) { r.Status = other.receipt.Status }, wrongChain},
		{"status below the anchor", func(r *notaryv1.Receipt) { r.Status.Checkpoint.Height = r.Anchor.Height - 1 }, proofInv},
		{"status of another receipt", func(r *notaryv1.Receipt) { r.Status.Proof = other.receipt.Status.Proof }, proofInv},
		{"anchor of another chain", func(r *notaryv1.Receipt) { r.Anchor = other.receipt.Anchor }, wrongChain},
		{"issuer proof of another state", func(r *notaryv1.Receipt) { r.Issuer = other.receipt.Issuer }, proofInv},
		{"inclusion of another receipt", func(r *notaryv1.Receipt) { r.Inclusion = other.receipt.Inclusion }, proofInv},
		{"status checkpoint replaced by the anchor", func(r *notaryv1.Receipt) { r.Status.Checkpoint = r.Anchor }, proofInv},
		{"other algorithm", func(r *notaryv1.Receipt) { r.Document.HashAlgorithm = "sha3-256" }, proofInv},
		{"salt removed", func(r *notaryv1.Receipt) { r.Document.Salt = "" }, docMis},
		{"document digest removed", func(r *notaryv1.Receipt) { r.Document.DocumentDigest = "" }, ""},
		{"uppercase hex", func(r *notaryv1.Receipt) { r.Document.Salt = strings.ToUpper(r.Document.Salt) }, malformed},
		{"no status", func(r *notaryv1.Receipt) { r.Status = nil }, malformed},
		{"no part set header", func(r *notaryv1.Receipt) { r.Anchor.Commit.BlockId.PartSetHeader = nil }, malformed},
		{"no signature timestamp", func(r *notaryv1.Receipt) { r.Anchor.Commit.Signatures[0].Timestamp = nil }, malformed},
		{"existence proof for the status", func(r *notaryv1.Receipt) { r.Status.Proof = r.Issuer.Proof }, malformed},
	}
	for _, tc := range cases {
		r := proto.CloneOf(f.receipt)
		tc.fn(r)
		if tc.reason == "" {
			// Removing the document digest keeps the receipt valid: the
			// verifier computes it from the document.
			if res := f.check(t, encode(t, r)); res.Verdict != verify.Valid {
				t.Errorf("%s: %s (%s)", tc.name, res.Reason, res.Detail)
			}
			continue
		}
		expectRejected(t, f, tc.name, r, f.doc, tc.reason)
	}
}

// TestTamperDocument changes every byte of the document in turn.
func TestTamperDocument(t *testing.T) {
	f := newFixture(t, fixtureOpts{})
	r := rand.New(rand.NewPCG(13, 14))
	for i := range f.doc {
		doc := append([]byte(nil), f.doc...)
		doc[i] ^= byte(1 + r.IntN(255))
		expectRejected(t, f, fmt.Sprintf("document byte %d", i), f.receipt, doc, docMis)
	}
	for name, doc := range map[string][]byte{
		"empty": {}, "truncated": f.doc[:len(f.doc)-1], "extended": append(append([]byte(nil), f.doc...), '\n'),
	} {
		expectRejected(t, f, "document "+name, f.receipt, doc, docMis)
	}
}

func isSpace(b byte) bool { return b == ' ' || b == '\t' || b == '\n' || b == '\r' }

// TestRandomByteChanges: 10,000 seeded random single-byte changes of a
// receipt file (a whitespace byte replaced by whitespace aside) are never
// accepted.
func TestRandomByteChanges(t *testing.T) {
	f := newFixture(t, fixtureOpts{governed: true})
	r := rand.New(rand.NewPCG(15, 16))
	reasons := map[verify.Reason]int{}
	for n := 0; n < 10_000; {
		file := append([]byte(nil), f.file...)
		i := r.IntN(len(file))
		b := byte(r.IntN(256))
		if b == file[i] || (isSpace(b) && isSpace(file[i])) {
			continue
		}
		file[i] = b
		res := f.check(t, file)
		if res.Verdict != verify.NotValid {
			t.Fatalf("byte %d changed from %q to %q: accepted (%s): %s", i, f.file[i], b, res.Verdict, f.file[max(0, i-200):min(len(f.file), i+40)])
		}
		reasons[res.Reason]++
		n++
	}
	t.Logf("rejections by reason: %v", reasons)
}

// TestTamperCodeKey: the leaf of a document anchored under a verification
// code is its key and its anchored digest, so a receipt whose code_key is
// removed, another document's, or added to a plain receipt fails the
// Merkle path; a code_key that is not 16 bytes of lowercase hex is
// malformed; a salt from another code fails the document.
func TestTamperCodeKey(t *testing.T) {
	coded := newFixture(t, fixtureOpts{coded: true})
	plain := newFixture(t, fixtureOpts{})
	res := coded.check(t, coded.file)
	if res.Verdict != verify.Valid || res.Proven.Document.CodeKey != fmt.Sprintf("%x", codeKey(testCode)) || !res.Proven.Document.Salted {
		t.Fatalf("coded fixture: %s %s %+v", res.Verdict, res.Detail, res.Proven)
	}
	if res := plain.check(t, plain.file); res.Verdict != verify.Valid || res.Proven.Document.CodeKey != "" {
		t.Fatalf("plain fixture: %s %s", res.Verdict, res.Detail)
	}
	cases := []struct {
		name string
		f    *fixture
		fn   func(d *notaryv1.DocumentBinding)
		want verify.Reason
	}{
		{"code key removed", coded, func(d *notaryv1.DocumentBinding) { d.CodeKey = "" }, proofInv},
		{"another document's code key", coded, func(d *notaryv1.DocumentBinding) { d.CodeKey = fmt.Sprintf("%x", otherKeys(1)[0]) }, proofInv},
		{"a code key on a plain receipt", plain, func(d *notaryv1.DocumentBinding) { d.CodeKey = fmt.Sprintf("%x", codeKey(testCode)) }, proofInv},
		{"code key in upper case", coded, func(d *notaryv1.DocumentBinding) { d.CodeKey = strings.ToUpper(d.CodeKey) }, malformed},
		{"code key of 15 bytes", coded, func(d *notaryv1.DocumentBinding) { d.CodeKey = d.CodeKey[:30] }, malformed},
		{"code key of 32 bytes", coded, func(d *notaryv1.DocumentBinding) { d.CodeKey += d.CodeKey }, malformed},
		{"salt of another code", coded, func(d *notaryv1.DocumentBinding) {
			d.Salt = fmt.Sprintf("%x", codeSalt("OTHER000000000000001"))
			d.DocumentDigest = ""
		}, docMis},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			r := proto.CloneOf(tc.f.receipt)
			tc.fn(r.Document)
			expectRejected(t, tc.f, tc.name, r, tc.f.doc, tc.want)
			// VerifyReceipt, for a decoded receipt, reaches the same verdict.
			res, err := verify.VerifyReceipt(r, tc.f.trust, strings.NewReader(string(tc.f.doc)))
			if err != nil || res.Verdict != verify.NotValid || res.Reason != tc.want {
				t.Fatalf("VerifyReceipt: %v %s %s (%s)", err, res.Verdict, res.Reason, res.Detail)
			}
		})
	}
}

// TestCodedStatus: a coded document's status is the record at its code
// key's revocation key, naming the key and no digest. A revoked coded
// receipt verifies as revoked; a record for another key or for the digest
// is refused; a plain document with the same anchored digest, revoked,
// leaves the coded one valid, and its status does not fit the coded
// receipt.
func TestCodedStatus(t *testing.T) {
	revoked := newFixture(t, fixtureOpts{coded: true, revoked: true})
	res := revoked.check(t, revoked.file)
	if res.Verdict != verify.Revoked || res.Proven.Status.Revocation == nil || res.Proven.Status.Revocation.RevokedBy != "agency/"+receipttest.Agency {
		t.Fatalf("revoked coded receipt: %s %s %+v", res.Verdict, res.Detail, res.Proven.Status)
	}
	rev := &notaryv1.Revocation{}
	if err := proto.Unmarshal(revoked.receipt.Status.Revocation, rev); err != nil {
		t.Fatal(err)
	}
	if len(rev.Digest) != 0 || !bytes.Equal(rev.CodeKey, codeKey(testCode)) {
		t.Fatalf("record %v", rev)
	}
	tampered := []struct {
		name string
		fn   func(rv *notaryv1.Revocation)
	}{
		{"another key", func(rv *notaryv1.Revocation) { rv.CodeKey = otherKeys(1)[0] }},
		{"no key", func(rv *notaryv1.Revocation) { rv.CodeKey = nil }},
		{"the digest beside the key", func(rv *notaryv1.Revocation) {
			rv.Digest, _ = hex.DecodeString(revoked.receipt.Document.AnchoredDigest)
		}},
		{"the digest instead of the key", func(rv *notaryv1.Revocation) {
			rv.Digest, _ = hex.DecodeString(revoked.receipt.Document.AnchoredDigest)
			rv.CodeKey = nil
		}},
	}
	for _, tc := range tampered {
		t.Run(tc.name, func(t *testing.T) {
			r := proto.CloneOf(revoked.receipt)
			rv := proto.CloneOf(rev)
			tc.fn(rv)
			r.Status.Revocation = ledger.Encode(rv)
			expectRejected(t, revoked, tc.name, r, revoked.doc, proofInv)
		})
	}

	// A plain batch anchors the coded document's digest, as another
	// document, and revokes it: the coded document stays valid.
	coded := newFixture(t, fixtureOpts{coded: true})
	anchored, _ := hex.DecodeString(coded.receipt.Document.AnchoredDigest)
	c := coded.chain
	c.Anchor(sha2, "otro", anchored)
	c.Revoke(sha2, anchored, notaryv1.RevocationReason_REVOCATION_REASON_FRAUD, "")
	c.Empty(1)
	fresh := c.ReceiptByCode(codeKey(testCode))
	if len(fresh.Status.Revocation) != 0 {
		t.Fatal("the plain document's revocation shows in the coded receipt")
	}
	r := proto.CloneOf(coded.receipt)
	r.Status, r.ValidatorChain = fresh.Status, fresh.ValidatorChain
	if res := checkWith(t, mustFile(t, r), coded.trust, coded.doc); res.Verdict != verify.Valid {
		t.Fatalf("coded receipt after the plain revocation: %s %s", res.Verdict, res.Detail)
	}
	plain := c.Receipt(sha2, anchored)
	if len(plain.Status.Revocation) == 0 || plain.Document.CodeKey != "" {
		t.Fatal("the plain document is not revoked")
	}
	r.Status, r.ValidatorChain = plain.Status, plain.ValidatorChain
	expectRejected(t, coded, "the plain document's status", r, coded.doc, proofInv)
}

func mustFile(t *testing.T, r *notaryv1.Receipt) []byte {
	t.Helper()
	b, err := verify.EncodeReceiptFile(r)
	if err != nil {
		t.Fatal(err)
	}
	return b
}
