package ledger

import (
	"crypto/ed25519"
	"encoding/hex"
	"testing"
	"time"

	"google.golang.org/protobuf/proto"

	notaryv1 "github.com/gobtechlab/notary/proto/notary/v1"
)

// notAPoint is 32 bytes that encode no point of the curve (y = 2 has no x).
func notAPoint() []byte {
	b := make([]byte, PublicKeySize)
	b[0] = 2
	return b
}

// grantBy is a valid grant of the citizen key k to aeat, in force for a year.
func grantBy(k ed25519.PrivateKey) *notaryv1.TxBody {
	return grantMsg(SubjectID(pub(k)), "aeat", "tax", "statistics", genesisTime, genesisTime.Add(year))
}

// TestFreshKeysRefused is the attack of anyone writing to the chain with
// fresh citizen keys: on a new chain (citizen enrolment ACCREDITED) none of
// them gets a consent in and the state does not change; on a chain created
// before the parameter the keys still enrol themselves, as they did.
func TestFreshKeysRefused(t *testing.T) {
	for _, tc := range []struct {
		name string
		g    *notaryv1.GenesisState
		want *Error // nil: accepted
	}{
		{"new chain (ACCREDITED)", testGenesis(), ErrNotEnrolled},
		{"existing chain (UNSPECIFIED)", openGenesis(), nil},
		{"chain set OPEN", func() *notaryv1.GenesisState {
			g := testGenesis()
			g.Params.CitizenEnrollment = notaryv1.CitizenEnrollment_CITIZEN_ENROLLMENT_OPEN
			return g
		}(), nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f := newFixture(t, tc.g)
			before := snapshot(f.st)
			var txs [][]byte
			for i := 0; i < 50; i++ {
				txs = append(txs, f.sign(citizenKey("fresh-"+itoa(i)), grantBy(citizenKey("fresh-"+itoa(i)))))
			}
			for i, out := range f.block(txs...) {
				if tc.want == nil {
					mustOK(t, out)
					continue
				}
				mustFail(t, out, tc.want)
				if i == 0 {
					t.Logf("refused: %v", out.Err)
				}
			}
			if tc.want != nil && snapshot(f.st) != before {
				t.Fatalf("refused consents changed the state")
			}
		})
	}
}

