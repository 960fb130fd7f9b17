package receipttest

import (
	"bytes"
	"context"
	"crypto/ed25519"
	"crypto/sha256"
	"encoding/json"
	"fmt"
	"testing"
	"time"

	abcitypes "github.com/cometbft/cometbft/abci/types"
	cmted25519 "github.com/cometbft/cometbft/crypto/ed25519"
	cmtproto "github.com/cometbft/cometbft/proto/tendermint/types"
	cmtversion "github.com/cometbft/cometbft/proto/tendermint/version"
	cmttypes "github.com/cometbft/cometbft/types"
	"github.com/cometbft/cometbft/version"
	"google.golang.org/protobuf/encoding/protojson"
	"google.golang.org/protobuf/proto"

	"github.com/gobtechlab/notary/abci"
	"github.com/gobtechlab/notary/app"
	"github.com/gobtechlab/notary/app/identity"
	"github.com/gobtechlab/notary/app/receipt"
	"github.com/gobtechlab/notary/ledger"
	notaryv1 "github.com/gobtechlab/notary/proto/notary/v1"
)

// Ministry is a validator ministry of the chain.
type Ministry struct {
	ID, Name string
	Power    int64
}

// Default names of the synthetic chain.
const (
	DefaultChainID = "notary-test"
	Agency         = "registro-civil"
	AgencyName     = "Registro Civil Central"
)

// DefaultMinistries are four ministries of equal power.
var DefaultMinistries = []Ministry{
	{ID: "hacienda", Name: "Ministerio de Hacienda", Power: 10},
	{ID: "interior", Name: "Ministerio del Interior", Power: 10},
	{ID: "justicia", Name: "Ministerio de Justicia", Power: 10},
	{ID: "sanidad", Name: "Ministerio de Sanidad", Power: 10},
}

// DefaultGenesisTime is the genesis time of the synthetic chain.
var DefaultGenesisTime = time.Date(2025, 3, 1, 9, 0, 0, 0, time.UTC)

// Options configure a Chain.
type Options struct {
	ChainID     string
	Ministries  []Ministry
	GenesisTime time.Time
	// BlockInterval is the time between blocks (default 1s).
	BlockInterval time.Duration
	// EvidenceLog keeps the evidence log, with a checkpoint point at every
	// block that grows it (the published vectors have no log).
	EvidenceLog bool
}

// Chain is a synthetic chain.
type Chain struct {
	t    testing.TB
	opts Options
	App  *abci.Application

	genesis *notaryv1.GenesisState
	pvs     map[string]cmttypes.MockPV // by validator address
	seq     map[string]uint64          // next sequence by signer public key

	height          int64
	headers         map[int64]*cmttypes.Header
	txs             map[int64][][]byte
	commits         map[int64]*cmttypes.Commit
	vals            map[int64]*cmttypes.ValidatorSet
	lastBlockID     cmttypes.BlockID
	lastCommit      *cmttypes.Commit
	appHash         []byte
	lastResultsHash []byte

	// Absent, if set, lists the validator indices that do not sign the
	// commit of a block.
	Absent func(height int64) map[int]bool
}

// Key derives a deterministic ed25519 key from a name.
func Key(name string) ed25519.PrivateKey {
	seed := sha256.Sum256([]byte("receipttest/" + name))
	return ed25519.NewKeyFromSeed(seed[:])
}

// PrivValidator returns a deterministic CometBFT signer named name.
func PrivValidator(name string) cmttypes.MockPV {
	return cmttypes.NewMockPVWithParams(cmted25519.PrivKey(Key(name)), false, false)
}

func pub(k ed25519.PrivateKey) []byte { return k.Public().(ed25519.PublicKey) }

