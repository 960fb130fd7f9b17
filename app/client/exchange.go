package client

import (
	"context"
	"errors"
	"fmt"

	"google.golang.org/protobuf/proto"

	"github.com/gobtechlab/notary/app/identity"
	"github.com/gobtechlab/notary/ledger"
	notaryv1 "github.com/gobtechlab/notary/proto/notary/v1"
)

// RecordExchange records that the client's agency (the requester) obtained
// data described by m from m's provider, and waits until it is committed.
// conf, if not nil, is the provider's confirmation (ConfirmExchange on the
// provider's side): it is checked here against m and the client's chain,
// and the entry is then marked confirmed by the provider; without it the
// entry says that the requester alone declared the exchange. m is not
// modified; its requester_agency_id defaults to the client's agency.
func (c *Client) RecordExchange(ctx context.Context, m *notaryv1.RecordExchange, conf *notaryv1.ProviderConfirmation) (*notaryv1.SubmitResponse, error) {
	if c.id.Role != identity.RoleAgency {
		return nil, fmt.Errorf("client: record exchange: only an agency records exchanges, not a %s", c.id.Role)
	}
	m = proto.Clone(m).(*notaryv1.RecordExchange)
	if m.RequesterAgencyId == "" {
		m.RequesterAgencyId = c.id.ID
	}
	m.ProviderConfirmation = nil
	if conf != nil {
		if err := CheckConfirmation(c.id.ChainID, m, conf); err != nil {
			return nil, fmt.Errorf("client: record exchange: %w", err)
		}
		m.ProviderConfirmation = proto.Clone(conf).(*notaryv1.ProviderConfirmation)
	}
	return c.Submit(ctx, &notaryv1.TxBody{Msg: &notaryv1.TxBody_RecordExchange{RecordExchange: m}})
}

// ConfirmExchange returns the confirmation of exchange m by the client's
// agency, which m must name as its provider: the signature the requester
// attaches with RecordExchange. Nothing is sent to the chain.
func (c *Client) ConfirmExchange(m *notaryv1.RecordExchange) (*notaryv1.ProviderConfirmation, error) {
	if c.id.Role != identity.RoleAgency {
		return nil, fmt.Errorf("client: confirm exchange: only an agency confirms exchanges, not a %s", c.id.Role)
	}
	if m.GetProviderAgencyId() != c.id.ID {
		return nil, fmt.Errorf("client: confirm exchange: the exchange names %q as its provider, this identity is agency %q", m.GetProviderAgencyId(), c.id.ID)
	}
	return c.id.ConfirmExchange(m), nil
}

// CheckConfirmation checks that conf is a well-formed signature over
// exchange m on chainID. Whether its key is the provider's registered key
// is for the chain to decide.
func CheckConfirmation(chainID string, m *notaryv1.RecordExchange, conf *notaryv1.ProviderConfirmation) error {
	if len(conf.GetPubKey()) != ledger.PublicKeySize || len(conf.GetSignature()) != ledger.SignatureSize {
		return errors.New("the provider's confirmation needs a 32-byte key and a 64-byte signature")
	}
	if !ledger.VerifySignature(conf.PubKey, ledger.ConfirmSignBytes(chainID, m), conf.Signature) {
		return fmt.Errorf("the provider's confirmation does not sign this exchange on chain %q (another exchange, another chain or another key)", chainID)
	}
	return nil
}

// EnrollCitizen enrols the citizen key pub (32 bytes) on behalf of the
// client's agency, which must hold PERMISSION_ENROLL, and waits until it
// is committed. The agency vouches that it identified the key's holder;
// nothing about the person goes on chain.
func (c *Client) EnrollCitizen(ctx context.Context, pub []byte) (*notaryv1.SubmitResponse, error) {
	if c.id.Role != identity.RoleAgency {
		return nil, fmt.Errorf("client: enroll citizen: only an agency enrols citizens, not a %s", c.id.Role)
	}
	if !ledger.ValidPublicKey(pub) {
		return nil, fmt.Errorf("client: enroll citizen: %d bytes are not an ed25519 public key", len(pub))
	}
	return c.Submit(ctx, &notaryv1.TxBody{Msg: &notaryv1.TxBody_EnrollCitizen{EnrollCitizen: &notaryv1.EnrollCitizen{AgencyId: c.id.ID, PubKey: pub}}})
}
