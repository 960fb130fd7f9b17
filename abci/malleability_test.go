package abci

import (
	"context"
	"crypto/ed25519"
	"testing"
	"time"

	abcitypes "github.com/cometbft/cometbft/abci/types"
	"google.golang.org/protobuf/encoding/protojson"
	"google.golang.org/protobuf/encoding/protowire"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/timestamppb"

	"github.com/gobtechlab/notary/abci/abcitest"
	"github.com/gobtechlab/notary/app/identity"
	"github.com/gobtechlab/notary/ledger"
	notaryv1 "github.com/gobtechlab/notary/proto/notary/v1"
)

// field is one encoded protobuf field.
type field struct {
	num protowire.Number
	typ protowire.Type
	raw []byte // the value's encoding (length-prefixed for bytes)
}

// fields splits an encoding into its fields, in order.
func fields(t *testing.T, b []byte) []field {
	t.Helper()
	var out []field
	for len(b) > 0 {
		num, typ, n := protowire.ConsumeTag(b)
		if n < 0 {
			t.Fatal(protowire.ParseError(n))
		}
		b = b[n:]
		m := protowire.ConsumeFieldValue(num, typ, b)
		if m < 0 {
			t.Fatal(protowire.ParseError(m))
		}
		out = append(out, field{num, typ, b[:m]})
		b = b[m:]
	}
	return out
}

func join(fs []field) []byte {
	var b []byte
	for _, f := range fs {
		b = protowire.AppendTag(b, f.num, f.typ)
		b = append(b, f.raw...)
	}
	return b
}

// nonMinimalLength re-encodes a bytes field's length prefix with a padded
// (non-minimal) varint: the same value, more bytes.
func nonMinimalLength(f field) field {
	v, n := protowire.ConsumeVarint(f.raw)
	var pre []byte
	for i := 0; i < 4; i++ {
		pre = append(pre, byte(v&0x7f)|0x80)
		v >>= 7
	}
	pre = append(pre, byte(v))
	return field{f.num, f.typ, append(pre, f.raw[n:]...)}
}

// signNonCanonical signs an arbitrary body encoding, as a malicious or
// careless signer could.
func signNonCanonical(body []byte) []byte {
	k := key("aeat")
	sig := ed25519.Sign(k, ledger.SignBytes(testChain, body))
	return ledger.Encode(&notaryv1.Tx{Body: body, PubKey: pubOf(k), Signature: sig})
}

