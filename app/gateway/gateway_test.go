package gateway_test

import (
	"bytes"
	"context"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	dto "github.com/prometheus/client_model/go"
	"google.golang.org/grpc/codes"
	healthpb "google.golang.org/grpc/health/grpc_health_v1"
	reflectpb "google.golang.org/grpc/reflection/grpc_reflection_v1"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/timestamppb"

	"github.com/gobtechlab/notary/app"
	"github.com/gobtechlab/notary/app/apptest"
	"github.com/gobtechlab/notary/app/gateway"
	"github.com/gobtechlab/notary/app/identity"
	"github.com/gobtechlab/notary/ledger"
	notaryv1 "github.com/gobtechlab/notary/proto/notary/v1"
	"github.com/gobtechlab/notary/proto/notary/v1/gatewayv1"
)

// TestSubmitLookupRevoke anchors a batch, checks that a duplicate is
// AlreadyExists with the original record, looks digests up and verifies every
// proof (ICS23 against the header's app hash, RFC 6962 paths), revokes one
// and checks the status proof before and after.
func TestSubmitLookupRevoke(t *testing.T) {
	n := apptest.Start(t, apptest.Options{})
	ctx := ctxT(t)
	gw := n.Client(t, n.Agency)
	public := n.Client(t, "")
	ag := &signer{id: n.Identity(t, n.Agency)}

	const count = 37
	ds := digestsOf("lookup", count)
	resp, err := gw.Submit(ctx, &notaryv1.SubmitRequest{Tx: ag.sign(anchorBody(apptest.AgencyID, 0, ds)), RequestId: "first"})
	if err != nil {
		t.Fatal(err)
	}
	loc := resp.GetResult().GetBatch()
	if resp.Height < 1 || resp.Code != 0 || resp.GrpcCode != 0 || loc == nil || loc.Height != resp.Height || resp.RequestId != "first" {
		t.Fatalf("submit response: %v", resp)
	}
	if len(resp.TxHash) != 32 {
		t.Fatalf("tx hash %x", resp.TxHash)
	}

	// A duplicate: AlreadyExists, with the response and the original batch
	// in the details; the sequence is not consumed.
	dup := append(append([]byte(nil), digestsOf("fresh", 2)...), digestAt(ds, 5)...)
	_, err = gw.Submit(ctx, &notaryv1.SubmitRequest{Tx: ag.sign(anchorBody(apptest.AgencyID, 0, dup))})
	ag.seq--
	wantCode(t, err, codes.AlreadyExists, "duplicate digest")
	st, _ := status.FromError(err)
	var detResp *notaryv1.SubmitResponse
	var detBatch *notaryv1.Batch
	for _, d := range st.Details() {
		switch m := d.(type) {
		case *notaryv1.SubmitResponse:
			detResp = m
		case *notaryv1.Batch:
			detBatch = m
		}
	}
	ex := detResp.GetResult().GetExisting()
	if detResp == nil || detResp.Code != ledger.ErrAlreadyAnchored.Code() || detResp.Codespace != ledger.Codespace ||
		detResp.GrpcCode != uint32(codes.AlreadyExists) || !bytes.Equal(ex.GetDigest(), digestAt(ds, 5)) ||
		ex.GetLocator().GetHeight() != loc.Height || ex.GetLocator().GetTxIndex() != loc.TxIndex || ex.GetLocator().GetLeafIndex() != 5 {
		t.Fatalf("duplicate details: %v", detResp)
	}
	if detBatch == nil || detBatch.Height != loc.Height || detBatch.Count != count || detBatch.AgencyId != apptest.AgencyID {
		t.Fatalf("duplicate's original batch: %v", detBatch)
	}

	// Lookups, public, with proofs against the header's app hash.
	for _, leaf := range []int{0, 5, 17, count - 1} {
		d := digestAt(ds, leaf)
		lr, err := public.LookupDigest(ctx, &notaryv1.LookupDigestRequest{HashAlgorithm: sha2, Digest: d})
		if err != nil {
			t.Fatal(err)
		}
		root := appHashOf(t, n, lr.Height)
		if lr.LeafIndex != uint32(leaf) || lr.Batch.Height != loc.Height || lr.Batch.TxIndex != loc.TxIndex || lr.Revocation != nil {
			t.Fatalf("lookup of leaf %d: %v", leaf, lr)
		}
		verifyMember(t, root, lr.BatchProof, ledger.BatchKey(loc.Height, loc.TxIndex), ledger.Encode(lr.Batch))
		verifyMember(t, root, lr.IssuerProof, ledger.AgencyKey(apptest.AgencyID), ledger.Encode(lr.Issuer))
		verifyAbsent(t, root, lr.StatusProof, ledger.RevocationKey(sha2, d))
		verifyPath(t, d, lr.LeafIndex, lr.Batch.Count, lr.MerklePath, lr.Batch.Root)
	}
	before := n.Height()

	// Revoke one digest; its lookup carries the revocation and its proof.
	rr, err := gw.Submit(ctx, &notaryv1.SubmitRequest{Tx: ag.sign(revokeBody(0, digestAt(ds, 17), "reissued"))})
	if err != nil {
		t.Fatal(err)
	}
	lr, err := public.LookupDigest(ctx, &notaryv1.LookupDigestRequest{HashAlgorithm: sha2, Digest: digestAt(ds, 17)})
	if err != nil {
		t.Fatal(err)
	}
	if lr.Revocation == nil || lr.Revocation.Height != rr.Height || lr.Revocation.ReasonText != "reissued" || lr.Revocation.LeafIndex != 17 {
		t.Fatalf("revocation: %v", lr.Revocation)
	}
	verifyMember(t, appHashOf(t, n, lr.Height), lr.StatusProof, ledger.RevocationKey(sha2, digestAt(ds, 17)), ledger.Encode(lr.Revocation))
	// At a height before the revocation: not revoked, proven absent there.
	old, err := public.LookupDigest(ctx, &notaryv1.LookupDigestRequest{HashAlgorithm: sha2, Digest: digestAt(ds, 17), Height: before})
	if err != nil {
		t.Fatal(err)
	}
	if old.Height != before || old.Revocation != nil {
		t.Fatalf("lookup at %d: %v", before, old)
	}
	verifyAbsent(t, appHashOf(t, n, before), old.StatusProof, ledger.RevocationKey(sha2, digestAt(ds, 17)))
	// Before the anchoring: not found.
	_, err = public.LookupDigest(ctx, &notaryv1.LookupDigestRequest{HashAlgorithm: sha2, Digest: digestAt(ds, 1), Height: loc.Height - 1})
	wantCode(t, err, codes.NotFound, "lookup before the anchoring")
	_, err = public.LookupDigest(ctx, &notaryv1.LookupDigestRequest{HashAlgorithm: sha2, Digest: digestsOf("never", 1)})
	wantCode(t, err, codes.NotFound, "lookup of an unknown digest")

	// Identical bytes resubmitted: the original result, not a second record.
	again, err := gw.Submit(ctx, &notaryv1.SubmitRequest{Tx: ag.sign(revokeBody(0, digestAt(ds, 17), "reissued"))})
	ag.seq--
	wantCode(t, err, codes.AlreadyExists, "revoking again")
	_ = again

	// Metrics of these calls are on the default registry.
	if v := counterValue(t, "notary_gateway_requests_total", map[string]string{"method": "Submit", "code": "OK"}); v < 2 {
		t.Fatalf("requests_total{Submit,OK} = %v", v)
	}
	if v := counterValue(t, "notary_gateway_requests_total", map[string]string{"method": "LookupDigest", "code": "NotFound"}); v < 2 {
		t.Fatalf("requests_total{LookupDigest,NotFound} = %v", v)
	}
	if v := counterValue(t, "notary_gateway_checktx_total", nil); v < 3 {
		t.Fatalf("checktx_total = %v", v)
	}
	if n.HasPanic() {
		t.Fatalf("panic in the node log:\n%s", n.Log())
	}
}