// TestEnrollCitizen checks EnrollCitizen's rules, each with its own code,
// and what an enrolment makes.
func TestEnrollCitizen(t *testing.T) {
	carmen := citizenKey("carmen")
	notPoint := notAPoint()
	aeat, ro := agencyKey("aeat"), agencyKey("readonly")
	tests := []struct {
		name   string
		signer ed25519.PrivateKey
		body   *notaryv1.TxBody
		want   *Error
	}{
		{"enrolment by an agency with the permission", aeat, enrollBody("aeat", pub(carmen)), nil},
		{"by an agency without PERMISSION_ENROLL", ro, enrollBody("readonly", pub(carmen)), ErrUnauthorized},
		{"naming another agency", aeat, enrollBody("sepe", pub(carmen)), ErrSignerMismatch},
		{"without agency id", aeat, enrollBody("", pub(carmen)), ErrInvalidField},
		{"by a citizen key", citizenKey("ana"), enrollBody("aeat", pub(carmen)), ErrUnknownSigner},
		{"by a key with no account", carmen, enrollBody("aeat", pub(carmen)), ErrUnknownSigner},
		{"by a ministry key", ministryGov("hacienda"), enrollBody("aeat", pub(carmen)), ErrUnknownSigner},
		{"by an inactive agency", agencyKey("cerrada"), enrollBody("cerrada", pub(carmen)), ErrInactive},
		{"a short key", aeat, enrollBody("aeat", pub(carmen)[:31]), ErrBadPublicKey},
		{"no key", aeat, enrollBody("aeat", nil), ErrBadPublicKey},
		{"32 bytes that are no curve point", aeat, enrollBody("aeat", notPoint), ErrBadPublicKey},
		{"a citizen already enrolled", aeat, enrollBody("aeat", pub(citizenKey("ana"))), ErrKeyInUse},
		{"an agency's key", aeat, enrollBody("aeat", pub(agencyKey("sepe"))), ErrKeyInUse},
		{"its own key", aeat, enrollBody("aeat", pub(aeat)), ErrKeyInUse},
		{"a ministry's governance key", aeat, enrollBody("aeat", pub(ministryGov("interior"))), ErrKeyInUse},
		{"a ministry's consensus key", aeat, enrollBody("aeat", pub(ministryCons("interior"))), ErrKeyInUse},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			f := newFixture(t, testGenesis())
			// An inactive agency with the permission and an account, as
			// governance leaves a removed one.
			closed := &notaryv1.Agency{Id: "cerrada", Name: "Agencia cerrada", PubKey: pub(agencyKey("cerrada")), Permissions: allPerms}
			_ = f.st.Set(AgencyKey(closed.Id), Encode(closed))
			_ = f.st.Set(AccountKey(closed.PubKey), Encode(&notaryv1.Account{PubKey: closed.PubKey, Role: notaryv1.Role_ROLE_AGENCY, Owner: closed.Id}))
			before, height := snapshot(f.st), f.height
			out := f.one(f.sign(tc.signer, tc.body))
			if tc.want != nil {
				mustFail(t, out, tc.want)
				if snapshot(f.st) != before {
					t.Fatalf("state changed by a refused enrolment")
				}
				return
			}
			mustOK(t, out)
			acct, err := loadAccount(f.st, pub(carmen))
			want := &notaryv1.Account{PubKey: pub(carmen), Role: notaryv1.Role_ROLE_CITIZEN,
				Owner: hex.EncodeToString(SubjectID(pub(carmen))), EnrolledBy: "aeat", EnrolledHeight: height}
			if err != nil || !proto.Equal(acct, want) {
				t.Fatalf("account %v (%v), want %v", acct, err, want)
			}
			if len(out.Events) != 1 || out.Events[0].Type != "notary.citizen.enroll" {
				t.Fatalf("events %v", out.Events)
			}
			// The enrolled key grants and withdraws; the account keeps who
			// enrolled it.
			id := grantOK(t, f, carmen, "aeat", "tax", "statistics", genesisTime, genesisTime.Add(year))
			mustOK(t, f.one(f.sign(carmen, withdrawMsg(id))))
			acct, _ = loadAccount(f.st, pub(carmen))
			if acct.NextSequence != 2 || acct.EnrolledBy != "aeat" {
				t.Fatalf("account after two transactions: %v", acct)
			}
		})
	}
}

// TestGenesisCitizens: keys listed in genesis are citizen accounts; a
// genesis listing a key twice, a key of another participant or a key that
// is no curve point is refused.
func TestGenesisCitizens(t *testing.T) {
	f := newFixture(t, testGenesis())
	for _, n := range genesisCitizens {
		k := citizenKey(n)
		acct, err := loadAccount(f.st, pub(k))
		if err != nil || acct == nil || acct.Role != notaryv1.Role_ROLE_CITIZEN || acct.Owner != hex.EncodeToString(SubjectID(pub(k))) || acct.EnrolledBy != "" {
			t.Fatalf("genesis citizen %s: %v %v", n, acct, err)
		}
		grantOK(t, f, k, "aeat", "tax", "statistics", genesisTime, genesisTime.Add(year))
	}
	for _, tc := range []struct {
		name string
		mod  func(g *notaryv1.GenesisState)
	}{
		{"a citizen twice", func(g *notaryv1.GenesisState) { g.Citizens = append(g.Citizens, g.Citizens[0]) }},
		{"an agency's key", func(g *notaryv1.GenesisState) { g.Citizens = append(g.Citizens, pub(agencyKey("aeat"))) }},
		{"a ministry's key", func(g *notaryv1.GenesisState) { g.Citizens = append(g.Citizens, pub(ministryCons("hacienda"))) }},
		{"a short key", func(g *notaryv1.GenesisState) { g.Citizens = append(g.Citizens, []byte("short")) }},
		{"no curve point", func(g *notaryv1.GenesisState) {
			g.Citizens = append(g.Citizens, notAPoint())
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			g := testGenesis()
			tc.mod(g)
			if err := ValidateGenesis(g); CodeOf(err) != ErrInvalidGenesis.Code() {
				t.Fatalf("got %v, want ErrInvalidGenesis", err)
			}
		})
	}
}

