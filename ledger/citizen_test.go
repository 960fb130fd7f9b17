package ledger

import (
	"bytes"
	"crypto/ed25519"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"strings"
	"testing"
	"time"

	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/timestamppb"

	notaryv1 "github.com/gobtechlab/notary/proto/notary/v1"
)

const (
	year = 365 * 24 * time.Hour

	mandateLaw     = "ley-40-2015-art-155" // aeat <- sepe, employment+tax, eligibility-check
	mandateRepeal  = "ley-derogada"        // same scope, expired by date
	mandateFuture  = "ley-futura"          // same scope, not yet in force
	mandateEnded   = "ley-expirada"        // same scope, expired by governance
	mandateUnknown = "ley-solo-propuesta"  // never registered
)

// citizenGenesis is testGenesis with four legal mandates.
func citizenGenesis() *notaryv1.GenesisState {
	g := testGenesis()
	mk := func(id string, from, until time.Time, expired int64) *notaryv1.Mandate {
		return &notaryv1.Mandate{
			Id:                 id,
			LegalReference:     "Ley 40/2015, art. 155 (BOE-A-2015-10566)",
			RequestingAgencies: []string{"aeat"},
			ProvidingAgencies:  []string{"sepe"},
			Categories:         []string{"employment", "tax"},
			Purposes:           []string{"eligibility-check"},
			ValidFrom:          ts(from),
			ValidUntil:         ts(until),
			ExpiredHeight:      expired,
		}
	}
	g.Mandates = append(g.Mandates,
		mk(mandateLaw, genesisTime.Add(-year), genesisTime.Add(year), 0),
		mk(mandateRepeal, genesisTime.Add(-2*year), genesisTime.Add(-year), 0),
		mk(mandateFuture, genesisTime.Add(year), genesisTime.Add(2*year), 0),
		mk(mandateEnded, genesisTime.Add(-year), genesisTime.Add(year), 1),
	)
	return g
}

// closeAgency adds an inactive agency "cerrada" to the state, as governance
// leaves a removed agency.
func closeAgency(t *testing.T, f *fixture) {
	t.Helper()
	a := &notaryv1.Agency{Id: "cerrada", Name: "Agencia cerrada", PubKey: pub(agencyKey("cerrada")), Permissions: allPerms}
	if err := f.st.Set(AgencyKey(a.Id), Encode(a)); err != nil {
		t.Fatal(err)
	}
}

func grantMsg(subject []byte, agency, category, purpose string, from, until time.Time) *notaryv1.TxBody {
	return &notaryv1.TxBody{Msg: &notaryv1.TxBody_GrantConsent{GrantConsent: &notaryv1.GrantConsent{
		Subject: subject, AgencyId: agency, Category: category, Purpose: purpose,
		ValidFrom: ts(from), ValidUntil: ts(until),
	}}}
}

func withdrawMsg(id string) *notaryv1.TxBody {
	return &notaryv1.TxBody{Msg: &notaryv1.TxBody_WithdrawConsent{WithdrawConsent: &notaryv1.WithdrawConsent{ConsentId: id}}}
}

// xchg describes a RecordExchange; at most one of consent and mandate is set.
type xchg struct {
	requester, provider string
	subject             []byte
	category, purpose   string
	consent, mandate    string
	reference           []byte
}

func (x xchg) body() *notaryv1.TxBody {
	m := &notaryv1.RecordExchange{
		RequesterAgencyId: x.requester, ProviderAgencyId: x.provider, Subject: x.subject,
		Category: x.category, Purpose: x.purpose, Reference: x.reference,
	}
	switch {
	case x.consent != "":
		m.Basis = &notaryv1.RecordExchange_ConsentId{ConsentId: x.consent}
	case x.mandate != "":
		m.Basis = &notaryv1.RecordExchange_MandateId{MandateId: x.mandate}
	}
	return &notaryv1.TxBody{Msg: &notaryv1.TxBody_RecordExchange{RecordExchange: m}}
}

// grantOK grants a consent and returns its id.
func grantOK(t *testing.T, f *fixture, key ed25519.PrivateKey, agency, category, purpose string, from, until time.Time) string {
	t.Helper()
	out := f.one(f.sign(key, grantMsg(SubjectID(pub(key)), agency, category, purpose, from, until)))
	mustOK(t, out)
	return out.Result.GetConsentId()
}

// citizenWorld is a chain with two citizens and consents in every state.
type citizenWorld struct {
	f              *fixture
	ana, bea       ed25519.PrivateKey
	anaSub, beaSub []byte
	// Consents of ana to aeat for tax/eligibility-check: in force, expired,
	// not yet in force and withdrawn at the world's time; and bea's.
	good, short, future, gone, beas string
}

// newCitizenWorld builds the world and leaves the block time one hour after
// genesis.
func newCitizenWorld(t *testing.T) *citizenWorld {
	t.Helper()
	f := newFixture(t, citizenGenesis())
	closeAgency(t, f)
	w := &citizenWorld{f: f, ana: citizenKey("ana"), bea: citizenKey("bea")}
	w.anaSub, w.beaSub = SubjectID(pub(w.ana)), SubjectID(pub(w.bea))
	g := genesisTime
	w.good = grantOK(t, f, w.ana, "aeat", "tax", "eligibility-check", g, g.Add(2*time.Hour))
	w.short = grantOK(t, f, w.ana, "aeat", "tax", "eligibility-check", g, g.Add(10*time.Minute))
	w.future = grantOK(t, f, w.ana, "aeat", "tax", "eligibility-check", g.Add(3*time.Hour), g.Add(4*time.Hour))
	w.gone = grantOK(t, f, w.ana, "aeat", "tax", "eligibility-check", g, g.Add(2*time.Hour))
	mustOK(t, f.one(f.sign(w.ana, withdrawMsg(w.gone))))
	w.beas = grantOK(t, f, w.bea, "aeat", "tax", "eligibility-check", g, g.Add(2*time.Hour))
	f.time = g.Add(time.Hour)
	return w
}

