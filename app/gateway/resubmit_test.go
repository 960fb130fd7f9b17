package gateway_test

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/types/known/timestamppb"

	"github.com/gobtechlab/notary/app"
	"github.com/gobtechlab/notary/app/apptest"
	"github.com/gobtechlab/notary/app/identity"
	"github.com/gobtechlab/notary/ledger"
	notaryv1 "github.com/gobtechlab/notary/proto/notary/v1"
	"github.com/gobtechlab/notary/proto/notary/v1/gatewayv1"
)

// TestResubmitAcrossRestart resubmits the bytes of committed transactions of
// every kind (among them a consent's grant after its withdrawal) before and
// after a restart of the node: the answer is the same, the committed result
// at its height, whether the gateway remembers the transaction or not.
func TestResubmitAcrossRestart(t *testing.T) {
	n := apptest.Start(t, apptest.Options{Agencies: []app.AgencySpec{
		{ID: "registry-agency", Name: "Registro Civil"},
		{ID: "spare-agency", Name: "Agencia Sobrante"},
	}})
	ctx := ctxT(t)
	public := n.Client(t, "")
	agency := n.Client(t, n.Agency)
	ministry := n.Client(t, n.Ministry)
	citizen := n.Identity(t, n.Citizen)
	ag := &signer{id: n.Identity(t, n.Agency)}
	cz := &signer{id: citizen}
	gov := &signer{id: n.Identity(t, n.Ministry)}

	type tx struct {
		name string
		raw  []byte
		gw   func() gatewayv1.GatewayClient
	}
	var txs []tx
	submit := func(name string, gw *gatewayv1.GatewayClient, raw []byte) *notaryv1.SubmitResponse {
		t.Helper()
		resp, err := (*gw).Submit(ctx, &notaryv1.SubmitRequest{Tx: raw})
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		txs = append(txs, tx{name, raw, func() gatewayv1.GatewayClient { return *gw }})
		return resp
	}
	now := time.Now()
	gr := submit("grant of a withdrawn consent", &public, cz.sign(&notaryv1.TxBody{Msg: &notaryv1.TxBody_GrantConsent{GrantConsent: &notaryv1.GrantConsent{
		Subject: citizen.Subject(), AgencyId: apptest.AgencyID, Category: "tax", Purpose: "eligibility-check",
		ValidFrom: timestamppb.New(now.Add(-time.Hour)), ValidUntil: timestamppb.New(now.Add(24 * time.Hour))}}}))
	consentID := gr.GetResult().GetConsentId()
	submit("exchange", &agency, ag.sign(&notaryv1.TxBody{Msg: &notaryv1.TxBody_RecordExchange{RecordExchange: &notaryv1.RecordExchange{
		RequesterAgencyId: apptest.AgencyID, ProviderAgencyId: "registry-agency", Subject: citizen.Subject(), Category: "tax",
		Purpose: "eligibility-check", Basis: &notaryv1.RecordExchange_ConsentId{ConsentId: consentID}}}}))
	submit("withdrawal", &public, cz.sign(&notaryv1.TxBody{Msg: &notaryv1.TxBody_WithdrawConsent{WithdrawConsent: &notaryv1.WithdrawConsent{
		ConsentId: consentID}}}))
	ds := digestsOf("restart", 3)
	submit("batch", &agency, ag.sign(anchorBody(apptest.AgencyID, 0, ds)))
	submit("revocation", &agency, ag.sign(revokeBody(0, digestAt(ds, 1), "replaced")))
	submit("proposal", &ministry, gov.sign(&notaryv1.TxBody{Msg: &notaryv1.TxBody_Propose{Propose: &notaryv1.Propose{
		MinistryId: apptest.MinistryID, Title: "remove the spare agency",
		Action: &notaryv1.ProposalAction{Action: &notaryv1.ProposalAction_RemoveAgency{RemoveAgency: "spare-agency"}}}}}))
	submit("vote", &ministry, gov.sign(&notaryv1.TxBody{Msg: &notaryv1.TxBody_Vote{Vote: &notaryv1.Vote{
		MinistryId: apptest.MinistryID, ProposalId: 1, Option: notaryv1.VoteOption_VOTE_OPTION_YES}}}))

	answer := func(gw gatewayv1.GatewayClient, raw []byte) string {
		resp, err := gw.Submit(ctx, &notaryv1.SubmitRequest{Tx: raw})
		if err != nil {
			st := status.Convert(err)
			return fmt.Sprintf("%v: %s", st.Code(), st.Message())
		}
		return fmt.Sprintf("OK height %d code %d result %x", resp.Height, resp.Code, ledger.Encode(resp.Result))
	}
	before := make([]string, len(txs))
	for i, x := range txs {
		before[i] = answer(x.gw(), x.raw)
		if !strings.HasPrefix(before[i], "OK") {
			t.Fatalf("%s before the restart: %s", x.name, before[i])
		}
	}

	n.Restart(t)
	public, agency, ministry = n.Client(t, ""), n.Client(t, n.Agency), n.Client(t, n.Ministry)
	for i, x := range txs {
		if got := answer(x.gw(), x.raw); got != before[i] {
			t.Errorf("%s: before the restart %s; after it %s", x.name, before[i], got)
		}
	}
	// The consent stays withdrawn.
	cv, err := public.GetConsent(ctx, signedRead(t, citizen, &notaryv1.GetConsentRequest{ConsentId: consentID}))
	if err != nil || cv.GetConsent().GetStatus() != notaryv1.ConsentStatus_CONSENT_STATUS_WITHDRAWN {
		t.Fatalf("consent after the resubmissions: %v %v", cv, err)
	}
}