// TestEnrollmentGovernance: governance grants PERMISSION_ENROLL and turns
// citizen enrolment from OPEN to ACCREDITED; keys that enrolled themselves
// before keep working, new keys are refused.
func TestEnrollmentGovernance(t *testing.T) {
	h := newGovHarness(t, openGenesis())
	early := citizenKey("temprana")
	mustOK(t, h.one(h.sign(early, grantBy(early))))

	// PERMISSION_ENROLL for the agency that had none.
	perms := []notaryv1.Permission{notaryv1.Permission_PERMISSION_ENROLL}
	h.enactPassed(actUpdateAgency(&notaryv1.Agency{Id: "readonly", Name: "Agencia readonly", PubKey: pub(agencyKey("readonly")), Permissions: perms}))
	// ACCREDITED.
	p := proto.Clone(openGenesis().Params).(*notaryv1.Params)
	p.CitizenEnrollment = notaryv1.CitizenEnrollment_CITIZEN_ENROLLMENT_ACCREDITED
	h.enactPassed(actChangeParams(p))

	late, vouched := citizenKey("tardia"), citizenKey("acreditada")
	mustFail(t, h.one(h.sign(late, grantBy(late))), ErrNotEnrolled)
	mustOK(t, h.one(h.sign(early, grantBy(early))))
	mustOK(t, h.one(h.sign(agencyKey("readonly"), enrollBody("readonly", pub(vouched)))))
	mustOK(t, h.one(h.sign(vouched, grantBy(vouched))))

	// An unknown enrolment mode is refused by the proposal's checks.
	bad := proto.Clone(p).(*notaryv1.Params)
	bad.CitizenEnrollment = 7
	mustFail(t, h.block(h.propose("hacienda", actChangeParams(bad)))[0], ErrInvalidParams)
	bad.CitizenEnrollment, bad.MaxActiveConsentsPerSubject = 0, 5
	mustOK(t, h.block(h.propose("hacienda", actChangeParams(bad)))[0])
	// A permission past the known ones is refused.
	mustFail(t, h.block(h.propose("hacienda", actUpdateAgency(&notaryv1.Agency{Id: "readonly", Name: "Agencia readonly",
		PubKey: pub(agencyKey("readonly")), Permissions: []notaryv1.Permission{notaryv1.Permission_PERMISSION_ENROLL + 1}})))[0], ErrInvalidField)
}