// New starts a chain at genesis (no block yet).
func New(t testing.TB, opts Options) *Chain {
	t.Helper()
	if opts.ChainID == "" {
		opts.ChainID = DefaultChainID
	}
	if len(opts.Ministries) == 0 {
		opts.Ministries = DefaultMinistries
	}
	if opts.GenesisTime.IsZero() {
		opts.GenesisTime = DefaultGenesisTime
	}
	if opts.BlockInterval == 0 {
		opts.BlockInterval = time.Second
	}
	a, err := abci.NewApplication(abci.DefaultOptions(t.TempDir(), opts.ChainID))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = a.Close() })
	c := &Chain{
		t: t, opts: opts, App: a,
		pvs: map[string]cmttypes.MockPV{}, seq: map[string]uint64{},
		headers: map[int64]*cmttypes.Header{}, txs: map[int64][][]byte{},
		commits: map[int64]*cmttypes.Commit{}, vals: map[int64]*cmttypes.ValidatorSet{},
		lastCommit: &cmttypes.Commit{},
	}
	g := &notaryv1.GenesisState{Params: vectorParams()}
	g.Params.EvidenceLog = opts.EvidenceLog
	for _, m := range opts.Ministries {
		pv := PrivValidator("cons/" + m.ID)
		c.pvs[string(pv.PrivKey.PubKey().Address())] = pv
		g.Ministries = append(g.Ministries, &notaryv1.Ministry{
			Id: m.ID, Name: m.Name, GovPubKey: pub(Key("gov/" + m.ID)), ConsensusPubKey: pv.PrivKey.PubKey().Bytes(), Power: m.Power,
		})
	}
	g.Agencies = []*notaryv1.Agency{{
		Id: Agency, Name: AgencyName, PubKey: pub(Key("agency/" + Agency)),
		Permissions: []notaryv1.Permission{notaryv1.Permission_PERMISSION_ANCHOR, notaryv1.Permission_PERMISSION_REVOKE},
	}}
	c.genesis = g
	state, err := stableJSON(g)
	if err != nil {
		t.Fatal(err)
	}
	res, err := a.InitChain(context.Background(), &abcitypes.RequestInitChain{
		Time: opts.GenesisTime, ChainId: opts.ChainID, InitialHeight: 1, AppStateBytes: state,
	})
	if err != nil {
		t.Fatal(err)
	}
	vals, err := cmttypes.PB2TM.ValidatorUpdates(res.Validators)
	if err != nil {
		t.Fatal(err)
	}
	set := cmttypes.NewValidatorSet(vals)
	c.vals[1], c.vals[2] = set, set.Copy()
	c.appHash = res.AppHash
	return c
}

// ChainID is the chain's id.
func (c *Chain) ChainID() string { return c.opts.ChainID }

// TrustBundle is the trust bundle of the genesis.
func (c *Chain) TrustBundle() *notaryv1.TrustBundle {
	tb := &notaryv1.TrustBundle{ChainId: c.opts.ChainID, InitialHeight: 1}
	gen, _ := stableJSON(c.genesis)
	sum := sha256.Sum256(gen)
	tb.GenesisHash = fmt.Sprintf("%x", sum)
	for _, m := range c.genesis.Ministries {
		tb.Validators = append(tb.Validators, &notaryv1.TrustedValidator{MinistryId: m.Id, Name: m.Name, PubKey: m.ConsensusPubKey, Power: m.Power})
	}
	app.SortValidators(tb.Validators)
	return tb
}

// Builder returns a receipt builder over the chain for its trust bundle.
// The chain grows only when the test adds blocks, so the builder does not
// wait for a block that signs the newest state.
func (c *Chain) Builder() *receipt.Builder {
	b := receipt.NewBuilder(c, c.TrustBundle())
	b.StatusWait = 0
	return b
}