// counterValue sums the samples of a metric family matching labels, from
// prometheus.DefaultGatherer (what the node's metrics endpoint serves).
func counterValue(t *testing.T, name string, labels map[string]string) float64 {
	t.Helper()
	fams, err := prometheus.DefaultGatherer.Gather()
	if err != nil {
		t.Fatal(err)
	}
	var sum float64
	for _, f := range fams {
		if f.GetName() != name {
			continue
		}
	metric:
		for _, m := range f.Metric {
			for k, v := range labels {
				if !hasLabel(m, k, v) {
					continue metric
				}
			}
			switch {
			case m.Counter != nil:
				sum += m.Counter.GetValue()
			case m.Gauge != nil:
				sum += m.Gauge.GetValue()
			case m.Histogram != nil:
				sum += float64(m.Histogram.GetSampleCount())
			}
		}
	}
	return sum
}

func hasLabel(m *dto.Metric, k, v string) bool {
	for _, l := range m.Label {
		if l.GetName() == k && l.GetValue() == v {
			return true
		}
	}
	return false
}

// TestSubmitStream keeps many transactions of one agency in flight on one
// stream (consecutive sequences, a small max_in_flight to exercise the
// back-pressure), with bad and duplicate transactions interleaved: every
// valid one is committed, every bad one is answered in its response without
// ending the stream, and responses come in commit order.
func TestSubmitStream(t *testing.T) {
	n := apptest.Start(t, apptest.Options{Gateway: func(g *app.GatewayConfig) { g.MaxInFlight = 32 }})
	ctx := ctxT(t)
	gw := n.Client(t, n.Agency)
	ag := &signer{id: n.Identity(t, n.Agency)}
	stream, err := gw.SubmitStream(ctx)
	if err != nil {
		t.Fatal(err)
	}
	const txs, per = 200, 10
	want := map[string]codes.Code{}
	sendErr := make(chan error, 1)
	go func() {
		defer close(sendErr)
		for i := 0; i < txs; i++ {
			id := fmt.Sprintf("tx-%d", i)
			want[id] = codes.OK
			if err := stream.Send(&notaryv1.SubmitRequest{RequestId: id, Tx: ag.sign(anchorBody(apptest.AgencyID, 0, digestsOf(id, per)))}); err != nil {
				sendErr <- err
				return
			}
			if i%40 == 20 {
				bad := fmt.Sprintf("garbage-%d", i)
				want[bad] = codes.InvalidArgument
				if err := stream.Send(&notaryv1.SubmitRequest{RequestId: bad, Tx: []byte("not a transaction")}); err != nil {
					sendErr <- err
					return
				}
				// A digest of the previous batch again: refused at
				// CheckTx, the sequence is not consumed.
				dupID := fmt.Sprintf("dup-%d", i)
				want[dupID] = codes.AlreadyExists
				prev := digestAt(digestsOf(fmt.Sprintf("tx-%d", i), per), 3)
				if err := stream.Send(&notaryv1.SubmitRequest{RequestId: dupID, Tx: ag.sign(anchorBody(apptest.AgencyID, 0, prev))}); err != nil {
					sendErr <- err
					return
				}
				ag.seq--
			}
		}
		sendErr <- stream.CloseSend()
	}()
	got := map[string]*notaryv1.SubmitResponse{}
	var lastHeight int64
	for {
		r, err := stream.Recv()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			t.Fatalf("stream ended with %v after %d responses", err, len(got))
		}
		if _, seen := got[r.RequestId]; seen {
			t.Fatalf("two responses for %s", r.RequestId)
		}
		got[r.RequestId] = r
		if r.GrpcCode == 0 {
			if r.Height < lastHeight {
				t.Fatalf("%s committed at %d after a response of height %d: not in commit order", r.RequestId, r.Height, lastHeight)
			}
			lastHeight = r.Height
		}
	}
	if err := <-sendErr; err != nil {
		t.Fatal(err)
	}
	if len(got) != len(want) {
		t.Fatalf("%d responses, want %d", len(got), len(want))
	}
	for id, code := range want {
		r := got[id]
		if codes.Code(r.GrpcCode) != code {
			t.Fatalf("%s: grpc_code %v (%s), want %v", id, codes.Code(r.GrpcCode), r.Log, code)
		}
		if code == codes.OK && (r.Height < 1 || r.GetResult().GetBatch() == nil) {
			t.Fatalf("%s: %v", id, r)
		}
		if code != codes.OK && r.Log == "" {
			t.Fatalf("%s: refusal without a message", id)
		}
	}
	// Every batch is listed, newest first, across pages.
	public := n.Client(t, "")
	var listed []*notaryv1.Batch
	token := ""
	for {
		page, err := public.ListBatches(ctx, &notaryv1.ListBatchesRequest{AgencyId: apptest.AgencyID, PageSize: 37, PageToken: token})
		if err != nil {
			t.Fatal(err)
		}
		listed = append(listed, page.Batches...)
		if page.NextPageToken == "" {
			break
		}
		token = page.NextPageToken
	}
	if len(listed) != txs {
		t.Fatalf("listed %d batches, want %d", len(listed), txs)
	}
	for i := 1; i < len(listed); i++ {
		a, b := listed[i-1], listed[i]
		if a.Height < b.Height || a.Height == b.Height && a.TxIndex <= b.TxIndex {
			t.Fatalf("batches not newest first at %d: %d-%d then %d-%d", i, a.Height, a.TxIndex, b.Height, b.TxIndex)
		}
	}
}