// TestMalleability: re-encodings of a valid transaction (field order,
// non-minimal varints, duplicate fields, unknown fields, another signature
// encoding) are refused by CheckTx and make ProcessProposal reject the block;
// decided anyway, they never create a second record.
func TestMalleability(t *testing.T) {
	ctx := context.Background()
	a := openApp(t, t.TempDir())
	defer func() { _ = a.Close() }()
	initChain(t, a)
	block(t, a, 1)

	ds := digestsOf("malleable", 3)
	body := &notaryv1.TxBody{Sequence: 0, Msg: &notaryv1.TxBody_AnchorBatch{AnchorBatch: &notaryv1.AnchorBatch{
		AgencyId: "aeat", HashAlgorithm: notaryv1.HashAlgorithm_HASH_ALGORITHM_SHA2_256, Digests: ds, Label: "lote",
	}}}
	good := identity.SignTx(testChain, key("aeat"), body)
	env := fields(t, good)
	var envMsg notaryv1.Tx
	if err := proto.Unmarshal(good, &envMsg); err != nil {
		t.Fatal(err)
	}
	bodyFields := fields(t, envMsg.Body)

	// S + L: the same signature scalar, non-canonically encoded.
	sPlusL := func() []byte {
		l := []byte{0xed, 0xd3, 0xf5, 0x5c, 0x1a, 0x63, 0x12, 0x58, 0xd6, 0x9c, 0xf7, 0xa2, 0xde, 0xf9, 0xde, 0x14,
			0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x10}
		s := append([]byte{}, envMsg.Signature...)
		var carry uint16
		for i := 0; i < 32; i++ {
			v := uint16(s[32+i]) + uint16(l[i]) + carry
			s[32+i], carry = byte(v), v>>8
		}
		return ledger.Encode(&notaryv1.Tx{Body: envMsg.Body, PubKey: envMsg.PubKey, Signature: s})
	}()

	variants := map[string][]byte{
		"envelope fields reordered":   join([]field{env[2], env[1], env[0]}),
		"non-minimal varint length":   join([]field{nonMinimalLength(env[0]), env[1], env[2]}),
		"duplicate signature field":   join([]field{env[0], env[1], env[2], env[2]}),
		"unknown envelope field":      append(append([]byte{}, good...), protowire.AppendVarint(protowire.AppendTag(nil, 9, protowire.VarintType), 1)...),
		"signature S+L":               sPlusL,
		"body reordered, re-signed":   signNonCanonical(join(reverse(bodyFields))),
		"body unknown field, signed":  signNonCanonical(append(append([]byte{}, envMsg.Body...), protowire.AppendVarint(protowire.AppendTag(nil, 99, protowire.VarintType), 7)...)),
		"body duplicate field signed": signNonCanonical(append(append([]byte{}, envMsg.Body...), join(bodyFields[len(bodyFields)-1:])...)),
	}
	for name, raw := range variants {
		var decoded notaryv1.Tx
		if proto.Unmarshal(raw, &decoded) != nil {
			t.Fatalf("%s: the variant does not even decode; the test would prove nothing", name)
		}
		chk, _ := a.CheckTx(ctx, &abcitypes.RequestCheckTx{Tx: raw})
		if chk.Code == 0 {
			t.Errorf("%s: accepted by CheckTx", name)
		}
		proc, _ := a.ProcessProposal(ctx, &abcitypes.RequestProcessProposal{Txs: [][]byte{raw}, Height: 2})
		if proc.Status != abcitypes.ResponseProcessProposal_REJECT {
			t.Errorf("%s: ProcessProposal accepted the block", name)
		}
	}
	// Decided anyway, alongside the original: exactly one record.
	txs := [][]byte{good}
	for _, raw := range variants {
		txs = append(txs, raw)
	}
	fin := finalizeCommit(t, a, 2, txs)
	if fin.TxResults[0].Code != 0 {
		t.Fatalf("original refused: %s", fin.TxResults[0].Log)
	}
	for i, r := range fin.TxResults[1:] {
		if r.Code == 0 {
			t.Fatalf("variant %d created a second record", i)
		}
	}
	view, _ := a.StateAt(0)
	n := 0
	_ = view.Iterate(ledger.BatchKey(2, 0), ledger.PrefixEnd([]byte("batch/")), func(k, v []byte) bool { n++; return true })
	if n != 1 {
		t.Fatalf("%d batch records, want 1", n)
	}
}

func reverse(fs []field) []field {
	out := make([]field, len(fs))
	for i, f := range fs {
		out[len(fs)-1-i] = f
	}
	return out
}

// rewrap replaces, inside the encoded message b, the length-delimited field
// num with what mod makes of its content's fields.
func rewrap(t *testing.T, b []byte, num protowire.Number, mod func([]field) []byte) []byte {
	t.Helper()
	return join(fieldsWith(t, fields(t, b), num, mod))
}