// Block executes a block with txs and signs it; it returns the results.
func (c *Chain) Block(txs ...[]byte) *abcitypes.ResponseFinalizeBlock {
	c.t.Helper()
	h := c.height + 1
	vals, next := c.vals[h], c.vals[h+1]
	header := &cmttypes.Header{
		Version:            cmtversionConsensus(),
		ChainID:            c.opts.ChainID,
		Height:             h,
		Time:               c.opts.GenesisTime.Add(time.Duration(h) * c.opts.BlockInterval),
		LastBlockID:        c.lastBlockID,
		LastCommitHash:     c.lastCommit.Hash(),
		DataHash:           toTxs(txs).Hash(),
		ValidatorsHash:     vals.Hash(),
		NextValidatorsHash: next.Hash(),
		ConsensusHash:      cmttypes.DefaultConsensusParams().Hash(),
		AppHash:            c.appHash,
		LastResultsHash:    c.lastResultsHash,
		EvidenceHash:       cmttypes.EvidenceList{}.Hash(),
		ProposerAddress:    vals.GetProposer().Address,
	}
	res, err := c.App.FinalizeBlock(context.Background(), &abcitypes.RequestFinalizeBlock{
		Txs: txs, Height: h, Time: header.Time, Hash: header.Hash(), ProposerAddress: header.ProposerAddress, NextValidatorsHash: header.NextValidatorsHash,
	})
	if err != nil {
		c.t.Fatal(err)
	}
	if _, err := c.App.Commit(context.Background(), &abcitypes.RequestCommit{}); err != nil {
		c.t.Fatal(err)
	}
	updates, err := cmttypes.PB2TM.ValidatorUpdates(res.ValidatorUpdates)
	if err != nil {
		c.t.Fatal(err)
	}
	after := next.Copy()
	if err := after.UpdateWithChangeSet(updates); err != nil {
		c.t.Fatal(err)
	}
	c.vals[h+2] = after
	blockID := cmttypes.BlockID{Hash: header.Hash(), PartSetHeader: cmttypes.PartSetHeader{Total: 1, Hash: sha(header.Hash())}}
	var absent map[int]bool
	if c.Absent != nil {
		absent = c.Absent(h)
	}
	commit := c.SignCommit(c.opts.ChainID, h, 0, blockID, vals, header.Time.Add(400*time.Millisecond), absent)
	c.headers[h], c.txs[h], c.commits[h] = header, txs, commit
	c.height = h
	c.lastBlockID, c.lastCommit = blockID, commit
	c.appHash = res.AppHash
	c.lastResultsHash = cmttypes.NewResults(res.TxResults).Hash()
	return res
}

func toTxs(raw [][]byte) cmttypes.Txs {
	out := make(cmttypes.Txs, len(raw))
	for i, r := range raw {
		out[i] = r
	}
	return out
}

func sha(b []byte) []byte {
	s := sha256.Sum256(b)
	return s[:]
}

func cmtversionConsensus() cmtversion.Consensus {
	return cmtversion.Consensus{Block: version.BlockProtocol, App: abci.AppVersion}
}

// SignCommit makes a commit for blockID at height and round, signed by the
// validators of vals whose keys the chain knows (see AddSigner),
// except the absent indices, with timestamps from ts on.
func (c *Chain) SignCommit(chainID string, height int64, round int32, blockID cmttypes.BlockID, vals *cmttypes.ValidatorSet, ts time.Time, absent map[int]bool) *cmttypes.Commit {
	c.t.Helper()
	commit := &cmttypes.Commit{Height: height, Round: round, BlockID: blockID}
	for i, v := range vals.Validators {
		pv, ok := c.pvs[string(v.Address)]
		if !ok || absent[i] {
			commit.Signatures = append(commit.Signatures, cmttypes.CommitSig{BlockIDFlag: cmttypes.BlockIDFlagAbsent})
			continue
		}
		vote, err := cmttypes.MakeVote(pv, chainID, int32(i), height, round, cmtproto.PrecommitType, blockID, ts.Add(time.Duration(i)*time.Millisecond))
		if err != nil {
			c.t.Fatal(err)
		}
		commit.Signatures = append(commit.Signatures, vote.CommitSig())
	}
	return commit
}

// AddSigner makes the chain know a signer's key (a validator the chain did
// not create, for forged sets).
func (c *Chain) AddSigner(pv cmttypes.MockPV) {
	c.pvs[string(pv.PrivKey.PubKey().Address())] = pv
}

// Height is the latest block (receipt.Source).
func (c *Chain) Height() int64 { return c.height }