// TestReads exercises the public read methods against records made by real
// transactions: a citizen's consent (submitted without a client
// certificate), an exchange under it, a governance proposal and vote; every
// proof verifies.
func TestReads(t *testing.T) {
	n := apptest.Start(t, apptest.Options{Agencies: []app.AgencySpec{
		{ID: "registry-agency", Name: "Registro Civil"},
		{ID: "spare-agency", Name: "Agencia Sobrante", Permissions: []notaryv1.Permission{notaryv1.Permission_PERMISSION_ANCHOR}},
	}, Citizens: []string{"nobody"}})
	ctx := ctxT(t)
	public := n.Client(t, "")
	agency := n.Client(t, n.Agency)
	ministryGW := n.Client(t, n.Ministry)

	st, err := public.GetStatus(ctx, &notaryv1.GetStatusRequest{})
	if err != nil {
		t.Fatal(err)
	}
	if st.ChainId != apptest.ChainID || st.LatestHeight < 1 || len(st.LatestAppHash) != 32 || st.CatchingUp ||
		len(st.Validators) != 1 || st.Validators[0].Id != apptest.MinistryID || st.Validators[0].Power != 10 || st.NodeId == "" {
		t.Fatalf("status: %v", st)
	}

	ags, err := public.ListAgencies(ctx, &notaryv1.ListAgenciesRequest{})
	if err != nil || len(ags.Agencies) != 3 || ags.Agencies[0].Id != apptest.AgencyID {
		t.Fatalf("agencies: %v %v", ags, err)
	}
	ms, err := public.ListMinistries(ctx, &notaryv1.ListMinistriesRequest{})
	if err != nil || len(ms.Ministries) != 1 || ms.Ministries[0].Id != apptest.MinistryID {
		t.Fatalf("ministries: %v %v", ms, err)
	}
	ps, err := public.GetParams(ctx, &notaryv1.GetParamsRequest{})
	want := ledger.DefaultParams()
	want.MaxUnorderedWindow = apptest.TestUnorderedWindow
	if err != nil || !bytes.Equal(ledger.Encode(ps.Params), ledger.Encode(want)) {
		t.Fatalf("params: %v %v", ps, err)
	}
	mds, err := public.ListMandates(ctx, &notaryv1.ListMandatesRequest{})
	if err != nil || len(mds.Mandates) != 0 {
		t.Fatalf("mandates: %v %v", mds, err)
	}

	// Accounts, with proofs of existence and of absence.
	agID := n.Identity(t, n.Agency)
	acc, err := public.GetAccount(ctx, &notaryv1.GetAccountRequest{PubKey: agID.Public()})
	if err != nil || acc.Account.Role != notaryv1.Role_ROLE_AGENCY || acc.Account.Owner != apptest.AgencyID {
		t.Fatalf("account: %v %v", acc, err)
	}
	verifyMember(t, appHashOf(t, n, acc.Height), acc.Proof, ledger.AccountKey(agID.Public()), ledger.Encode(acc.Account))
	citizen := n.Identity(t, n.Citizen)
	acc, err = public.GetAccount(ctx, &notaryv1.GetAccountRequest{PubKey: citizen.Public()})
	if err != nil || acc.Account.Role != notaryv1.Role_ROLE_CITIZEN || acc.Account.Owner != hex.EncodeToString(citizen.Subject()) || acc.Account.NextSequence != 0 {
		t.Fatalf("the genesis citizen's account: %v %v", acc, err)
	}
	verifyMember(t, appHashOf(t, n, acc.Height), acc.Proof, ledger.AccountKey(citizen.Public()), ledger.Encode(acc.Account))
	fresh, err := identity.Generate(identity.RoleCitizen, "", apptest.ChainID)
	if err != nil {
		t.Fatal(err)
	}
	acc, err = public.GetAccount(ctx, &notaryv1.GetAccountRequest{PubKey: fresh.Public()})
	if err != nil || acc.Account.Role != notaryv1.Role_ROLE_UNSPECIFIED || acc.Account.NextSequence != 0 {
		t.Fatalf("new key's account: %v %v", acc, err)
	}
	verifyAbsent(t, appHashOf(t, n, acc.Height), acc.Proof, ledger.AccountKey(fresh.Public()))

	// A citizen grants consent without a client certificate.
	subject := citizen.Subject()
	now := time.Now()
	grant := citizen.SignTx(&notaryv1.TxBody{Sequence: 0, Msg: &notaryv1.TxBody_GrantConsent{GrantConsent: &notaryv1.GrantConsent{
		Subject: subject, AgencyId: apptest.AgencyID, Category: "tax", Purpose: "eligibility-check",
		ValidFrom: timestamppb.New(now.Add(-time.Hour)), ValidUntil: timestamppb.New(now.Add(24 * time.Hour))}}})
	gr, err := public.Submit(ctx, &notaryv1.SubmitRequest{Tx: grant})
	if err != nil {
		t.Fatal(err)
	}
	consentID := gr.GetResult().GetConsentId()
	if consentID == "" {
		t.Fatalf("grant: %v", gr)
	}
	cl, err := public.ListConsents(ctx, signedRead(t, citizen, &notaryv1.ListConsentsRequest{Subject: subject}))
	if err != nil || len(cl.Consents) != 1 || cl.Consents[0].Status != notaryv1.ConsentStatus_CONSENT_STATUS_GIVEN {
		t.Fatalf("consents: %v %v", cl, err)
	}
	verifyMember(t, appHashOf(t, n, cl.Height), cl.Consents[0].Proof, ledger.ConsentKey(consentID), ledger.Encode(cl.Consents[0].Consent))
	gc, err := public.GetConsent(ctx, signedRead(t, citizen, &notaryv1.GetConsentRequest{ConsentId: consentID}))
	if err != nil || gc.Consent.Consent.Id != consentID {
		t.Fatalf("consent: %v %v", gc, err)
	}
	gc, err = agency.GetConsent(ctx, &notaryv1.GetConsentRequest{ConsentId: consentID})
	if err != nil || gc.Consent.Consent.Id != consentID {
		t.Fatalf("consent, to the agency it is given to: %v %v", gc, err)
	}
	_, err = public.GetConsent(ctx, signedRead(t, citizen, &notaryv1.GetConsentRequest{ConsentId: strings.Repeat("0", 32)}))
	wantCode(t, err, codes.NotFound, "unknown consent")

	// Coverage: covered by the consent; not for another purpose.
	cov, err := agency.CheckCoverage(ctx, &notaryv1.CheckCoverageRequest{RequesterAgencyId: apptest.AgencyID, ProviderAgencyId: "registry-agency",
		Subject: subject, Category: "tax", Purpose: "eligibility-check"})
	if err != nil || !cov.Covered || cov.ConsentId != consentID {
		t.Fatalf("coverage: %v %v", cov, err)
	}
	cov, err = agency.CheckCoverage(ctx, &notaryv1.CheckCoverageRequest{RequesterAgencyId: apptest.AgencyID, ProviderAgencyId: "registry-agency",
		Subject: subject, Category: "tax", Purpose: "statistics"})
	if err != nil || cov.Covered || cov.Reason == "" {
		t.Fatalf("coverage for another purpose: %v %v", cov, err)
	}
	_, err = agency.CheckCoverage(ctx, &notaryv1.CheckCoverageRequest{RequesterAgencyId: apptest.AgencyID, ProviderAgencyId: "registry-agency",
		Subject: subject, Category: "horoscope", Purpose: "statistics"})
	wantCode(t, err, codes.InvalidArgument, "coverage for an unknown category")

	// An exchange under the consent, then the citizen's access history.
	x := agID.SignTx(&notaryv1.TxBody{Sequence: 0, Msg: &notaryv1.TxBody_RecordExchange{RecordExchange: &notaryv1.RecordExchange{
		RequesterAgencyId: apptest.AgencyID, ProviderAgencyId: "registry-agency", Subject: subject, Category: "tax",
		Purpose: "eligibility-check", Basis: &notaryv1.RecordExchange_ConsentId{ConsentId: consentID}}}})
	if _, err := agency.Submit(ctx, &notaryv1.SubmitRequest{Tx: x}); err != nil {
		t.Fatal(err)
	}
	hist, err := public.GetAccessHistory(ctx, signedRead(t, citizen, &notaryv1.GetAccessHistoryRequest{Subject: subject}))
	if err != nil || len(hist.Entries) != 1 {
		t.Fatalf("history: %v %v", hist, err)
	}
	root := appHashOf(t, n, hist.Height)
	verifyMember(t, root, hist.HeadProof, ledger.AccessHeadKey(subject), hist.Head)
	verifyMember(t, root, hist.Entries[0].Proof, ledger.ExchangeKey(subject, 0), hist.Entries[0].Record)
	var head notaryv1.AccessHead
	if err := proto.Unmarshal(hist.Head, &head); err != nil {
		t.Fatal(err)
	}
	if err := ledger.VerifyAccessHistory(subject, &head, [][]byte{hist.Entries[0].Record}); err != nil {
		t.Fatal(err)
	}
	_, err = public.GetAccessHistory(ctx, signedRead(t, citizen, &notaryv1.GetAccessHistoryRequest{Subject: subject, Start: 5}))
	wantCode(t, err, codes.OutOfRange, "history start past the end")
	nobody := n.Identity(t, n.Network.Citizens["nobody"])
	other := nobody.Subject()
	empty, err := public.GetAccessHistory(ctx, signedRead(t, nobody, &notaryv1.GetAccessHistoryRequest{Subject: other}))
	if err != nil || len(empty.Entries) != 0 || len(empty.Head) != 0 {
		t.Fatalf("empty history: %v %v", empty, err)
	}
	verifyAbsent(t, appHashOf(t, n, empty.Height), empty.HeadProof, ledger.AccessHeadKey(other))

	// Governance: the ministry proposes and votes with its certificate.
	gov := n.Identity(t, n.Ministry)
	prop := gov.SignTx(&notaryv1.TxBody{Sequence: 0, Msg: &notaryv1.TxBody_Propose{Propose: &notaryv1.Propose{
		MinistryId: apptest.MinistryID, Title: "remove the spare agency",
		Action: &notaryv1.ProposalAction{Action: &notaryv1.ProposalAction_RemoveAgency{RemoveAgency: "spare-agency"}}}}})
	pr, err := ministryGW.Submit(ctx, &notaryv1.SubmitRequest{Tx: prop})
	if err != nil || pr.GetResult().GetProposalId() != 1 {
		t.Fatalf("propose: %v %v", pr, err)
	}
	vote := gov.SignTx(&notaryv1.TxBody{Sequence: 1, Msg: &notaryv1.TxBody_Vote{Vote: &notaryv1.Vote{
		MinistryId: apptest.MinistryID, ProposalId: 1, Option: notaryv1.VoteOption_VOTE_OPTION_YES}}})
	if _, err := ministryGW.Submit(ctx, &notaryv1.SubmitRequest{Tx: vote}); err != nil {
		t.Fatal(err)
	}
	gp, err := public.GetProposal(ctx, &notaryv1.GetProposalRequest{Id: 1})
	if err != nil || len(gp.Votes) != 1 || gp.Proposal.Status != notaryv1.ProposalStatus_PROPOSAL_STATUS_PASSED {
		t.Fatalf("proposal: %v %v", gp, err)
	}
	verifyMember(t, appHashOf(t, n, gp.Height), gp.Proof, ledger.ProposalKey(1), ledger.Encode(gp.Proposal))
	lp, err := public.ListProposals(ctx, &notaryv1.ListProposalsRequest{})
	if err != nil || len(lp.Proposals) != 1 || lp.NextPageToken != "" {
		t.Fatalf("proposals: %v %v", lp, err)
	}
	_, err = public.GetProposal(ctx, &notaryv1.GetProposalRequest{Id: 99})
	wantCode(t, err, codes.NotFound, "unknown proposal")

	// QueryState at the latest and at an old height.
	for _, h := range []int64{0, 1} {
		q, err := public.QueryState(ctx, &notaryv1.QueryStateRequest{Key: ledger.AgencyKey("spare-agency"), Height: h})
		if err != nil {
			t.Fatal(err)
		}
		verifyMember(t, appHashOf(t, n, q.Height), q.Proof, ledger.AgencyKey("spare-agency"), q.Value)
	}

	// Receipts are not built by this node.
	_, err = public.GetReceipt(ctx, &notaryv1.GetReceiptRequest{HashAlgorithm: sha2, Digest: digestsOf("x", 1)})
	wantCode(t, err, codes.Unimplemented, "GetReceipt without a builder")
	_, err = public.GetCheckpoint(ctx, &notaryv1.GetCheckpointRequest{})
	wantCode(t, err, codes.Unimplemented, "GetCheckpoint without a builder")

	// Health and reflection.
	hc, err := healthpb.NewHealthClient(n.Dial(t, "")).Check(ctx, &healthpb.HealthCheckRequest{Service: "notary.v1.Gateway"})
	if err != nil || hc.Status != healthpb.HealthCheckResponse_SERVING {
		t.Fatalf("health: %v %v", hc, err)
	}
	rs, err := reflectpb.NewServerReflectionClient(n.Dial(t, "")).ServerReflectionInfo(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if err := rs.Send(&reflectpb.ServerReflectionRequest{MessageRequest: &reflectpb.ServerReflectionRequest_ListServices{}}); err != nil {
		t.Fatal(err)
	}
	rr, err := rs.Recv()
	if err != nil {
		t.Fatal(err)
	}
	var services []string
	for _, s := range rr.GetListServicesResponse().GetService() {
		services = append(services, s.Name)
	}
	if !strings.Contains(strings.Join(services, " "), "notary.v1.Gateway") || !strings.Contains(strings.Join(services, " "), "grpc.health.v1.Health") {
		t.Fatalf("reflection lists %v", services)
	}
}

// panicky is a receipt builder that panics, to show that a handler panic is
// recovered, logged and answered as a generic Internal error.
type panicky struct{}

func (panicky) GetReceipt(context.Context, *notaryv1.GetReceiptRequest) (*notaryv1.GetReceiptResponse, error) {
	var m map[string]int
	m["boom"] = 1 //nolint:staticcheck // a nil map write on purpose: a real runtime panic
	return nil, nil
}

func (panicky) GetCheckpoint(_ context.Context, req *notaryv1.GetCheckpointRequest) (*notaryv1.GetCheckpointResponse, error) {
	if req.Height > 1000 {
		return nil, fmt.Errorf("%w: height %d", ledger.ErrHeightUnavailable, req.Height)
	}
	return &notaryv1.GetCheckpointResponse{Checkpoint: &notaryv1.Checkpoint{Height: req.Height}}, nil
}

// TestReceiptHookAndRecovery: the ReceiptBuilder hook answers GetReceipt and
// GetCheckpoint; its errors are mapped; a panic inside it reaches the client
// as Internal "internal error" without a stack trace, is logged, and the
// node keeps serving.
func TestReceiptHookAndRecovery(t *testing.T) {
	n := apptest.Start(t, apptest.Options{GatewayOptions: gateway.Options{
		Receipts: func(*app.Node) (gateway.ReceiptBuilder, error) { return panicky{}, nil },
	}})
	ctx := ctxT(t)
	public := n.Client(t, "")
	cp, err := public.GetCheckpoint(ctx, &notaryv1.GetCheckpointRequest{Height: 7})
	if err != nil || cp.Checkpoint.Height != 7 {
		t.Fatalf("checkpoint: %v %v", cp, err)
	}
	_, err = public.GetCheckpoint(ctx, &notaryv1.GetCheckpointRequest{Height: 5000})
	wantCode(t, err, codes.OutOfRange, "builder error")
	_, err = public.GetReceipt(ctx, &notaryv1.GetReceiptRequest{HashAlgorithm: sha2, Digest: digestsOf("x", 1)})
	wantCode(t, err, codes.Internal, "panicking handler")
	if msg := status.Convert(err).Message(); msg != "internal error" {
		t.Fatalf("panic leaked to the client: %q", msg)
	}
	if !strings.Contains(n.Log(), "handler panic recovered") || !strings.Contains(n.Log(), "assignment to entry in nil map") {
		t.Fatalf("the panic was not logged:\n%s", n.Log())
	}
	if _, err := public.GetStatus(ctx, &notaryv1.GetStatusRequest{}); err != nil {
		t.Fatalf("after the panic: %v", err)
	}
}

var _ gatewayv1.GatewayServer = (*gateway.Server)(nil)
