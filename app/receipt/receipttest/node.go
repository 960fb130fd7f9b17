package receipttest

import (
	"context"
	"fmt"
	"path/filepath"
	"testing"
	"time"

	cmtlog "github.com/cometbft/cometbft/libs/log"
	"google.golang.org/protobuf/proto"

	"github.com/gobtechlab/notary/app"
	"github.com/gobtechlab/notary/app/apptest"
	"github.com/gobtechlab/notary/app/identity"
	"github.com/gobtechlab/notary/app/receipt"
	"github.com/gobtechlab/notary/ledger"
	notaryv1 "github.com/gobtechlab/notary/proto/notary/v1"
)

// Network is a real network of in-process notary nodes (CometBFT and the
// application, goleveldb in temporary homes, p2p over 127.0.0.1), one per
// validator, as `notaryd dev` (one validator) or a local consortium runs it.
type Network struct {
	t     testing.TB
	Net   *app.Network
	Nodes []*app.Node
	// Agency is the dev agency's identity (every permission).
	Agency *identity.Identity
	// TrustFile is the trust bundle written by GenerateNetwork.
	TrustFile string
}

// NetworkAgency is the agency of a Network.
const NetworkAgency = "dev-agency"

// NetworkMinistries name the validators of a Network, in order.
var NetworkMinistries = []app.MinistrySpec{
	{ID: "dev-ministry", Name: "Ministerio de Desarrollo (dev)", Power: 10},
	{ID: "hacienda", Name: "Ministerio de Hacienda", Power: 10},
	{ID: "interior", Name: "Ministerio del Interior", Power: 10},
	{ID: "sanidad", Name: "Ministerio de Sanidad", Power: 10},
	{ID: "justicia", Name: "Ministerio de Justicia", Power: 10},
	{ID: "trabajo", Name: "Ministerio de Trabajo", Power: 10},
	{ID: "defensa", Name: "Ministerio de Defensa", Power: 10},
}

// StartNetwork generates a network of validators nodes (1 to
// len(NetworkMinistries)) with chain id "notary-dev" and the dev agency, and
// starts them; they stop when the test ends.
func StartNetwork(t testing.TB, validators int) *Network {
	t.Helper()
	return StartNetworkWith(t, validators, nil)
}

// StartNetworkWith is StartNetwork with tune, if not nil, applied to each
// node's configuration before the node starts.
func StartNetworkWith(t testing.TB, validators int, tune func(*app.Config)) *Network {
	t.Helper()
	if validators < 1 || validators > len(NetworkMinistries) {
		t.Fatalf("StartNetwork: 1..%d validators", len(NetworkMinistries))
	}
	dir := t.TempDir()
	ports := apptest.FreePorts(t, 4*validators)
	spec := app.NetworkSpec{
		ChainID:       "notary-dev",
		GenesisTime:   time.Now().UTC().Truncate(time.Second),
		Ministries:    NetworkMinistries[:validators],
		Agencies:      []app.AgencySpec{{ID: NetworkAgency, Name: "Agencia de Desarrollo (dev)", Permissions: []notaryv1.Permission{notaryv1.Permission_PERMISSION_ANCHOR, notaryv1.Permission_PERMISSION_REVOKE}}},
		TimeoutCommit: 150 * time.Millisecond,
		EmptyBlocks:   true,
	}
	for i := 0; i < validators; i++ {
		spec.Nodes = append(spec.Nodes, app.NodeSpec{
			Home: filepath.Join(dir, fmt.Sprintf("node%d", i)), Host: "127.0.0.1",
			P2PPort: ports[4*i], RPCPort: ports[4*i+1], GatewayPort: ports[4*i+2], MetricsPort: ports[4*i+3],
		})
	}
	gen, err := app.GenerateNetwork(spec)
	if err != nil {
		t.Fatal(err)
	}
	nw := &Network{t: t, Net: gen, TrustFile: gen.TrustFiles[0]}
	if nw.Agency, err = identity.Load(gen.Agencies[NetworkAgency]); err != nil {
		t.Fatal(err)
	}
	for _, home := range gen.Homes {
		cfg, err := app.LoadConfig(home)
		if err != nil {
			t.Fatal(err)
		}
		cfg.Comet.Instrumentation.Prometheus = false
		cfg.Comet.Consensus.TimeoutPropose = 500 * time.Millisecond
		// The peers are persistent; without PEX no address book is saved
		// by a goroutine that may outlive Stop (and race t.TempDir's removal).
		cfg.Comet.P2P.PexReactor = false
		if tune != nil {
			tune(cfg)
		}
		n, err := app.NewNode(cfg, cmtlog.NewNopLogger())
		if err != nil {
			t.Fatal(err)
		}
		if err := n.Start(); err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { _ = n.Stop() })
		nw.Nodes = append(nw.Nodes, n)
	}
	nw.WaitHeight(1)
	return nw
}

// WaitHeight waits until every node has committed height.
func (nw *Network) WaitHeight(height int64) {
	nw.t.Helper()
	deadline := time.Now().Add(60 * time.Second)
	for _, n := range nw.Nodes {
		for {
			if h, _, _ := n.App.LastCommit(); h >= height {
				break
			}
			if time.Now().After(deadline) {
				nw.t.Fatalf("height %d not reached", height)
			}
			time.Sleep(20 * time.Millisecond)
		}
	}
}

