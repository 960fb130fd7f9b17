package gateway_test

import (
	"errors"
	"os"
	"testing"
	"time"

	"google.golang.org/grpc/codes"
	"google.golang.org/protobuf/types/known/timestamppb"

	"github.com/gobtechlab/notary/app"
	"github.com/gobtechlab/notary/app/apptest"
	"github.com/gobtechlab/notary/app/gateway"
	"github.com/gobtechlab/notary/cmd/verifier/verify"
	notaryv1 "github.com/gobtechlab/notary/proto/notary/v1"
)

// TestAccessHistoryCheckpoint: with with_checkpoint, GetAccessHistory
// answers at a height with a signed header and carries its checkpoint, so
// that the page verifies offline against the trust bundle (an empty history
// too); an explicit height without a signed header yet, or a node without a
// checkpoint builder, is refused with its own code.
func TestAccessHistoryCheckpoint(t *testing.T) {
	n := apptest.Start(t, apptest.Options{
		GatewayOptions: gateway.Options{Receipts: gateway.Receipts},
		Agencies:       []app.AgencySpec{{ID: "registry-agency", Name: "Registro", Permissions: apptest.AllPermissions}},
	})
	ctx := ctxT(t)
	public, agency := n.Client(t, ""), n.Client(t, n.Agency)
	tb, err := os.ReadFile(n.Network.TrustFiles[0])
	if err != nil {
		t.Fatal(err)
	}
	trust, err := verify.DecodeTrustBundle(tb)
	if err != nil {
		t.Fatal(err)
	}

	citizen := n.Identity(t, n.Citizen)
	subject := citizen.Subject()
	now := time.Now()
	gr, err := public.Submit(ctx, &notaryv1.SubmitRequest{Tx: citizen.SignTx(&notaryv1.TxBody{Msg: &notaryv1.TxBody_GrantConsent{GrantConsent: &notaryv1.GrantConsent{
		Subject: subject, AgencyId: apptest.AgencyID, Category: "tax", Purpose: "eligibility-check",
		ValidFrom: timestamppb.New(now.Add(-time.Hour)), ValidUntil: timestamppb.New(now.Add(24 * time.Hour))}}})})
	if err != nil {
		t.Fatal(err)
	}
	ag := n.Identity(t, n.Agency)
	provider := n.Identity(t, n.Network.Agencies["registry-agency"])
	for seq := uint64(0); seq < 3; seq++ {
		x := &notaryv1.RecordExchange{
			RequesterAgencyId: apptest.AgencyID, ProviderAgencyId: "registry-agency", Subject: subject, Category: "tax",
			Purpose: "eligibility-check", Basis: &notaryv1.RecordExchange_ConsentId{ConsentId: gr.GetResult().GetConsentId()}}
		if seq == 1 {
			x.ProviderConfirmation = provider.ConfirmExchange(x) // the second, confirmed by the provider
		}
		if _, err := agency.Submit(ctx, &notaryv1.SubmitRequest{Tx: ag.SignTx(&notaryv1.TxBody{Sequence: seq, Msg: &notaryv1.TxBody_RecordExchange{RecordExchange: x}})}); err != nil {
			t.Fatal(err)
		}
	}
	committed := n.Height()
	n.WaitHeight(t, committed+2)

	resp, err := public.GetAccessHistory(ctx, signedRead(t, citizen, &notaryv1.GetAccessHistoryRequest{Subject: subject, WithCheckpoint: true}))
	if err != nil {
		t.Fatal(err)
	}
	if resp.Checkpoint.GetCheckpoint().GetHeight() != resp.Height || resp.Height < committed || len(resp.Entries) != 3 {
		t.Fatalf("history at %d, checkpoint %d, %d entries (exchanges committed by %d)", resp.Height, resp.Checkpoint.GetCheckpoint().GetHeight(), len(resp.Entries), committed)
	}
	h, err := verify.AccessHistory(trust, subject, resp)
	if err != nil || h.Count != 3 || h.Height != resp.Height {
		t.Fatalf("verify: %v %+v", err, h)
	}
	for i, e := range h.Entries {
		if e.ProviderConfirmed != (i == 1) {
			t.Fatalf("entry %d: provider confirmed %v", i, e.ProviderConfirmed)
		}
	}
	// Pages at the height of the first one, without the checkpoint.
	p1, err := public.GetAccessHistory(ctx, signedRead(t, citizen, &notaryv1.GetAccessHistoryRequest{Subject: subject, WithCheckpoint: true, Height: resp.Height, PageSize: 2}))
	if err != nil {
		t.Fatal(err)
	}
	p2, err := public.GetAccessHistory(ctx, signedRead(t, citizen, &notaryv1.GetAccessHistoryRequest{Subject: subject, Height: resp.Height, Start: 2}))
	if err != nil || p2.Checkpoint != nil {
		t.Fatalf("second page: %v %v", p2, err)
	}
	merged, err := verify.MergeAccessPages([]*notaryv1.GetAccessHistoryResponse{p1, p2})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := verify.AccessHistory(trust, subject, merged); err != nil {
		t.Fatalf("paged history: %v", err)
	}

	// An empty history verifies by the proven absence of its head.
	nobody := newCitizen(t, apptest.ChainID)
	other := nobody.Subject()
	empty, err := public.GetAccessHistory(ctx, signedRead(t, nobody, &notaryv1.GetAccessHistoryRequest{Subject: other, WithCheckpoint: true}))
	if err != nil {
		t.Fatal(err)
	}
	if h, err := verify.AccessHistory(trust, other, empty); err != nil || h.Count != 0 || len(h.Entries) != 0 {
		t.Fatalf("empty history: %v %+v", err, h)
	}
	// Checked against another subject, the head's proof fails.
	var f *verify.Failure
	if _, err := verify.AccessHistory(trust, other, resp); !errors.As(err, &f) {
		t.Fatalf("history checked for another subject: %v", err)
	}

	// Without a checkpoint the answer does not verify; a height beyond the
	// newest signed one is unavailable.
	plain, err := public.GetAccessHistory(ctx, signedRead(t, citizen, &notaryv1.GetAccessHistoryRequest{Subject: subject}))
	if err != nil || plain.Checkpoint != nil {
		t.Fatalf("plain history: %v", err)
	}
	if _, err := verify.AccessHistory(trust, subject, plain); !errors.As(err, &f) || f.Reason != verify.ReasonMalformed {
		t.Fatalf("history without checkpoint: %v", err)
	}
	_, err = public.GetAccessHistory(ctx, signedRead(t, citizen, &notaryv1.GetAccessHistoryRequest{Subject: subject, WithCheckpoint: true, Height: n.Height() + 1000}))
	if err == nil {
		t.Fatal("a height without a signed header was answered")
	}
	_, err = public.GetAccessHistory(ctx, signedRead(t, citizen, &notaryv1.GetAccessHistoryRequest{Subject: subject, WithCheckpoint: true, Height: -1}))
	wantCode(t, err, codes.InvalidArgument, "negative height")
}

// TestAccessHistoryCheckpointUnimplemented: a node without a checkpoint
// builder says so.
func TestAccessHistoryCheckpointUnimplemented(t *testing.T) {
	n := apptest.Start(t, apptest.Options{})
	c := newCitizen(t, apptest.ChainID)
	_, err := n.Client(t, "").GetAccessHistory(ctxT(t), signedRead(t, c, &notaryv1.GetAccessHistoryRequest{Subject: c.Subject(), WithCheckpoint: true}))
	wantCode(t, err, codes.Unimplemented, "with_checkpoint without a builder")
}