// StateAt returns the state of a height (receipt.Source).
func (c *Chain) StateAt(height int64) (*abci.StateView, error) { return c.App.StateAt(height) }

// LookupDigest finds a digest (receipt.Source).
func (c *Chain) LookupDigest(alg ledger.HashAlgorithm, digest []byte) (ledger.Locator, bool, error) {
	return c.App.LookupDigest(alg, digest)
}

// BlockTxs returns a block's transactions (receipt.Source).
func (c *Chain) BlockTxs(height int64) ([][]byte, error) {
	if height < 1 || height > c.height {
		return nil, fmt.Errorf("%w: no block %d", ledger.ErrHeightUnavailable, height)
	}
	return c.txs[height], nil
}

// BatchTx returns a batch record's transaction from its block
// (receipt.Source).
func (c *Chain) BatchTx(b *notaryv1.Batch) ([]byte, error) {
	txs, err := c.BlockTxs(b.Height)
	if err != nil {
		return nil, err
	}
	if int(b.TxIndex) >= len(txs) {
		return nil, fmt.Errorf("block %d has %d transactions, the batch is at %d", b.Height, len(txs), b.TxIndex)
	}
	if h := ledger.TxHash(txs[b.TxIndex]); !bytes.Equal(h[:], b.TxHash) {
		return nil, fmt.Errorf("batch %s: the transaction does not hash to the batch record's", ledger.FormatBatchID(b.Height, b.TxIndex))
	}
	return txs[b.TxIndex], nil
}

// Header returns a block's header (receipt.Source).
func (c *Chain) Header(height int64) (*cmttypes.Header, error) {
	h, ok := c.headers[height]
	if !ok {
		return nil, fmt.Errorf("%w: no header %d", ledger.ErrHeightUnavailable, height)
	}
	return h, nil
}

// Commit returns a block's commit (receipt.Source).
func (c *Chain) Commit(height int64) (*cmttypes.Commit, error) {
	cm, ok := c.commits[height]
	if !ok {
		return nil, fmt.Errorf("%w: no commit %d", ledger.ErrHeightUnavailable, height)
	}
	return cm, nil
}

// SetCommit replaces a block's commit (to build receipts with forged commits).
func (c *Chain) SetCommit(height int64, commit *cmttypes.Commit) { c.commits[height] = commit }

// Validators returns the validator set of a height (receipt.Source).
func (c *Chain) Validators(height int64) (*cmttypes.ValidatorSet, error) {
	v, ok := c.vals[height]
	if !ok {
		return nil, fmt.Errorf("%w: no validators for %d", ledger.ErrHeightUnavailable, height)
	}
	return v, nil
}

// sign signs a transaction body with a named key, tracking sequences.
func (c *Chain) sign(key string, body *notaryv1.TxBody) []byte {
	k := Key(key)
	p := string(pub(k))
	body.Sequence = c.seq[p]
	c.seq[p]++
	return identity.SignTx(c.opts.ChainID, k, body)
}

// mustSucceed fails the test unless every transaction of res succeeded.
func (c *Chain) mustSucceed(res *abcitypes.ResponseFinalizeBlock) {
	c.t.Helper()
	for i, r := range res.TxResults {
		if r.Code != 0 {
			c.t.Fatalf("block %d tx %d: code %d: %s", c.height, i, r.Code, r.Log)
		}
	}
}

// Digest is a deterministic test digest.
func Digest(name string) []byte { return sha([]byte("receipttest/digest/" + name)) }

// Anchor anchors digests in one batch of the test agency and returns the
// batch height.
func (c *Chain) Anchor(alg ledger.HashAlgorithm, label string, digests ...[]byte) int64 {
	c.t.Helper()
	var all []byte
	for _, d := range digests {
		all = append(all, d...)
	}
	tx := c.sign("agency/"+Agency, &notaryv1.TxBody{Msg: &notaryv1.TxBody_AnchorBatch{AnchorBatch: &notaryv1.AnchorBatch{
		AgencyId: Agency, HashAlgorithm: alg, Digests: all, Label: label,
	}}})
	c.mustSucceed(c.Block(tx))
	return c.height
}

