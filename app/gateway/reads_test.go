package gateway_test

import (
	"crypto/ed25519"
	"strings"
	"testing"
	"time"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/timestamppb"

	"github.com/gobtechlab/notary/app"
	"github.com/gobtechlab/notary/app/apptest"
	"github.com/gobtechlab/notary/app/identity"
	"github.com/gobtechlab/notary/ledger"
	notaryv1 "github.com/gobtechlab/notary/proto/notary/v1"
	"github.com/gobtechlab/notary/proto/notary/v1/gatewayv1"
)

// signAt signs req as id for chain and method at t.
func signAt[R proto.Message](t testing.TB, id *identity.Identity, chain, method string, req R, at time.Time) R {
	t.Helper()
	key := id.Key()
	if err := ledger.SignRead(chain, method, id.Public(), req, at.Unix(), func(m []byte) []byte { return ed25519.Sign(key, m) }); err != nil {
		t.Fatal(err)
	}
	return req
}

// TestSignedReads: a citizen's consents and access history are returned to
// the citizen (a fresh signature of the request by their key), a consent
// also to the agency it is given to, a coverage question to the agencies of
// the exchange and to its subject, and to nobody else; QueryState refuses
// the keys of citizens' records. Each refusal says what is missing.
func TestSignedReads(t *testing.T) {
	n := apptest.Start(t, apptest.Options{
		Agencies: []app.AgencySpec{
			{ID: "registry-agency", Name: "Registro Civil"},
			{ID: "other-agency", Name: "Otra Agencia", Permissions: apptest.AllPermissions},
		},
		Citizens: []string{"eve"},
	})
	ctx := ctxT(t)
	public := n.Client(t, "")
	agency := n.Client(t, n.Agency)
	registry := n.Client(t, n.Network.Agencies["registry-agency"])
	other := n.Client(t, n.Network.Agencies["other-agency"])
	ministry := n.Client(t, n.Ministry)
	citizen := n.Identity(t, n.Citizen)
	eve := n.Identity(t, n.Network.Citizens["eve"])
	subject := citizen.Subject()

	now := time.Now()
	gr, err := public.Submit(ctx, &notaryv1.SubmitRequest{Tx: citizen.SignTx(&notaryv1.TxBody{Msg: &notaryv1.TxBody_GrantConsent{GrantConsent: &notaryv1.GrantConsent{
		Subject: subject, AgencyId: apptest.AgencyID, Category: "tax", Purpose: "eligibility-check",
		ValidFrom: timestamppb.New(now.Add(-time.Hour)), ValidUntil: timestamppb.New(now.Add(24 * time.Hour))}}})})
	if err != nil {
		t.Fatal(err)
	}
	consentID := gr.GetResult().GetConsentId()
	ag := n.Identity(t, n.Agency)
	if _, err := agency.Submit(ctx, &notaryv1.SubmitRequest{Tx: ag.SignTx(&notaryv1.TxBody{Msg: &notaryv1.TxBody_RecordExchange{RecordExchange: &notaryv1.RecordExchange{
		RequesterAgencyId: apptest.AgencyID, ProviderAgencyId: "registry-agency", Subject: subject, Category: "tax",
		Purpose: "eligibility-check", Basis: &notaryv1.RecordExchange_ConsentId{ConsentId: consentID}}}})}); err != nil {
		t.Fatal(err)
	}

	list := func() *notaryv1.ListConsentsRequest { return &notaryv1.ListConsentsRequest{Subject: subject} }
	hist := func() *notaryv1.GetAccessHistoryRequest { return &notaryv1.GetAccessHistoryRequest{Subject: subject} }
	get := func() *notaryv1.GetConsentRequest { return &notaryv1.GetConsentRequest{ConsentId: consentID} }
	cover := func() *notaryv1.CheckCoverageRequest {
		return &notaryv1.CheckCoverageRequest{RequesterAgencyId: apptest.AgencyID, ProviderAgencyId: "registry-agency",
			Subject: subject, Category: "tax", Purpose: "eligibility-check"}
	}
	const (
		listM  = gatewayv1.Gateway_ListConsents_FullMethodName
		histM  = gatewayv1.Gateway_GetAccessHistory_FullMethodName
		chain  = apptest.ChainID
		unauth = codes.Unauthenticated
		denied = codes.PermissionDenied
	)
	listAs := func(gw gatewayv1.GatewayClient, req *notaryv1.ListConsentsRequest) func() error {
		return func() error {
			r, err := gw.ListConsents(ctx, req)
			if err == nil && (len(r.Consents) != 1 || r.Consents[0].Consent.Id != consentID) {
				t.Errorf("consents: %v", r)
			}
			return err
		}
	}
	histAs := func(gw gatewayv1.GatewayClient, req *notaryv1.GetAccessHistoryRequest) func() error {
		return func() error {
			r, err := gw.GetAccessHistory(ctx, req)
			if err == nil && len(r.Entries) != 1 {
				t.Errorf("history: %v", r)
			}
			return err
		}
	}
	getAs := func(gw gatewayv1.GatewayClient, req *notaryv1.GetConsentRequest) func() error {
		return func() error {
			r, err := gw.GetConsent(ctx, req)
			if err == nil && r.GetConsent().GetConsent().GetId() != consentID {
				t.Errorf("consent: %v", r)
			}
			return err
		}
	}
	coverAs := func(gw gatewayv1.GatewayClient, req *notaryv1.CheckCoverageRequest) func() error {
		return func() error {
			r, err := gw.CheckCoverage(ctx, req)
			if err == nil && (!r.Covered || r.ConsentId != consentID) {
				t.Errorf("coverage: %v", r)
			}
			return err
		}
	}
	altered := signedRead(t, citizen, list())
	altered.Subject = eve.Subject()
	badKey := signedRead(t, citizen, list())
	badKey.ReadAuth.PubKey = badKey.ReadAuth.PubKey[:31]

	cases := []struct {
		name string
		call func() error
		want codes.Code
		says string // part of the refusal's message
	}{
		{"ListConsents, no credentials", listAs(public, list()), unauth, "no read_auth"},
		{"ListConsents, the subject", listAs(public, signedRead(t, citizen, list())), codes.OK, ""},
		{"ListConsents, the subject with the agency's certificate", listAs(agency, signedRead(t, citizen, list())), codes.OK, ""},
		{"ListConsents, another citizen", listAs(public, signedRead(t, eve, list())), denied, "signed by the key of subject"},
		{"ListConsents, the agency given the consent", listAs(agency, list()), denied, "no read_auth"},
		{"ListConsents, signed 10 minutes ago", listAs(public, signAt(t, citizen, chain, listM, list(), now.Add(-10*time.Minute))), unauth, "from this node's clock"},
		{"ListConsents, signed 10 minutes ahead", listAs(public, signAt(t, citizen, chain, listM, list(), now.Add(10*time.Minute))), unauth, "from this node's clock"},
		{"ListConsents, signed 4 minutes ago", listAs(public, signAt(t, citizen, chain, listM, list(), now.Add(-4*time.Minute))), codes.OK, ""},
		{"ListConsents, signed for another chain", listAs(public, signAt(t, citizen, "other-chain", listM, list(), now)), unauth, "does not verify"},
		{"ListConsents, signed for GetAccessHistory", listAs(public, signAt(t, citizen, chain, histM, list(), now)), unauth, "does not verify"},
		{"ListConsents, altered after signing", listAs(public, altered), unauth, "does not verify"},
		{"ListConsents, short key", listAs(public, badKey), unauth, "pub_key is 31 bytes"},

		{"GetAccessHistory, no credentials", histAs(public, hist()), unauth, "no read_auth"},
		{"GetAccessHistory, the subject", histAs(public, signedRead(t, citizen, hist())), codes.OK, ""},
		{"GetAccessHistory, another citizen", histAs(public, signedRead(t, eve, hist())), denied, "signed by the key of subject"},
		{"GetAccessHistory, the requesting agency", histAs(agency, hist()), denied, "agency"},
		{"GetAccessHistory, the providing agency", histAs(registry, hist()), denied, "agency"},
		{"GetAccessHistory, signed for ListConsents", histAs(public, signAt(t, citizen, chain, listM, hist(), now)), unauth, "does not verify"},

		{"GetConsent, no credentials", getAs(public, get()), unauth, "has neither"},
		{"GetConsent, the subject", getAs(public, signedRead(t, citizen, get())), codes.OK, ""},
		{"GetConsent, the agency given it", getAs(agency, get()), codes.OK, ""},
		{"GetConsent, another citizen", getAs(public, signedRead(t, eve, get())), denied, "only to its subject"},
		{"GetConsent, another agency", getAs(other, get()), denied, "other-agency"},
		{"GetConsent, the providing agency", getAs(registry, get()), denied, "registry-agency"},
		{"GetConsent, a ministry", getAs(ministry, get()), denied, "ministry"},

		{"CheckCoverage, no credentials", coverAs(public, cover()), unauth, "has neither"},
		{"CheckCoverage, the requesting agency", coverAs(agency, cover()), codes.OK, ""},
		{"CheckCoverage, the providing agency", coverAs(registry, cover()), codes.OK, ""},
		{"CheckCoverage, the subject", coverAs(public, signedRead(t, citizen, cover())), codes.OK, ""},
		{"CheckCoverage, another agency", coverAs(other, cover()), denied, "exchanges it takes part in"},
		{"CheckCoverage, a ministry", coverAs(ministry, cover()), denied, "ministry"},
		{"CheckCoverage, another citizen", coverAs(public, signedRead(t, eve, cover())), denied, "subject"},
	}
	for _, key := range [][]byte{
		ledger.ConsentKey(consentID), ledger.SubjectConsentKey(subject, consentID),
		ledger.ExchangeKey(subject, 0), ledger.AccessHeadKey(subject),
	} {
		cases = append(cases, struct {
			name string
			call func() error
			want codes.Code
			says string
		}{"QueryState " + strings.SplitN(string(key), "/", 2)[0] + "/", func() error {
			_, err := agency.QueryState(ctx, &notaryv1.QueryStateRequest{Key: key})
			return err
		}, denied, "GetAccessHistory"})
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			err := c.call()
			if got := status.Code(err); got != c.want {
				t.Fatalf("got %v (%v), want %v", got, err, c.want)
			}
			msg := status.Convert(err).Message()
			if err != nil {
				t.Logf("%v: %s", status.Code(err), msg)
			}
			if !strings.Contains(msg, c.says) {
				t.Fatalf("the refusal %q does not say %q", msg, c.says)
			}
		})
	}
	if _, err := public.QueryState(ctx, &notaryv1.QueryStateRequest{Key: ledger.AgencyKey(apptest.AgencyID)}); err != nil {
		t.Fatalf("QueryState of an agency: %v", err)
	}

	// The providing agency learns that an exchange is not covered, not
	// what the subject consented to; the requesting agency learns why.
	other2 := cover()
	other2.Purpose = "statistics"
	for _, c := range []struct {
		gw     gatewayv1.GatewayClient
		detail bool
	}{{agency, true}, {registry, false}} {
		r, err := c.gw.CheckCoverage(ctx, other2)
		if err != nil || r.Covered {
			t.Fatalf("coverage for another purpose: %v %v", r, err)
		}
		if got := strings.Contains(r.Reason, consentID); got != c.detail {
			t.Fatalf("the reason %q names the consent: %v, want %v", r.Reason, got, c.detail)
		}
	}

	// Another agency cannot learn a consent through the refusal of an
	// exchange resting on it: a consent given to another agency and one
	// that does not exist get the same answer, before CheckTx.
	o := &signer{id: n.Identity(t, n.Network.Agencies["other-agency"])}
	probe := func(consent string) string {
		t.Helper()
		_, err := other.Submit(ctx, &notaryv1.SubmitRequest{Tx: o.sign(&notaryv1.TxBody{Msg: &notaryv1.TxBody_RecordExchange{RecordExchange: &notaryv1.RecordExchange{
			RequesterAgencyId: "other-agency", ProviderAgencyId: "registry-agency", Subject: subject, Category: "health",
			Purpose: "statistics", Basis: &notaryv1.RecordExchange_ConsentId{ConsentId: consent}}}})})
		o.seq-- // refused: the sequence is not used
		wantCode(t, err, codes.NotFound, "exchange on a consent not given to the agency")
		return strings.ReplaceAll(status.Convert(err).Message(), consent, "ID")
	}
	checks := n.Gateway.CheckTxCalls()
	given, absent := probe(consentID), probe(ledger.ConsentID(subject, 99))
	if given != absent {
		t.Fatalf("another agency's consent: %q; no consent: %q", given, absent)
	}
	if strings.Contains(given, apptest.AgencyID) || strings.Contains(given, "tax") {
		t.Fatalf("the refusal tells about the consent: %q", given)
	}
	if n.Gateway.CheckTxCalls() != checks {
		t.Fatal("a probing exchange reached CheckTx")
	}
}
