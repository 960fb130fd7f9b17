package ledger

import notaryv1 "github.com/gobtechlab/notary/proto/notary/v1"

func (c *txContext) grantConsent(m *notaryv1.GrantConsent) error {
	return wrapf(ErrInvalidField, "consent is not enabled yet")
}

func (c *txContext) withdrawConsent(m *notaryv1.WithdrawConsent) error {
	return wrapf(ErrInvalidField, "consent is not enabled yet")
}

func (c *txContext) recordExchange(m *notaryv1.RecordExchange) error {
	return wrapf(ErrInvalidField, "exchange is not enabled yet")
}
