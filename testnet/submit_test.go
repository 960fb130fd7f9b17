package testnet

import (
	"context"
	"crypto/sha256"
	"fmt"
	"testing"
	"time"

	"github.com/gobtechlab/notary/abci"
	"github.com/gobtechlab/notary/ledger"
	notaryv1 "github.com/gobtechlab/notary/proto/notary/v1"
	"github.com/gobtechlab/notary/testnet/internal/harness"
)

// TestSubmitThroughRPC: anchorings sent one after another by one agency
// through one node's CometBFT RPC (harness.Submit) are each reported
// committed, with their height and result, whether the block carries the
// transaction (below abci.TxRefMinBytes) or names it by reference.
func TestSubmitThroughRPC(t *testing.T) {
	if testing.Short() {
		t.Skip("runs four validator processes")
	}
	net := harness.NewNet(t, harness.NetOptions{Validators: 4, Agencies: 1, BlockInterval: 200 * time.Millisecond, NoEmptyBlocks: true})
	for _, n := range net.Nodes {
		n.Start()
	}
	ctx := context.Background()
	for _, n := range net.Nodes {
		if err := n.WaitHeight(ctx, 1, 90*time.Second); err != nil {
			t.Fatal(err)
		}
	}
	agency := net.Agencies[0]
	// A node's RPC reports a block once it is stored, before the
	// application commits it: Submit reads the committed state.
	for deadline := time.Now().Add(30 * time.Second); ; {
		q, err := net.Nodes[0].RPC().ABCIQuery(ctx, abci.QueryStore, ledger.AccountKey(agency.Public()))
		if err == nil && q.Response.Code == 0 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("no committed state: %v %v", err, q)
		}
		time.Sleep(100 * time.Millisecond)
	}
	var last int64
	for i, digests := range []int{1, 100, 100, 2, 300, 100} {
		var ds []byte
		for j := range digests {
			d := sha256.Sum256(fmt.Appendf(nil, "submit %d %d", i, j))
			ds = append(ds, d[:]...)
		}
		body := &notaryv1.TxBody{Msg: &notaryv1.TxBody_AnchorBatch{AnchorBatch: &notaryv1.AnchorBatch{
			AgencyId: agency.ID, HashAlgorithm: notaryv1.HashAlgorithm_HASH_ALGORITHM_SHA2_256, Digests: ds}}}
		start := time.Now()
		r, h, err := harness.Submit(ctx, net.Nodes[0].Proc, agency, body)
		if err != nil {
			t.Fatalf("anchoring %d (%d digests, by reference: %v): %v", i, digests, len(agency.SignTx(body)) >= abci.TxRefMinBytes, err)
		}
		if h <= last || r.GetBatch().GetHeight() != h {
			t.Fatalf("anchoring %d: height %d after %d, result %v", i, h, last, r)
		}
		t.Logf("anchoring %d (%d digests): height %d in %s", i, digests, h, time.Since(start).Round(time.Millisecond))
		last = h
	}
}