// TestConsentLimit is the attack of one subject filling the state with
// consents: past max_active_consents_per_subject a grant is refused;
// withdrawn and expired consents make room; consents not yet in force
// count; a limit of 0 (chains created before it) bounds nothing.
func TestConsentLimit(t *testing.T) {
	const max = 3
	limited := func() *notaryv1.GenesisState {
		g := testGenesis()
		g.Params.MaxActiveConsentsPerSubject = max
		return g
	}
	ana := citizenKey("ana")
	g0 := genesisTime
	grant := func(f *fixture, until time.Duration) Outcome {
		return f.one(f.sign(ana, grantMsg(SubjectID(pub(ana)), "aeat", "tax", "statistics", g0, g0.Add(until))))
	}
	t.Run("default params", func(t *testing.T) {
		f := newFixture(t, testGenesis())
		for i := 0; i < DefaultMaxActiveConsents; i++ {
			mustOK(t, grant(f, year))
		}
		before := snapshot(f.st)
		out := grant(f, year)
		mustFail(t, out, ErrConsentLimit)
		t.Logf("refused: %v", out.Err)
		if snapshot(f.st) != before {
			t.Fatalf("a refused grant changed the state")
		}
	})
	tests := []struct {
		name string
		g    *notaryv1.GenesisState
		// before runs the setup and returns the ids granted.
		before func(f *fixture) []string
		want   *Error
	}{
		{"below the limit", limited(), func(f *fixture) []string {
			return []string{grantOK(t, f, ana, "aeat", "tax", "statistics", g0, g0.Add(year))}
		}, nil},
		{"at the limit", limited(), func(f *fixture) []string {
			var ids []string
			for i := 0; i < max; i++ {
				ids = append(ids, grantOK(t, f, ana, "aeat", "tax", "statistics", g0, g0.Add(year)))
			}
			return ids
		}, ErrConsentLimit},
		{"consents not yet in force count", limited(), func(f *fixture) []string {
			for i := 0; i < max; i++ {
				grantOK(t, f, ana, "aeat", "tax", "statistics", g0.Add(year), g0.Add(2*year))
			}
			return nil
		}, ErrConsentLimit},
		{"a withdrawal makes room", limited(), func(f *fixture) []string {
			var ids []string
			for i := 0; i < max; i++ {
				ids = append(ids, grantOK(t, f, ana, "aeat", "tax", "statistics", g0, g0.Add(year)))
			}
			mustOK(t, f.one(f.sign(ana, withdrawMsg(ids[1]))))
			return ids
		}, nil},
		{"an expiry makes room", limited(), func(f *fixture) []string {
			for i := 0; i < max; i++ {
				grantOK(t, f, ana, "aeat", "tax", "statistics", g0, g0.Add(time.Minute))
			}
			f.time = g0.Add(time.Minute) // valid_until is exclusive
			return nil
		}, nil},
		{"other subjects do not count", limited(), func(f *fixture) []string {
			bea := citizenKey("bea")
			for i := 0; i < max; i++ {
				grantOK(t, f, bea, "aeat", "tax", "statistics", g0, g0.Add(year))
			}
			return nil
		}, nil},
		{"no limit on an existing chain", openGenesis(), func(f *fixture) []string {
			for i := 0; i < 3*DefaultMaxActiveConsents; i++ {
				grantOK(t, f, ana, "aeat", "tax", "statistics", g0, g0.Add(year))
			}
			return nil
		}, nil},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			f := newFixture(t, tc.g)
			tc.before(f)
			before := snapshot(f.st)
			out := grant(f, year)
			if tc.want == nil {
				mustOK(t, out)
				return
			}
			mustFail(t, out, tc.want)
			if snapshot(f.st) != before {
				t.Fatalf("a refused grant changed the state")
			}
		})
	}
}

// TestConsentLimitIndex: the index behind the limit holds exactly the
// consents granted under a limit that are neither withdrawn nor found
// expired; with no limit nothing is written to it.
func TestConsentLimitIndex(t *testing.T) {
	ana := citizenKey("ana")
	sub := SubjectID(pub(ana))
	g0 := genesisTime
	indexed := func(f *fixture) []string {
		var ids []string
		p := ActiveConsentPrefix(sub)
		_ = f.st.Iterate(p, PrefixEnd(p), func(k, _ []byte) bool { ids = append(ids, string(k[len(p):])); return true })
		return ids
	}
	f := newFixture(t, openGenesis())
	grantOK(t, f, ana, "aeat", "tax", "statistics", g0, g0.Add(year))
	if ids := indexed(f); len(ids) != 0 {
		t.Fatalf("a chain without a limit indexed %v", ids)
	}

	f = newFixture(t, testGenesis())
	short := grantOK(t, f, ana, "aeat", "tax", "statistics", g0, g0.Add(time.Minute))
	gone := grantOK(t, f, ana, "aeat", "tax", "statistics", g0, g0.Add(year))
	kept := grantOK(t, f, ana, "aeat", "tax", "statistics", g0, g0.Add(year))
	mustOK(t, f.one(f.sign(ana, withdrawMsg(gone))))
	if ids := indexed(f); len(ids) != 2 || !contains(ids, short) || !contains(ids, kept) {
		t.Fatalf("index %v, want %s and %s", ids, short, kept)
	}
	f.time = g0.Add(time.Hour)
	next := grantOK(t, f, ana, "aeat", "tax", "statistics", g0, g0.Add(year))
	if ids := indexed(f); len(ids) != 2 || !contains(ids, kept) || !contains(ids, next) {
		t.Fatalf("index after an expiry %v, want %s and %s", ids, kept, next)
	}
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}
