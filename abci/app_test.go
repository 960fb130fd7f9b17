package abci

import (
	"context"
	"crypto/ed25519"
	"crypto/sha256"
	"fmt"
	"testing"
	"time"

	abcitypes "github.com/cometbft/cometbft/abci/types"
	ics23 "github.com/cosmos/ics23/go"
	"google.golang.org/protobuf/encoding/protojson"

	"github.com/gobtechlab/notary/app/identity"
	"github.com/gobtechlab/notary/ledger"
	notaryv1 "github.com/gobtechlab/notary/proto/notary/v1"
)

const testChain = "notary-abci-test"

func key(name string) ed25519.PrivateKey {
	seed := sha256.Sum256([]byte("abci-test/" + name))
	return ed25519.NewKeyFromSeed(seed[:])
}

func pubOf(k ed25519.PrivateKey) []byte { return k.Public().(ed25519.PublicKey) }

func genesisJSON(t testing.TB) []byte {
	g := &notaryv1.GenesisState{
		Params: ledger.DefaultParams(),
		Ministries: []*notaryv1.Ministry{{
			Id: "hacienda", Name: "Ministerio de Hacienda",
			GovPubKey: pubOf(key("gov")), ConsensusPubKey: pubOf(key("cons")), Power: 10,
		}},
		Agencies: []*notaryv1.Agency{{
			Id: "aeat", Name: "Agencia Tributaria", PubKey: pubOf(key("aeat")),
			Permissions: []notaryv1.Permission{notaryv1.Permission_PERMISSION_ANCHOR, notaryv1.Permission_PERMISSION_REVOKE},
		}},
	}
	b, err := protojson.Marshal(g)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func openApp(t testing.TB, dir string) *Application {
	t.Helper()
	a, err := NewApplication(DefaultOptions(dir, testChain))
	if err != nil {
		t.Fatalf("NewApplication: %v", err)
	}
	return a
}

func digestsOf(tag string, n int) []byte {
	var out []byte
	for i := 0; i < n; i++ {
		d := sha256.Sum256([]byte(tag + string(rune(i))))
		out = append(out, d[:]...)
	}
	return out
}

func anchorTx(seq uint64, ds []byte) []byte {
	return identity.SignTx(testChain, key("aeat"), &notaryv1.TxBody{Sequence: seq, Msg: &notaryv1.TxBody_AnchorBatch{AnchorBatch: &notaryv1.AnchorBatch{
		AgencyId: "aeat", HashAlgorithm: notaryv1.HashAlgorithm_HASH_ALGORITHM_SHA2_256, Digests: ds,
	}}})
}

var t0 = time.Date(2026, 11, 23, 10, 0, 0, 0, time.UTC)

// block runs PrepareProposal, ProcessProposal, FinalizeBlock and Commit for
// txs at height and returns the FinalizeBlock response.
func block(t testing.TB, a *Application, height int64, txs ...[]byte) *abcitypes.ResponseFinalizeBlock {
	t.Helper()
	ctx := context.Background()
	prep, err := a.PrepareProposal(ctx, &abcitypes.RequestPrepareProposal{Txs: txs, MaxTxBytes: 22 << 20, Height: height})
	if err != nil {
		t.Fatal(err)
	}
	tm, hash := t0.Add(time.Duration(height)*time.Second), []byte(fmt.Sprintf("block %d", height))
	proc, err := a.ProcessProposal(ctx, &abcitypes.RequestProcessProposal{Txs: prep.Txs, Height: height, Time: tm, Hash: hash})
	if err != nil || proc.Status != abcitypes.ResponseProcessProposal_ACCEPT {
		t.Fatalf("ProcessProposal: %v %v", proc, err)
	}
	fin, err := a.FinalizeBlock(ctx, &abcitypes.RequestFinalizeBlock{Txs: prep.Txs, Height: height, Time: tm, Hash: hash})
	if err != nil {
		t.Fatalf("FinalizeBlock: %v", err)
	}
	if _, err := a.Commit(ctx, &abcitypes.RequestCommit{}); err != nil {
		t.Fatalf("Commit: %v", err)
	}
	return fin
}

func initChain(t testing.TB, a *Application) []byte {
	t.Helper()
	return initChainWith(t, a, genesisJSON(t))
}

func initChainWith(t testing.TB, a *Application, appState []byte) []byte {
	t.Helper()
	res, err := a.InitChain(context.Background(), &abcitypes.RequestInitChain{ChainId: testChain, InitialHeight: 1, AppStateBytes: appState, Time: t0})
	if err != nil {
		t.Fatalf("InitChain: %v", err)
	}
	if len(res.Validators) != 1 || res.Validators[0].Power != 10 {
		t.Fatalf("InitChain validators %v", res.Validators)
	}
	return res.AppHash
}

func queryProof(t *testing.T, a *Application, k []byte, height int64) (*abcitypes.ResponseQuery, *ics23.CommitmentProof) {
	t.Helper()
	res, err := a.Query(context.Background(), &abcitypes.RequestQuery{Path: QueryStore, Data: k, Height: height, Prove: true})
	if err != nil || res.Code != 0 {
		t.Fatalf("Query: %v %v", res, err)
	}
	if res.ProofOps == nil || len(res.ProofOps.Ops) != 1 || res.ProofOps.Ops[0].Type != ProofOpICS23 {
		t.Fatalf("no ICS23 proof: %v", res.ProofOps)
	}
	var p ics23.CommitmentProof
	if err := p.Unmarshal(res.ProofOps.Ops[0].Data); err != nil {
		t.Fatal(err)
	}
	return res, &p
}

// TestLifecycle walks InitChain -> CheckTx -> PrepareProposal ->
// ProcessProposal -> FinalizeBlock -> Commit -> Info -> Query(prove), and
// checks the proofs with the unmodified ics23 verifier.
func TestLifecycle(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	a := openApp(t, dir)
	info, _ := a.Info(ctx, &abcitypes.RequestInfo{})
	if info.LastBlockHeight != 0 {
		t.Fatalf("fresh app at height %d", info.LastBlockHeight)
	}
	initChain(t, a)
	// Block 1 is empty: the mempool needs a committed state.
	block(t, a, 1)

	ds := digestsOf("lifecycle", 10)
	tx := anchorTx(0, ds)
	chk, err := a.CheckTx(ctx, &abcitypes.RequestCheckTx{Tx: tx})
	if err != nil || chk.Code != 0 {
		t.Fatalf("CheckTx: %v %v", chk, err)
	}
	// The same tx again is a replay in the mempool's view.
	chk, _ = a.CheckTx(ctx, &abcitypes.RequestCheckTx{Tx: tx})
	if chk.Code != ledger.ErrSequenceReplayed.Code() {
		t.Fatalf("second CheckTx: %v", chk)
	}

	fin := block(t, a, 2, tx)
	if len(fin.TxResults) != 1 || fin.TxResults[0].Code != 0 {
		t.Fatalf("FinalizeBlock results %v", fin.TxResults)
	}
	info, _ = a.Info(ctx, &abcitypes.RequestInfo{})
	if info.LastBlockHeight != 2 || string(info.LastBlockAppHash) != string(fin.AppHash) {
		t.Fatalf("Info %d %X, want 2 %X", info.LastBlockHeight, info.LastBlockAppHash, fin.AppHash)
	}

	// Membership proof of the batch record against the committed app hash.
	bk := ledger.BatchKey(2, 0)
	res, proof := queryProof(t, a, bk, 0)
	if res.Height != 2 || len(res.Value) == 0 {
		t.Fatalf("batch query %v", res)
	}
	if !ics23.VerifyMembership(ics23.IavlSpec, fin.AppHash, proof, bk, res.Value) {
		t.Fatalf("membership proof does not verify")
	}
	var b notaryv1.Batch
	if err := ledger.DecodeCanonical(res.Value, &b); err != nil || b.Count != 10 || string(b.Root) != string(ledger.MerkleRoot(ds)) {
		t.Fatalf("batch record %v %v", &b, err)
	}
	// The digest index finds each digest; an absent digest is not found and
	// its status key has a non-existence proof.
	q, _ := a.Query(ctx, &abcitypes.RequestQuery{Path: QueryDigest, Data: append([]byte{1}, ds[32:64]...)})
	if loc, err := ledger.DecodeLocator(q.Value); err != nil || loc != (ledger.Locator{Height: 2, TxIndex: 0, Leaf: 1}) {
		t.Fatalf("digest lookup %v %v", q, err)
	}
	absent := sha256.Sum256([]byte("never anchored"))
	q, _ = a.Query(ctx, &abcitypes.RequestQuery{Path: QueryDigest, Data: append([]byte{1}, absent[:]...)})
	if q.Code != ledger.ErrNotFound.Code() {
		t.Fatalf("absent digest lookup %v", q)
	}
	rk := ledger.RevocationKey(notaryv1.HashAlgorithm_HASH_ALGORITHM_SHA2_256, absent[:])
	res, proof = queryProof(t, a, rk, 0)
	if len(res.Value) != 0 {
		t.Fatalf("absent key has a value")
	}
	if !ics23.VerifyNonMembership(ics23.IavlSpec, fin.AppHash, proof, rk) {
		t.Fatalf("non-membership proof does not verify")
	}
	// Restart: the committed state is reloaded as it was.
	if err := a.Close(); err != nil {
		t.Fatal(err)
	}
	a = openApp(t, dir)
	defer func() { _ = a.Close() }()
	info, _ = a.Info(ctx, &abcitypes.RequestInfo{})
	if info.LastBlockHeight != 2 || string(info.LastBlockAppHash) != string(fin.AppHash) {
		t.Fatalf("after restart Info %d %X", info.LastBlockHeight, info.LastBlockAppHash)
	}
	res, proof = queryProof(t, a, bk, 2)
	if !ics23.VerifyMembership(ics23.IavlSpec, fin.AppHash, proof, bk, res.Value) {
		t.Fatalf("membership proof after restart does not verify")
	}
	// And the chain goes on.
	fin3 := block(t, a, 3, anchorTx(1, digestsOf("after restart", 2)))
	if fin3.TxResults[0].Code != 0 {
		t.Fatalf("tx after restart: %v", fin3.TxResults[0])
	}
}

// TestProposalWithBadTx: a proposer that includes a malformed transaction gets
// its proposal rejected; if such a block is decided anyway, the transaction
// fails with its code and stores nothing.
func TestProposalWithBadTx(t *testing.T) {
	ctx := context.Background()
	a := openApp(t, t.TempDir())
	defer func() { _ = a.Close() }()
	initChain(t, a)
	block(t, a, 1)
	good := anchorTx(0, digestsOf("good", 1))
	bad := [][]byte{
		{0x0a, 0x03, 0x01}, // malformed
		append(append([]byte{}, good...), 0x20, 0x01), // unknown field
		identity.SignTx("other-chain", key("aeat"), &notaryv1.TxBody{Msg: &notaryv1.TxBody_AnchorBatch{AnchorBatch: &notaryv1.AnchorBatch{AgencyId: "aeat", HashAlgorithm: 1, Digests: digestsOf("x", 1)}}}),
		anchorTx(0, nil), // empty batch
	}
	for i, raw := range bad {
		proc, err := a.ProcessProposal(ctx, &abcitypes.RequestProcessProposal{Txs: [][]byte{good, raw}, Height: 2})
		if err != nil || proc.Status != abcitypes.ResponseProcessProposal_REJECT {
			t.Fatalf("bad tx %d: ProcessProposal %v %v", i, proc, err)
		}
		prep, _ := a.PrepareProposal(ctx, &abcitypes.RequestPrepareProposal{Txs: [][]byte{good, raw}, MaxTxBytes: 1 << 20})
		if len(prep.Txs) != 1 {
			t.Fatalf("bad tx %d kept by PrepareProposal", i)
		}
	}
	fin, err := a.FinalizeBlock(ctx, &abcitypes.RequestFinalizeBlock{Txs: append([][]byte{good}, bad...), Height: 2, Time: t0.Add(2 * time.Second)})
	if err != nil {
		t.Fatal(err)
	}
	want := []uint32{0, ledger.ErrMalformedTx.Code(), ledger.ErrNonCanonical.Code(), ledger.ErrWrongChain.Code(), ledger.ErrEmptyBatch.Code()}
	for i, r := range fin.TxResults {
		if r.Code != want[i] {
			t.Fatalf("tx %d: code %d (%s), want %d", i, r.Code, r.Log, want[i])
		}
	}
	if _, err := a.Commit(ctx, &abcitypes.RequestCommit{}); err != nil {
		t.Fatal(err)
	}
	view, _ := a.StateAt(0)
	for i := 1; i < len(want); i++ {
		if v, _ := view.Get(ledger.BatchKey(2, uint32(i))); v != nil {
			t.Fatalf("bad tx %d stored a batch", i)
		}
	}
}

// TestQueryBadInput: malformed queries get clear codes, never a panic.
func TestQueryBadInput(t *testing.T) {
	ctx := context.Background()
	a := openApp(t, t.TempDir())
	defer func() { _ = a.Close() }()
	initChain(t, a)
	block(t, a, 1)
	for _, tc := range []struct {
		req  abcitypes.RequestQuery
		code uint32
	}{
		{abcitypes.RequestQuery{Path: "/nope"}, ledger.ErrUnknownQuery.Code()},
		{abcitypes.RequestQuery{Path: QueryStore}, ledger.ErrInvalidField.Code()},
		{abcitypes.RequestQuery{Path: QueryStore, Data: []byte("x"), Height: 99}, ledger.ErrHeightUnavailable.Code()},
		{abcitypes.RequestQuery{Path: QueryStore, Data: []byte("x"), Height: -1}, ledger.ErrHeightUnavailable.Code()},
		{abcitypes.RequestQuery{Path: QueryDigest, Data: []byte{1, 2}}, ledger.ErrInvalidField.Code()},
	} {
		res, err := a.Query(ctx, &tc.req)
		if err != nil || res.Code != tc.code {
			t.Errorf("%s %x h=%d: code %d %q, want %d", tc.req.Path, tc.req.Data, tc.req.Height, res.Code, res.Log, tc.code)
		}
	}
}
