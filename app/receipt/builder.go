package receipt

import (
	"bytes"
	"context"
	"encoding/hex"
	"errors"
	"fmt"
	"sync"
	"time"

	cmttypes "github.com/cometbft/cometbft/types"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/timestamppb"

	"github.com/gobtechlab/notary/abci"
	"github.com/gobtechlab/notary/ledger"
	notaryv1 "github.com/gobtechlab/notary/proto/notary/v1"
)

// Source is what receipts are built from: a node's committed state and
// digest index, its block store and its validator sets. NodeSource provides
// one for a running node.
type Source interface {
	// ChainID is the chain's id.
	ChainID() string
	// Height is the latest height whose block is stored and whose previous
	// state is committed: the newest provable state is Height()-1, carried by
	// header Height() and signed by its commit.
	Height() int64
	// StateAt returns the committed state of a height.
	StateAt(height int64) (*abci.StateView, error)
	// LookupDigest finds an anchored digest in the digest index.
	LookupDigest(alg ledger.HashAlgorithm, digest []byte) (ledger.Locator, bool, error)
	// BatchTx returns the AnchorBatch transaction of a batch record, its
	// bytes checked against the record's tx_hash: from the node's
	// transaction store (a node that joined by state sync holds no block
	// before its snapshot) or from the block store.
	BatchTx(batch *notaryv1.Batch) ([]byte, error)
	// Header returns the header of a stored block.
	Header(height int64) (*cmttypes.Header, error)
	// Commit returns a commit for the block at height: the one the next
	// block carries, or the one this node saw for the newest block.
	Commit(height int64) (*cmttypes.Commit, error)
	// Validators returns the validator set that signs the block at height.
	Validators(height int64) (*cmttypes.ValidatorSet, error)
}

// Builder builds receipts (v1, and v2 with Log) and checkpoints. It is
// safe for concurrent use.
type Builder struct {
	src     Source
	trusted map[string]bool // consensus keys of the trust bundle

	// Poll is how often Receipt checks for the block that signs a new state.
	Poll time.Duration
	// MaxWait bounds that wait (also when the request has no deadline).
	MaxWait time.Duration
	// Log is the evidence log v2 receipts are built from; nil: v2
	// receipts are refused (FAILED_PRECONDITION).
	Log *LogSource

	// StatusWait bounds the wait, for a status at a height given
	// explicitly, for the block that signs it when the node has committed
	// that state but not the next block yet. A status at the newest state
	// (status height 0) never waits: it is the newest provable one.
	StatusWait time.Duration

	mu          sync.Mutex
	transitions map[int64]*notaryv1.ValidatorTransition // by change height; immutable
}

// NewBuilder returns a builder over src for verifiers holding trust: a
// signing validator outside the trust bundle gets its ministry record proven
// in the receipt.
func NewBuilder(src Source, trust *notaryv1.TrustBundle) *Builder {
	b := &Builder{src: src, trusted: map[string]bool{}, Poll: 20 * time.Millisecond, MaxWait: 30 * time.Second, StatusWait: 3 * time.Second, transitions: map[int64]*notaryv1.ValidatorTransition{}}
	for _, v := range trust.GetValidators() {
		b.trusted[string(v.PubKey)] = true
	}
	return b
}

// Receipt builds the receipt of an anchored digest (the anchored value: the
// salted commitment when the agency salted it) with its status at
// statusHeight (0: the newest provable state, the newest one whose signing
// header and commit the node already holds, without waiting for another
// block). The document binding carries the algorithm, the anchored digest
// and, for a document anchored under a verification code, the code's key:
// the salt and the document digest are the agency's to fill in. If the
// block signing the anchoring state is not there yet, Receipt waits for it
// until ctx ends (at most MaxWait); a status height the node has committed
// but not yet signed waits at most StatusWait.
//
// Errors wrap ledger.ErrNotFound (digest not anchored), ledger.ErrInvalidField
// (bad request) or ledger.ErrHeightUnavailable (status height out of range).
func (b *Builder) Receipt(ctx context.Context, alg ledger.HashAlgorithm, digest []byte, statusHeight int64) (*notaryv1.Receipt, error) {
	if statusHeight < 0 {
		return nil, fmt.Errorf("%w: negative status height %d", ledger.ErrInvalidField, statusHeight)
	}
	loc, err := b.lookupDigest(alg, digest)
	if err != nil {
		return nil, err
	}
	return b.build(ctx, loc, leafWant{alg: alg, digest: digest}, statusHeight, true)
}

