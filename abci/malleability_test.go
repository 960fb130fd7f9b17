package abci

import (
	"context"
	"crypto/ed25519"
	"testing"

	abcitypes "github.com/cometbft/cometbft/abci/types"
	"google.golang.org/protobuf/encoding/protowire"
	"google.golang.org/protobuf/proto"

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