// TestMalleabilityConfirmation: a RecordExchange carrying the provider's
// confirmation has one accepted encoding too. Re-encodings of the
// confirmation inside it (re-signed by the requester) are refused by CheckTx
// and make ProcessProposal reject the block; a confirmation whose
// signature is re-encoded (S+L) is refused by the state rules. Decided
// anyway, none records a second entry.
func TestMalleabilityConfirmation(t *testing.T) {
	ctx := context.Background()
	a := openApp(t, t.TempDir())
	defer func() { _ = a.Close() }()
	gen, _ := protojson.Marshal(abcitest.Genesis())
	initChainWith(t, a, gen)
	ana, aeat, sepe := abcitest.Key("citizen/ana"), abcitest.Key("agency/aeat"), abcitest.Key("agency/sepe")
	sub := ledger.SubjectID(abcitest.Pub(ana))
	grant := identity.SignTx(testChain, ana, &notaryv1.TxBody{Msg: &notaryv1.TxBody_GrantConsent{GrantConsent: &notaryv1.GrantConsent{
		Subject: sub, AgencyId: "aeat", Category: "tax", Purpose: "statistics",
		ValidFrom: timestamppb.New(t0), ValidUntil: timestamppb.New(t0.Add(24 * time.Hour)),
	}}})
	if fin := block(t, a, 1, grant); fin.TxResults[0].Code != 0 {
		t.Fatalf("grant: %s", fin.TxResults[0].Log)
	}

	m := &notaryv1.RecordExchange{RequesterAgencyId: "aeat", ProviderAgencyId: "sepe", Subject: sub, Category: "tax", Purpose: "statistics",
		Basis: &notaryv1.RecordExchange_ConsentId{ConsentId: ledger.ConsentID(sub, 0)}}
	m.ProviderConfirmation = ledger.EncodeConfirmation(testChain, abcitest.Pub(sepe), m, func(b []byte) []byte { return ed25519.Sign(sepe, b) })
	body := ledger.Encode(&notaryv1.TxBody{ChainId: testChain, Msg: &notaryv1.TxBody_RecordExchange{RecordExchange: m}})
	sign := func(b []byte) []byte {
		return ledger.Encode(&notaryv1.Tx{Body: b, PubKey: abcitest.Pub(aeat), Signature: ed25519.Sign(aeat, ledger.SignBytes(testChain, b))})
	}
	good := sign(body)
	// inConf rewrites the confirmation's fields inside the body.
	inConf := func(mod func([]field) []byte) []byte {
		return sign(rewrap(t, body, 14, func(x []field) []byte { return join(fieldsWith(t, x, 9, mod)) }))
	}
	sPlusL := func(fs []field) []byte {
		sig, _ := protowire.ConsumeBytes(fs[1].raw)
		s := append([]byte{}, sig...)
		l := []byte{0xed, 0xd3, 0xf5, 0x5c, 0x1a, 0x63, 0x12, 0x58, 0xd6, 0x9c, 0xf7, 0xa2, 0xde, 0xf9, 0xde, 0x14,
			0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x10}
		var carry uint16
		for i := 0; i < 32; i++ {
			v := uint16(s[32+i]) + uint16(l[i]) + carry
			s[32+i], carry = byte(v), v>>8
		}
		return join([]field{fs[0], {fs[1].num, fs[1].typ, protowire.AppendBytes(nil, s)}})
	}
	nonCanonical := map[string][]byte{
		"confirmation fields reordered": inConf(func(fs []field) []byte { return join(reverse(fs)) }),
		"confirmation unknown field": inConf(func(fs []field) []byte {
			return protowire.AppendVarint(protowire.AppendTag(join(fs), 7, protowire.VarintType), 1)
		}),
		"confirmation non-minimal length":    inConf(func(fs []field) []byte { return join([]field{nonMinimalLength(fs[0]), fs[1]}) }),
		"confirmation signature given twice": inConf(func(fs []field) []byte { return join([]field{fs[0], fs[1], fs[1]}) }),
	}
	for name, raw := range nonCanonical {
		chk, _ := a.CheckTx(ctx, &abcitypes.RequestCheckTx{Tx: raw})
		if chk.Code == 0 {
			t.Errorf("%s: accepted by CheckTx", name)
		}
		proc, _ := a.ProcessProposal(ctx, &abcitypes.RequestProcessProposal{Txs: [][]byte{raw}, Height: 2})
		if proc.Status != abcitypes.ResponseProcessProposal_REJECT {
			t.Errorf("%s: ProcessProposal accepted the block", name)
		}
	}
	stateRefused := inConf(sPlusL)
	if chk, _ := a.CheckTx(ctx, &abcitypes.RequestCheckTx{Tx: stateRefused}); chk.Code != ledger.ErrBadConfirmation.Code() {
		t.Errorf("confirmation signature S+L: CheckTx code %d (%s), want %d", chk.Code, chk.Log, ledger.ErrBadConfirmation.Code())
	}
	txs := [][]byte{good, stateRefused}
	for _, raw := range nonCanonical {
		txs = append(txs, raw)
	}
	fin := finalizeCommit(t, a, 2, txs)
	if fin.TxResults[0].Code != 0 {
		t.Fatalf("original refused: %s", fin.TxResults[0].Log)
	}
	for i, r := range fin.TxResults[1:] {
		if r.Code == 0 {
			t.Fatalf("variant %d recorded a second entry", i)
		}
	}
	view, _ := a.StateAt(0)
	n := 0
	p := append([]byte("xchg/"), sub...)
	_ = view.Iterate(p, ledger.PrefixEnd(p), func(k, v []byte) bool { n++; return true })
	if n != 1 {
		t.Fatalf("%d history entries, want 1", n)
	}
}

