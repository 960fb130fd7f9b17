package gateway_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/proto"

	"github.com/gobtechlab/notary/app/apptest"
	"github.com/gobtechlab/notary/app/gateway"
	"github.com/gobtechlab/notary/ledger"
	notaryv1 "github.com/gobtechlab/notary/proto/notary/v1"
)

// fuzzMethod is one unary gateway method: a request to decode into and
// the handler to call directly.
type fuzzMethod struct {
	name string
	req  func() proto.Message
	call func(context.Context, *gateway.Server, proto.Message) (proto.Message, error)
}

// unary adapts a typed handler.
func unary[Req, Resp proto.Message](name string, mk func() Req, h func(*gateway.Server, context.Context, Req) (Resp, error)) fuzzMethod {
	return fuzzMethod{
		name: name,
		req:  func() proto.Message { return mk() },
		call: func(ctx context.Context, s *gateway.Server, m proto.Message) (proto.Message, error) {
			return h(s, ctx, m.(Req))
		},
	}
}

// fuzzMethods are every unary method of notary.v1.Gateway.
var fuzzMethods = []fuzzMethod{
	unary("Submit", func() *notaryv1.SubmitRequest { return &notaryv1.SubmitRequest{} }, (*gateway.Server).Submit),
	unary("LookupDigest", func() *notaryv1.LookupDigestRequest { return &notaryv1.LookupDigestRequest{} }, (*gateway.Server).LookupDigest),
	unary("GetReceipt", func() *notaryv1.GetReceiptRequest { return &notaryv1.GetReceiptRequest{} }, (*gateway.Server).GetReceipt),
	unary("ListBatches", func() *notaryv1.ListBatchesRequest { return &notaryv1.ListBatchesRequest{} }, (*gateway.Server).ListBatches),
	unary("GetStatus", func() *notaryv1.GetStatusRequest { return &notaryv1.GetStatusRequest{} }, (*gateway.Server).GetStatus),
	unary("GetCheckpoint", func() *notaryv1.GetCheckpointRequest { return &notaryv1.GetCheckpointRequest{} }, (*gateway.Server).GetCheckpoint),
	unary("GetAccount", func() *notaryv1.GetAccountRequest { return &notaryv1.GetAccountRequest{} }, (*gateway.Server).GetAccount),
	unary("ListAgencies", func() *notaryv1.ListAgenciesRequest { return &notaryv1.ListAgenciesRequest{} }, (*gateway.Server).ListAgencies),
	unary("ListMinistries", func() *notaryv1.ListMinistriesRequest { return &notaryv1.ListMinistriesRequest{} }, (*gateway.Server).ListMinistries),
	unary("GetParams", func() *notaryv1.GetParamsRequest { return &notaryv1.GetParamsRequest{} }, (*gateway.Server).GetParams),
	unary("ListConsents", func() *notaryv1.ListConsentsRequest { return &notaryv1.ListConsentsRequest{} }, (*gateway.Server).ListConsents),
	unary("GetConsent", func() *notaryv1.GetConsentRequest { return &notaryv1.GetConsentRequest{} }, (*gateway.Server).GetConsent),
	unary("CheckCoverage", func() *notaryv1.CheckCoverageRequest { return &notaryv1.CheckCoverageRequest{} }, (*gateway.Server).CheckCoverage),
	unary("ListMandates", func() *notaryv1.ListMandatesRequest { return &notaryv1.ListMandatesRequest{} }, (*gateway.Server).ListMandates),
	unary("GetAccessHistory", func() *notaryv1.GetAccessHistoryRequest { return &notaryv1.GetAccessHistoryRequest{} }, (*gateway.Server).GetAccessHistory),
	unary("ListProposals", func() *notaryv1.ListProposalsRequest { return &notaryv1.ListProposalsRequest{} }, (*gateway.Server).ListProposals),
	unary("GetProposal", func() *notaryv1.GetProposalRequest { return &notaryv1.GetProposalRequest{} }, (*gateway.Server).GetProposal),
	unary("QueryState", func() *notaryv1.QueryStateRequest { return &notaryv1.QueryStateRequest{} }, (*gateway.Server).QueryState),
}

