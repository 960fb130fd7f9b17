package gateway_test

import (
	"crypto/tls"
	"crypto/x509"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"github.com/gobtechlab/notary/app"
	"github.com/gobtechlab/notary/app/apptest"
	"github.com/gobtechlab/notary/app/gateway"
	"github.com/gobtechlab/notary/ledger"
	notaryv1 "github.com/gobtechlab/notary/proto/notary/v1"
	"github.com/gobtechlab/notary/proto/notary/v1/gatewayv1"
)

// govern passes one proposal with the dev ministry (the only one) and
// returns the height of the block that carried the vote.
func govern(t *testing.T, n *apptest.Node, gov *signer, action *notaryv1.ProposalAction) int64 {
	t.Helper()
	ctx := ctxT(t)
	c := n.Client(t, n.Ministry)
	pr, err := c.Submit(ctx, &notaryv1.SubmitRequest{Tx: gov.sign(&notaryv1.TxBody{Msg: &notaryv1.TxBody_Propose{Propose: &notaryv1.Propose{
		MinistryId: apptest.MinistryID, Title: "membership", Action: action}}})})
	if err != nil || pr.GetResult().GetProposalId() == 0 {
		t.Fatalf("propose: %v %v", pr, err)
	}
	vr, err := c.Submit(ctx, &notaryv1.SubmitRequest{Tx: gov.sign(&notaryv1.TxBody{Msg: &notaryv1.TxBody_Vote{Vote: &notaryv1.Vote{
		MinistryId: apptest.MinistryID, ProposalId: pr.GetResult().GetProposalId(), Option: notaryv1.VoteOption_VOTE_OPTION_YES}}})})
	if err != nil || vr.Code != 0 {
		t.Fatalf("vote: %v %v", vr, err)
	}
	return vr.Height
}

func wantRefusal(t *testing.T, err error, code codes.Code, text, what string) {
	t.Helper()
	wantCode(t, err, code, what)
	if msg := status.Convert(err).Message(); !strings.Contains(msg, text) {
		t.Fatalf("%s: message %q does not say %q", what, msg, text)
	}
}