// lookupDigest finds the locator of an anchored digest.
func (b *Builder) lookupDigest(alg ledger.HashAlgorithm, digest []byte) (ledger.Locator, error) {
	name := ledger.AlgorithmName(alg)
	if name == "" {
		return ledger.Locator{}, fmt.Errorf("%w: unknown hash algorithm %d", ledger.ErrInvalidField, alg)
	}
	if len(digest) != ledger.DigestSize {
		return ledger.Locator{}, fmt.Errorf("%w: digest of %d bytes, want %d", ledger.ErrBadDigestLength, len(digest), ledger.DigestSize)
	}
	loc, ok, err := b.src.LookupDigest(alg, digest)
	if err != nil {
		return ledger.Locator{}, err
	}
	if !ok {
		return ledger.Locator{}, fmt.Errorf("%w: digest %x (%s) is not anchored", ledger.ErrNotFound, digest, name)
	}
	return loc, nil
}

// ReceiptByCode is Receipt of the document anchored under a verification
// code's key (ledger.CodeKeySize bytes). Errors wrap ledger.ErrNotFound (no
// document has that key), ledger.ErrInvalidField (a key of another length
// or a negative status height) or ledger.ErrHeightUnavailable.
func (b *Builder) ReceiptByCode(ctx context.Context, key []byte, statusHeight int64) (*notaryv1.Receipt, error) {
	loc, err := b.lookupCode(key)
	if err != nil {
		return nil, err
	}
	if statusHeight < 0 {
		return nil, fmt.Errorf("%w: negative status height %d", ledger.ErrInvalidField, statusHeight)
	}
	return b.build(ctx, loc, leafWant{codeKey: key}, statusHeight, true)
}

// CodeReceipt is ReceiptByCode with the status at the newest provable
// state, without ever waiting for a block: what a node's public endpoint
// serves. A document anchored in a block the node holds no signed header
// after yet is ledger.ErrHeightUnavailable.
func (b *Builder) CodeReceipt(ctx context.Context, key []byte) (*notaryv1.Receipt, error) {
	loc, err := b.lookupCode(key)
	if err != nil {
		return nil, err
	}
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	return b.build(ctx, loc, leafWant{codeKey: key}, 0, false)
}

// lookupCode finds the locator of the document of a code key.
func (b *Builder) lookupCode(key []byte) (ledger.Locator, error) {
	if len(key) != ledger.CodeKeySize {
		return ledger.Locator{}, fmt.Errorf("%w: code key of %d bytes, want %d", ledger.ErrInvalidField, len(key), ledger.CodeKeySize)
	}
	loc, ok, err := b.src.LookupDigest(ledger.CodeKeyIndex, ledger.CodeKeyIndexDigest(key))
	if err != nil {
		return ledger.Locator{}, err
	}
	if !ok {
		return ledger.Locator{}, fmt.Errorf("%w: no document is registered under code key %x", ledger.ErrNotFound, key)
	}
	return loc, nil
}

// leafWant is what the leaf at a locator must be: the digest asked for
// (and its algorithm), or the code key asked for.
type leafWant struct {
	alg     ledger.HashAlgorithm
	digest  []byte
	codeKey []byte
}

