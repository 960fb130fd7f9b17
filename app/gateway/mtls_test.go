package gateway_test

import (
	"crypto/tls"
	"strings"
	"testing"
	"time"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/types/known/timestamppb"

	"github.com/gobtechlab/notary/app"
	"github.com/gobtechlab/notary/app/apptest"
	"github.com/gobtechlab/notary/app/internal/pki"
	notaryv1 "github.com/gobtechlab/notary/proto/notary/v1"
	"github.com/gobtechlab/notary/proto/notary/v1/gatewayv1"
)

// TestMTLSMatrix submits writes with every kind of wrong identity: no client
// certificate, one from another CA, an expired one, a valid one of an agency
// without the anchor permission, one of another agency than the signer, a
// ministry's for an agency message, a message naming another agency. Each is
// refused (a failed handshake, or PermissionDenied), and the gateway's
// CheckTx counter and the signer's account show that nothing reached the
// mempool or the state. Then the correct write succeeds, reads work without a
// certificate, and a citizen's consent needs none.
func TestMTLSMatrix(t *testing.T) {
	n := apptest.Start(t, apptest.Options{Agencies: []app.AgencySpec{
		{ID: "revoke-only", Name: "Agencia sin anclaje", Permissions: []notaryv1.Permission{notaryv1.Permission_PERMISSION_REVOKE}},
		{ID: "other-agency", Name: "Otra Agencia", Permissions: apptest.AllPermissions},
	}})
	ctx := ctxT(t)
	dev := n.Identity(t, n.Agency)
	revokeOnly := n.Identity(t, n.Network.Agencies["revoke-only"])
	ds := digestsOf("mtls", 3)
	devTx := dev.SignTx(anchorBody(apptest.AgencyID, 0, ds))

	// TLS configurations with client certificates that must not work.
	withCert := func(iss *pki.Issued) *tls.Config {
		cfg := n.ClientTLS(t, "")
		c, err := iss.TLSCertificate()
		if err != nil {
			t.Fatal(err)
		}
		cfg.Certificates = []tls.Certificate{c}
		return cfg
	}
	// forced presents the certificate whatever CAs the server asks for (Go's
	// client otherwise withholds one the server would not accept).
	forced := func(iss *pki.Issued) *tls.Config {
		cfg := withCert(iss)
		c := cfg.Certificates[0]
		cfg.Certificates = nil
		cfg.GetClientCertificate = func(*tls.CertificateRequestInfo) (*tls.Certificate, error) { return &c, nil }
		return cfg
	}
	otherCA, err := pki.NewCA("another CA", time.Now().Add(-time.Hour), 24*time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	foreign, err := otherCA.IssueClient("agency", apptest.AgencyID, time.Now().Add(-time.Hour), 24*time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	expired, err := n.CA(t).IssueClient("agency", apptest.AgencyID, time.Now().Add(-48*time.Hour), 24*time.Hour)
	if err != nil {
		t.Fatal(err)
	}

	before := n.Gateway.CheckTxCalls()
	cases := []struct {
		name   string
		client gatewayv1.GatewayClient
		tx     []byte
		code   codes.Code
		msg    string // part of the refusal's message
	}{
		{"no client certificate", n.Client(t, ""), devTx, codes.PermissionDenied, "needs the client certificate"},
		{"certificate from another CA, withheld by the client", gatewayv1.NewGatewayClient(n.DialTLS(t, withCert(foreign))), devTx, codes.PermissionDenied, "the request has none"},
		{"certificate from another CA", gatewayv1.NewGatewayClient(n.DialTLS(t, forced(foreign))), devTx, codes.Unavailable, ""},
		{"expired certificate", gatewayv1.NewGatewayClient(n.DialTLS(t, forced(expired))), devTx, codes.Unavailable, ""},
		{"agency without the anchor permission", n.Client(t, n.Network.Agencies["revoke-only"]),
			revokeOnly.SignTx(anchorBody("revoke-only", 0, ds)), codes.PermissionDenied, "lacks PERMISSION_ANCHOR"},
		{"certificate of another agency than the signer", n.Client(t, n.Network.Agencies["other-agency"]), devTx, codes.PermissionDenied, "signed by the key of agency \"dev-agency\""},
		{"ministry certificate for an agency message", n.Client(t, n.Ministry), devTx, codes.PermissionDenied, "needs an agency's client certificate"},
		{"message naming another agency", n.Client(t, n.Agency), dev.SignTx(anchorBody("other-agency", 0, ds)), codes.PermissionDenied, "names agency \"other-agency\""},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			_, err := c.client.Submit(ctx, &notaryv1.SubmitRequest{Tx: c.tx})
			wantCode(t, err, c.code, c.name)
			if msg := status.Convert(err).Message(); !strings.Contains(msg, c.msg) {
				t.Fatalf("message %q does not say %q", msg, c.msg)
			}
		})
	}
	// The handshake itself fails for those two: with TLS 1.2 the server's
	// verdict arrives during the client's handshake.
	for name, iss := range map[string]*pki.Issued{"another CA": foreign, "expired": expired} {
		cfg := forced(iss)
		cfg.MaxVersion = tls.VersionTLS12
		cfg.ServerName = "127.0.0.1"
		conn, err := tls.Dial("tcp", n.Addr, cfg)
		if err == nil {
			_ = conn.Close()
			t.Fatalf("%s: the TLS handshake succeeded", name)
		}
		if !strings.Contains(err.Error(), "certificate") {
			t.Fatalf("%s: handshake error %v", name, err)
		}
	}
	// The stream path refuses in the response and keeps the stream.
	stream, err := n.Client(t, "").SubmitStream(ctx)
	if err != nil {
		t.Fatal(err)
	}
	for i := 0; i < 2; i++ {
		if err := stream.Send(&notaryv1.SubmitRequest{RequestId: "no-cert", Tx: devTx}); err != nil {
			t.Fatal(err)
		}
		r, err := stream.Recv()
		if err != nil || codes.Code(r.GrpcCode) != codes.PermissionDenied || r.RequestId != "no-cert" {
			t.Fatalf("stream refusal %d: %v %v", i, r, err)
		}
	}
	_ = stream.CloseSend()

	if got := n.Gateway.CheckTxCalls(); got != before {
		t.Fatalf("refused writes reached CheckTx %d times", got-before)
	}
	public := n.Client(t, "")
	acc, err := public.GetAccount(ctx, &notaryv1.GetAccountRequest{PubKey: dev.Public()})
	if err != nil || acc.Account.NextSequence != 0 {
		t.Fatalf("the signer's account changed: %v %v", acc, err)
	}
	_, err = public.LookupDigest(ctx, &notaryv1.LookupDigestRequest{HashAlgorithm: sha2, Digest: digestAt(ds, 0)})
	wantCode(t, err, codes.NotFound, "lookup after refused writes")

	// The correct write: the signer's own agency certificate.
	resp, err := n.Client(t, n.Agency).Submit(ctx, &notaryv1.SubmitRequest{Tx: devTx})
	if err != nil || resp.Height < 1 {
		t.Fatalf("correct write: %v %v", resp, err)
	}
	if got := n.Gateway.CheckTxCalls(); got != before+1 {
		t.Fatalf("CheckTx calls %d, want %d", got, before+1)
	}
	// Reads need no certificate.
	if _, err := public.LookupDigest(ctx, &notaryv1.LookupDigestRequest{HashAlgorithm: sha2, Digest: digestAt(ds, 2)}); err != nil {
		t.Fatal(err)
	}
	// A citizen's consent needs no certificate either.
	citizen := n.Identity(t, n.Citizen)
	now := time.Now()
	grant := citizen.SignTx(&notaryv1.TxBody{Msg: &notaryv1.TxBody_GrantConsent{GrantConsent: &notaryv1.GrantConsent{
		Subject: citizen.Subject(), AgencyId: apptest.AgencyID, Category: "health", Purpose: "service-provision",
		ValidFrom: timestamppb.New(now), ValidUntil: timestamppb.New(now.Add(time.Hour))}}})
	if _, err := public.Submit(ctx, &notaryv1.SubmitRequest{Tx: grant}); err != nil {
		t.Fatalf("citizen consent without a certificate: %v", err)
	}
	if n.Gateway.Refusals() < int64(len(cases))-2 {
		t.Fatalf("refusals counted: %d", n.Gateway.Refusals())
	}
}
