package main

import (
	"context"
	"fmt"
	"path/filepath"
	"testing"
	"time"

	cmtcfg "github.com/cometbft/cometbft/config"

	"github.com/gobtechlab/notary/app"
	"github.com/gobtechlab/notary/app/apptest"
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
	node    *apptest.Node
	net     *app.Network
	addr    string // the gateway
	trust   string // trust.json
	ca      string // the consortium CA certificate
	citizen string // the dev citizen's identity directory
}

// startChain generates and starts a chain with the given agencies (and the
// dev citizen); it stops when the test ends.
func startChain(t testing.TB, block time.Duration, agencies ...app.AgencySpec) *testChain {
	t.Helper()
	n := apptest.Start(t, apptest.Options{
		TimeoutCommit:  block,
		Ministry:       app.MinistrySpec{ID: testMinistry, Name: "Ministerio de Hacienda", Power: 10},
		NoDevAgency:    true,
		Agencies:       agencies,
		GatewayOptions: gateway.Options{Receipts: gateway.Receipts},
		Comet:          func(c *cmtcfg.Config) { c.Instrumentation.Prometheus = false },
	})
	return &testChain{t: t, node: n, net: n.Network, addr: n.Addr, trust: n.Network.TrustFiles[0],
		ca: filepath.Join(n.TLSDir, "ca.crt"), citizen: n.Citizen}
}

func (c *testChain) waitHeight(h int64) {
	c.t.Helper()
	c.node.WaitHeight(c.t, h)
}

// client connects to the gateway as the identity in dir (its client
// certificate if it has one).
func (c *testChain) client(dir string) gatewayv1.GatewayClient {
	c.t.Helper()
	return c.node.Client(c.t, dir)
}

func (c *testChain) identity(dir string) *identity.Identity {
	c.t.Helper()
	return c.node.Identity(c.t, dir)
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

// enroll has the agency in dir (which holds PERMISSION_ENROLL) enrol the
// citizen keys.
func (c *testChain) enroll(ctx context.Context, dir string, keys ...[]byte) {
	c.t.Helper()
	var bodies []*notaryv1.TxBody
	for _, k := range keys {
		bodies = append(bodies, &notaryv1.TxBody{Msg: &notaryv1.TxBody_EnrollCitizen{EnrollCitizen: &notaryv1.EnrollCitizen{
			AgencyId: filepath.Base(dir), PubKey: k}}})
	}
	rs, err := c.streamExchanges(ctx, dir, bodies)
	if err != nil {
		c.t.Fatal(err)
	}
	for _, r := range rs {
		if r.Code != 0 {
			c.t.Fatalf("enrolment refused: %v", r)
		}
	}
}

// confirmedBy attaches to the RecordExchange in body the confirmation of
// the providing agency in dir.
func (c *testChain) confirmedBy(dir string, body *notaryv1.TxBody) *notaryv1.TxBody {
	c.t.Helper()
	m := body.GetRecordExchange()
	m.ProviderConfirmation = c.identity(dir).ConfirmExchange(m)
	return body
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