// TestResubmitUnordered resubmits the bytes of committed unordered
// transactions (a batch, a revocation, a proposal) while their nonces are
// kept, after a restart of the node, and once the nonces are forgotten
// (their valid_until_height passed): the answer is always the committed
// result at its height. Another transaction with a spent nonce is refused.
func TestResubmitUnordered(t *testing.T) {
	// Blocks come every 50 ms: a wide window leaves a loaded machine time
	// to commit the transactions before they expire.
	p := ledger.DefaultParams()
	p.MaxUnorderedWindow = 1000
	n := apptest.Start(t, apptest.Options{Params: p, Agencies: []app.AgencySpec{{ID: "spare-agency", Name: "Agencia Sobrante"}}})
	ctx := ctxT(t)
	public := n.Client(t, "")
	agency := n.Client(t, n.Agency)
	ministry := n.Client(t, n.Ministry)
	ag, gov := n.Identity(t, n.Agency), n.Identity(t, n.Ministry)
	height := func() int64 {
		t.Helper()
		st, err := public.GetStatus(ctx, &notaryv1.GetStatusRequest{})
		if err != nil {
			t.Fatal(err)
		}
		return st.LatestHeight
	}
	h := height()
	until := h + 200
	unordered := func(id *identity.Identity, nonce string, body *notaryv1.TxBody) []byte {
		body.Nonce, body.ValidUntilHeight = []byte(nonce), until
		return id.SignTx(body)
	}
	ds := digestsOf("unordered-resubmit", 3)
	txs := []struct {
		name string
		raw  []byte
		gw   *gatewayv1.GatewayClient
	}{
		{"batch", unordered(ag, "batch-nonce-0001", anchorBody(apptest.AgencyID, 0, ds)), &agency},
		{"revocation", unordered(ag, "revoke-nonce-001", revokeBody(0, digestAt(ds, 0), "replaced")), &agency},
		{"proposal", unordered(gov, "propose-nonce-01", &notaryv1.TxBody{Msg: &notaryv1.TxBody_Propose{Propose: &notaryv1.Propose{
			MinistryId: apptest.MinistryID, Title: "remove the spare agency",
			Action: &notaryv1.ProposalAction{Action: &notaryv1.ProposalAction_RemoveAgency{RemoveAgency: "spare-agency"}}}}}), &ministry},
	}
	answer := func(gw gatewayv1.GatewayClient, raw []byte) string {
		resp, err := gw.Submit(ctx, &notaryv1.SubmitRequest{Tx: raw})
		if err != nil {
			st := status.Convert(err)
			return fmt.Sprintf("%v: %s", st.Code(), st.Message())
		}
		return fmt.Sprintf("OK height %d code %d result %x", resp.Height, resp.Code, ledger.Encode(resp.Result))
	}
	first := make([]string, len(txs))
	for i, x := range txs {
		first[i] = answer(*x.gw, x.raw)
		if !strings.HasPrefix(first[i], "OK") {
			t.Fatalf("%s: %s", x.name, first[i])
		}
		if got := answer(*x.gw, x.raw); got != first[i] {
			t.Errorf("%s resubmitted: %s, first %s", x.name, got, first[i])
		}
	}
	// Another batch with the batch's nonce.
	other := unordered(ag, "batch-nonce-0001", anchorBody(apptest.AgencyID, 0, digestsOf("unordered-other", 1)))
	if _, err := agency.Submit(ctx, &notaryv1.SubmitRequest{Tx: other}); status.Code(err) != codes.AlreadyExists || !strings.Contains(status.Convert(err).Message(), "nonce") {
		t.Fatalf("another transaction with a spent nonce: %v", err)
	}

	n.Restart(t)
	public, agency, ministry = n.Client(t, ""), n.Client(t, n.Agency), n.Client(t, n.Ministry)
	for i, x := range txs {
		if got := answer(*x.gw, x.raw); got != first[i] {
			t.Errorf("%s after the restart: %s, before %s", x.name, got, first[i])
		}
	}
	deadline := time.Now().Add(90 * time.Second)
	for height() <= until && time.Now().Before(deadline) {
		time.Sleep(50 * time.Millisecond)
	}
	if height() <= until {
		t.Fatalf("the chain did not pass height %d", until)
	}
	for i, x := range txs {
		if got := answer(*x.gw, x.raw); got != first[i] {
			t.Errorf("%s once expired: %s, committed %s", x.name, got, first[i])
		}
	}
}
