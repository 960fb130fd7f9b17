package ledger

// ProposalOrder chooses and orders the transactions of a proposal, given in
// the mempool's order, so that each signer's sequences follow on from its
// next sequence in st: a transaction ahead of it (one a mempool held,
// Outcome.Held) goes right after the transaction before it, and is left
// out when that one is not among txs. Every other transaction keeps its
// place, including those the block will fail and unordered ones, which no
// sequence orders (they are never held), and checkpoint signatures, which
// have none. It returns indexes into txs.
func ProposalOrder(st Store, txs []*Tx) ([]int, error) {
	next := map[string]uint64{}
	held := map[string]map[uint64]int{}
	out := make([]int, 0, len(txs))
	for i, tx := range txs {
		if tx.Unordered() || tx.Body.GetCheckpointSignature() != nil {
			out = append(out, i)
			continue
		}
		signer := string(tx.Signer)
		want, ok := next[signer]
		if !ok {
			acct, err := loadAccount(wrapStore(st), tx.Signer)
			if err != nil {
				return nil, err
			}
			if acct != nil {
				want = acct.NextSequence
			}
		}
		seq := tx.Body.Sequence
		if seq > want {
			h := held[signer]
			if h == nil {
				h = map[uint64]int{}
				held[signer] = h
			}
			if _, dup := h[seq]; !dup {
				h[seq] = i
			}
			next[signer] = want
			continue
		}
		out = append(out, i)
		if seq == want {
			want++
			for {
				j, ok := held[signer][want]
				if !ok {
					break
				}
				delete(held[signer], want)
				out = append(out, j)
				want++
			}
		}
		next[signer] = want
	}
	return out, nil
}