// fieldsWith returns fs with the length-delimited field num's content
// replaced by mod of its fields.
func fieldsWith(t *testing.T, fs []field, num protowire.Number, mod func([]field) []byte) []field {
	t.Helper()
	out := append([]field(nil), fs...)
	for i, f := range out {
		if f.num == num {
			inner, n := protowire.ConsumeBytes(f.raw)
			if n < 0 {
				t.Fatal(protowire.ParseError(n))
			}
			out[i].raw = protowire.AppendBytes(nil, mod(fields(t, inner)))
			return out
		}
	}
	t.Fatalf("no field %d", num)
	return nil
}

// nonMinimalVarint re-encodes a varint field with a padded (non-minimal)
// varint: the same value, one byte more.
func nonMinimalVarint(f field) field {
	v, n := protowire.ConsumeVarint(f.raw)
	if n < 0 {
		panic("not a varint")
	}
	b := protowire.AppendVarint(nil, v)
	b[len(b)-1] |= 0x80
	return field{f.num, f.typ, append(b, 0)}
}

// TestMalleabilityUnordered: an unordered transaction (nonce,
// valid_until_height) has one accepted encoding. Re-encodings of its replay
// fields, re-signed, are refused by CheckTx and make ProcessProposal reject
// the block; the same nonce under another valid_until_height, a canonical
// transaction, is refused by the state rules. Decided anyway, none creates a
// second record.
func TestMalleabilityUnordered(t *testing.T) {
	ctx := context.Background()
	a := openApp(t, t.TempDir())
	defer func() { _ = a.Close() }()
	initChain(t, a)
	block(t, a, 1)

	nonce := []byte("0123456789abcdef")
	ds := digestsOf("malleable-unordered", 3)
	anchor := func(until int64) *notaryv1.TxBody {
		return &notaryv1.TxBody{Nonce: nonce, ValidUntilHeight: until, Msg: &notaryv1.TxBody_AnchorBatch{AnchorBatch: &notaryv1.AnchorBatch{
			AgencyId: "aeat", HashAlgorithm: notaryv1.HashAlgorithm_HASH_ALGORITHM_SHA2_256, Digests: ds,
		}}}
	}
	good := identity.SignTx(testChain, key("aeat"), anchor(10))
	var envMsg notaryv1.Tx
	if err := proto.Unmarshal(good, &envMsg); err != nil {
		t.Fatal(err)
	}
	bf := fields(t, envMsg.Body) // chain_id, nonce, valid_until_height, anchor_batch
	if len(bf) != 4 || bf[1].num != 3 || bf[2].num != 4 {
		t.Fatalf("body fields %v: the test expects chain_id, nonce, valid_until_height, anchor_batch", bf)
	}
	zeroSeq := field{2, protowire.VarintType, protowire.AppendVarint(nil, 0)}
	nonCanonical := map[string][]byte{
		"nonce non-minimal length":             signNonCanonical(join([]field{bf[0], nonMinimalLength(bf[1]), bf[2], bf[3]})),
		"valid_until_height non-minimal":       signNonCanonical(join([]field{bf[0], bf[1], nonMinimalVarint(bf[2]), bf[3]})),
		"nonce given twice":                    signNonCanonical(join([]field{bf[0], bf[1], bf[1], bf[2], bf[3]})),
		"valid_until_height given twice":       signNonCanonical(join([]field{bf[0], bf[1], bf[2], bf[2], bf[3]})),
		"replay fields reordered":              signNonCanonical(join([]field{bf[0], bf[2], bf[1], bf[3]})),
		"sequence 0 written out":               signNonCanonical(join([]field{bf[0], zeroSeq, bf[1], bf[2], bf[3]})),
		"another nonce, then the nonce":        signNonCanonical(join([]field{bf[0], {3, protowire.BytesType, protowire.AppendBytes(nil, []byte("fedcba9876543210"))}, bf[1], bf[2], bf[3]})),
		"valid_until_height as a wide varint":  signNonCanonical(join([]field{bf[0], bf[1], {4, protowire.VarintType, []byte{0x8a, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x00}}, bf[3]})),
		"unknown field between replay fields":  signNonCanonical(join([]field{bf[0], bf[1], {5, protowire.VarintType, protowire.AppendVarint(nil, 1)}, bf[2], bf[3]})),
		"nonce signed, envelope nonce-less":    ledger.Encode(&notaryv1.Tx{Body: join([]field{bf[0], bf[3]}), PubKey: envMsg.PubKey, Signature: envMsg.Signature}),
		"valid_until_height changed, same sig": ledger.Encode(&notaryv1.Tx{Body: join([]field{bf[0], bf[1], {4, protowire.VarintType, protowire.AppendVarint(nil, 11)}, bf[3]}), PubKey: envMsg.PubKey, Signature: envMsg.Signature}),
	}
	for name, raw := range nonCanonical {
		var decoded notaryv1.Tx
		if proto.Unmarshal(raw, &decoded) != nil {
			t.Fatalf("%s: the variant does not even decode; the test would prove nothing", name)
		}
		chk, _ := a.CheckTx(ctx, &abcitypes.RequestCheckTx{Tx: raw})
		if chk.Code == 0 {
			t.Errorf("%s: accepted by CheckTx", name)
		}
		proc, _ := a.ProcessProposal(ctx, &abcitypes.RequestProcessProposal{Txs: [][]byte{raw}, Height: 2})
		if proc.Status != abcitypes.ResponseProcessProposal_REJECT {
			t.Errorf("%s: ProcessProposal accepted the block", name)
		}
	}
	// The same nonce, another valid_until_height: canonical, and refused by
	// the state once the original is in (in the mempool here).
	resigned := identity.SignTx(testChain, key("aeat"), anchor(12))
	if chk, _ := a.CheckTx(ctx, &abcitypes.RequestCheckTx{Tx: good}); chk.Code != 0 {
		t.Fatalf("original refused by CheckTx: %s", chk.Log)
	}
	if chk, _ := a.CheckTx(ctx, &abcitypes.RequestCheckTx{Tx: resigned}); chk.Code != ledger.ErrNonceUsed.Code() {
		t.Errorf("same nonce re-signed: CheckTx code %d (%s), want %d", chk.Code, chk.Log, ledger.ErrNonceUsed.Code())
	}
	txs := [][]byte{good, resigned, good}
	for _, raw := range nonCanonical {
		txs = append(txs, raw)
	}
	fin := finalizeCommit(t, a, 2, txs)
	if fin.TxResults[0].Code != 0 {
		t.Fatalf("original refused: %s", fin.TxResults[0].Log)
	}
	for i, r := range fin.TxResults[1:] {
		if r.Code == 0 {
			t.Fatalf("variant %d created a second record", i)
		}
	}
	if c := fin.TxResults[1].Code; c != ledger.ErrNonceUsed.Code() {
		t.Errorf("same nonce re-signed, in the block: code %d, want %d", c, ledger.ErrNonceUsed.Code())
	}
	view, _ := a.StateAt(0)
	n := 0
	_ = view.Iterate(ledger.BatchKey(2, 0), ledger.PrefixEnd([]byte("batch/")), func(k, v []byte) bool { n++; return true })
	if n != 1 {
		t.Fatalf("%d batch records, want 1", n)
	}
}
