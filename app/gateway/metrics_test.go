package gateway_test

import (
	"context"
	"testing"
	"time"

	"github.com/gobtechlab/notary/app/apptest"
	notaryv1 "github.com/gobtechlab/notary/proto/notary/v1"
)

// TestMetricsStreamClosedByClient: a stream its client closes once every
// request is answered, without half-closing it (as the client library
// does), counts as OK; the digests it anchored count for the agency its
// certificate names, and a duplicate's as refused.
func TestMetricsStreamClosedByClient(t *testing.T) {
	n := apptest.Start(t, apptest.Options{})
	requests := func(code string) float64 {
		return counterValue(t, "notary_gateway_requests_total", map[string]string{"method": "SubmitStream", "code": code})
	}
	digests := func(outcome string) float64 {
		return counterValue(t, "notary_gateway_agency_digests_total", map[string]string{"agency": apptest.AgencyID, "outcome": outcome})
	}
	okBefore, canceledBefore := requests("OK"), requests("Canceled")
	anchoredBefore, refusedBefore := digests("anchored"), digests("refused")

	ag := &signer{id: n.Identity(t, n.Agency)}
	ds := digestsOf("metrics", 5)
	ctx, cancel := context.WithCancel(ctxT(t))
	st, err := n.Client(t, n.Agency).SubmitStream(ctx)
	if err != nil {
		t.Fatal(err)
	}
	for _, raw := range [][]byte{ag.sign(anchorBody(apptest.AgencyID, 0, ds[:3*32])), ag.sign(anchorBody(apptest.AgencyID, 0, ds[3*32:]))} {
		if err := st.Send(&notaryv1.SubmitRequest{Tx: raw}); err != nil {
			t.Fatal(err)
		}
		if r, err := st.Recv(); err != nil || r.GrpcCode != 0 {
			t.Fatalf("answer: %v %v", r, err)
		}
	}
	if _, err := n.Client(t, n.Agency).Submit(ctxT(t), &notaryv1.SubmitRequest{Tx: ag.sign(anchorBody(apptest.AgencyID, 0, ds[:32]))}); err == nil {
		t.Fatal("a duplicate was accepted")
	}
	cancel()
	waitFor(t, "the stream to be counted", func() bool { return requests("OK") > okBefore || requests("Canceled") > canceledBefore })
	if requests("OK") != okBefore+1 || requests("Canceled") != canceledBefore {
		t.Fatalf("SubmitStream OK %v→%v, Canceled %v→%v", okBefore, requests("OK"), canceledBefore, requests("Canceled"))
	}
	if got := digests("anchored") - anchoredBefore; got != 5 {
		t.Fatalf("%v digests counted anchored, want 5", got)
	}
	if got := digests("refused") - refusedBefore; got != 1 {
		t.Fatalf("%v digests counted refused, want 1", got)
	}
}

// waitFor polls cond until it holds, for up to a minute.
func waitFor(t testing.TB, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(time.Minute)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(20 * time.Millisecond)
	}
}
