package harness

import (
	"bytes"
	"context"
	"fmt"
	"sort"
	"time"

	"github.com/cometbft/cometbft/crypto"
	rpcclient "github.com/cometbft/cometbft/rpc/client"
	cmttypes "github.com/cometbft/cometbft/types"
	ics23 "github.com/cosmos/ics23/go"

	"github.com/gobtechlab/notary/abci"
	"github.com/gobtechlab/notary/ledger"
	notaryv1 "github.com/gobtechlab/notary/proto/notary/v1"
)

// Lookup asks a node's digest index where a SHA2-256 digest is anchored.
// found is false if the node answers that it is not.
func Lookup(ctx context.Context, p *Proc, digest []byte) (loc ledger.Locator, found bool, err error) {
	data := append([]byte{byte(notaryv1.HashAlgorithm_HASH_ALGORITHM_SHA2_256)}, digest...)
	q, err := p.RPC().ABCIQuery(ctx, abci.QueryDigest, data)
	if err != nil {
		return loc, false, err
	}
	if q.Response.Code == ledger.ErrNotFound.Code() {
		return loc, false, nil
	}
	if q.Response.Code != 0 {
		return loc, false, fmt.Errorf("digest query: code %d: %s", q.Response.Code, q.Response.Log)
	}
	loc, err = ledger.DecodeLocator(q.Response.Value)
	return loc, err == nil, err
}

// Proof is a state value with its ICS23 proof, as a node served it.
type Proof struct {
	Height int64
	Value  []byte
	Proof  []byte // the ics23 CommitmentProof, encoded
}

// Prove asks a node for key at height with its proof.
func Prove(ctx context.Context, p *Proc, key []byte, height int64) (*Proof, error) {
	q, err := p.RPC().ABCIQueryWithOptions(ctx, abci.QueryStore, key, rpcclient.ABCIQueryOptions{Height: height, Prove: true})
	if err != nil {
		return nil, err
	}
	r := q.Response
	if r.Code != 0 {
		return nil, fmt.Errorf("store query at %d: code %d: %s", height, r.Code, r.Log)
	}
	if r.ProofOps == nil || len(r.ProofOps.Ops) != 1 || r.ProofOps.Ops[0].Type != abci.ProofOpICS23 {
		return nil, fmt.Errorf("store query at %d: no ICS23 proof", height)
	}
	return &Proof{Height: r.Height, Value: r.Value, Proof: r.ProofOps.Ops[0].Data}, nil
}

// Verify checks the proof with the unmodified ics23 verifier against an app
// hash: membership if the proof carries a value, non-membership otherwise.
func (pr *Proof) Verify(key, appHash []byte) error {
	var cp ics23.CommitmentProof
	if err := cp.Unmarshal(pr.Proof); err != nil {
		return fmt.Errorf("proof: %w", err)
	}
	ok := false
	if len(pr.Value) > 0 {
		ok = ics23.VerifyMembership(ics23.IavlSpec, appHash, &cp, key, pr.Value)
	} else {
		ok = ics23.VerifyNonMembership(ics23.IavlSpec, appHash, &cp, key)
	}
	if !ok {
		return fmt.Errorf("proof of %x at %d does not verify against app hash %X", key, pr.Height, appHash)
	}
	return nil
}

// Header returns the header of height from a node.
func Header(ctx context.Context, p *Proc, height int64) (*cmttypes.Header, error) {
	h := height
	res, err := p.RPC().Header(ctx, &h)
	if err != nil {
		return nil, err
	}
	if res.Header == nil {
		return nil, fmt.Errorf("no header %d", height)
	}
	return res.Header, nil
}

// Validators returns the validator set of height (0: the latest).
func Validators(ctx context.Context, p *Proc, height int64) ([]*cmttypes.Validator, error) {
	var hp *int64
	if height > 0 {
		hp = &height
	}
	page, perPage := 1, 100
	res, err := p.RPC().Validators(ctx, hp, &page, &perPage)
	if err != nil {
		return nil, err
	}
	return res.Validators, nil
}

// Signed reports whether the commit for height carries a signature of the
// validator with address addr.
func Signed(ctx context.Context, p *Proc, height int64, addr crypto.Address) (bool, error) {
	h := height
	res, err := p.RPC().Commit(ctx, &h)
	if err != nil {
		return false, err
	}
	for _, s := range res.Commit.Signatures {
		if s.BlockIDFlag == cmttypes.BlockIDFlagCommit && bytes.Equal(s.ValidatorAddress, addr) {
			return true, nil
		}
	}
	return false, nil
}

// CompareChains checks that every node holds the same block (hash) and the
// same app hash in its header at every height from 1 to upTo: no fork and
// no divergent state.
func CompareChains(ctx context.Context, nodes []*Node, upTo int64) error {
	if len(nodes) < 2 {
		return nil
	}
	type meta struct{ block, app []byte }
	ref := make(map[int64]meta, upTo)
	for i, n := range nodes {
		for lo := int64(1); lo <= upTo; lo += 20 {
			hi := min(lo+19, upTo)
			res, err := n.RPC().BlockchainInfo(ctx, lo, hi)
			if err != nil {
				return fmt.Errorf("%s: blockchain %d..%d: %w", n.ID, lo, hi, err)
			}
			if int64(len(res.BlockMetas)) != hi-lo+1 {
				return fmt.Errorf("%s: blockchain %d..%d: %d blocks", n.ID, lo, hi, len(res.BlockMetas))
			}
			for _, m := range res.BlockMetas {
				h := m.Header.Height
				got := meta{m.BlockID.Hash, m.Header.AppHash}
				if i == 0 {
					ref[h] = got
					continue
				}
				want := ref[h]
				if !bytes.Equal(got.block, want.block) {
					return fmt.Errorf("fork at height %d: %s has block %X, %s has %X", h, n.ID, got.block, nodes[0].ID, want.block)
				}
				if !bytes.Equal(got.app, want.app) {
					return fmt.Errorf("height %d: %s's header carries app hash %X, %s's %X", h, n.ID, got.app, nodes[0].ID, want.app)
				}
			}
		}
	}
	return nil
}

// Durations collects timings and reports percentiles.
type Durations []time.Duration

// Percentile returns the p-th percentile (nearest rank), 0 if empty.
func (d Durations) Percentile(p float64) time.Duration {
	if len(d) == 0 {
		return 0
	}
	s := append(Durations(nil), d...)
	sort.Slice(s, func(i, j int) bool { return s[i] < s[j] })
	rank := int(p/100*float64(len(s))+0.999999) - 1
	rank = max(0, min(rank, len(s)-1))
	return s[rank]
}

// String gives count, p50, p99 and max.
func (d Durations) String() string {
	if len(d) == 0 {
		return "n=0"
	}
	r := func(x time.Duration) time.Duration { return x.Round(10 * time.Millisecond) }
	return fmt.Sprintf("n=%d p50 %v p99 %v max %v", len(d), r(d.Percentile(50)), r(d.Percentile(99)), r(d.Percentile(100)))
}
