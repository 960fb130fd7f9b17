package main

import (
	"context"
	"fmt"
	"net"
	"path/filepath"
	"testing"
	"time"

	cmtlog "github.com/cometbft/cometbft/libs/log"
	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials"

	"github.com/gobtechlab/notary/app"
	"github.com/gobtechlab/notary/app/gateway"
	"github.com/gobtechlab/notary/app/identity"
	notaryv1 "github.com/gobtechlab/notary/proto/notary/v1"
	"github.com/gobtechlab/notary/proto/notary/v1/gatewayv1"
)

// A real single-validator chain for the citizen commands' tests: CometBFT
// and the application in process, and the node's real gateway (with
// receipts and checkpoints, mutual TLS) on a loopback port, as `notaryd
// start` runs it.

const (
	testChainID  = "notary-test"
	testMinistry = "hacienda"
)

type testChain struct {
	t       testing.TB
	node    *app.Node
	net     *app.Network
	addr    string // the gateway
	trust   string // trust.json
	ca      string // the consortium CA certificate
	citizen string // the dev citizen's identity directory
}

func freePorts(t testing.TB, n int) []int {
	t.Helper()
	var ls []net.Listener
	var ports []int
	for i := 0; i < n; i++ {
		l, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		ls = append(ls, l)
		ports = append(ports, l.Addr().(*net.TCPAddr).Port)
	}
	for _, l := range ls {
		l.Close()
	}
	return ports
}

// startChain generates and starts a chain with the given agencies (and the
// dev citizen); it stops when the test ends.
func startChain(t testing.TB, block time.Duration, agencies ...app.AgencySpec) *testChain {
	t.Helper()
	home := filepath.Join(t.TempDir(), "node")
	ports := freePorts(t, 4)
	nw, err := app.GenerateNetwork(app.NetworkSpec{
		ChainID:    testChainID,
		Ministries: []app.MinistrySpec{{ID: testMinistry, Name: "Ministerio de Hacienda", Power: 10}},
		Nodes: []app.NodeSpec{{Home: home, Host: "127.0.0.1",
			P2PPort: ports[0], RPCPort: ports[1], GatewayPort: ports[2], MetricsPort: ports[3]}},
		Agencies:      agencies,
		Citizens:      []string{devCitizen},
		TimeoutCommit: block,
	})
	if err != nil {
		t.Fatal(err)
	}
	cfg, err := app.LoadConfig(home)
	if err != nil {
		t.Fatal(err)
	}
	cfg.App.Gateway.RatePerSecond = 0
	cfg.Comet.Instrumentation.Prometheus = false
	n, err := app.NewNode(cfg, cmtlog.NewNopLogger(), gateway.Factory)
	if err != nil {
		t.Fatal(err)
	}
	if err := n.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := n.Stop(); err != nil {
			t.Errorf("stop node: %v", err)
		}
	})
	c := &testChain{t: t, node: n, net: nw, addr: cfg.App.Gateway.ListenAddress, trust: nw.TrustFiles[0],
		ca: filepath.Join(home, app.TLSDir, "ca.crt"), citizen: nw.Citizens[devCitizen]}
	c.waitHeight(1)
	return c
}

func (c *testChain) height() int64 {
	h, _, _ := c.node.App.LastCommit()
	return h
}

