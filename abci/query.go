package abci

import (
	"context"
	"fmt"

	abcitypes "github.com/cometbft/cometbft/abci/types"
	cmtcrypto "github.com/cometbft/cometbft/proto/tendermint/crypto"

	"github.com/gobtechlab/notary/ledger"
)

// Query paths served over ABCI (CometBFT's abci_query):
//
//	/store   data = a state key; the value at the requested height (0: the
//	         latest committed), with an ICS23 proof if prove is set: of
//	         existence, or of non-existence for an absent key.
//	/digest  data = hash algorithm (1 byte) || digest; the value is the
//	         16-byte ledger.Locator of the digest if it is anchored (the
//	         digest index is not proven: prove the batch record with /store).
//	/tx      data = the SHA-256 of a transaction that blocks name by
//	         hash (EncodeTxRef); the value is its bytes, if this node
//	         holds them (what a block read from the RPC does not show).
//	/batch   the same as /tx (its first name).
const (
	QueryStore  = "/store"
	QueryDigest = "/digest"
	QueryTx     = "/tx"
	QueryBatch  = "/batch"
)

// ProofOpICS23 is the ProofOp type of an ICS23 CommitmentProof over the IAVL
// state, verified with ics23.IavlSpec against the app hash of the height.
const ProofOpICS23 = "ics23:iavl"

// Query answers the paths above from committed state only.
func (a *Application) Query(_ context.Context, req *abcitypes.RequestQuery) (*abcitypes.ResponseQuery, error) {
	res, err := a.query(req)
	if err != nil {
		code, space, log := resultOf(err)
		return &abcitypes.ResponseQuery{Code: code, Codespace: space, Log: log, Height: req.Height}, nil
	}
	return res, nil
}

func (a *Application) query(req *abcitypes.RequestQuery) (*abcitypes.ResponseQuery, error) {
	if req.Height < 0 {
		return nil, fmt.Errorf("%w: negative height %d", ledger.ErrHeightUnavailable, req.Height)
	}
	switch req.Path {
	case QueryStore:
		if len(req.Data) == 0 {
			return nil, fmt.Errorf("%w: empty key", ledger.ErrInvalidField)
		}
		view, err := a.StateAt(req.Height)
		if err != nil {
			return nil, err
		}
		res := &abcitypes.ResponseQuery{Key: req.Data, Height: view.Height()}
		if !req.Prove {
			res.Value, err = view.Get(req.Data)
			return res, err
		}
		value, proof, err := view.Prove(req.Data)
		if err != nil {
			return nil, err
		}
		bz, err := proof.Marshal()
		if err != nil {
			return nil, err
		}
		res.Value = value
		res.ProofOps = &cmtcrypto.ProofOps{Ops: []cmtcrypto.ProofOp{{Type: ProofOpICS23, Key: req.Data, Data: bz}}}
		return res, nil
	case QueryDigest:
		if len(req.Data) != 1+ledger.DigestSize {
			return nil, fmt.Errorf("%w: data must be 1 algorithm byte and a %d-byte digest", ledger.ErrInvalidField, ledger.DigestSize)
		}
		if req.Height != 0 {
			return nil, fmt.Errorf("%w: the digest index answers at the latest height only", ledger.ErrInvalidField)
		}
		height, _, _ := a.LastCommit()
		loc, ok, err := a.LookupDigest(ledger.HashAlgorithm(req.Data[0]), req.Data[1:])
		if err != nil {
			return nil, err
		}
		res := &abcitypes.ResponseQuery{Key: req.Data, Height: height}
		if !ok {
			return res, fmt.Errorf("%w: digest %x", ledger.ErrNotFound, req.Data[1:])
		}
		res.Value = loc.Encode()
		return res, nil
	case QueryTx, QueryBatch:
		if len(req.Data) != 32 {
			return nil, fmt.Errorf("%w: data must be a 32-byte transaction hash", ledger.ErrInvalidField)
		}
		raw, ok, err := a.stored.Get([32]byte(req.Data))
		if err != nil {
			return nil, err
		}
		if !ok {
			return nil, fmt.Errorf("%w: transaction %X", ledger.ErrNotFound, req.Data)
		}
		return &abcitypes.ResponseQuery{Key: req.Data, Value: raw}, nil
	}
	return nil, fmt.Errorf("%w: %q", ledger.ErrUnknownQuery, req.Path)
}