// build builds the receipt of the leaf at loc, which must be want, with
// its status at statusHeight (0: the newest provable). With wait, it waits
// for the block that signs the anchoring state (and for a given status
// height's) as Receipt says; without, a state not signed yet is
// ledger.ErrHeightUnavailable at once.
func (b *Builder) build(ctx context.Context, loc ledger.Locator, want leafWant, statusHeight int64, wait bool) (*notaryv1.Receipt, error) {
	anchorHeight := loc.Height
	if wait {
		if err := b.waitFor(ctx, anchorHeight+1, b.MaxWait); err != nil {
			return nil, err
		}
		if statusHeight > 0 && statusHeight == b.src.Height() {
			if err := b.waitFor(ctx, statusHeight+1, b.StatusWait); err != nil {
				return nil, err
			}
		}
	}
	statusHeight, err := b.provable(statusHeight)
	if err != nil {
		return nil, err
	}
	if statusHeight < anchorHeight {
		return nil, fmt.Errorf("%w: status height %d is below the anchoring height %d", ledger.ErrHeightUnavailable, statusHeight, anchorHeight)
	}

	view, err := b.src.StateAt(anchorHeight)
	if err != nil {
		return nil, err
	}
	batchRaw, batchProof, err := prove(view, ledger.BatchKey(loc.Height, loc.TxIndex), true)
	if err != nil {
		return nil, err
	}
	batch := &notaryv1.Batch{}
	if err := proto.Unmarshal(batchRaw, batch); err != nil {
		return nil, fmt.Errorf("batch record %s: %w", loc.BatchID(), err)
	}
	leaf, err := b.wantedLeaf(loc, batch, want)
	if err != nil {
		return nil, err
	}
	alg := batch.HashAlgorithm
	agencyRaw, agencyProof, err := prove(view, ledger.AgencyKey(batch.AgencyId), true)
	if err != nil {
		return nil, err
	}
	anchor, err := b.checkpoint(anchorHeight)
	if err != nil {
		return nil, err
	}
	status, err := b.status(ledger.DocumentRevocationKey(alg, leaf.digest, leaf.codeKey), statusHeight, anchorHeight, anchor)
	if err != nil {
		return nil, err
	}
	chain, err := b.validatorChain(statusHeight)
	if err != nil {
		return nil, err
	}
	return &notaryv1.Receipt{
		Version:  1,
		ChainId:  b.src.ChainID(),
		Document: leaf.binding(alg),
		Inclusion: &notaryv1.BatchInclusion{
			LeafIndex:  loc.Leaf,
			MerklePath: leaf.path,
			Batch:      batchRaw,
			BatchProof: batchProof,
		},
		Issuer:         &notaryv1.StateProof{Record: agencyRaw, Proof: agencyProof},
		Anchor:         anchor,
		Status:         status,
		ValidatorChain: chain,
	}, nil
}

// Checkpoint returns the checkpoint of a state height (0: the newest
// provable) and the validator chain from the trust bundle to its signers.
func (b *Builder) Checkpoint(_ context.Context, height int64) (*notaryv1.Checkpoint, []*notaryv1.ValidatorTransition, error) {
	if height < 0 {
		return nil, nil, fmt.Errorf("%w: negative height %d", ledger.ErrInvalidField, height)
	}
	height, err := b.provable(height)
	if err != nil {
		return nil, nil, err
	}
	cp, err := b.checkpoint(height)
	if err != nil {
		return nil, nil, err
	}
	chain, err := b.validatorChain(height)
	if err != nil {
		return nil, nil, err
	}
	return cp, chain, nil
}

// provable resolves a state height: 0 is the newest provable one; others
// must be provable (1..Height()-1).
func (b *Builder) provable(height int64) (int64, error) {
	newest := b.src.Height() - 1
	if height == 0 {
		height = newest
	}
	if height < 1 || height > newest {
		return 0, fmt.Errorf("%w: height %d; states with a signed header are 1..%d", ledger.ErrHeightUnavailable, height, newest)
	}
	return height, nil
}

// waitFor waits until the block at height is stored, at most max.
func (b *Builder) waitFor(ctx context.Context, height int64, max time.Duration) error {
	if b.src.Height() >= height {
		return nil
	}
	if max <= 0 {
		return fmt.Errorf("%w: block %d, which signs the state, is not committed yet", ledger.ErrHeightUnavailable, height)
	}
	deadline := time.NewTimer(max)
	defer deadline.Stop()
	tick := time.NewTicker(b.Poll)
	defer tick.Stop()
	for b.src.Height() < height {
		select {
		case <-ctx.Done():
			return fmt.Errorf("waiting for block %d, which signs the state: %w", height, ctx.Err())
		case <-deadline.C:
			return fmt.Errorf("%w: block %d, which signs the state, is not committed after %s; retry later",
				ledger.ErrHeightUnavailable, height, max)
		case <-tick.C:
		}
	}
	return nil
}

// leaf is a batch's leaf as its AnchorBatch transaction holds it.
type leaf struct {
	digest  []byte
	codeKey []byte // nil for a plain batch
	path    []string
}

