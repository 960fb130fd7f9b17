package harness

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"fmt"
	"os"
	"path/filepath"
	"sync"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/backoff"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/credentials"
	"google.golang.org/grpc/status"

	"github.com/gobtechlab/notary/app/identity"
	"github.com/gobtechlab/notary/ledger"
	notaryv1 "github.com/gobtechlab/notary/proto/notary/v1"
	"github.com/gobtechlab/notary/proto/notary/v1/gatewayv1"
)

// gateways caches one gRPC connection per node and identity for the whole
// test: a connection reconnects by itself (quickly, see Gateway) when its
// node restarts.
type gateways struct {
	mu    sync.Mutex
	conns map[string]*grpc.ClientConn
}

// Gateway returns a client of a node's gateway over TLS, authenticated as
// id with its client certificate (mutual TLS), or without a certificate
// (reads only) when id is nil.
func (n *Net) Gateway(node *Node, id *identity.Identity) (gatewayv1.GatewayClient, error) {
	key := node.ID + "|"
	if id != nil {
		key += id.Dir()
	}
	n.gw.mu.Lock()
	defer n.gw.mu.Unlock()
	if c, ok := n.gw.conns[key]; ok {
		return gatewayv1.NewGatewayClient(c), nil
	}
	var cfg *tls.Config
	if id != nil {
		c, err := id.ClientTLS()
		if err != nil {
			return nil, err
		}
		cfg = c
	} else {
		pem, err := os.ReadFile(filepath.Join(n.Dir, "ca", "ca.crt"))
		if err != nil {
			return nil, err
		}
		pool := x509.NewCertPool()
		if !pool.AppendCertsFromPEM(pem) {
			return nil, fmt.Errorf("no certificate in the consortium CA file")
		}
		cfg = &tls.Config{MinVersion: tls.VersionTLS12, RootCAs: pool}
	}
	conn, err := grpc.NewClient(node.Gateway,
		grpc.WithTransportCredentials(credentials.NewTLS(cfg)),
		grpc.WithConnectParams(grpc.ConnectParams{
			Backoff:           backoff.Config{BaseDelay: 100 * time.Millisecond, Multiplier: 1.6, Jitter: 0.2, MaxDelay: time.Second},
			MinConnectTimeout: 2 * time.Second,
		}),
		grpc.WithDefaultCallOptions(grpc.MaxCallRecvMsgSize(64<<20)))
	if err != nil {
		return nil, err
	}
	if n.gw.conns == nil {
		n.gw.conns = map[string]*grpc.ClientConn{}
		n.t.Cleanup(n.closeGateways)
	}
	n.gw.conns[key] = conn
	return gatewayv1.NewGatewayClient(conn), nil
}

func (n *Net) closeGateways() {
	n.gw.mu.Lock()
	defer n.gw.mu.Unlock()
	for _, c := range n.gw.conns {
		_ = c.Close()
	}
	n.gw.conns = nil
}

// SubmitGateway signs body with the signer's next sequence (read through the
// same gateway) and submits it through the node's gateway as the signer,
// waiting for the commit. A duplicate anchoring (AlreadyExists) returns the
// gateway's response, whose result names the existing record, with a nil
// error; any other failure is an error.
func SubmitGateway(ctx context.Context, gw gatewayv1.GatewayClient, signer *identity.Identity, body *notaryv1.TxBody) (*notaryv1.SubmitResponse, error) {
	ctx, cancel := context.WithTimeout(ctx, SubmitTimeout)
	defer cancel()
	acct, err := gw.GetAccount(ctx, &notaryv1.GetAccountRequest{PubKey: signer.Public()})
	if err != nil {
		return nil, fmt.Errorf("account: %w", err)
	}
	body.Sequence = acct.GetAccount().GetNextSequence()
	resp, err := gw.Submit(ctx, &notaryv1.SubmitRequest{Tx: signer.SignTx(body)})
	if err != nil {
		st := status.Convert(err)
		if st.Code() == codes.AlreadyExists {
			for _, d := range st.Details() {
				if r, ok := d.(*notaryv1.SubmitResponse); ok && r.GetResult().GetExisting() != nil {
					return r, nil
				}
			}
		}
		return nil, fmt.Errorf("submit: %s: %s", st.Code(), st.Message())
	}
	if resp.Code != 0 {
		return nil, fmt.Errorf("submit: code %d: %s", resp.Code, resp.Log)
	}
	return resp, nil
}

// Existing returns the locator of a duplicate anchoring's existing record,
// if the response is one.
func Existing(resp *notaryv1.SubmitResponse) (ledger.Locator, bool) {
	e := resp.GetResult().GetExisting()
	if e == nil || e.GetLocator() == nil {
		return ledger.Locator{}, false
	}
	l := e.GetLocator()
	return ledger.Locator{Height: l.Height, TxIndex: l.TxIndex, Leaf: l.LeafIndex}, true
}