// TestCitizenRules checks that each rule of consents and exchanges rejects
// its case with its own stable code and stores nothing.
func TestCitizenRules(t *testing.T) {
	w := newCitizenWorld(t)
	f := w.f
	g := genesisTime
	aeat, sepe, ro := agencyKey("aeat"), agencyKey("sepe"), agencyKey("readonly")
	stranger := citizenKey("stranger")

	// A valid exchange under ana's consent in force, changed by each case.
	viaConsent := func(mod func(x *xchg)) *notaryv1.TxBody {
		x := xchg{requester: "aeat", provider: "sepe", subject: w.anaSub, category: "tax", purpose: "eligibility-check", consent: w.good}
		if mod != nil {
			mod(&x)
		}
		return x.body()
	}
	viaMandate := func(mod func(x *xchg)) *notaryv1.TxBody {
		x := xchg{requester: "aeat", provider: "sepe", subject: w.anaSub, category: "employment", purpose: "eligibility-check", mandate: mandateLaw}
		if mod != nil {
			mod(&x)
		}
		return x.body()
	}
	grantWith := func(mod func(m *notaryv1.GrantConsent)) *notaryv1.TxBody {
		b := grantMsg(w.anaSub, "sepe", "employment", "service-provision", g, g.Add(24*time.Hour))
		mod(b.GetGrantConsent())
		return b
	}

	tests := []struct {
		name string
		raw  func() []byte
		want *Error
	}{
		// Grants.
		{"consent granted by a key other than the subject's", func() []byte {
			return f.sign(w.bea, grantMsg(w.anaSub, "aeat", "tax", "eligibility-check", g, g.Add(24*time.Hour)))
		}, ErrSubjectMismatch},
		{"consent granted by a key that is not enrolled", func() []byte {
			return f.sign(stranger, grantMsg(SubjectID(pub(stranger)), "aeat", "tax", "eligibility-check", g, g.Add(24*time.Hour)))
		}, ErrNotEnrolled},
		{"consent granted by a key that is not enrolled, for another subject", func() []byte {
			return f.sign(stranger, grantMsg(w.anaSub, "aeat", "tax", "eligibility-check", g, g.Add(24*time.Hour)))
		}, ErrNotEnrolled},
		{"grant without subject", func() []byte {
			return f.sign(w.ana, grantWith(func(m *notaryv1.GrantConsent) { m.Subject = nil }))
		}, ErrSubjectMismatch},
		{"grant by an agency key", func() []byte {
			return f.sign(aeat, grantMsg(SubjectID(pub(aeat)), "aeat", "tax", "eligibility-check", g, g.Add(24*time.Hour)))
		}, ErrNotCitizen},
		{"grant by a ministry key", func() []byte {
			k := ministryGov("hacienda")
			return f.sign(k, grantMsg(SubjectID(pub(k)), "aeat", "tax", "eligibility-check", g, g.Add(24*time.Hour)))
		}, ErrNotCitizen},
		{"grant to an unknown agency", func() []byte {
			return f.sign(w.ana, grantWith(func(m *notaryv1.GrantConsent) { m.AgencyId = "nadie" }))
		}, ErrUnknownAgency},
		{"grant to an inactive agency", func() []byte {
			return f.sign(w.ana, grantWith(func(m *notaryv1.GrantConsent) { m.AgencyId = "cerrada" }))
		}, ErrUnknownAgency},
		{"grant of an unknown category", func() []byte {
			return f.sign(w.ana, grantWith(func(m *notaryv1.GrantConsent) { m.Category = "biometrics" }))
		}, ErrUnknownCategory},
		{"grant for an unknown purpose", func() []byte {
			return f.sign(w.ana, grantWith(func(m *notaryv1.GrantConsent) { m.Purpose = "marketing" }))
		}, ErrUnknownPurpose},
		{"grant without valid_from", func() []byte {
			return f.sign(w.ana, grantWith(func(m *notaryv1.GrantConsent) { m.ValidFrom = nil }))
		}, ErrInvalidValidity},
		{"grant without valid_until", func() []byte {
			return f.sign(w.ana, grantWith(func(m *notaryv1.GrantConsent) { m.ValidUntil = nil }))
		}, ErrInvalidValidity},
		{"grant ending when it starts", func() []byte {
			return f.sign(w.ana, grantWith(func(m *notaryv1.GrantConsent) { m.ValidUntil = ts(g) }))
		}, ErrInvalidValidity},
		{"grant ending before it starts", func() []byte {
			return f.sign(w.ana, grantWith(func(m *notaryv1.GrantConsent) {
				m.ValidFrom, m.ValidUntil = ts(g.Add(3*time.Hour)), ts(g.Add(2*time.Hour))
			}))
		}, ErrInvalidValidity},
		{"grant ending before the block time", func() []byte {
			return f.sign(w.ana, grantWith(func(m *notaryv1.GrantConsent) { m.ValidUntil = ts(g.Add(30 * time.Minute)) }))
		}, ErrInvalidValidity},
		{"grant with an invalid timestamp", func() []byte {
			return f.sign(w.ana, grantWith(func(m *notaryv1.GrantConsent) {
				m.ValidUntil = &timestamppb.Timestamp{Seconds: g.Add(time.Hour).Unix(), Nanos: -1}
			}))
		}, ErrInvalidValidity},

		// Withdrawals.
		{"withdrawal by another citizen", func() []byte { return f.sign(w.bea, withdrawMsg(w.good)) }, ErrNotConsentOwner},
		{"withdrawal by a key that is not enrolled", func() []byte { return f.sign(stranger, withdrawMsg(w.good)) }, ErrNotEnrolled},
		{"withdrawal by an agency key", func() []byte { return f.sign(aeat, withdrawMsg(w.good)) }, ErrNotCitizen},
		{"double withdrawal", func() []byte { return f.sign(w.ana, withdrawMsg(w.gone)) }, ErrConsentWithdrawn},
		{"withdrawal of an unknown consent", func() []byte { return f.sign(w.ana, withdrawMsg(ConsentID(w.anaSub, 99))) }, ErrConsentNotFound},
		{"withdrawal of a malformed id", func() []byte { return f.sign(w.ana, withdrawMsg("consent/../x")) }, ErrConsentNotFound},

		// Exchanges: the message.
		{"exchange by an agency without the permission", func() []byte {
			return f.sign(ro, viaConsent(func(x *xchg) { x.requester = "readonly" }))
		}, ErrUnauthorized},
		{"exchange naming another requester", func() []byte {
			return f.sign(aeat, viaConsent(func(x *xchg) { x.requester = "sepe" }))
		}, ErrSignerMismatch},
		{"exchange without requester", func() []byte {
			return f.sign(aeat, viaConsent(func(x *xchg) { x.requester = "" }))
		}, ErrInvalidField},
		{"exchange from an unknown provider", func() []byte {
			return f.sign(aeat, viaConsent(func(x *xchg) { x.provider = "nadie" }))
		}, ErrUnknownAgency},
		{"exchange from an inactive provider", func() []byte {
			return f.sign(aeat, viaConsent(func(x *xchg) { x.provider = "cerrada" }))
		}, ErrUnknownAgency},
		{"exchange with a short subject", func() []byte {
			return f.sign(aeat, viaConsent(func(x *xchg) { x.subject = w.anaSub[:31] }))
		}, ErrInvalidField},
		{"exchange of an unknown category", func() []byte {
			return f.sign(aeat, viaConsent(func(x *xchg) { x.category = "biometrics" }))
		}, ErrUnknownCategory},
		{"exchange for an unknown purpose", func() []byte {
			return f.sign(aeat, viaConsent(func(x *xchg) { x.purpose = "marketing" }))
		}, ErrUnknownPurpose},
		{"exchange with a bad reference", func() []byte {
			return f.sign(aeat, viaConsent(func(x *xchg) { x.reference = []byte("short") }))
		}, ErrInvalidField},
		{"no basis", func() []byte { return f.sign(aeat, viaConsent(func(x *xchg) { x.consent = "" })) }, ErrNoBasis},
		{"empty consent id", func() []byte {
			b := viaConsent(nil)
			b.GetRecordExchange().Basis = &notaryv1.RecordExchange_ConsentId{}
			return f.sign(aeat, b)
		}, ErrNoBasis},

		// Exchanges under a consent.
		{"unknown consent", func() []byte {
			return f.sign(aeat, viaConsent(func(x *xchg) { x.consent = ConsentID(w.anaSub, 99) }))
		}, ErrConsentNotFound},
		{"malformed consent id", func() []byte {
			return f.sign(aeat, viaConsent(func(x *xchg) { x.consent = "not-a-consent" }))
		}, ErrConsentNotFound},
		{"consent of another subject", func() []byte {
			return f.sign(aeat, viaConsent(func(x *xchg) { x.consent = w.beas }))
		}, ErrBasisSubject},
		{"expired consent", func() []byte {
			return f.sign(aeat, viaConsent(func(x *xchg) { x.consent = w.short }))
		}, ErrConsentExpired},
		{"withdrawn consent", func() []byte {
			return f.sign(aeat, viaConsent(func(x *xchg) { x.consent = w.gone }))
		}, ErrConsentWithdrawn},
		{"not yet valid consent", func() []byte {
			return f.sign(aeat, viaConsent(func(x *xchg) { x.consent = w.future }))
		}, ErrConsentNotYetValid},
		{"consent of another agency", func() []byte {
			return f.sign(sepe, viaConsent(func(x *xchg) { x.requester, x.provider = "sepe", "aeat" }))
		}, ErrBasisRequester},
		{"consent of another category", func() []byte {
			return f.sign(aeat, viaConsent(func(x *xchg) { x.category = "health" }))
		}, ErrBasisCategory},
		{"consent for another purpose", func() []byte {
			return f.sign(aeat, viaConsent(func(x *xchg) { x.purpose = "statistics" }))
		}, ErrBasisPurpose},

		// Exchanges under a mandate.
		{"mandate not covering the requester", func() []byte {
			return f.sign(sepe, viaMandate(func(x *xchg) { x.requester, x.provider = "sepe", "aeat" }))
		}, ErrBasisRequester},
		{"mandate not covering the provider", func() []byte {
			return f.sign(aeat, viaMandate(func(x *xchg) { x.provider = "readonly" }))
		}, ErrBasisProvider},
		{"mandate not covering the category", func() []byte {
			return f.sign(aeat, viaMandate(func(x *xchg) { x.category = "health" }))
		}, ErrBasisCategory},
		{"mandate not covering the purpose", func() []byte {
			return f.sign(aeat, viaMandate(func(x *xchg) { x.purpose = "statistics" }))
		}, ErrBasisPurpose},
		{"mandate expired by date", func() []byte {
			return f.sign(aeat, viaMandate(func(x *xchg) { x.mandate = mandateRepeal }))
		}, ErrMandateExpired},
		{"mandate expired by governance", func() []byte {
			return f.sign(aeat, viaMandate(func(x *xchg) { x.mandate = mandateEnded }))
		}, ErrMandateExpired},
		{"mandate not yet in force", func() []byte {
			return f.sign(aeat, viaMandate(func(x *xchg) { x.mandate = mandateFuture }))
		}, ErrMandateNotYetValid},
		{"mandate never registered", func() []byte {
			return f.sign(aeat, viaMandate(func(x *xchg) { x.mandate = mandateUnknown }))
		}, ErrMandateNotFound},
		{"malformed mandate id", func() []byte {
			return f.sign(aeat, viaMandate(func(x *xchg) { x.mandate = "Ley 40/2015" }))
		}, ErrMandateNotFound},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			before := snapshot(f.st)
			out := f.one(tc.raw())
			mustFail(t, out, tc.want)
			if out.Result != nil || len(out.Events) != 0 {
				t.Fatalf("a rejected transaction has a result or events: %v %v", out.Result, out.Events)
			}
			if snapshot(f.st) != before {
				t.Fatalf("state changed by a rejected transaction")
			}
		})
	}

	// The valid cases are accepted and appended to ana's history.
	t.Run("valid consent basis", func(t *testing.T) {
		ref := sha256.Sum256([]byte("case file"))
		out := f.one(f.sign(aeat, viaConsent(func(x *xchg) { x.reference = ref[:] })))
		mustOK(t, out)
		if out.Result.GetExchangeIndex() != 0 {
			t.Fatalf("result %v", out.Result)
		}
	})
	t.Run("valid mandate basis", func(t *testing.T) {
		out := f.one(f.sign(aeat, viaMandate(nil)))
		mustOK(t, out)
		if out.Result.GetExchangeIndex() != 1 {
			t.Fatalf("result %v", out.Result)
		}
	})
	head := &notaryv1.AccessHead{}
	if ok, err := load(f.st, AccessHeadKey(w.anaSub), head); !ok || err != nil || head.Count != 2 {
		t.Fatalf("head %v %v %v", head, ok, err)
	}
	if ok, _ := load(f.st, AccessHeadKey(w.beaSub), &notaryv1.AccessHead{}); ok {
		t.Fatalf("bea has a history")
	}
}

