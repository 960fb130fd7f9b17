package client_test

import (
	"testing"
	"time"

	"google.golang.org/protobuf/proto"

	"github.com/gobtechlab/notary/app/client"
	"github.com/gobtechlab/notary/app/identity"
	"github.com/gobtechlab/notary/ledger"
	notaryv1 "github.com/gobtechlab/notary/proto/notary/v1"
	"github.com/gobtechlab/notary/proto/notary/v1/gatewayv1"
)

// TestSignRead: SignRead signs each request of a signed read for its own
// method, with the identity's key and chain and the current time, and
// refuses other requests.
func TestSignRead(t *testing.T) {
	id, err := identity.Generate(identity.RoleCitizen, "reader", "sign-read-test")
	if err != nil {
		t.Fatal(err)
	}
	sub := id.Subject()
	cases := []struct {
		req    proto.Message
		method string
	}{
		{&notaryv1.ListConsentsRequest{Subject: sub}, gatewayv1.Gateway_ListConsents_FullMethodName},
		{&notaryv1.GetConsentRequest{ConsentId: ledger.ConsentID(sub, 0)}, gatewayv1.Gateway_GetConsent_FullMethodName},
		{&notaryv1.CheckCoverageRequest{RequesterAgencyId: "a", ProviderAgencyId: "b", Subject: sub}, gatewayv1.Gateway_CheckCoverage_FullMethodName},
		{&notaryv1.GetAccessHistoryRequest{Subject: sub, PageSize: 7}, gatewayv1.Gateway_GetAccessHistory_FullMethodName},
	}
	for _, c := range cases {
		if err := client.SignRead(id, c.req); err != nil {
			t.Fatalf("%T: %v", c.req, err)
		}
		auth, err := ledger.VerifyRead(id.ChainID, c.method, c.req)
		if err != nil {
			t.Fatalf("%T: %v", c.req, err)
		}
		if d := time.Since(time.Unix(auth.Time, 0)); d < -time.Second || d > time.Minute {
			t.Fatalf("%T: signed at %d", c.req, auth.Time)
		}
		if _, err := ledger.VerifyRead(id.ChainID, gatewayv1.Gateway_QueryState_FullMethodName, c.req); err == nil {
			t.Fatalf("%T: the signature holds for another method", c.req)
		}
	}
	if err := client.SignRead(id, &notaryv1.GetAccountRequest{PubKey: id.Public()}); err == nil {
		t.Fatal("a GetAccountRequest was signed")
	}
}