// Submit sends a signed transaction to the first node's mempool; it fails
// the test if CheckTx refuses it.
func (nw *Network) Submit(tx []byte) {
	nw.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	r, err := nw.Nodes[0].Chain().CheckTx(ctx, tx)
	if err != nil {
		nw.t.Fatal(err)
	}
	if r.Code != 0 {
		nw.t.Fatalf("CheckTx: code %d: %s", r.Code, r.Log)
	}
}

// NextSequence reads the dev agency's next sequence on the first node.
func (nw *Network) NextSequence() uint64 {
	nw.t.Helper()
	view, err := nw.Nodes[0].App.StateAt(0)
	if err != nil {
		nw.t.Fatal(err)
	}
	acct := &notaryv1.Account{}
	if raw, err := view.Get(ledger.AccountKey(nw.Agency.Public())); err != nil {
		nw.t.Fatal(err)
	} else if raw != nil {
		if err := proto.Unmarshal(raw, acct); err != nil {
			nw.t.Fatal(err)
		}
	}
	return acct.NextSequence
}

// Anchor anchors digests in one batch of the dev agency, signed with
// identity.SignTx, and waits until every node has it.
func (nw *Network) Anchor(alg ledger.HashAlgorithm, label string, digests ...[]byte) ledger.Locator {
	nw.t.Helper()
	var all []byte
	for _, d := range digests {
		all = append(all, d...)
	}
	nw.Submit(nw.Agency.SignTx(&notaryv1.TxBody{Sequence: nw.NextSequence(), Msg: &notaryv1.TxBody_AnchorBatch{AnchorBatch: &notaryv1.AnchorBatch{
		AgencyId: NetworkAgency, HashAlgorithm: alg, Digests: all, Label: label,
	}}}))
	deadline := time.Now().Add(60 * time.Second)
	var loc ledger.Locator
	for _, n := range nw.Nodes {
		for {
			l, ok, err := n.App.LookupDigest(alg, digests[0])
			if err != nil {
				nw.t.Fatal(err)
			}
			if ok {
				loc = l
				break
			}
			if time.Now().After(deadline) {
				nw.t.Fatal("the batch was not committed")
			}
			time.Sleep(20 * time.Millisecond)
		}
	}
	return loc
}

// Receipt builds, on node i, the receipt of an anchored digest.
func (nw *Network) Receipt(i int, alg ledger.HashAlgorithm, digest []byte) *notaryv1.Receipt {
	nw.t.Helper()
	b, err := receipt.FromNode(nw.Nodes[i])
	if err != nil {
		nw.t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	r, err := b.Receipt(ctx, alg, digest, 0)
	if err != nil {
		nw.t.Fatal(err)
	}
	return r
}

// sequence returns the next sequence of a key on node 0.
func (nw *Network) sequence(pub []byte) uint64 {
	nw.t.Helper()
	view, err := nw.Nodes[0].App.StateAt(0)
	if err != nil {
		nw.t.Fatal(err)
	}
	acct := &notaryv1.Account{}
	if raw, err := view.Get(ledger.AccountKey(pub)); err != nil {
		nw.t.Fatal(err)
	} else if raw != nil {
		if err := proto.Unmarshal(raw, acct); err != nil {
			nw.t.Fatal(err)
		}
	}
	return acct.NextSequence
}

// lastValsetChange returns ChainMeta.last_valset_change_height on node 0.
func (nw *Network) lastValsetChange() int64 {
	nw.t.Helper()
	view, err := nw.Nodes[0].App.StateAt(0)
	if err != nil {
		nw.t.Fatal(err)
	}
	meta := &notaryv1.ChainMeta{}
	raw, err := view.Get(ledger.MetaKey())
	if err != nil {
		nw.t.Fatal(err)
	}
	if err := proto.Unmarshal(raw, meta); err != nil {
		nw.t.Fatal(err)
	}
	return meta.LastValsetChangeHeight
}

// Govern has ministry voters[0] propose a validator action and every voter
// vote yes, and waits until the validator-set change is recorded; it
// returns the change height.
func (nw *Network) Govern(voters []string, title string, action *notaryv1.ProposalAction) int64 {
	nw.t.Helper()
	before := nw.lastValsetChange()
	view, err := nw.Nodes[0].App.StateAt(0)
	if err != nil {
		nw.t.Fatal(err)
	}
	meta := &notaryv1.ChainMeta{}
	if raw, err := view.Get(ledger.MetaKey()); err != nil || proto.Unmarshal(raw, meta) != nil {
		nw.t.Fatalf("chain meta: %v", err)
	}
	id := max(meta.NextProposalId, 1)
	for i, v := range voters {
		gov, err := identity.Load(nw.Net.Ministries[v])
		if err != nil {
			nw.t.Fatal(err)
		}
		seq := nw.sequence(gov.Public())
		if i == 0 {
			nw.Submit(gov.SignTx(&notaryv1.TxBody{Sequence: seq, Msg: &notaryv1.TxBody_Propose{Propose: &notaryv1.Propose{
				MinistryId: v, Title: title, Action: action,
			}}}))
			seq++
		}
		nw.Submit(gov.SignTx(&notaryv1.TxBody{Sequence: seq, Msg: &notaryv1.TxBody_Vote{Vote: &notaryv1.Vote{
			MinistryId: v, ProposalId: id, Option: notaryv1.VoteOption_VOTE_OPTION_YES,
		}}}))
	}
	deadline := time.Now().Add(60 * time.Second)
	for {
		if c := nw.lastValsetChange(); c != before {
			return c
		}
		if time.Now().After(deadline) {
			nw.t.Fatalf("proposal %q did not change the validators", title)
		}
		time.Sleep(20 * time.Millisecond)
	}
}