// AnchorCoded anchors digests under verification code keys (one
// ledger.CodeKeySize-byte key per digest) in one batch of the test agency
// and returns the batch height.
func (c *Chain) AnchorCoded(alg ledger.HashAlgorithm, label string, keys, digests [][]byte) int64 {
	c.t.Helper()
	if len(keys) != len(digests) {
		c.t.Fatalf("AnchorCoded: %d keys for %d digests", len(keys), len(digests))
	}
	var ds, ks []byte
	for i := range digests {
		ds = append(ds, digests[i]...)
		ks = append(ks, keys[i]...)
	}
	tx := c.sign("agency/"+Agency, &notaryv1.TxBody{Msg: &notaryv1.TxBody_AnchorBatch{AnchorBatch: &notaryv1.AnchorBatch{
		AgencyId: Agency, HashAlgorithm: alg, Digests: ds, Label: label, CodeKeys: ks,
	}}})
	c.mustSucceed(c.Block(tx))
	return c.height
}

// AnchorEntries anchors coded entries (ledger.CodedEntry: a code key and a
// code tag each) in one coded batch of the test agency and returns the
// batch height.
func (c *Chain) AnchorEntries(alg ledger.HashAlgorithm, label string, entries ...[]byte) int64 {
	c.t.Helper()
	tx := c.sign("agency/"+Agency, &notaryv1.TxBody{Msg: &notaryv1.TxBody_AnchorBatch{AnchorBatch: &notaryv1.AnchorBatch{
		AgencyId: Agency, HashAlgorithm: alg, Digests: bytes.Join(entries, nil), Label: label, Coded: true,
	}}})
	c.mustSucceed(c.Block(tx))
	return c.height
}

// Revoke revokes a digest of the test agency.
func (c *Chain) Revoke(alg ledger.HashAlgorithm, digest []byte, reason notaryv1.RevocationReason, text string) int64 {
	c.t.Helper()
	tx := c.sign("agency/"+Agency, &notaryv1.TxBody{Msg: &notaryv1.TxBody_Revoke{Revoke: &notaryv1.Revoke{
		HashAlgorithm: alg, Digests: digest, Reason: reason, ReasonText: text,
	}}})
	c.mustSucceed(c.Block(tx))
	return c.height
}

// RevokeCode revokes the test agency's document anchored under a code key
// (its batch's algorithm alg), by key.
func (c *Chain) RevokeCode(alg ledger.HashAlgorithm, key []byte, reason notaryv1.RevocationReason, text string) int64 {
	c.t.Helper()
	tx := c.sign("agency/"+Agency, &notaryv1.TxBody{Msg: &notaryv1.TxBody_Revoke{Revoke: &notaryv1.Revoke{
		HashAlgorithm: alg, CodeKeys: key, Reason: reason, ReasonText: text,
	}}})
	c.mustSucceed(c.Block(tx))
	return c.height
}

// Empty produces n blocks without transactions.
func (c *Chain) Empty(n int) {
	for i := 0; i < n; i++ {
		c.Block()
	}
}

// govern proposes an action as the first of voters and has every voter vote
// yes, all in one block; it returns the block's results.
func (c *Chain) govern(voters []string, title string, action *notaryv1.ProposalAction) *abcitypes.ResponseFinalizeBlock {
	c.t.Helper()
	meta := &notaryv1.ChainMeta{}
	view, err := c.App.StateAt(0)
	if err != nil {
		c.t.Fatal(err)
	}
	raw, err := view.Get(ledger.MetaKey())
	if err != nil {
		c.t.Fatal(err)
	}
	if err := ledger.DecodeCanonical(raw, meta); err != nil {
		c.t.Fatal(err)
	}
	id := max(meta.NextProposalId, 1)
	txs := [][]byte{c.sign("gov/"+voters[0], &notaryv1.TxBody{Msg: &notaryv1.TxBody_Propose{Propose: &notaryv1.Propose{
		MinistryId: voters[0], Title: title, Action: action,
	}}})}
	for _, v := range voters {
		txs = append(txs, c.sign("gov/"+v, &notaryv1.TxBody{Msg: &notaryv1.TxBody_Vote{Vote: &notaryv1.Vote{
			MinistryId: v, ProposalId: id, Option: notaryv1.VoteOption_VOTE_OPTION_YES,
		}}}))
	}
	res := c.Block(txs...)
	c.mustSucceed(res)
	if len(res.ValidatorUpdates) == 0 {
		c.t.Fatalf("block %d: proposal %q returned no validator updates", c.height, title)
	}
	return res
}

