package main

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"math/rand/v2"
	"strings"
	"sync"
	"testing"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/timestamppb"

	"github.com/gobtechlab/notary/app"
	"github.com/gobtechlab/notary/app/identity"
	"github.com/gobtechlab/notary/cmd/verifier/verify"
	"github.com/gobtechlab/notary/ledger"
	notaryv1 "github.com/gobtechlab/notary/proto/notary/v1"
	"github.com/gobtechlab/notary/proto/notary/v1/gatewayv1"
)

// The acceptance scenario of the citizens' part (issue 7): several
// agencies, citizens, consents and legal mandates registered by governance
// proposals on a real node, 1,000 exchanges recorded by the agencies over
// concurrent SubmitStreams, then every citizen's history fetched page by
// page through the public gateway and verified offline against the trust
// bundle must equal the model; a node that leaves an entry out or reorders
// two is caught; and nothing personal is in the state.

// scenarioAgencies are the agencies of the scenario (names are public).
var scenarioAgencies = []app.AgencySpec{
	{ID: "aeat", Name: "Agencia Estatal de Administración Tributaria", Permissions: enrollPerms},
	{ID: "dgt", Name: "Dirección General de Tráfico", Permissions: exchangePerms},
	{ID: "inss", Name: "Instituto Nacional de la Seguridad Social", Permissions: exchangePerms},
	{ID: "sas", Name: "Servicio Andaluz de Salud", Permissions: exchangePerms},
	{ID: "sepe", Name: "Servicio Público de Empleo Estatal", Permissions: exchangePerms},
}

// person is a citizen of the scenario: what the test knows about them and
// what must never reach the chain (name, national id, case files), and
// their key.
type person struct {
	name, nationalID, caseFile string
	key                        *identity.Identity
	consents                   map[string]string // kind -> consent id
}

var scenarioPeople = []struct{ name, nationalID, caseFile string }{
	{"María García López", "12345678Z", "Certificado de vida laboral: alta en Construcciones Ibáñez desde 2019"},
	{"Jon Etxeberria Goikoetxea", "87654321X", "Informe médico: diabetes tipo 2, tratamiento con metformina"},
	{"Aïcha Benali Ouhadi", "X1234567L", "Declaración de la renta 2025, base imponible 31.402,17 euros"},
	{"Xosé Manuel Iglesias Varela", "23456789D", "Expediente de incapacidad temporal por lumbalgia crónica"},
	{"Núria Puigdemont Serra", "34567890V", "Solicitud de ingreso mínimo vital con tres hijos menores"},
	{"Thiago Oliveira da Silva", "Y7654321G", "Multa por exceso de velocidad en la autovía A-7, radar móvil"},
}

// consentKinds are the consents every person grants: to whom, for what.
var consentKinds = map[string]struct{ agency, category, purpose string }{
	"aeat-tax":    {"aeat", "tax", "eligibility-check"},
	"sas-health":  {"sas", "health", "service-provision"},
	"inss-social": {"inss", "social-benefits", "eligibility-check"},
}

// scenarioMandates are registered by governance proposals.
func scenarioMandates() []*notaryv1.Mandate {
	from, until := timestamppb.New(time.Date(2015, 1, 1, 0, 0, 0, 0, time.UTC)), timestamppb.New(time.Date(2099, 1, 1, 0, 0, 0, 0, time.UTC))
	return []*notaryv1.Mandate{
		{Id: "ley-40-2015-art-155", LegalReference: "Ley 40/2015, art. 155 (BOE-A-2015-10566)",
			RequestingAgencies: []string{"aeat", "inss"}, ProvidingAgencies: []string{"sepe"},
			Categories: []string{"employment", "tax"}, Purposes: []string{"eligibility-check", "fraud-prevention"},
			ValidFrom: from, ValidUntil: until},
		{Id: "rd-1093-2025", LegalReference: "Real Decreto 1093/2025, art. 12 (BOE-A-2025-0001)",
			RequestingAgencies: []string{"dgt"}, ProvidingAgencies: []string{"sas"},
			Categories: []string{"health"}, Purposes: []string{"eligibility-check"},
			ValidFrom: from, ValidUntil: until},
	}
}

