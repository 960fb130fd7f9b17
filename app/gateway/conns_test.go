package gateway_test

import (
	"context"
	"crypto/tls"
	"testing"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/connectivity"

	"github.com/gobtechlab/notary/app"
	"github.com/gobtechlab/notary/app/apptest"
	"github.com/gobtechlab/notary/app/gateway"
	notaryv1 "github.com/gobtechlab/notary/proto/notary/v1"
	"github.com/gobtechlab/notary/proto/notary/v1/gatewayv1"
)

// TestConnectionPools: a connection whose client certificate names a
// member the chain lists is authenticated (within max_connections; past
// it, it is served as an unauthenticated one); a connection without a
// certificate, or with one naming no listed member (its calls refused), is
// unauthenticated and closed after unauthenticated_idle_timeout without a
// request in progress, while an open stream keeps it; an authenticated
// connection stays open when idle.
func TestConnectionPools(t *testing.T) {
	const idle = time.Second
	n := apptest.Start(t, apptest.Options{Gateway: func(g *app.GatewayConfig) {
		g.MaxConnections = 1
		g.UnauthenticatedIdleTimeout = app.Duration{Duration: idle}
	}})
	ctx := ctxT(t)
	wantCounts := func(what string, want gateway.ConnectionCounts) {
		t.Helper()
		deadline := time.Now().Add(5 * time.Second)
		for n.Gateway.Connections() != want {
			if time.Now().After(deadline) {
				t.Fatalf("%s: %+v open, want %+v", what, n.Gateway.Connections(), want)
			}
			time.Sleep(20 * time.Millisecond)
		}
	}
	call := func(what string, cc *grpc.ClientConn) {
		t.Helper()
		if _, err := gatewayv1.NewGatewayClient(cc).GetStatus(ctx, &notaryv1.GetStatusRequest{}); err != nil {
			t.Fatalf("%s: %v", what, err)
		}
	}

	agency := n.Dial(t, n.Agency)
	call("agency", agency)
	wantCounts("the agency", gateway.ConnectionCounts{Authenticated: 1})

	// A member past max_connections is served, as an unauthenticated
	// connection.
	ministry := n.Dial(t, n.Ministry)
	call("ministry", ministry)
	wantCounts("the agency and the ministry", gateway.ConnectionCounts{Authenticated: 1, Unauthenticated: 1})
	_ = ministry.Close()
	wantCounts("the agency", gateway.ConnectionCounts{Authenticated: 1})

	// A valid certificate of an agency the chain does not list.
	iss, err := n.CA(t).IssueClient("agency", "unlisted-agency", time.Now().Add(-time.Hour), 24*time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	cert, err := iss.TLSCertificate()
	if err != nil {
		t.Fatal(err)
	}
	unlistedTLS := n.ClientTLS(t, "")
	unlistedTLS.Certificates = []tls.Certificate{cert}
	for _, tc := range []struct {
		name string
		cc   *grpc.ClientConn
		code codes.Code // of a call: a certificate of an unlisted member is refused
	}{
		{"no certificate", n.Dial(t, ""), codes.OK},
		{"the certificate of an unlisted agency", n.DialTLS(t, unlistedTLS), codes.PermissionDenied},
	} {
		_, err := gatewayv1.NewGatewayClient(tc.cc).GetStatus(ctx, &notaryv1.GetStatusRequest{})
		wantCode(t, err, tc.code, tc.name)
		wantCounts(tc.name, gateway.ConnectionCounts{Authenticated: 1, Unauthenticated: 1})
		// Idle: closed by the gateway (the client sees its connection go).
		wantCounts(tc.name+", idle", gateway.ConnectionCounts{Authenticated: 1})
		// The client learns of the close when its reader sees it.
		wctx, wcancel := context.WithTimeout(ctx, 30*time.Second)
		for tc.cc.GetState() == connectivity.Ready && tc.cc.WaitForStateChange(wctx, connectivity.Ready) {
		}
		wcancel()
		if s := tc.cc.GetState(); s == connectivity.Ready {
			t.Fatalf("%s: the client's connection is still %v after the idle timeout", tc.name, s)
		}
		_ = tc.cc.Close()
	}

	// A stream in progress keeps an unauthenticated connection open.
	public := n.Dial(t, "")
	sctx, cancel := context.WithCancel(ctx)
	stream, err := gatewayv1.NewGatewayClient(public).SubmitStream(sctx)
	if err != nil {
		t.Fatal(err)
	}
	if err := stream.Send(&notaryv1.SubmitRequest{Tx: []byte{0x0a, 0x01, 0x00}}); err != nil {
		t.Fatal(err)
	}
	if _, err := stream.Recv(); err != nil {
		t.Fatal(err)
	}
	time.Sleep(2 * idle)
	wantCounts("an open stream", gateway.ConnectionCounts{Authenticated: 1, Unauthenticated: 1})
	cancel()
	wantCounts("the stream ended, idle", gateway.ConnectionCounts{Authenticated: 1})

	// The agency's connection, idle all along, is still up.
	if s := agency.GetState(); s != connectivity.Ready {
		t.Fatalf("the agency's connection is %v", s)
	}
	call("agency, again", agency)
}
