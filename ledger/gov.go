package ledger

import notaryv1 "github.com/gobtechlab/notary/proto/notary/v1"

func (c *txContext) propose(m *notaryv1.Propose) error {
	return wrapf(ErrInvalidProposal, "governance is not enabled yet")
}

func (c *txContext) vote(m *notaryv1.Vote) error {
	return wrapf(ErrInvalidProposal, "governance is not enabled yet")
}

func (e *Exec) endGovernance() ([]Event, error) { return nil, nil }