// binding is the document binding of the leaf, of a batch of alg: the
// salt and the document digest are the agency's to fill in.
func (l *leaf) binding(alg ledger.HashAlgorithm) *notaryv1.DocumentBinding {
	doc := &notaryv1.DocumentBinding{
		HashAlgorithm:  ledger.AlgorithmName(alg),
		AnchoredDigest: hex.EncodeToString(l.digest),
	}
	if l.codeKey != nil {
		doc.CodeKey = hex.EncodeToString(l.codeKey)
	}
	return doc
}

// wantedLeaf is leafAt, which must be want.
func (b *Builder) wantedLeaf(loc ledger.Locator, batch *notaryv1.Batch, want leafWant) (*leaf, error) {
	leaf, err := b.leafAt(loc, batch)
	if err != nil {
		return nil, err
	}
	switch {
	case want.digest != nil && (batch.HashAlgorithm != want.alg || !bytes.Equal(leaf.digest, want.digest)):
		return nil, fmt.Errorf("batch %s: leaf %d is not digest %x (%s)", loc.BatchID(), loc.Leaf, want.digest, ledger.AlgorithmName(want.alg))
	case want.codeKey != nil && !bytes.Equal(leaf.codeKey, want.codeKey):
		return nil, fmt.Errorf("batch %s: leaf %d is not under code key %x", loc.BatchID(), loc.Leaf, want.codeKey)
	}
	return leaf, nil
}

// leafAt returns the leaf at loc, from the batch's AnchorBatch transaction,
// with its hex RFC 6962 path; it checks that the transaction's leaves hash
// to the batch record's root.
func (b *Builder) leafAt(loc ledger.Locator, batch *notaryv1.Batch) (*leaf, error) {
	raw, err := b.src.BatchTx(batch)
	if err != nil {
		return nil, err
	}
	env := &notaryv1.Tx{}
	body := &notaryv1.TxBody{}
	if err := proto.Unmarshal(raw, env); err != nil {
		return nil, fmt.Errorf("batch %s transaction: %w", loc.BatchID(), err)
	}
	if err := proto.Unmarshal(env.Body, body); err != nil {
		return nil, fmt.Errorf("batch %s transaction body: %w", loc.BatchID(), err)
	}
	ab := body.GetAnchorBatch()
	if ab == nil {
		return nil, fmt.Errorf("batch %s: the transaction is not an AnchorBatch", loc.BatchID())
	}
	digests, keys := ab.Digests, ab.CodeKeys
	n := len(digests) / ledger.DigestSize
	if int(loc.Leaf) >= n || len(keys) != 0 && len(keys) != n*ledger.CodeKeySize {
		return nil, fmt.Errorf("batch %s: no leaf %d in the transaction", loc.BatchID(), loc.Leaf)
	}
	if ab.Coded != batch.Coded || !bytes.Equal(ledger.BatchRoot(keys, digests), batch.Root) {
		return nil, fmt.Errorf("batch %s: the transaction's leaves do not hash to the recorded root", loc.BatchID())
	}
	l := &leaf{digest: digests[int(loc.Leaf)*ledger.DigestSize : int(loc.Leaf+1)*ledger.DigestSize]}
	l.codeKey = ledger.CodeKeyAt(ab, int(loc.Leaf))
	for _, h := range ledger.BatchInclusionPath(keys, digests, loc.Leaf) {
		l.path = append(l.path, hex.EncodeToString(h))
	}
	return l, nil
}

// status proves the revocation record at key (a document's
// ledger.DocumentRevocationKey), or its absence, at height, with the
// checkpoint of that height (the anchor's if the same).
func (b *Builder) status(key []byte, height, anchorHeight int64, anchor *notaryv1.Checkpoint) (*notaryv1.StatusProof, error) {
	view, err := b.src.StateAt(height)
	if err != nil {
		return nil, err
	}
	rev, p, err := prove(view, key, false)
	if err != nil {
		return nil, err
	}
	cp := anchor
	if height != anchorHeight {
		if cp, err = b.checkpoint(height); err != nil {
			return nil, err
		}
	}
	return &notaryv1.StatusProof{Checkpoint: cp, Revocation: rev, Proof: p}, nil
}

