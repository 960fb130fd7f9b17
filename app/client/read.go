package client

import (
	"crypto/ed25519"
	"fmt"
	"time"

	"google.golang.org/protobuf/proto"

	"github.com/gobtechlab/notary/app/identity"
	"github.com/gobtechlab/notary/ledger"
	notaryv1 "github.com/gobtechlab/notary/proto/notary/v1"
	"github.com/gobtechlab/notary/proto/notary/v1/gatewayv1"
)

// SignRead signs req, the request of a read of a citizen's records, with the
// identity's key for its chain at the current time: it sets req's read_auth
// (notary.v1.ReadAuth), which the gateway needs to return a subject's
// consents (ListConsents, GetConsent), access history (GetAccessHistory) or
// coverage (CheckCoverage) to that subject. Sign the request last: a field
// changed afterwards invalidates the signature.
func SignRead(id *identity.Identity, req proto.Message) error {
	var method string
	switch req.(type) {
	case *notaryv1.ListConsentsRequest:
		method = gatewayv1.Gateway_ListConsents_FullMethodName
	case *notaryv1.GetConsentRequest:
		method = gatewayv1.Gateway_GetConsent_FullMethodName
	case *notaryv1.CheckCoverageRequest:
		method = gatewayv1.Gateway_CheckCoverage_FullMethodName
	case *notaryv1.GetAccessHistoryRequest:
		method = gatewayv1.Gateway_GetAccessHistory_FullMethodName
	default:
		return fmt.Errorf("client: sign read: %T is not the request of a signed read", req)
	}
	if id == nil {
		return fmt.Errorf("client: sign read: no identity")
	}
	key := id.Key()
	sign := func(m []byte) []byte { return ed25519.Sign(key, m) }
	if err := ledger.SignRead(id.ChainID, method, id.Public(), req, time.Now().Unix(), sign); err != nil {
		return fmt.Errorf("client: %w", err)
	}
	return nil
}
