package ledger

import (
	"crypto/ed25519"
	"testing"

	"google.golang.org/protobuf/encoding/protowire"
	"google.golang.org/protobuf/proto"

	notaryv1 "github.com/gobtechlab/notary/proto/notary/v1"
)

// confirmed returns body with the confirmation of key over the exchange as
// signed for chainID.
func confirmed(body *notaryv1.TxBody, key ed25519.PrivateKey, chainID string) *notaryv1.TxBody {
	m := body.GetRecordExchange()
	m.ProviderConfirmation = EncodeConfirmation(chainID, pub(key), m, func(b []byte) []byte { return ed25519.Sign(key, b) })
	return body
}

// storedExchange returns the stored entry index of subject.
func storedExchange(t *testing.T, f *fixture, subject []byte, index uint64) (*notaryv1.Exchange, []byte) {
	t.Helper()
	b, err := f.st.Get(ExchangeKey(subject, index))
	if err != nil || b == nil {
		t.Fatalf("entry %d: %v", index, err)
	}
	e := &notaryv1.Exchange{}
	if err := DecodeCanonical(b, e); err != nil {
		t.Fatal(err)
	}
	return e, b
}

// TestProviderConfirmation is the one-sided exchange: an entry names its
// provider as confirming only if the provider's registered key signed it;
// without a signature the entry is recorded as declared by the requester
// alone, and a confirmation that does not hold refuses the transaction.
func TestProviderConfirmation(t *testing.T) {
	w := newCitizenWorld(t)
	f := w.f
	aeat, sepe := agencyKey("aeat"), agencyKey("sepe")
	valid := func(mod func(x *xchg)) *notaryv1.TxBody {
		x := xchg{requester: "aeat", provider: "sepe", subject: w.anaSub, category: "tax", purpose: "eligibility-check", consent: w.good}
		if mod != nil {
			mod(&x)
		}
		return x.body()
	}
	withConf := func(pc *notaryv1.ProviderConfirmation) *notaryv1.TxBody {
		b := valid(nil)
		b.GetRecordExchange().ProviderConfirmation = pc
		return b
	}
	good := confirmed(valid(nil), sepe, testChain).GetRecordExchange().ProviderConfirmation
	tampered := proto.Clone(good).(*notaryv1.ProviderConfirmation)
	tampered.Signature[5] ^= 1

	// The signature over another exchange, moved onto this one.
	otherPurpose := confirmed(valid(func(x *xchg) { x.purpose = "statistics" }), sepe, testChain).GetRecordExchange().ProviderConfirmation

	refused := []struct {
		name string
		body *notaryv1.TxBody
		want *Error
	}{
		{"signed by the requester", confirmed(valid(nil), aeat, testChain), ErrBadConfirmation},
		{"signed by an agency that is not the provider", confirmed(valid(nil), agencyKey("readonly"), testChain), ErrBadConfirmation},
		{"signed by a citizen key", confirmed(valid(nil), w.ana, testChain), ErrBadConfirmation},
		{"signed by a key with no account", confirmed(valid(nil), agencyKey("sepe-impostor"), testChain), ErrBadConfirmation},
		{"signed for another chain", confirmed(valid(nil), sepe, "notary-other"), ErrBadConfirmation},
		{"signed over another exchange", withConf(otherPurpose), ErrBadConfirmation},
		{"signature altered", withConf(tampered), ErrBadConfirmation},
		{"the provider's key with the requester's signature", withConf(&notaryv1.ProviderConfirmation{
			PubKey: pub(sepe), Signature: confirmed(valid(nil), aeat, testChain).GetRecordExchange().ProviderConfirmation.Signature,
		}), ErrBadConfirmation},
		{"empty confirmation", withConf(&notaryv1.ProviderConfirmation{}), ErrBadConfirmation},
		{"short key", withConf(&notaryv1.ProviderConfirmation{PubKey: pub(sepe)[:31], Signature: good.Signature}), ErrBadConfirmation},
		{"short signature", withConf(&notaryv1.ProviderConfirmation{PubKey: pub(sepe), Signature: good.Signature[:63]}), ErrBadConfirmation},
		{"confirmed, but not covered", confirmed(valid(func(x *xchg) { x.consent = w.gone }), sepe, testChain), ErrConsentWithdrawn},
	}
	for _, tc := range refused {
		t.Run(tc.name, func(t *testing.T) {
			before := snapshot(f.st)
			out := f.one(f.sign(aeat, tc.body))
			mustFail(t, out, tc.want)
			if snapshot(f.st) != before {
				t.Fatalf("state changed by a refused exchange")
			}
		})
	}

	// Declared by the requester alone: recorded, marked unconfirmed, and
	// stored as before confirmations existed (no field 13).
	out := f.one(f.sign(aeat, valid(nil)))
	mustOK(t, out)
	e, raw := storedExchange(t, f, w.anaSub, out.Result.GetExchangeIndex())
	if e.ProviderConfirmed {
		t.Fatalf("an exchange without the provider's signature is marked confirmed")
	}
	for b := raw; len(b) > 0; {
		num, typ, n := protowire.ConsumeTag(b)
		if num == 13 {
			t.Fatalf("an unconfirmed entry encodes provider_confirmed")
		}
		b = b[n:]
		b = b[protowire.ConsumeFieldValue(num, typ, b):]
	}

	// Confirmed by the provider: marked confirmed, in the entry and the event.
	out = f.one(f.sign(aeat, confirmed(valid(nil), sepe, testChain)))
	mustOK(t, out)
	if e, _ := storedExchange(t, f, w.anaSub, out.Result.GetExchangeIndex()); !e.ProviderConfirmed {
		t.Fatalf("a confirmed exchange is not marked confirmed")
	}
	if !hasAttr(out.Events, "provider_confirmed", "true") {
		t.Fatalf("events %v", out.Events)
	}

	// Under a mandate too.
	viaLaw := xchg{requester: "aeat", provider: "sepe", subject: w.anaSub, category: "employment", purpose: "eligibility-check", mandate: mandateLaw}
	mustOK(t, f.one(f.sign(aeat, confirmed(viaLaw.body(), sepe, testChain))))

	// A confirmation is used once: the same bytes again are refused, in a
	// later block or later in the same block; an exchange that differs by
	// its reference needs, and takes, its own.
	again := confirmed(valid(nil), sepe, testChain)
	before := snapshot(f.st)
	mustFail(t, f.one(f.sign(aeat, again)), ErrConfirmationUsed)
	if snapshot(f.st) != before {
		t.Fatalf("state changed by a reused confirmation")
	}
	ref := func(b byte) func(x *xchg) {
		return func(x *xchg) { x.reference = append(make([]byte, DigestSize-1), b) }
	}
	seq := f.seq[string(pub(aeat))]
	outs := f.block(
		f.signSeq(aeat, seq, confirmed(valid(ref(1)), sepe, testChain)),
		f.signSeq(aeat, seq+1, confirmed(valid(ref(1)), sepe, testChain)),
		f.signSeq(aeat, seq+1, confirmed(valid(ref(2)), sepe, testChain)),
	)
	mustOK(t, outs[0])
	mustFail(t, outs[1], ErrConfirmationUsed)
	mustOK(t, outs[2])
}