// TestGrantAndWithdraw runs on a chain whose citizen enrolment is open, as
// on chains created before the parameter.
func TestGrantAndWithdraw(t *testing.T) {
	f := newFixture(t, openGenesis())
	k := citizenKey("carmen")
	sub := SubjectID(pub(k))
	from, until := genesisTime.Add(time.Hour), genesisTime.Add(30*24*time.Hour)

	// A new key grants: the consent is stored, listed for the subject, and
	// the key enrols itself as a citizen.
	out := f.one(f.sign(k, grantMsg(sub, "sepe", "employment", "service-provision", from, until)))
	mustOK(t, out)
	id := out.Result.GetConsentId()
	if id != ConsentID(sub, 0) || len(id) != ConsentIDLen || strings.ToLower(id) != id {
		t.Fatalf("consent id %q", id)
	}
	h := sha256.Sum256(cat([]byte("notary/consent/v1"), sub, be64(0)))
	if id != hex.EncodeToString(h[:16]) {
		t.Fatalf("consent id does not follow its definition")
	}
	cons, err := loadConsent(f.st, id)
	if err != nil || cons == nil {
		t.Fatalf("consent not stored: %v", err)
	}
	want := &notaryv1.Consent{
		Id: id, Subject: sub, AgencyId: "sepe", Category: "employment", Purpose: "service-provision",
		ValidFrom: ts(from), ValidUntil: ts(until), Status: notaryv1.ConsentStatus_CONSENT_STATUS_GIVEN,
		GrantedHeight: 1, GrantedTime: ts(genesisTime),
	}
	if !proto.Equal(cons, want) {
		t.Fatalf("consent\n got %v\nwant %v", cons, want)
	}
	listed := 0
	prefix := SubjectConsentPrefix(sub)
	_ = f.st.Iterate(prefix, PrefixEnd(prefix), func(k, _ []byte) bool {
		if !bytes.Equal(k, SubjectConsentKey(sub, id)) {
			t.Errorf("unexpected key %q in the subject's list", k)
		}
		listed++
		return true
	})
	if listed != 1 {
		t.Fatalf("%d entries in the subject's consent list", listed)
	}
	acct, _ := loadAccount(f.st, pub(k))
	if acct == nil || acct.Role != notaryv1.Role_ROLE_CITIZEN || acct.Owner != hex.EncodeToString(sub) || acct.NextSequence != 1 {
		t.Fatalf("account %v", acct)
	}
	if len(out.Events) != 1 || out.Events[0].Type != "notary.consent.grant" {
		t.Fatalf("events %v", out.Events)
	}
	if ConsentStatusAt(cons, genesisTime) != notaryv1.ConsentStatus_CONSENT_STATUS_PENDING {
		t.Fatalf("a consent from a later time is not pending")
	}

	// A second grant gets the id of the next sequence.
	id2 := grantOK(t, f, k, "aeat", "tax", "statistics", genesisTime, until)
	if id2 != ConsentID(sub, 1) || id2 == id {
		t.Fatalf("second consent id %q", id2)
	}

	// Withdrawal by the citizen.
	wh, wt := f.height, f.time
	out = f.one(f.sign(k, withdrawMsg(id)))
	mustOK(t, out)
	cons, _ = loadConsent(f.st, id)
	if cons.Status != notaryv1.ConsentStatus_CONSENT_STATUS_WITHDRAWN || cons.WithdrawnHeight != wh || !cons.WithdrawnTime.AsTime().Equal(wt) {
		t.Fatalf("withdrawn consent %v", cons)
	}
	if ConsentStatusAt(cons, from.Add(time.Hour)) != notaryv1.ConsentStatus_CONSENT_STATUS_WITHDRAWN {
		t.Fatalf("status after withdrawal")
	}
	if len(out.Events) != 1 || out.Events[0].Type != "notary.consent.withdraw" {
		t.Fatalf("events %v", out.Events)
	}
	other, _ := loadConsent(f.st, id2)
	if other.Status != notaryv1.ConsentStatus_CONSENT_STATUS_GIVEN {
		t.Fatalf("withdrawal touched another consent")
	}
}