// modelEntry is what the model expects at one index of a history.
type modelEntry struct {
	requester, provider, category, purpose string
	consent, mandate, legalRef, reference  string
	height                                 int64
}

type scenario struct {
	c       *testChain
	people  []*person
	model   map[string]map[uint64]modelEntry // hex subject -> index -> entry
	trust   *notaryv1.TrustBundle
	public  gatewayv1.GatewayClient
	exLast  int64 // height of the last exchange
	refused int
}

// runScenario builds the scenario with n exchanges.
func runScenario(t *testing.T, n int) *scenario {
	t.Helper()
	c := startChain(t, 100*time.Millisecond, scenarioAgencies...)
	ctx := testCtx(t)
	s := &scenario{c: c, model: map[string]map[uint64]modelEntry{}, public: c.client(c.citizen)}
	tb, err := readFile("trust", c.trust)
	if err != nil {
		t.Fatal(err)
	}
	if s.trust, err = verify.DecodeTrustBundle(tb); err != nil {
		t.Fatal(err)
	}

	// Mandates, by governance.
	laws := map[string]string{}
	for _, m := range scenarioMandates() {
		c.registerMandate(ctx, m)
		laws[m.Id] = m.LegalReference
	}

	// An identity agency enrols the citizens' keys; they grant their
	// consents (each with their own key, no certificate); the third
	// withdraws one.
	var keys [][]byte
	for _, sp := range scenarioPeople {
		id, err := identity.Generate(identity.RoleCitizen, "", testChainID)
		if err != nil {
			t.Fatal(err)
		}
		s.people = append(s.people, &person{name: sp.name, nationalID: sp.nationalID, caseFile: sp.caseFile, key: id, consents: map[string]string{}})
		keys = append(keys, id.Public())
	}
	c.enroll(ctx, c.net.Agencies["aeat"], keys...)
	var wg sync.WaitGroup
	errs := make(chan error, len(scenarioPeople))
	for _, p := range s.people {
		id := p.key
		s.model[hex.EncodeToString(id.Subject())] = map[uint64]modelEntry{}
		wg.Add(1)
		go func() {
			defer wg.Done()
			seq := uint64(0)
			for _, kind := range []string{"aeat-tax", "sas-health", "inss-social"} {
				k := consentKinds[kind]
				r, err := s.public.Submit(ctx, &notaryv1.SubmitRequest{Tx: id.SignTx(&notaryv1.TxBody{Sequence: seq, Msg: &notaryv1.TxBody_GrantConsent{GrantConsent: &notaryv1.GrantConsent{
					Subject: id.Subject(), AgencyId: k.agency, Category: k.category, Purpose: k.purpose,
					ValidFrom: timestamppb.New(time.Now().Add(-time.Hour)), ValidUntil: timestamppb.New(time.Now().Add(365 * 24 * time.Hour))}}})})
				if err != nil {
					errs <- fmt.Errorf("grant %s: %w", kind, err)
					return
				}
				p.consents[kind] = r.GetResult().GetConsentId()
				seq++
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
	gone := s.people[2]
	if _, err := s.public.Submit(ctx, &notaryv1.SubmitRequest{Tx: gone.key.SignTx(&notaryv1.TxBody{Sequence: 3, Msg: &notaryv1.TxBody_WithdrawConsent{
		WithdrawConsent: &notaryv1.WithdrawConsent{ConsentId: gone.consents["sas-health"]}}})}); err != nil {
		t.Fatal(err)
	}
	delete(gone.consents, "sas-health")

	// n exchanges, chosen by a seeded generator among the bases in force,
	// each with a salted digest of a case file naming the person.
	rng := rand.New(rand.NewPCG(7, 2025))
	pick := func(xs ...string) string { return xs[rng.IntN(len(xs))] }
	type planned struct {
		p *person
		e modelEntry
	}
	byAgency := map[string][]planned{}
	for i := 0; i < n; i++ {
		p := s.people[rng.IntN(len(s.people))]
		var e modelEntry
		switch kind := rng.IntN(5); {
		case kind == 0 && p.consents["aeat-tax"] != "":
			e = modelEntry{requester: "aeat", provider: pick("sepe", "inss", "dgt"), category: "tax", purpose: "eligibility-check", consent: p.consents["aeat-tax"]}
		case kind == 1 && p.consents["sas-health"] != "":
			e = modelEntry{requester: "sas", provider: pick("inss", "dgt"), category: "health", purpose: "service-provision", consent: p.consents["sas-health"]}
		case kind == 2 && p.consents["inss-social"] != "":
			e = modelEntry{requester: "inss", provider: pick("sepe", "aeat"), category: "social-benefits", purpose: "eligibility-check", consent: p.consents["inss-social"]}
		case kind == 3:
			e = modelEntry{requester: "dgt", provider: "sas", category: "health", purpose: "eligibility-check", mandate: "rd-1093-2025"}
		default:
			e = modelEntry{requester: pick("aeat", "inss"), provider: "sepe", category: pick("employment", "tax"), purpose: pick("eligibility-check", "fraud-prevention"), mandate: "ley-40-2015-art-155"}
		}
		e.legalRef = laws[e.mandate]
		if rng.IntN(2) == 0 {
			salt := sha256.Sum256([]byte("sal de la agencia " + e.requester))
			doc := ledger.HashDocument(notaryv1.HashAlgorithm_HASH_ALGORITHM_SHA2_256,
				[]byte(fmt.Sprintf("Expediente %s/%d: %s, DNI %s. %s", e.requester, i, p.name, p.nationalID, p.caseFile)))
			e.reference = hex.EncodeToString(ledger.SaltedDigest(notaryv1.HashAlgorithm_HASH_ALGORITHM_SHA2_256, salt[:], doc))
		}
		byAgency[e.requester] = append(byAgency[e.requester], planned{p, e})
	}
	var mu sync.Mutex
	errs = make(chan error, len(byAgency))
	for agency, plan := range byAgency {
		wg.Add(1)
		go func() {
			defer wg.Done()
			bodies := make([]*notaryv1.TxBody, len(plan))
			for i, x := range plan {
				ref, _ := hex.DecodeString(x.e.reference)
				bodies[i] = exchange(x.e.requester, x.e.provider, x.p.key.Subject(), x.e.category, x.e.purpose, x.e.consent, x.e.mandate, ref)
			}
			rs, err := c.streamExchanges(ctx, c.net.Agencies[agency], bodies)
			if err != nil {
				errs <- fmt.Errorf("%s: %w", agency, err)
				return
			}
			mu.Lock()
			defer mu.Unlock()
			for i, r := range rs {
				if r.Code != 0 {
					errs <- fmt.Errorf("%s exchange %d refused: code %d %s", agency, i, r.Code, r.Log)
					return
				}
				e := plan[i].e
				e.height = r.Height
				sub := hex.EncodeToString(plan[i].p.key.Subject())
				idx := r.GetResult().GetExchangeIndex()
				if _, dup := s.model[sub][idx]; dup {
					errs <- fmt.Errorf("two exchanges got index %d of one history", idx)
					return
				}
				s.model[sub][idx] = e
				s.exLast = max(s.exLast, r.Height)
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}

	// Exchanges that no basis covers are refused and appear nowhere.
	for _, body := range []*notaryv1.TxBody{
		exchange("sas", "inss", gone.key.Subject(), "health", "service-provision", p2c(gone, "sas-health", s.people), "", nil),     // another's consent
		exchange("dgt", "sepe", s.people[0].key.Subject(), "health", "eligibility-check", "", "rd-1093-2025", nil),                 // provider not in the law
		exchange("aeat", "sepe", s.people[0].key.Subject(), "health", "statistics", "", "ley-40-2015-art-155", nil),                // category and purpose
		exchange("sepe", "aeat", s.people[1].key.Subject(), "tax", "eligibility-check", s.people[1].consents["aeat-tax"], "", nil), // consent to another agency
	} {
		agency := body.GetRecordExchange().RequesterAgencyId
		rs, err := c.streamExchanges(ctx, c.net.Agencies[agency], []*notaryv1.TxBody{body})
		if err != nil || (rs[0].Code == 0 && rs[0].GrpcCode == 0) {
			t.Fatalf("exchange without a basis was accepted: %v %v", rs, err)
		}
		s.refused++
	}
	c.waitHeight(s.exLast + 2)
	return s
}

// p2c returns the consent of kind of another person than p.
func p2c(p *person, kind string, people []*person) string {
	for _, q := range people {
		if q != p && q.consents[kind] != "" {
			return q.consents[kind]
		}
	}
	return ""
}

// TestAccessScenario is the acceptance scenario: every citizen's history,
// fetched in pages and verified offline, equals the model; omitting or
// reordering entries is caught; the state holds nothing personal.
func TestAccessScenario(t *testing.T) {
	if testing.Short() {
		t.Skip("starts a node and records 1,000 exchanges")
	}
	start := time.Now()
	s := runScenario(t, 1000)
	t.Logf("scenario built in %s: %d exchanges up to height %d, %d refused", time.Since(start).Round(time.Millisecond), 1000, s.exLast, s.refused)
	ctx := testCtx(t)

	total := 0
	var longest *person
	for _, p := range s.people {
		sub := p.key.Subject()
		resp, records, err := fetchHistory(ctx, s.public, p.key, 0, 64)
		if err != nil {
			t.Fatal(err)
		}
		h, err := verify.AccessHistory(s.trust, sub, resp, records...)
		if err != nil {
			t.Fatalf("%s: %v", p.name, err)
		}
		model := s.model[hex.EncodeToString(sub)]
		if h.Count != uint64(len(model)) || len(h.Entries) != len(model) || h.Height < s.exLast {
			t.Fatalf("history of %d entries at height %d; the model has %d, the last exchange is at %d", h.Count, h.Height, len(model), s.exLast)
		}
		for _, e := range h.Entries {
			m := model[e.Index]
			got := modelEntry{requester: e.Requester, provider: e.Provider, category: e.Category, purpose: e.Purpose,
				consent: e.ConsentID, mandate: e.MandateID, legalRef: e.LegalReference, reference: e.Reference, height: e.Height}
			if got != m {
				t.Fatalf("entry %d: %+v, the model has %+v", e.Index, got, m)
			}
			if e.RequesterName == "" || e.ProviderName == "" {
				t.Fatalf("entry %d: agencies not named: %+v", e.Index, e)
			}
		}
		total += len(h.Entries)
		if longest == nil || len(model) > len(s.model[hex.EncodeToString(longest.key.Subject())]) {
			longest = p
		}
	}
	if total != 1000 {
		t.Fatalf("%d entries in all histories, want 1000", total)
	}

	t.Run("tampering node", func(t *testing.T) { tamperCases(t, s, longest) })
	t.Run("byte flips", func(t *testing.T) { flipCases(t, s, s.people[0]) })
	t.Run("privacy", func(t *testing.T) { privacyCheck(t, s) })
}

// tamperingGateway is a node that alters the access histories it serves.
type tamperingGateway struct {
	gatewayv1.GatewayClient
	alter func(resp *notaryv1.GetAccessHistoryResponse)
}

func (g tamperingGateway) GetAccessHistory(ctx context.Context, req *notaryv1.GetAccessHistoryRequest, opts ...grpc.CallOption) (*notaryv1.GetAccessHistoryResponse, error) {
	resp, err := g.GatewayClient.GetAccessHistory(ctx, req, opts...)
	if err == nil {
		g.alter(resp)
	}
	return resp, err
}

// indexOf is the index of an entry.
func indexOf(t *testing.T, e *notaryv1.AccessEntry) uint64 {
	var x notaryv1.Exchange
	if err := proto.Unmarshal(e.Record, &x); err != nil {
		t.Fatal(err)
	}
	return x.Index
}

func tamperCases(t *testing.T, s *scenario, p *person) {
	ctx := testCtx(t)
	sub := p.key.Subject()
	n := uint64(len(s.model[hex.EncodeToString(sub)]))
	if n < 10 {
		t.Fatalf("the longest history has %d entries", n)
	}
	drop := func(i uint64) func(*notaryv1.GetAccessHistoryResponse) {
		return func(r *notaryv1.GetAccessHistoryResponse) {
			for j, e := range r.Entries {
				if indexOf(t, e) == i {
					r.Entries = append(r.Entries[:j:j], r.Entries[j+1:]...)
					return
				}
			}
		}
	}
	// A forged head that counts one entry less, with the chain of the
	// first n-1 entries (its proof cannot follow).
	forgeHead := func(r *notaryv1.GetAccessHistoryResponse) {
		var h notaryv1.AccessHead
		if err := proto.Unmarshal(r.Head, &h); err != nil {
			t.Fatal(err)
		}
		h.Count--
		r.Head = ledger.Encode(&h)
		if len(r.Entries) > 0 && indexOf(t, r.Entries[len(r.Entries)-1]) == n-1 {
			r.Entries = r.Entries[:len(r.Entries)-1]
		}
	}
	cases := []struct {
		name  string
		alter func(*notaryv1.GetAccessHistoryResponse)
		want  verify.Reason
	}{
		{"omits the first entry", drop(0), verify.ReasonHistoryIncomplete},
		{"omits an entry in the middle", drop(n / 2), verify.ReasonHistoryIncomplete},
		{"omits the last entry", drop(n - 1), verify.ReasonHistoryIncomplete},
		{"reorders two entries", func(r *notaryv1.GetAccessHistoryResponse) {
			if len(r.Entries) > 3 {
				r.Entries[1], r.Entries[3] = r.Entries[3], r.Entries[1]
			}
		}, verify.ReasonHistoryIncomplete},
		{"swaps two neighbours", func(r *notaryv1.GetAccessHistoryResponse) {
			if len(r.Entries) > 1 && r.Checkpoint == nil {
				r.Entries[0], r.Entries[1] = r.Entries[1], r.Entries[0]
			}
		}, verify.ReasonHistoryIncomplete},
		{"omits the last entry and forges the head", forgeHead, verify.ReasonProofInvalid},
		{"alters an entry", func(r *notaryv1.GetAccessHistoryResponse) {
			if len(r.Entries) > 2 {
				var x notaryv1.Exchange
				if err := proto.Unmarshal(r.Entries[2].Record, &x); err != nil {
					t.Fatal(err)
				}
				x.Purpose = "statistics"
				r.Entries[2].Record = ledger.Encode(&x)
			}
		}, verify.ReasonProofInvalid},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			gw := tamperingGateway{GatewayClient: s.public, alter: tc.alter}
			resp, records, err := fetchHistory(ctx, gw, p.key, 0, 64)
			if err != nil {
				t.Fatal(err)
			}
			_, err = verify.AccessHistory(s.trust, sub, resp, records...)
			var f *verify.Failure
			if !errors.As(err, &f) {
				t.Fatalf("a tampered history verified (%v)", err)
			}
			if f.Reason != tc.want {
				t.Fatalf("reason %s (%s), want %s", f.Reason, f.Detail, tc.want)
			}
		})
	}
	// The untampered history through the same path verifies.
	resp, records, err := fetchHistory(ctx, tamperingGateway{GatewayClient: s.public, alter: func(*notaryv1.GetAccessHistoryResponse) {}}, p.key, 0, 64)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := verify.AccessHistory(s.trust, sub, resp, records...); err != nil {
		t.Fatal(err)
	}
}

// privacyCheck dumps every key and value of the state (and every
// transaction of the block store) and looks for the people's names, national
// ids, case-file contents and anything derived from a national id.
func privacyCheck(t *testing.T, s *scenario) {
	view, err := s.c.node.App.StateAt(0)
	if err != nil {
		t.Fatal(err)
	}
	var dump bytes.Buffer
	keys := 0
	if err := view.Iterate(nil, nil, func(k, v []byte) bool {
		dump.Write(k)
		dump.WriteByte(0)
		dump.Write(v)
		dump.WriteByte(0)
		keys++
		return true
	}); err != nil {
		t.Fatal(err)
	}
	if keys < 1000 {
		t.Fatalf("the state dump has %d keys", keys)
	}
	chain := s.c.node.Chain()
	txs := 0
	for h := int64(1); h <= chain.Height(); h++ {
		if b, err := chain.BlockTxs(h); err == nil {
			for _, tx := range b {
				dump.Write(tx)
				dump.WriteByte(0)
				txs++
			}
		}
	}
	t.Logf("scanned %d state keys and %d transactions (%d bytes)", keys, txs, dump.Len())
	raw := dump.Bytes()
	lower := bytes.ToLower(raw)
	hexDump := []byte(hex.EncodeToString(raw))
	forbidden := func(what string, s []byte) {
		t.Helper()
		if bytes.Contains(raw, s) || bytes.Contains(lower, bytes.ToLower(s)) || bytes.Contains(hexDump, []byte(hex.EncodeToString(s))) {
			t.Errorf("the state contains %s %q", what, s)
		}
	}
	for _, p := range s.people {
		forbidden("a name", []byte(p.name))
		for _, part := range strings.Fields(p.name) {
			if len(part) >= 4 {
				forbidden("part of a name", []byte(part))
			}
		}
		forbidden("a national id", []byte(p.nationalID))
		forbidden("a case file", []byte(p.caseFile))
		for _, w := range strings.Fields(p.caseFile) {
			if len(w) >= 8 {
				forbidden("a word of a case file", []byte(strings.Trim(w, ".,:")))
			}
		}
		nid := sha256.Sum256([]byte(p.nationalID))
		forbidden("a hash of a national id", nid[:])
		forbidden("a subject id made of a national id", ledger.SubjectID([]byte(p.nationalID)))
		forbidden("a subject id made of a name", ledger.SubjectID([]byte(p.name)))

		// The subject id is the hash of the key, and of nothing else.
		want := sha256.Sum256(append([]byte("notary/subject/v1"), p.key.Public()...))
		sub := p.key.Subject()
		if !bytes.Equal(sub, want[:]) {
			t.Errorf("%s: subject id %x is not SHA-256(\"notary/subject/v1\" || public key)", p.name, sub)
		}
		for _, derived := range [][]byte{ledger.SubjectID([]byte(p.nationalID)), nid[:], ledger.SubjectID([]byte(strings.ToLower(p.nationalID)))} {
			if bytes.Equal(sub, derived) {
				t.Errorf("%s: the subject id is derived from the national id", p.name)
			}
		}
		if !bytes.Contains(raw, sub) {
			t.Errorf("%s: the subject id is not in the state (the scan would prove nothing)", p.name)
		}
	}
}

// flipCases changes one byte of a fetched history (encoded as the node sends
// it) at seeded random places: whatever still decodes must not verify, and
// nothing panics.
func flipCases(t *testing.T, s *scenario, p *person) {
	ctx := testCtx(t)
	sub := p.key.Subject()
	resp, records, err := fetchHistory(ctx, s.public, p.key, 0, maxHistoryPage)
	if err != nil {
		t.Fatal(err)
	}
	raw, err := proto.Marshal(resp)
	if err != nil {
		t.Fatal(err)
	}
	for _, bad := range []*notaryv1.GetAccessHistoryResponse{nil, {}, {Checkpoint: &notaryv1.GetCheckpointResponse{}}, {Checkpoint: resp.Checkpoint, Entries: []*notaryv1.AccessEntry{nil}}} {
		if _, err := verify.AccessHistory(s.trust, sub, bad); err == nil {
			t.Fatalf("%v verified", bad)
		}
	}
	if _, err := verify.AccessHistory(s.trust, sub[:31], resp); err == nil {
		t.Fatal("a short subject verified")
	}
	rng := rand.New(rand.NewPCG(1, 2))
	decoded := 0
	for i := 0; i < 400; i++ {
		b := append([]byte(nil), raw...)
		at := rng.IntN(len(b))
		b[at] ^= byte(1 + rng.IntN(255))
		var m notaryv1.GetAccessHistoryResponse
		if proto.Unmarshal(b, &m) != nil {
			continue
		}
		decoded++
		if _, err := verify.AccessHistory(s.trust, sub, &m, records...); err == nil {
			t.Fatalf("a history with byte %d of %d changed verified", at, len(b))
		}
	}
	t.Logf("%d of 400 changed responses decoded; none verified", decoded)
}