func (c *testChain) waitHeight(h int64) {
	c.t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for c.height() < h {
		if time.Now().After(deadline) {
			c.t.Fatalf("height %d not reached (at %d)", h, c.height())
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// client connects to the gateway as the identity in dir (its client
// certificate if it has one).
func (c *testChain) client(dir string) gatewayv1.GatewayClient {
	c.t.Helper()
	cfg, err := identity.ClientTLS(dir)
	if err != nil {
		c.t.Fatal(err)
	}
	cc, err := grpc.NewClient(c.addr, grpc.WithTransportCredentials(credentials.NewTLS(cfg)))
	if err != nil {
		c.t.Fatal(err)
	}
	c.t.Cleanup(func() { cc.Close() })
	return gatewayv1.NewGatewayClient(cc)
}

func (c *testChain) identity(dir string) *identity.Identity {
	c.t.Helper()
	id, err := identity.Load(dir)
	if err != nil {
		c.t.Fatal(err)
	}
	return id
}

func testCtx(t testing.TB) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	t.Cleanup(cancel)
	return ctx
}

// nextSequence is the next sequence of a key.
func nextSequence(ctx context.Context, t testing.TB, gw gatewayv1.GatewayClient, pub []byte) uint64 {
	t.Helper()
	acct, err := gw.GetAccount(ctx, &notaryv1.GetAccountRequest{PubKey: pub})
	if err != nil {
		t.Fatal(err)
	}
	return acct.GetAccount().GetNextSequence()
}

// registerMandate registers m by a governance proposal of the ministry,
// which passes with its vote at the end of the block.
func (c *testChain) registerMandate(ctx context.Context, m *notaryv1.Mandate) {
	c.t.Helper()
	dir := c.net.Ministries[testMinistry]
	gov := c.identity(dir)
	gw := c.client(dir)
	seq := nextSequence(ctx, c.t, gw, gov.Public())
	pr, err := gw.Submit(ctx, &notaryv1.SubmitRequest{Tx: gov.SignTx(&notaryv1.TxBody{Sequence: seq, Msg: &notaryv1.TxBody_Propose{Propose: &notaryv1.Propose{
		MinistryId: testMinistry, Title: "Registrar " + m.Id,
		Action: &notaryv1.ProposalAction{Action: &notaryv1.ProposalAction_RegisterMandate{RegisterMandate: m}}}}})})
	if err != nil {
		c.t.Fatalf("propose mandate %s: %v", m.Id, err)
	}
	id := pr.GetResult().GetProposalId()
	if _, err := gw.Submit(ctx, &notaryv1.SubmitRequest{Tx: gov.SignTx(&notaryv1.TxBody{Sequence: seq + 1, Msg: &notaryv1.TxBody_Vote{Vote: &notaryv1.Vote{
		MinistryId: testMinistry, ProposalId: id, Option: notaryv1.VoteOption_VOTE_OPTION_YES}}})}); err != nil {
		c.t.Fatalf("vote on mandate %s: %v", m.Id, err)
	}
	deadline := time.Now().Add(30 * time.Second)
	for {
		ms, err := gw.ListMandates(ctx, &notaryv1.ListMandatesRequest{})
		if err != nil {
			c.t.Fatal(err)
		}
		for _, x := range ms.Mandates {
			if x.Id == m.Id {
				if x.ProposalId != id {
					c.t.Fatalf("mandate %s registered by proposal %d, want %d", m.Id, x.ProposalId, id)
				}
				return
			}
		}
		if time.Now().After(deadline) {
			c.t.Fatalf("mandate %s not registered", m.Id)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// exchange is a RecordExchange body.
func exchange(requester, provider string, subject []byte, cat, purp, consent, mandate string, ref []byte) *notaryv1.TxBody {
	m := &notaryv1.RecordExchange{RequesterAgencyId: requester, ProviderAgencyId: provider, Subject: subject,
		Category: cat, Purpose: purp, Reference: ref}
	if consent != "" {
		m.Basis = &notaryv1.RecordExchange_ConsentId{ConsentId: consent}
	} else {
		m.Basis = &notaryv1.RecordExchange_MandateId{MandateId: mandate}
	}
	return &notaryv1.TxBody{Msg: &notaryv1.TxBody_RecordExchange{RecordExchange: m}}
}

// streamExchanges submits bodies signed by the agency in dir with
// consecutive sequences over one SubmitStream, and returns the responses in
// request order.
func (c *testChain) streamExchanges(ctx context.Context, dir string, bodies []*notaryv1.TxBody) ([]*notaryv1.SubmitResponse, error) {
	ag, err := identity.Load(dir)
	if err != nil {
		return nil, err
	}
	gw := c.client(dir)
	acct, err := gw.GetAccount(ctx, &notaryv1.GetAccountRequest{PubKey: ag.Public()})
	if err != nil {
		return nil, err
	}
	seq := acct.GetAccount().GetNextSequence()
	stream, err := gw.SubmitStream(ctx)
	if err != nil {
		return nil, err
	}
	sendErr := make(chan error, 1)
	go func() {
		for i, b := range bodies {
			b.Sequence = seq + uint64(i)
			if err := stream.Send(&notaryv1.SubmitRequest{RequestId: fmt.Sprint(i), Tx: ag.SignTx(b)}); err != nil {
				sendErr <- err
				return
			}
		}
		sendErr <- stream.CloseSend()
	}()
	out := make([]*notaryv1.SubmitResponse, len(bodies))
	for range bodies {
		r, err := stream.Recv()
		if err != nil {
			return nil, fmt.Errorf("stream: %w", err)
		}
		var i int
		if _, err := fmt.Sscan(r.RequestId, &i); err != nil || i < 0 || i >= len(out) || out[i] != nil {
			return nil, fmt.Errorf("response with request id %q", r.RequestId)
		}
		out[i] = r
	}
	if err := <-sendErr; err != nil {
		return nil, err
	}
	return out, nil
}