// TestConsentIDTaken checks that a grant never overwrites a consent.
func TestConsentIDTaken(t *testing.T) {
	f := newFixture(t, testGenesis())
	k := citizenKey("dora")
	sub := SubjectID(pub(k))
	squatter := &notaryv1.Consent{Id: ConsentID(sub, 0), Subject: []byte("someone else")}
	if err := f.st.Set(ConsentKey(squatter.Id), Encode(squatter)); err != nil {
		t.Fatal(err)
	}
	before := snapshot(f.st)
	mustFail(t, f.one(f.sign(k, grantMsg(sub, "aeat", "tax", "statistics", genesisTime, genesisTime.Add(time.Hour)))), ErrConsentExists)
	if snapshot(f.st) != before {
		t.Fatalf("state changed")
	}
}

func TestConsentStatusAt(t *testing.T) {
	from, until := genesisTime, genesisTime.Add(time.Hour)
	given := &notaryv1.Consent{Id: "c", ValidFrom: ts(from), ValidUntil: ts(until), Status: notaryv1.ConsentStatus_CONSENT_STATUS_GIVEN}
	withdrawn := proto.Clone(given).(*notaryv1.Consent)
	withdrawn.Status, withdrawn.WithdrawnHeight = notaryv1.ConsentStatus_CONSENT_STATUS_WITHDRAWN, 7
	bogus := proto.Clone(given).(*notaryv1.Consent)
	bogus.Status = notaryv1.ConsentStatus_CONSENT_STATUS_EXPIRED
	tests := []struct {
		name string
		c    *notaryv1.Consent
		at   time.Time
		want notaryv1.ConsentStatus
		err  *Error
	}{
		{"before valid_from", given, from.Add(-time.Nanosecond), notaryv1.ConsentStatus_CONSENT_STATUS_PENDING, ErrConsentNotYetValid},
		{"at valid_from", given, from, notaryv1.ConsentStatus_CONSENT_STATUS_GIVEN, nil},
		{"inside", given, from.Add(30 * time.Minute), notaryv1.ConsentStatus_CONSENT_STATUS_GIVEN, nil},
		{"just before valid_until", given, until.Add(-time.Nanosecond), notaryv1.ConsentStatus_CONSENT_STATUS_GIVEN, nil},
		{"at valid_until", given, until, notaryv1.ConsentStatus_CONSENT_STATUS_EXPIRED, ErrConsentExpired},
		{"withdrawn inside", withdrawn, from.Add(30 * time.Minute), notaryv1.ConsentStatus_CONSENT_STATUS_WITHDRAWN, ErrConsentWithdrawn},
		{"withdrawn after expiry", withdrawn, until.Add(time.Hour), notaryv1.ConsentStatus_CONSENT_STATUS_WITHDRAWN, ErrConsentWithdrawn},
		{"nil", nil, from, notaryv1.ConsentStatus_CONSENT_STATUS_UNSPECIFIED, nil},
		{"stored status not GIVEN or WITHDRAWN", bogus, from, notaryv1.ConsentStatus_CONSENT_STATUS_UNSPECIFIED, nil},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if got := ConsentStatusAt(tc.c, tc.at); got != tc.want {
				t.Fatalf("status %s, want %s", got, tc.want)
			}
			if tc.c == nil {
				return
			}
			err := consentInForce(tc.c, tc.at)
			switch {
			case tc.want == notaryv1.ConsentStatus_CONSENT_STATUS_GIVEN && err != nil:
				t.Fatalf("in force: %v", err)
			case tc.err != nil && !errors.Is(err, tc.err):
				t.Fatalf("got %v, want %v", err, tc.err)
			case tc.want == notaryv1.ConsentStatus_CONSENT_STATUS_UNSPECIFIED:
				var se *StoreError
				if !errors.As(err, &se) {
					t.Fatalf("a corrupted consent gives %v, want a StoreError", err)
				}
			}
		})
	}
}