// prove returns the value at key and its ICS23 proof bytes; want says
// whether the key must exist.
func prove(view *abci.StateView, key []byte, want bool) ([]byte, []byte, error) {
	value, p, err := view.Prove(key)
	if err != nil {
		return nil, nil, err
	}
	if want && value == nil {
		return nil, nil, fmt.Errorf("%w: %q at height %d", ledger.ErrNotFound, key, view.Height())
	}
	bz, err := p.Marshal()
	if err != nil {
		return nil, nil, fmt.Errorf("proof of %q: %w", key, err)
	}
	return value, bz, nil
}

// signed returns the header at height, a commit for it, and the validator
// set that signed it, checked against each other.
func (b *Builder) signed(height int64) (*cmttypes.Header, *cmttypes.Commit, *cmttypes.ValidatorSet, error) {
	h, err := b.src.Header(height)
	if err != nil {
		return nil, nil, nil, err
	}
	c, err := b.src.Commit(height)
	if err != nil {
		return nil, nil, nil, err
	}
	vals, err := b.src.Validators(height)
	if err != nil {
		return nil, nil, nil, err
	}
	if !bytes.Equal(c.BlockID.Hash, h.Hash()) || c.Height != height {
		return nil, nil, nil, fmt.Errorf("commit for block %d does not match its header", height)
	}
	if !bytes.Equal(vals.Hash(), h.ValidatorsHash) || len(c.Signatures) != vals.Size() {
		return nil, nil, nil, fmt.Errorf("validator set of block %d does not match its header or commit", height)
	}
	return h, c, vals, nil
}

// checkpoint builds the checkpoint of state height: header height+1 and its
// commit, with the ministry records of signers outside the trust bundle.
func (b *Builder) checkpoint(height int64) (*notaryv1.Checkpoint, error) {
	h, c, vals, err := b.signed(height + 1)
	if err != nil {
		return nil, err
	}
	hb, err := h.ToProto().Marshal()
	if err != nil {
		return nil, err
	}
	lc := LightCommit(c)
	signers, err := b.signers(vals, lc, height)
	if err != nil {
		return nil, err
	}
	return &notaryv1.Checkpoint{Height: height, Header: hb, Commit: lc, Signers: signers}, nil
}

// LightCommit trims a CometBFT commit to the receipt's LightCommit: round,
// block id and the signatures for the block, by validator index.
func LightCommit(c *cmttypes.Commit) *notaryv1.LightCommit {
	lc := &notaryv1.LightCommit{
		Height: c.Height,
		Round:  c.Round,
		BlockId: &notaryv1.CometBlockID{
			Hash: c.BlockID.Hash,
			PartSetHeader: &notaryv1.CometPartSetHeader{
				Total: c.BlockID.PartSetHeader.Total,
				Hash:  c.BlockID.PartSetHeader.Hash,
			},
		},
	}
	for i, s := range c.Signatures {
		if s.BlockIDFlag != cmttypes.BlockIDFlagCommit {
			continue
		}
		lc.Signatures = append(lc.Signatures, &notaryv1.LightSignature{
			ValidatorIndex: uint32(i),
			Timestamp:      timestamppb.New(s.Timestamp),
			Signature:      s.Signature,
		})
	}
	return lc
}

// LightValidators converts a validator set, in its order.
func LightValidators(vals *cmttypes.ValidatorSet) []*notaryv1.LightValidator {
	out := make([]*notaryv1.LightValidator, len(vals.Validators))
	for i, v := range vals.Validators {
		out[i] = &notaryv1.LightValidator{PubKey: v.PubKey.Bytes(), Power: v.VotingPower}
	}
	return out
}

// signers proves, at state height, the ministry record of every signer of
// lc that is not in the trust bundle, in validator order.
func (b *Builder) signers(vals *cmttypes.ValidatorSet, lc *notaryv1.LightCommit, height int64) ([]*notaryv1.StateProof, error) {
	var out []*notaryv1.StateProof
	var view *abci.StateView
	for _, s := range lc.Signatures {
		pub := vals.Validators[s.ValidatorIndex].PubKey.Bytes()
		if b.trusted[string(pub)] {
			continue
		}
		if view == nil {
			var err error
			if view, err = b.src.StateAt(height); err != nil {
				return nil, err
			}
		}
		id, err := ministryOf(view, pub)
		if err != nil {
			return nil, err
		}
		rec, p, err := prove(view, ledger.MinistryKey(id), true)
		if err != nil {
			return nil, err
		}
		out = append(out, &notaryv1.StateProof{Record: rec, Proof: p})
	}
	return out, nil
}