func hasAttr(evs []Event, k, v string) bool {
	for _, ev := range evs {
		for _, a := range ev.Attributes {
			if a.Key == k && a.Value == v {
				return true
			}
		}
	}
	return false
}

// TestConfirmationAfterKeyRotation: once governance gives the provider a new
// key, a confirmation by its old key no longer holds; one by the new key
// does.
func TestConfirmationAfterKeyRotation(t *testing.T) {
	h := newGovHarness(t, citizenGenesis())
	ana := citizenKey("ana")
	sub := SubjectID(pub(ana))
	id := grantOK(t, h.fixture, ana, "aeat", "tax", "eligibility-check", genesisTime, genesisTime.Add(year))
	newKey := agencyKey("sepe/2027")
	h.enactPassed(actUpdateAgency(&notaryv1.Agency{Id: "sepe", Name: "Agencia sepe", PubKey: pub(newKey), Permissions: allPerms}))
	x := xchg{requester: "aeat", provider: "sepe", subject: sub, category: "tax", purpose: "eligibility-check", consent: id}
	mustFail(t, h.block(h.tx(agencyKey("aeat"), confirmed(x.body(), agencyKey("sepe"), testChain)))[0], ErrBadConfirmation)
	mustOK(t, h.block(h.tx(agencyKey("aeat"), confirmed(x.body(), newKey, testChain)))[0])
}

// TestConfirmSignBytes pins the bytes a provider signs.
func TestConfirmSignBytes(t *testing.T) {
	m := &notaryv1.RecordExchange{RequesterAgencyId: "aeat", ProviderAgencyId: "sepe", Subject: make([]byte, 32),
		Category: "tax", Purpose: "statistics", Basis: &notaryv1.RecordExchange_MandateId{MandateId: "ley"}}
	want := append([]byte("notary/exchange-confirm/v1\x0bnotary-test"), Encode(m)...)
	if got := ConfirmSignBytes("notary-test", m); string(got) != string(want) {
		t.Fatalf("sign bytes\n got %x\nwant %x", got, want)
	}
	m.ProviderConfirmation = &notaryv1.ProviderConfirmation{PubKey: make([]byte, 32), Signature: make([]byte, 64)}
	if got := ConfirmSignBytes("notary-test", m); string(got) != string(want) {
		t.Fatalf("the sign bytes depend on the confirmation")
	}
	if m.ProviderConfirmation == nil {
		t.Fatalf("ConfirmSignBytes modified the message")
	}
}

// TestValidateBasicNewFields: the state-free checks of EnrollCitizen and of
// a provider confirmation, which ProcessProposal applies.
func TestValidateBasicNewFields(t *testing.T) {
	x := xchg{requester: "aeat", provider: "sepe", subject: make([]byte, 32), category: "tax", purpose: "statistics", mandate: "ley"}
	withConf := func(key, sig int) *notaryv1.TxBody {
		b := x.body()
		b.GetRecordExchange().ProviderConfirmation = &notaryv1.ProviderConfirmation{PubKey: make([]byte, key), Signature: make([]byte, sig)}
		return b
	}
	tests := []struct {
		name string
		body *notaryv1.TxBody
		want *Error
	}{
		{"enrolment", enrollBody("aeat", pub(citizenKey("x"))), nil},
		{"enrolment of a short key", enrollBody("aeat", make([]byte, 31)), ErrBadPublicKey},
		{"enrolment without key", enrollBody("aeat", nil), ErrBadPublicKey},
		{"exchange without confirmation", x.body(), nil},
		{"confirmation of the right sizes", withConf(32, 64), nil},
		{"empty confirmation", withConf(0, 0), ErrBadConfirmation},
		{"confirmation with a long key", withConf(33, 64), ErrBadConfirmation},
		{"confirmation with a short signature", withConf(32, 63), ErrBadConfirmation},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			tx, err := DecodeTx(testChain, signTx(testChain, agencyKey("aeat"), tc.body), 0)
			if err != nil {
				t.Fatal(err)
			}
			err = ValidateBasic(tx)
			if tc.want == nil && err != nil || tc.want != nil && CodeOf(err) != tc.want.Code() {
				t.Fatalf("got %v, want %v", err, tc.want)
			}
		})
	}
}