func TestMandateInForce(t *testing.T) {
	from, until := genesisTime, genesisTime.Add(year)
	m := &notaryv1.Mandate{Id: "m", ValidFrom: ts(from), ValidUntil: ts(until)}
	ended := proto.Clone(m).(*notaryv1.Mandate)
	ended.ExpiredHeight = 12
	tests := []struct {
		name string
		m    *notaryv1.Mandate
		at   time.Time
		want *Error
	}{
		{"before valid_from", m, from.Add(-time.Second), ErrMandateNotYetValid},
		{"at valid_from", m, from, nil},
		{"inside", m, from.Add(time.Hour), nil},
		{"at valid_until", m, until, ErrMandateExpired},
		{"after valid_until", m, until.Add(time.Hour), ErrMandateExpired},
		{"expired by governance", ended, from.Add(time.Hour), ErrMandateExpired},
		{"nil", nil, from, ErrMandateNotFound},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			err := MandateInForce(tc.m, tc.at)
			if tc.want == nil && err != nil || tc.want != nil && !errors.Is(err, tc.want) {
				t.Fatalf("got %v, want %v", err, tc.want)
			}
		})
	}
}

// history returns the stored entries of a subject's access history, in key
// order, and its head.
func history(t *testing.T, st *MemStore, subject []byte) (*notaryv1.AccessHead, [][]byte) {
	t.Helper()
	head := &notaryv1.AccessHead{}
	if _, err := load(st, AccessHeadKey(subject), head); err != nil {
		t.Fatal(err)
	}
	prefix := cat(prefixExchange, subject)
	var entries [][]byte
	if err := st.Iterate(prefix, PrefixEnd(prefix), func(_, v []byte) bool {
		entries = append(entries, v)
		return true
	}); err != nil {
		t.Fatal(err)
	}
	return head, entries
}

