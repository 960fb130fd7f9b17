package gateway

import (
	"bytes"
	"encoding/binary"

	"google.golang.org/protobuf/proto"

	"github.com/gobtechlab/notary/abci"
	"github.com/gobtechlab/notary/ledger"
	notaryv1 "github.com/gobtechlab/notary/proto/notary/v1"
)

// maxLookupScan bounds the records read to find a committed transaction
// that no record names by key (an exchange among a subject's, a proposal).
const maxLookupScan = 1024

// committedResult finds a committed transaction by what the state records
// about it, and returns its result as the block holds it: the answer the
// commit tracker gives for identical bytes while it remembers them. A node
// that restarted, or whose tracker forgot, gives the same answer: resubmitted
// bytes of a committed transaction get its committed result, never a
// "sequence already used" refusal of their own sequence. It reports false if
// the state does not name a block holding tx (not committed, or a message
// whose records do not lead to it).
func (s *Server) committedResult(tx *ledger.Tx) (committedTx, bool) {
	view, err := s.app.StateAt(0)
	if err != nil {
		return committedTx{}, false
	}
	var heights []int64
	switch m := tx.Body.Msg.(type) {
	case *notaryv1.TxBody_AnchorBatch:
		// A coded batch is indexed by its code keys, a plain one by its
		// digests.
		d := m.AnchorBatch.Digests
		switch k, _ := ledger.BatchCodeKeys(m.AnchorBatch); {
		case k != nil:
			if len(k) >= ledger.CodeKeySize {
				if loc, ok, err := s.app.LookupCodeKey(k[:ledger.CodeKeySize]); err == nil && ok {
					heights = append(heights, loc.Height)
				}
			}
		case len(d) >= ledger.DigestSize:
			if loc, ok, err := s.app.LookupDigest(m.AnchorBatch.HashAlgorithm, d[:ledger.DigestSize]); err == nil && ok {
				heights = append(heights, loc.Height)
			}
		}
	case *notaryv1.TxBody_Revoke:
		d, k := m.Revoke.Digests, m.Revoke.CodeKeys
		rev := &notaryv1.Revocation{}
		var key []byte
		switch {
		case len(k) > 0:
			if len(k) >= ledger.CodeKeySize {
				key = ledger.CodeRevocationKey(k[:ledger.CodeKeySize])
			}
		case len(d) >= ledger.DigestSize:
			key = ledger.RevocationKey(m.Revoke.HashAlgorithm, d[:ledger.DigestSize])
		}
		if key != nil {
			if ok, _ := loadRecord(view, key, rev); ok {
				heights = append(heights, rev.Height)
			}
		}
	case *notaryv1.TxBody_GrantConsent:
		c := &notaryv1.Consent{}
		id := ledger.ConsentID(ledger.SubjectID(tx.Signer), tx.Body.Sequence)
		if ok, _ := loadRecord(view, ledger.ConsentKey(id), c); ok {
			heights = append(heights, c.GrantedHeight)
		}
	case *notaryv1.TxBody_WithdrawConsent:
		c := &notaryv1.Consent{}
		if ledger.ValidConsentID(m.WithdrawConsent.ConsentId) {
			if ok, _ := loadRecord(view, ledger.ConsentKey(m.WithdrawConsent.ConsentId), c); ok && c.WithdrawnHeight > 0 {
				heights = append(heights, c.WithdrawnHeight)
			}
		}
	case *notaryv1.TxBody_RecordExchange:
		heights = exchangeHeights(view, m.RecordExchange.Subject, tx.Hash)
	case *notaryv1.TxBody_EnrollCitizen:
		a := &notaryv1.Account{}
		if ok, _ := loadRecord(view, ledger.AccountKey(m.EnrollCitizen.PubKey), a); ok && a.EnrolledHeight > 0 {
			heights = append(heights, a.EnrolledHeight)
		}
	case *notaryv1.TxBody_Propose:
		heights = proposalHeights(view, m.Propose)
	case *notaryv1.TxBody_Vote:
		v := &notaryv1.VoteRecord{}
		if ok, _ := loadRecord(view, ledger.VoteKey(m.Vote.ProposalId, m.Vote.MinistryId), v); ok {
			heights = append(heights, v.Height)
		}
	}
	for _, h := range heights {
		if r, ok := s.resultIn(h, tx.Hash); ok {
			return r, true
		}
	}
	return committedTx{}, false
}

// resultIn returns the result of the transaction with hash h in the block
// at height, if the block holds it.
func (s *Server) resultIn(height int64, h [32]byte) (committedTx, bool) {
	if height < 1 {
		return committedTx{}, false
	}
	txs, err := s.chain.BlockTxs(height)
	if err != nil {
		return committedTx{}, false
	}
	for i, raw := range txs {
		if abci.BlockTxHash(raw) != h {
			continue
		}
		results, err := s.chain.TxResults(height)
		if err != nil || i >= len(results) || results[i] == nil {
			return committedTx{}, false
		}
		res := results[i]
		return committedTx{height: height, index: uint32(i), code: res.Code, codespace: res.Codespace, log: res.Log, data: res.Data}, true
	}
	return committedTx{}, false
}

// exchangeHeights returns the height of the subject's newest exchange
// records whose transaction hash is h (at most one), reading back from the
// newest at most maxLookupScan entries.
func exchangeHeights(view *abci.StateView, subject []byte, h [32]byte) []int64 {
	if len(subject) != ledger.DigestSize {
		return nil
	}
	head := &notaryv1.AccessHead{}
	if ok, _ := loadRecord(view, ledger.AccessHeadKey(subject), head); !ok {
		return nil
	}
	for i, n := head.Count, 0; i > 0 && n < maxLookupScan; i, n = i-1, n+1 {
		x := &notaryv1.Exchange{}
		if ok, _ := loadRecord(view, ledger.ExchangeKey(subject, i-1), x); ok && bytes.Equal(x.TxHash, h[:]) {
			return []int64{x.Height}
		}
	}
	return nil
}

// proposalHeights returns the submit heights of the newest proposals (at
// most maxLookupScan) that m could have made: same ministry and title.
func proposalHeights(view *abci.StateView, m *notaryv1.Propose) []int64 {
	var out []int64
	prefix := ledger.ProposalPrefix()
	n := 0
	_ = view.IterateReverse(prefix, ledger.PrefixEnd(prefix), func(k, v []byte) bool {
		n++
		p := &notaryv1.Proposal{}
		if len(k) == len(prefix)+8 && proto.Unmarshal(v, p) == nil &&
			p.ProposerMinistryId == m.MinistryId && p.Title == m.Title && p.Id == binary.BigEndian.Uint64(k[len(prefix):]) {
			out = append(out, p.SubmitHeight)
		}
		return n < maxLookupScan
	})
	return out
}