// FuzzGatewayRequests decodes the input as the request of one gateway
// method (chosen by the first argument), as gRPC would, and calls the
// handler directly on a running node's gateway (no network, no recovery
// interceptor: a panic fails the fuzz). Whatever the request, the answer is
// a response that encodes, or a status that is neither Internal nor Unknown
// and carries no Go source position or stack. Seeds are valid and invalid
// requests of every method against a node holding two anchored batches.
// Run with `go test -fuzz FuzzGatewayRequests ./app/gateway/`.
func FuzzGatewayRequests(f *testing.F) {
	n := apptest.Start(f, apptest.Options{
		TimeoutCommit:  time.Second,
		GatewayOptions: gateway.Options{Receipts: gateway.Receipts},
	})
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	gw := n.Client(f, n.Agency)
	ag := &signer{id: n.Identity(f, n.Agency)}
	ds := digestsOf("fuzz-gateway", 3)
	for i := 0; i < 2; i++ {
		if _, err := gw.Submit(ctx, &notaryv1.SubmitRequest{Tx: ag.sign(anchorBody(apptest.AgencyID, 0, digestsOf("fuzz-gateway/"+string(rune('a'+i)), 3)))}); err != nil {
			f.Fatal(err)
		}
	}
	r, err := gw.Submit(ctx, &notaryv1.SubmitRequest{Tx: ag.sign(anchorBody(apptest.AgencyID, 0, ds))})
	if err != nil {
		f.Fatal(err)
	}
	anchoredAt := r.Height
	page, err := gw.ListBatches(ctx, &notaryv1.ListBatchesRequest{AgencyId: apptest.AgencyID, PageSize: 1})
	if err != nil {
		f.Fatal(err)
	}
	citizen := n.Identity(f, n.Citizen)
	subject := ledger.SubjectID(citizen.Public())
	seeds := map[string][]proto.Message{
		"Submit": {
			&notaryv1.SubmitRequest{Tx: []byte{0x0a, 0x01, 0x00}, RequestId: "r-1"},
			&notaryv1.SubmitRequest{Tx: ag.id.SignTx(anchorBody(apptest.AgencyID, 1<<40, digestsOf("seed", 1)))},
		},
		"LookupDigest": {
			&notaryv1.LookupDigestRequest{HashAlgorithm: sha2, Digest: digestAt(ds, 1)},
			&notaryv1.LookupDigestRequest{HashAlgorithm: sha2, Digest: digestAt(ds, 0), Height: anchoredAt},
			&notaryv1.LookupDigestRequest{HashAlgorithm: sha2, Digest: digestAt(ds, 0), Height: anchoredAt - 1},
		},
		"GetReceipt":     {&notaryv1.GetReceiptRequest{HashAlgorithm: sha2, Digest: digestAt(ds, 2)}},
		"ListBatches":    {&notaryv1.ListBatchesRequest{AgencyId: apptest.AgencyID, PageSize: 1, PageToken: page.NextPageToken}},
		"GetStatus":      {&notaryv1.GetStatusRequest{}},
		"GetCheckpoint":  {&notaryv1.GetCheckpointRequest{Height: anchoredAt}, &notaryv1.GetCheckpointRequest{}},
		"GetAccount":     {&notaryv1.GetAccountRequest{PubKey: ag.id.Public()}},
		"ListAgencies":   {&notaryv1.ListAgenciesRequest{}},
		"ListMinistries": {&notaryv1.ListMinistriesRequest{}},
		"GetParams":      {&notaryv1.GetParamsRequest{}},
		"ListConsents": {
			&notaryv1.ListConsentsRequest{Subject: subject},
			signedRead(f, citizen, &notaryv1.ListConsentsRequest{Subject: subject}),
		},
		"GetConsent": {
			&notaryv1.GetConsentRequest{ConsentId: "consent-1", Height: anchoredAt},
			signedRead(f, citizen, &notaryv1.GetConsentRequest{ConsentId: ledger.ConsentID(subject, 0)}),
		},
		"CheckCoverage": {
			&notaryv1.CheckCoverageRequest{RequesterAgencyId: apptest.AgencyID, ProviderAgencyId: "other", Subject: subject, Category: "tax-records"},
			signedRead(f, citizen, &notaryv1.CheckCoverageRequest{RequesterAgencyId: apptest.AgencyID, ProviderAgencyId: apptest.AgencyID,
				Subject: subject, Category: "tax", Purpose: "statistics"}),
		},
		"ListMandates": {&notaryv1.ListMandatesRequest{}},
		"GetAccessHistory": {
			&notaryv1.GetAccessHistoryRequest{Subject: subject, PageSize: 5},
			signedRead(f, citizen, &notaryv1.GetAccessHistoryRequest{Subject: subject, PageSize: 5}),
		},
		"ListProposals": {&notaryv1.ListProposalsRequest{}},
		"GetProposal":   {&notaryv1.GetProposalRequest{}},
		"QueryState": {
			&notaryv1.QueryStateRequest{Key: ledger.AgencyKey(apptest.AgencyID)},
			&notaryv1.QueryStateRequest{Key: ledger.RevocationKey(sha2, digestAt(ds, 0)), Height: anchoredAt},
			&notaryv1.QueryStateRequest{Key: ledger.ConsentKey(ledger.ConsentID(subject, 0))},
		},
	}
	for i, m := range fuzzMethods {
		ss, ok := seeds[m.name]
		if !ok {
			f.Fatalf("no seed for %s", m.name)
		}
		for _, s := range ss {
			b, err := proto.Marshal(s)
			if err != nil {
				f.Fatal(err)
			}
			f.Add(uint8(i), b)
		}
	}
	srv := n.Gateway
	f.Fuzz(func(t *testing.T, which uint8, msg []byte) {
		m := fuzzMethods[int(which)%len(fuzzMethods)]
		req := m.req()
		if err := proto.Unmarshal(msg, req); err != nil {
			return // the gateway refuses it before any handler (TestMalformedRequests)
		}
		ctx, cancel := context.WithTimeout(context.Background(), 3*time.Second)
		defer cancel()
		resp, err := m.call(ctx, srv, req)
		if err == nil {
			if _, err := proto.Marshal(resp); err != nil {
				t.Fatalf("%s: the response does not encode: %v", m.name, err)
			}
			return
		}
		st := status.Convert(gateway.StatusOf(m.name, err))
		switch st.Code() {
		case codes.Internal, codes.Unknown:
			t.Fatalf("%s(%v): %v: %s", m.name, req, st.Code(), st.Message())
		}
		if msg := st.Message(); strings.Contains(msg, "goroutine ") || strings.Contains(msg, ".go:") {
			t.Fatalf("%s: the status leaks a stack or source position: %q", m.name, msg)
		}
	})
}