func TestAccessHistory(t *testing.T) {
	w := newCitizenWorld(t)
	f := w.f
	aeat := agencyKey("aeat")
	anaX := xchg{requester: "aeat", provider: "sepe", subject: w.anaSub, category: "tax", purpose: "eligibility-check", consent: w.good}
	beaX := xchg{requester: "aeat", provider: "sepe", subject: w.beaSub, category: "employment", purpose: "eligibility-check", mandate: mandateLaw}
	mandateX := anaX
	mandateX.consent, mandateX.mandate, mandateX.category = "", mandateLaw, "employment"

	// Blocks of several exchanges, interleaving the two subjects.
	type rec struct {
		x      xchg
		height int64
		hash   [32]byte
	}
	var ana []rec
	for b := 0; b < 3; b++ {
		xs := []xchg{anaX, beaX, mandateX}
		var raws [][]byte
		seq := f.seq[string(pub(aeat))]
		for i, x := range xs {
			raws = append(raws, f.signSeq(aeat, seq+uint64(i), x.body()))
		}
		h := f.height
		for i, out := range f.block(raws...) {
			mustOK(t, out)
			if bytes.Equal(xs[i].subject, w.anaSub) {
				if want := uint64(len(ana)); out.Result.GetExchangeIndex() != want {
					t.Fatalf("index %d, want %d", out.Result.GetExchangeIndex(), want)
				}
				ana = append(ana, rec{xs[i], h, TxHash(raws[i])})
			}
			for _, ev := range out.Events {
				for _, a := range ev.Attributes {
					if strings.Contains(a.Value, hex.EncodeToString(xs[i].subject)) {
						t.Fatalf("event %s names the subject", ev.Type)
					}
				}
			}
		}
	}

	head, entries := history(t, f.st, w.anaSub)
	if head.Count != uint64(len(ana)) || len(entries) != len(ana) {
		t.Fatalf("head counts %d, %d entries, %d recorded", head.Count, len(entries), len(ana))
	}
	chain := make([]byte, 32)
	for i, b := range entries {
		e := &notaryv1.Exchange{}
		if err := proto.Unmarshal(b, e); err != nil {
			t.Fatal(err)
		}
		r := ana[i]
		if e.Index != uint64(i) || !bytes.Equal(e.Subject, w.anaSub) || e.RequesterAgencyId != "aeat" || e.ProviderAgencyId != "sepe" ||
			e.Category != r.x.category || e.GetConsentId() != r.x.consent || e.GetMandateId() != r.x.mandate ||
			e.Height != r.height || !bytes.Equal(e.TxHash, r.hash[:]) || !bytes.Equal(b, Encode(e)) {
			t.Fatalf("entry %d: %v", i, e)
		}
		eh := sha256.Sum256(b)
		next := sha256.Sum256(cat([]byte("notary/access/v1"), chain, eh[:]))
		chain = next[:]
	}
	if !bytes.Equal(NextAccessChain(nil, entries[0]), NextAccessChain(make([]byte, 32), entries[0])) {
		t.Fatalf("an empty prev is not the empty history")
	}
	if !bytes.Equal(chain, head.Chain) {
		t.Fatalf("head chain does not follow its definition")
	}
	if err := VerifyAccessChain(head, entries); err != nil {
		t.Fatalf("verify: %v", err)
	}
	if err := VerifyAccessHistory(w.anaSub, head, entries); err != nil {
		t.Fatalf("verify history: %v", err)
	}
	beaHead, beaEntries := history(t, f.st, w.beaSub)
	if err := VerifyAccessHistory(w.beaSub, beaHead, beaEntries); err != nil || beaHead.Count != 3 {
		t.Fatalf("bea's history: %v (count %d)", err, beaHead.Count)
	}

	edit := func(fn func(es [][]byte) [][]byte) [][]byte {
		es := make([][]byte, len(entries))
		copy(es, entries)
		return fn(es)
	}
	altered := func() []byte {
		e := &notaryv1.Exchange{}
		_ = proto.Unmarshal(entries[2], e)
		e.Purpose = "statistics"
		return Encode(e)
	}()
	n := len(entries)
	bad := []struct {
		name    string
		head    *notaryv1.AccessHead
		entries [][]byte
	}{
		{"first dropped", head, edit(func(es [][]byte) [][]byte { return es[1:] })},
		{"middle dropped", head, edit(func(es [][]byte) [][]byte { return append(es[:2], es[3:]...) })},
		{"last dropped", head, edit(func(es [][]byte) [][]byte { return es[:n-1] })},
		{"dropped, count lowered", &notaryv1.AccessHead{Count: head.Count - 1, Chain: head.Chain}, edit(func(es [][]byte) [][]byte { return es[:n-1] })},
		{"duplicated", head, edit(func(es [][]byte) [][]byte { return append(es, es[n-1]) })},
		{"duplicated in place of another", head, edit(func(es [][]byte) [][]byte { es[3] = es[2]; return es })},
		{"two swapped", head, edit(func(es [][]byte) [][]byte { es[1], es[2] = es[2], es[1]; return es })},
		{"first and last swapped", head, edit(func(es [][]byte) [][]byte { es[0], es[n-1] = es[n-1], es[0]; return es })},
		{"altered", head, edit(func(es [][]byte) [][]byte { es[2] = altered; return es })},
		{"another subject's entry", head, edit(func(es [][]byte) [][]byte { es[0] = beaEntries[0]; return es })},
		{"garbage entry", head, edit(func(es [][]byte) [][]byte { es[1] = []byte{0xff, 0xff}; return es })},
		{"another subject's head", beaHead, edit(func(es [][]byte) [][]byte { return es[:3] })},
		{"no head", nil, entries},
		{"empty history with entries", &notaryv1.AccessHead{}, entries[:1]},
	}
	for _, tc := range bad {
		t.Run(tc.name, func(t *testing.T) {
			if err := VerifyAccessChain(tc.head, tc.entries); !errors.Is(err, ErrAccessHistory) {
				t.Fatalf("got %v, want ErrAccessHistory", err)
			}
		})
	}
	if err := VerifyAccessHistory(w.beaSub, head, entries); !errors.Is(err, ErrAccessHistory) {
		t.Fatalf("ana's history verified as bea's: %v", err)
	}
	if err := VerifyAccessChain(&notaryv1.AccessHead{}, nil); err != nil {
		t.Fatalf("empty history: %v", err)
	}
}