// AddValidator adds a ministry and its validator by a governance vote of
// voters (ministry ids); the new validator's key is PrivValidator("cons/"+id).
// It returns the height of the change (the new set signs from height+2).
func (c *Chain) AddValidator(voters []string, m Ministry) int64 {
	c.t.Helper()
	pv := PrivValidator("cons/" + m.ID)
	c.AddSigner(pv)
	c.govern(voters, "add "+m.ID, &notaryv1.ProposalAction{Action: &notaryv1.ProposalAction_AddValidator{AddValidator: &notaryv1.Ministry{
		Id: m.ID, Name: m.Name, GovPubKey: pub(Key("gov/" + m.ID)), ConsensusPubKey: pv.PrivKey.PubKey().Bytes(), Power: m.Power,
	}}})
	return c.height
}

// RemoveValidator removes a ministry's validator by a governance vote.
func (c *Chain) RemoveValidator(voters []string, id string) int64 {
	c.t.Helper()
	c.govern(voters, "remove "+id, &notaryv1.ProposalAction{Action: &notaryv1.ProposalAction_RemoveValidator{RemoveValidator: id}})
	return c.height
}

// Receipt builds the receipt of an anchored digest with its status at the
// newest provable height.
func (c *Chain) Receipt(alg ledger.HashAlgorithm, digest []byte) *notaryv1.Receipt {
	c.t.Helper()
	r, err := c.Builder().Receipt(context.Background(), alg, digest, 0)
	if err != nil {
		c.t.Fatal(err)
	}
	return r
}

// ReceiptByCode builds the receipt of the document anchored under a code
// key with its status at the newest provable height.
func (c *Chain) ReceiptByCode(key []byte) *notaryv1.Receipt {
	c.t.Helper()
	r, err := c.Builder().ReceiptByCode(context.Background(), key, 0)
	if err != nil {
		c.t.Fatal(err)
	}
	return r
}

var _ receipt.Source = (*Chain)(nil)

// stableJSON is protojson's encoding of m without the whitespace protojson
// varies from build to build, so that the genesis, and with it the test
// vectors' genesis hash, is the same bytes in every build.
func stableJSON(m proto.Message) ([]byte, error) {
	b, err := protojson.Marshal(m)
	if err != nil {
		return nil, err
	}
	var out bytes.Buffer
	if err := json.Compact(&out, b); err != nil {
		return nil, err
	}
	return out.Bytes(), nil
}

// vectorParams are the params of the synthetic chain, which the published
// receipt vectors come from (docs/receipt.md, "Test vectors"): the defaults
// without the citizen enrolment, consent limit, unordered window,
// stateless empty blocks, evidence log and checkpoint interval that came
// later, whose values would change every app hash and signature of the
// vectors. A receipt v1
// proves nothing about any of them. Each block thus records itself in the
// state: every height has its own app hash.
func vectorParams() *notaryv1.Params {
	p := ledger.DefaultParams()
	p.CitizenEnrollment = notaryv1.CitizenEnrollment_CITIZEN_ENROLLMENT_UNSPECIFIED
	p.MaxActiveConsentsPerSubject = 0
	p.MaxUnorderedWindow = 0
	p.StatelessEmptyBlocks = false
	p.EvidenceLog = false
	p.CheckpointInterval = 0
	return p
}
