package client_test

import (
	"errors"
	"strings"
	"testing"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/timestamppb"

	"github.com/gobtechlab/notary/app"
	"github.com/gobtechlab/notary/app/apptest"
	"github.com/gobtechlab/notary/app/client"
	"github.com/gobtechlab/notary/app/identity"
	"github.com/gobtechlab/notary/ledger"
	notaryv1 "github.com/gobtechlab/notary/proto/notary/v1"
)

// TestExchangeConfirmation: the provider confirms an exchange with its
// client and the requester attaches the confirmation; the entry is marked
// confirmed, one without it is not; a confirmation of other bytes is
// refused before anything is sent, one by a key that is not the
// provider's by the chain.
func TestExchangeConfirmation(t *testing.T) {
	n := startNode(t, apptest.Options{Agencies: []app.AgencySpec{
		{ID: "registro", Name: "Registro Civil", Permissions: []notaryv1.Permission{notaryv1.Permission_PERMISSION_EXCHANGE}},
		{ID: "tercera", Name: "Tercera Agencia", Permissions: []notaryv1.Permission{notaryv1.Permission_PERMISSION_EXCHANGE}},
	}})
	ctx := ctxT(t, 60*time.Second)
	requester := dial(t, n, n.Agency)
	provider := dial(t, n, n.Network.Agencies["registro"])
	third := dial(t, n, n.Network.Agencies["tercera"])

	citizen := n.Identity(t, n.Citizen)
	cz, err := client.Dial(n.Addr, citizen)
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = cz.Close(ctx) }()
	now := time.Now()
	gr, err := cz.Submit(ctx, &notaryv1.TxBody{Msg: &notaryv1.TxBody_GrantConsent{GrantConsent: &notaryv1.GrantConsent{
		Subject: citizen.Subject(), AgencyId: apptest.AgencyID, Category: "tax", Purpose: "eligibility-check",
		ValidFrom: timestamppb.New(now.Add(-time.Hour)), ValidUntil: timestamppb.New(now.Add(24 * time.Hour))}}})
	if err != nil {
		t.Fatal(err)
	}
	x := &notaryv1.RecordExchange{ProviderAgencyId: "registro", Subject: citizen.Subject(), Category: "tax", Purpose: "eligibility-check",
		Basis: &notaryv1.RecordExchange_ConsentId{ConsentId: gr.GetResult().GetConsentId()}}
	withRequester := proto.Clone(x).(*notaryv1.RecordExchange)
	withRequester.RequesterAgencyId = apptest.AgencyID

	entry := func(resp *notaryv1.SubmitResponse) *notaryv1.Exchange {
		t.Helper()
		n.WaitHeight(t, resp.Height)
		view, err := n.App.StateAt(resp.Height)
		if err != nil {
			t.Fatal(err)
		}
		b, err := view.Get(ledger.ExchangeKey(citizen.Subject(), resp.GetResult().GetExchangeIndex()))
		e := &notaryv1.Exchange{}
		if err != nil || proto.Unmarshal(b, e) != nil {
			t.Fatalf("entry: %v", err)
		}
		return e
	}

	// The provider signs the exchange as the requester will record it.
	conf, err := provider.ConfirmExchange(withRequester)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := third.ConfirmExchange(withRequester); err == nil || !strings.Contains(err.Error(), "provider") {
		t.Fatalf("a confirmation by an agency the exchange does not name: %v", err)
	}
	resp, err := requester.RecordExchange(ctx, x, conf)
	if err != nil {
		t.Fatal(err)
	}
	if e := entry(resp); !e.ProviderConfirmed || e.RequesterAgencyId != apptest.AgencyID {
		t.Fatalf("confirmed entry %v", e)
	}
	resp, err = requester.RecordExchange(ctx, x, nil)
	if err != nil {
		t.Fatal(err)
	}
	if e := entry(resp); e.ProviderConfirmed {
		t.Fatalf("an entry without confirmation is marked confirmed: %v", e)
	}

	// A confirmation of another exchange: refused here.
	other := proto.Clone(withRequester).(*notaryv1.RecordExchange)
	other.Purpose = "statistics"
	otherConf, _ := provider.ConfirmExchange(other)
	if _, err := requester.RecordExchange(ctx, x, otherConf); err == nil || !strings.Contains(err.Error(), "does not sign this exchange") {
		t.Fatalf("a confirmation of another exchange: %v", err)
	}
	// A valid signature by a key that is not the provider's: refused by
	// the chain.
	bad := identity.ConfirmExchange(n.ChainID, n.Identity(t, n.Network.Agencies["tercera"]).Key(), withRequester)
	_, err = requester.RecordExchange(ctx, x, bad)
	if !errors.Is(err, ledger.ErrBadConfirmation) {
		t.Fatalf("a confirmation by another agency's key: %v", err)
	}
	// The same confirmation twice: refused by the chain.
	if _, err = requester.RecordExchange(ctx, x, conf); !errors.Is(err, ledger.ErrConfirmationUsed) {
		t.Fatalf("a confirmation used twice: %v", err)
	}
}

// TestEnrollCitizen: an agency with PERMISSION_ENROLL enrols a new key,
// which then grants a consent.
func TestEnrollCitizen(t *testing.T) {
	n := startNode(t, apptest.Options{})
	ctx := ctxT(t, 60*time.Second)
	agency := dial(t, n, n.Agency)
	ana, err := identity.Generate(identity.RoleCitizen, "", n.ChainID)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := agency.EnrollCitizen(ctx, []byte("short")); err == nil {
		t.Fatal("a short key was sent")
	}
	if _, err := agency.EnrollCitizen(ctx, ana.Public()); err != nil {
		t.Fatal(err)
	}
	c, err := client.Dial(n.Addr, ana, client.WithDialOptions(grpc.WithTransportCredentials(credentials.NewTLS(n.ClientTLS(t, "")))))
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = c.Close(ctx) }()
	if _, err := c.EnrollCitizen(ctx, ana.Public()); err == nil {
		t.Fatal("a citizen enrolled a key")
	}
	now := time.Now()
	if _, err := c.Submit(ctx, &notaryv1.TxBody{Msg: &notaryv1.TxBody_GrantConsent{GrantConsent: &notaryv1.GrantConsent{
		Subject: ana.Subject(), AgencyId: apptest.AgencyID, Category: "tax", Purpose: "statistics",
		ValidFrom: timestamppb.New(now), ValidUntil: timestamppb.New(now.Add(time.Hour))}}}); err != nil {
		t.Fatalf("the enrolled key's consent: %v", err)
	}
}