func TestCoverage(t *testing.T) {
	w := newCitizenWorld(t)
	f := w.f
	g := genesisTime
	// ana: a health consent to aeat, withdrawn; bea: health for statistics.
	f.time = g
	health := grantOK(t, f, w.ana, "aeat", "health", "eligibility-check", g, g.Add(2*time.Hour))
	mustOK(t, f.one(f.sign(w.ana, withdrawMsg(health))))
	grantOK(t, f, w.bea, "aeat", "health", "statistics", g, g.Add(2*time.Hour))
	now := g.Add(time.Hour)

	tests := []struct {
		name                     string
		at                       time.Time
		requester, provider      string
		subject                  []byte
		category, purpose        string
		wantConsent, wantMandate string
		want                     *Error
	}{
		{"consent preferred to a mandate", now, "aeat", "sepe", w.anaSub, "tax", "eligibility-check", w.good, "", nil},
		{"consent from any provider", now, "aeat", "readonly", w.anaSub, "tax", "eligibility-check", w.good, "", nil},
		{"mandate", now, "aeat", "sepe", w.anaSub, "employment", "eligibility-check", "", mandateLaw, nil},
		{"mandate once the consents expired", g.Add(5 * time.Hour), "aeat", "sepe", w.anaSub, "tax", "eligibility-check", "", mandateLaw, nil},
		{"only a withdrawn consent", now, "aeat", "sepe", w.anaSub, "health", "eligibility-check", "", "", ErrConsentWithdrawn},
		{"consent for another purpose", now, "aeat", "sepe", w.beaSub, "health", "eligibility-check", "", "", ErrBasisPurpose},
		{"mandate not yet in force", g.Add(-3 * year), "aeat", "sepe", w.anaSub, "employment", "eligibility-check", "", "", ErrMandateNotYetValid},
		{"mandates expired", g.Add(3 * year), "aeat", "sepe", w.anaSub, "employment", "eligibility-check", "", "", ErrMandateExpired},
		{"mandate for another provider", now, "aeat", "readonly", SubjectID([]byte("nobody")), "employment", "eligibility-check", "", "", ErrBasisProvider},
		{"nothing names the requester", now, "sepe", "aeat", w.anaSub, "tax", "eligibility-check", "", "", ErrNoBasis},
		{"unknown subject", now, "aeat", "sepe", SubjectID([]byte("nobody")), "health", "statistics", "", "", ErrNoBasis},
		{"unknown category", now, "aeat", "sepe", w.anaSub, "biometrics", "eligibility-check", "", "", ErrUnknownCategory},
		{"unknown purpose", now, "aeat", "sepe", w.anaSub, "tax", "marketing", "", "", ErrUnknownPurpose},
		{"inactive provider", now, "aeat", "cerrada", w.anaSub, "tax", "eligibility-check", "", "", ErrUnknownAgency},
		{"unknown requester", now, "nadie", "sepe", w.anaSub, "tax", "eligibility-check", "", "", ErrUnknownAgency},
		{"short subject", now, "aeat", "sepe", w.anaSub[:16], "tax", "eligibility-check", "", "", ErrInvalidField},
	}
	before := snapshot(f.st)
	beforeLen := f.st.Len()
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			c, m, err := Coverage(f.st, tc.at, tc.requester, tc.provider, tc.subject, tc.category, tc.purpose)
			if tc.want != nil {
				if !errors.Is(err, tc.want) || c != "" || m != "" {
					t.Fatalf("got %q %q %v, want %v", c, m, err, tc.want)
				}
				return
			}
			if err != nil || c != tc.wantConsent || m != tc.wantMandate {
				t.Fatalf("got %q %q %v, want %q %q", c, m, err, tc.wantConsent, tc.wantMandate)
			}
		})
	}
	if snapshot(f.st) != before || f.st.Len() != beforeLen {
		t.Fatalf("Coverage wrote to the store")
	}

	// What Coverage finds, RecordExchange accepts at the same time.
	f.time = now
	c, _, err := Coverage(f.st, now, "aeat", "sepe", w.anaSub, "tax", "eligibility-check")
	if err != nil {
		t.Fatal(err)
	}
	mustOK(t, f.one(f.sign(agencyKey("aeat"), xchg{requester: "aeat", provider: "sepe", subject: w.anaSub, category: "tax", purpose: "eligibility-check", consent: c}.body())))

	// Store failures are StoreErrors.
	_, _, err = Coverage(failingStore{f.st}, now, "aeat", "sepe", w.anaSub, "tax", "eligibility-check")
	var se *StoreError
	if !errors.As(err, &se) {
		t.Fatalf("store failure gives %v, want a StoreError", err)
	}
}

// failingStore fails every read after the params.
type failingStore struct{ *MemStore }

func (s failingStore) Get(k []byte) ([]byte, error) {
	if bytes.Equal(k, ParamsKey()) {
		return s.MemStore.Get(k)
	}
	return nil, errors.New("disk failure")
}