// ministryOf finds the ministry whose consensus key is pub.
func ministryOf(view *abci.StateView, pub []byte) (string, error) {
	var id string
	var derr error
	prefix := ledger.MinistryPrefix()
	err := view.Iterate(prefix, ledger.PrefixEnd(prefix), func(_, v []byte) bool {
		m := &notaryv1.Ministry{}
		if err := proto.Unmarshal(v, m); err != nil {
			derr = err
			return false
		}
		if bytes.Equal(m.ConsensusPubKey, pub) {
			id = m.Id
			return false
		}
		return true
	})
	if err = errors.Join(err, derr); err != nil {
		return "", err
	}
	if id == "" {
		return "", fmt.Errorf("no ministry has consensus key %x at height %d", pub, view.Height())
	}
	return id, nil
}

// validatorChain returns the transitions a verifier needs for headers up to
// height+1: one per validator-set change at a height c < height, walking
// the ValsetChange records of the state at height back to genesis.
func (b *Builder) validatorChain(height int64) ([]*notaryv1.ValidatorTransition, error) {
	view, err := b.src.StateAt(height)
	if err != nil {
		return nil, err
	}
	meta := &notaryv1.ChainMeta{}
	if raw, err := view.Get(ledger.MetaKey()); err != nil {
		return nil, err
	} else if raw != nil {
		if err := proto.Unmarshal(raw, meta); err != nil {
			return nil, fmt.Errorf("chain meta at height %d: %w", height, err)
		}
	}
	var chain []*notaryv1.ValidatorTransition
	for c := meta.LastValsetChangeHeight; c > 0; {
		if c < height {
			t, err := b.transition(c)
			if err != nil {
				return nil, err
			}
			chain = append(chain, proto.CloneOf(t))
		}
		raw, err := view.Get(ledger.ValsetChangeKey(c))
		if err != nil {
			return nil, err
		}
		rec := &notaryv1.ValsetChange{}
		if raw == nil {
			return nil, fmt.Errorf("validator-set change record of height %d is missing at height %d", c, height)
		}
		if err := proto.Unmarshal(raw, rec); err != nil {
			return nil, fmt.Errorf("validator-set change record of height %d: %w", c, err)
		}
		if rec.PreviousChangeHeight >= c {
			return nil, fmt.Errorf("validator-set change record of height %d links forward to %d", c, rec.PreviousChangeHeight)
		}
		c = rec.PreviousChangeHeight
	}
	for i, j := 0, len(chain)-1; i < j; i, j = i+1, j-1 {
		chain[i], chain[j] = chain[j], chain[i]
	}
	return chain, nil
}

// transition builds (once) the transition of the validator-set change that
// FinalizeBlock(c) returned: header c+1, signed by the old set, whose
// next_validators_hash commits to the new set (in force from c+2).
func (b *Builder) transition(c int64) (*notaryv1.ValidatorTransition, error) {
	b.mu.Lock()
	t, ok := b.transitions[c]
	b.mu.Unlock()
	if ok {
		return t, nil
	}
	h, commit, vals, err := b.signed(c + 1)
	if err != nil {
		return nil, err
	}
	next, err := b.src.Validators(c + 2)
	if err != nil {
		return nil, err
	}
	if !bytes.Equal(next.Hash(), h.NextValidatorsHash) {
		return nil, fmt.Errorf("validator set of height %d does not match header %d's next_validators_hash", c+2, c+1)
	}
	hb, err := h.ToProto().Marshal()
	if err != nil {
		return nil, err
	}
	lc := LightCommit(commit)
	signers, err := b.signers(vals, lc, c)
	if err != nil {
		return nil, err
	}
	t = &notaryv1.ValidatorTransition{Header: hb, Commit: lc, NextValidators: LightValidators(next), Signers: signers}
	b.mu.Lock()
	b.transitions[c] = t
	b.mu.Unlock()
	return t, nil
}