// TestMembershipFollowsChain: a client certificate is accepted only while
// the committed state lists its member as active and, once keys are
// registered, its key among them. A removal by governance refuses the
// member's next call (gRPC, HTTP, reads and writes, on a connection opened
// before); a renewal registers a new certificate's key and refuses the old
// one; a certificate naming a member the chain never listed is refused.
func TestMembershipFollowsChain(t *testing.T) {
	n := apptest.Start(t, apptest.Options{HTTP: true, Agencies: []app.AgencySpec{
		{ID: "spare-agency", Name: "Agencia Sobrante", Permissions: apptest.AllPermissions},
		{ID: "rotating", Name: "Agencia Rotativa", Permissions: apptest.AllPermissions},
	}})
	ctx := ctxT(t)
	gov := &signer{id: n.Identity(t, n.Ministry)}
	spareDir := n.Network.Agencies["spare-agency"]
	spare := n.Client(t, spareDir)
	spareHTTP := n.HTTPClient(t, spareDir, false)
	spareSigner := &signer{id: n.Identity(t, spareDir)}
	if _, err := spare.ListAgencies(ctx, &notaryv1.ListAgenciesRequest{}); err != nil {
		t.Fatalf("a listed agency's read: %v", err)
	}
	if r, err := spare.Submit(ctx, &notaryv1.SubmitRequest{Tx: spareSigner.sign(anchorBody("spare-agency", 0, digestsOf("spare", 1)))}); err != nil || r.Code != 0 {
		t.Fatalf("a listed agency's write: %v %v", r, err)
	}

	// Removal: the next call is refused, on the connection already open.
	h := govern(t, n, gov, &notaryv1.ProposalAction{Action: &notaryv1.ProposalAction_RemoveAgency{RemoveAgency: "spare-agency"}})
	removed := fmt.Sprintf(`agency "spare-agency" was removed at height %d`, h)
	_, err := spare.ListAgencies(ctx, &notaryv1.ListAgenciesRequest{})
	wantRefusal(t, err, codes.PermissionDenied, removed, "read after removal")
	_, err = spare.Submit(ctx, &notaryv1.SubmitRequest{Tx: spareSigner.sign(anchorBody("spare-agency", 1, digestsOf("spare", 2)))})
	wantRefusal(t, err, codes.PermissionDenied, removed, "write after removal")
	a := postJSON(t, spareHTTP, n.HTTPURL(gateway.RoutePath("ListAgencies")), &notaryv1.ListAgenciesRequest{})
	if a.status != http.StatusForbidden || !strings.Contains(a.err.Message, removed) || a.err.Status != "PERMISSION_DENIED" {
		t.Fatalf("HTTP after removal: %d %s %q", a.status, a.err.Status, a.err.Message)
	}
	// A stream's message is refused in its response.
	stream, err := spare.SubmitStream(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if err := stream.Send(&notaryv1.SubmitRequest{RequestId: "after-removal", Tx: spareSigner.sign(anchorBody("spare-agency", 2, digestsOf("spare", 3)))}); err != nil {
		t.Fatal(err)
	}
	sr, err := stream.Recv()
	if err != nil || codes.Code(sr.GrpcCode) != codes.PermissionDenied || !strings.Contains(sr.Log, removed) {
		t.Fatalf("stream after removal: %v %v", sr, err)
	}
	_ = stream.CloseSend()

	// Renewal: governance registers the key of a new certificate; the old
	// one is refused, the new one accepted, for reads and writes.
	rotDir := n.Network.Agencies["rotating"]
	old := n.Client(t, rotDir)
	if _, err := old.GetStatus(ctx, &notaryv1.GetStatusRequest{}); err != nil {
		t.Fatal(err)
	}
	iss, err := n.CA(t).IssueClient("agency", "rotating", time.Now().Add(-time.Minute), time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	cert, err := iss.TLSCertificate()
	if err != nil {
		t.Fatal(err)
	}
	leaf, err := x509.ParseCertificate(cert.Certificate[0])
	if err != nil {
		t.Fatal(err)
	}
	h = govern(t, n, gov, &notaryv1.ProposalAction{Action: &notaryv1.ProposalAction_SetTlsKeys{SetTlsKeys: &notaryv1.SetTLSKeys{
		AgencyId: "rotating", TlsKeys: [][]byte{ledger.TLSKeyHash(leaf.RawSubjectPublicKeyInfo)}}}})
	_, err = old.GetStatus(ctx, &notaryv1.GetStatusRequest{})
	wantRefusal(t, err, codes.PermissionDenied, "key not registered", "the certificate replaced by a renewal")
	cfg := n.ClientTLS(t, "")
	cfg.Certificates = []tls.Certificate{cert}
	renewed := gatewayv1.NewGatewayClient(n.DialTLS(t, cfg))
	rs := &signer{id: n.Identity(t, rotDir)}
	if r, err := renewed.Submit(ctx, &notaryv1.SubmitRequest{Tx: rs.sign(anchorBody("rotating", 0, digestsOf("rotating", 1)))}); err != nil || r.Code != 0 || r.Height <= h {
		t.Fatalf("the renewed certificate's write: %v %v", r, err)
	}

	// Bad renewals: one the agency signs itself (only ministries propose),
	// and one for the removed agency.
	self := rs.sign(&notaryv1.TxBody{Msg: &notaryv1.TxBody_Propose{Propose: &notaryv1.Propose{MinistryId: apptest.MinistryID, Title: "self-rotation",
		Action: &notaryv1.ProposalAction{Action: &notaryv1.ProposalAction_SetTlsKeys{SetTlsKeys: &notaryv1.SetTLSKeys{
			AgencyId: "rotating", TlsKeys: [][]byte{make([]byte, 32)}}}}}}})
	_, err = renewed.Submit(ctx, &notaryv1.SubmitRequest{Tx: self})
	wantRefusal(t, err, codes.PermissionDenied, "Propose needs a ministry's client certificate", "a renewal signed by the agency's key")
	_, err = n.Client(t, n.Ministry).Submit(ctx, &notaryv1.SubmitRequest{Tx: gov.sign(&notaryv1.TxBody{Msg: &notaryv1.TxBody_Propose{Propose: &notaryv1.Propose{
		MinistryId: apptest.MinistryID, Title: "renew a removed agency", Action: &notaryv1.ProposalAction{Action: &notaryv1.ProposalAction_SetTlsKeys{SetTlsKeys: &notaryv1.SetTLSKeys{
			AgencyId: "spare-agency", TlsKeys: [][]byte{ledger.TLSKeyHash(leaf.RawSubjectPublicKeyInfo)}}}}}}})})
	wantRefusal(t, err, codes.PermissionDenied, removed, "a renewal for the removed agency")

	// A certificate naming an agency the chain never listed.
	ghost, err := n.CA(t).IssueClient("agency", "ghost", time.Now().Add(-time.Minute), time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	gc, err := ghost.TLSCertificate()
	if err != nil {
		t.Fatal(err)
	}
	cfg = n.ClientTLS(t, "")
	cfg.Certificates = []tls.Certificate{gc}
	_, err = gatewayv1.NewGatewayClient(n.DialTLS(t, cfg)).GetStatus(ctx, &notaryv1.GetStatusRequest{})
	wantRefusal(t, err, codes.PermissionDenied, `names agency "ghost", which the chain does not list`, "unlisted agency")
	// Without a certificate, public reads still work.
	if _, err := n.Client(t, "").GetStatus(ctx, &notaryv1.GetStatusRequest{}); err != nil {
		t.Fatal(err)
	}
}