func (s failingStore) Iterate(_, _ []byte, _ func(k, v []byte) bool) error {
	return errors.New("disk failure")
}

// TestPrivacy runs a scenario with named citizens and checks that nothing
// personal reaches the state or the events: no name, no national id, no
// document content, only pseudonymous subject ids derived from keys.
func TestPrivacy(t *testing.T) {
	people := []struct {
		name, nationalID, document string
	}{
		{"María García López", "12345678Z", "Certificado de vida laboral de María García López: alta en 2019"},
		{"Jon Etxeberria Goikoetxea", "87654321X", "Informe médico: diabetes tipo 2, tratamiento con metformina"},
		{"Aïcha Benali Ouhadi", "X1234567L", "Declaración de la renta 2025, base imponible 31.402,17 euros"},
	}
	f := newFixture(t, citizenGenesis())
	aeat := agencyKey("aeat")
	var events []Event
	run := func(raw []byte) Outcome {
		t.Helper()
		out := f.one(raw)
		mustOK(t, out)
		events = append(events, out.Events...)
		return out
	}
	for i, p := range people {
		// The key is the citizen's own; nothing of the person goes into it,
		// nor into its enrolment by the identity agency.
		k := citizenKey(p.name)
		run(f.sign(aeat, enrollBody("aeat", pub(k))))
		sub := SubjectID(pub(k))
		d := sha256.Sum256(cat([]byte("notary/subject/v1"), pub(k)))
		if !bytes.Equal(sub, d[:]) {
			t.Fatalf("subject id is not SHA-256 of the domain and the public key")
		}
		id := run(f.sign(k, grantMsg(sub, "aeat", "tax", "eligibility-check", genesisTime, genesisTime.Add(24*time.Hour)))).Result.GetConsentId()
		// The agency anchors the document's digest, and logs the exchange
		// with a salted digest of its case file.
		doc := HashDocument(notaryv1.HashAlgorithm_HASH_ALGORITHM_SHA2_256, []byte(p.document))
		run(f.sign(aeat, anchorBody("aeat", doc)))
		caseFile := HashDocument(notaryv1.HashAlgorithm_HASH_ALGORITHM_SHA2_256, []byte("expediente "+p.nationalID+" "+p.name))
		ref := SaltedDigest(notaryv1.HashAlgorithm_HASH_ALGORITHM_SHA2_256, []byte("sal secreta de la agencia"), caseFile)
		run(f.sign(aeat, xchg{requester: "aeat", provider: "sepe", subject: sub, category: "tax", purpose: "eligibility-check", consent: id, reference: ref}.body()))
		run(f.sign(aeat, xchg{requester: "aeat", provider: "sepe", subject: sub, category: "employment", purpose: "eligibility-check", mandate: mandateLaw}.body()))
		if i == 1 {
			run(f.sign(k, withdrawMsg(id)))
		}
	}

	// Everything in the state and the events, as bytes and as lower case.
	var dump bytes.Buffer
	_ = f.st.Iterate(nil, nil, func(k, v []byte) bool {
		dump.Write(k)
		dump.WriteByte(0)
		dump.Write(v)
		dump.WriteByte(0)
		return true
	})
	for _, ev := range events {
		dump.WriteString(ev.Type)
		for _, a := range ev.Attributes {
			dump.WriteString(a.Key + "=" + a.Value + "\x00")
		}
	}
	raw := dump.Bytes()
	lower := bytes.ToLower(raw)
	forbidden := func(what string, s []byte) {
		t.Helper()
		if len(s) == 0 {
			return
		}
		if bytes.Contains(raw, s) || bytes.Contains(lower, bytes.ToLower(s)) || len(s) >= 8 && bytes.Contains(lower, []byte(hex.EncodeToString(s))) {
			t.Errorf("the state or events contain %s %q", what, s)
		}
	}
	for _, p := range people {
		forbidden("a name", []byte(p.name))
		for _, part := range strings.Fields(p.name) {
			if len(part) >= 4 {
				forbidden("part of a name", []byte(part))
			}
		}
		forbidden("a national id", []byte(p.nationalID))
		forbidden("document content", []byte(p.document))
		for _, word := range strings.Fields(p.document) {
			if len(word) >= 8 {
				forbidden("a word of a document", []byte(word))
			}
		}
		// Nothing derived from the national id either: the subject id is
		// not a function of it.
		nid := sha256.Sum256([]byte(p.nationalID))
		forbidden("a hash of a national id", nid[:])
		forbidden("a subject id of a national id", SubjectID([]byte(p.nationalID)))
		forbidden("a subject id of a name", SubjectID([]byte(p.name)))
	}
	if t.Failed() {
		return
	}

	// The subject id depends on the key alone: the same person with a new
	// key (same national id) has an unrelated subject id, and each stored
	// consent names the subject id of the key that granted it.
	p := people[0]
	k1, k2 := citizenKey(p.name), citizenKey(p.name+"/nueva-clave")
	if bytes.Equal(SubjectID(pub(k1)), SubjectID(pub(k2))) {
		t.Fatalf("two keys share a subject id")
	}
	prefix := cat(prefixSubjConsent, SubjectID(pub(k1)))
	n := 0
	_ = f.st.Iterate(prefix, PrefixEnd(prefix), func(k, _ []byte) bool {
		cons, _ := loadConsent(f.st, string(k[len(prefix):]))
		if cons == nil || !bytes.Equal(cons.Subject, SubjectID(pub(k1))) {
			t.Errorf("consent %s has subject %x", k, cons.GetSubject())
		}
		n++
		return true
	})
	if n != 1 {
		t.Fatalf("%d consents listed for the subject", n)
	}
}
