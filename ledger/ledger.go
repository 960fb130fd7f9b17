package ledger

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"time"

	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/timestamppb"

	notaryv1 "github.com/gobtechlab/notary/proto/notary/v1"
)

// Ledger is the notary state machine of one chain. It holds no state of its
// own: every call reads and writes the Store it is given.
type Ledger struct {
	chainID string
}

// New returns the state machine of chainID.
func New(chainID string) *Ledger { return &Ledger{chainID: chainID} }

// ChainID returns the chain id.
func (l *Ledger) ChainID() string { return l.chainID }

// DecodeTx is DecodeTx for this chain, bounded by the largest size any
// params allow (the params in force are applied when the transaction runs).
func (l *Ledger) DecodeTx(raw []byte) (*Tx, error) { return DecodeTx(l.chainID, raw, maxTxBytesBound) }

// BlockInfo is what the ledger knows of the block being executed. Time is the
// block's BFT time from its header, never the local clock.
type BlockInfo struct {
	Height int64
	Time   time.Time
}

// Mode says whether transactions are checked for the mempool or executed in a
// block.
type Mode int

const (
	// ModeDeliver executes transactions of a decided block.
	ModeDeliver Mode = iota
	// ModeCheck checks transactions for the mempool against the last
	// committed state plus the transactions already checked; it skips work
	// whose result is not needed to accept or refuse (Merkle roots).
	ModeCheck
)

// Event is an ABCI-style event emitted by a transaction.
type Event struct {
	Type       string
	Attributes []Attribute
}

// Attribute is a key/value pair of an Event.
type Attribute struct {
	Key, Value string
}

// Outcome is the deterministic result of one transaction: Err is nil on
// success; Result names what was created or, for a duplicate, what existed.
type Outcome struct {
	Err    error
	Result *notaryv1.TxResult
	Events []Event
	// Held is set by RunRelayed for a transaction whose sequence is ahead
	// of its signer's next one by at most MaxSequenceAhead: the mempool
	// holds it, unchecked beyond its signer's authorization and unapplied,
	// until the transactions before it are committed (Err is nil).
	Held bool
}

// MaxSequenceAhead is how far ahead of its signer's next sequence a relayed
// transaction may be and still be held by a mempool (Outcome.Held).
// Consecutive transactions of one sender can reach a node out of order
// (sent through different nodes, or one fetched for a block before the
// other arrives); a node that refused the later one for want of the
// earlier would leave it to the sender's own node to propose
// (docs/adr/0010-relayed-transactions.md). A sender's gateway keeps at
// most max_in_flight transactions outstanding.
const MaxSequenceAhead = 64

// errHeld ends the checks of a relayed transaction that is ahead.
var errHeld = errors.New("sequence ahead: held")

// IndexEntry is a digest anchored by the block by a plain batch, for the
// digest index, or a coded document's code key (Algorithm CodeKeyIndex,
// Digest CodeKeyIndexDigest of the key).
type IndexEntry struct {
	Algorithm HashAlgorithm
	Digest    []byte
	Locator   Locator
}

// IndexBatch is the index entries of one transaction's batch: its index
// digests under one algorithm, in leaf order, digest i at Locator's leaf
// plus i. It shares the transaction's bytes: a block's entries are never
// copied one by one.
type IndexBatch struct {
	Algorithm HashAlgorithm
	Digests   []byte  // DigestSize bytes each
	Locator   Locator // of the first digest
}

// Len is the number of entries.
func (b IndexBatch) Len() int { return len(b.Digests) / DigestSize }

// Entry returns entry i.
func (b IndexBatch) Entry(i int) IndexEntry {
	loc := b.Locator
	loc.Leaf += uint32(i)
	return IndexEntry{Algorithm: b.Algorithm, Digest: digestAt(b.Digests, i), Locator: loc}
}

// Entries returns the entries of batches one by one, in order.
func Entries(batches []IndexBatch) []IndexEntry {
	var out []IndexEntry
	for _, b := range batches {
		for i := range b.Len() {
			out = append(out, b.Entry(i))
		}
	}
	return out
}

// StoreError is a failure of the underlying store or index. It is never a
// transaction's fault: the caller must stop (in a block) rather than record a
// result that other nodes would not compute.
type StoreError struct{ Err error }

// Error implements error.
func (e *StoreError) Error() string { return "store: " + e.Err.Error() }

// Unwrap returns the cause.
func (e *StoreError) Unwrap() error { return e.Err }

// taggedStore marks the errors of a Store as StoreErrors.
type taggedStore struct{ s Store }

func wrapStore(s Store) Store {
	if t, ok := s.(taggedStore); ok {
		return t
	}
	return taggedStore{s}
}

func tag(err error) error {
	if err == nil {
		return nil // before se, which escapes: no allocation per store call
	}
	var se *StoreError
	if errors.As(err, &se) {
		return err
	}
	return &StoreError{err}
}

func (t taggedStore) Get(k []byte) ([]byte, error) { v, err := t.s.Get(k); return v, tag(err) }
func (t taggedStore) Set(k, v []byte) error        { return tag(t.s.Set(k, v)) }
func (t taggedStore) Delete(k []byte) error        { return tag(t.s.Delete(k)) }
func (t taggedStore) Iterate(a, b []byte, fn func(k, v []byte) bool) error {
	return tag(t.s.Iterate(a, b, fn))
}

type digestKey [1 + DigestSize]byte

func makeDigestKey(alg HashAlgorithm, d []byte) (k digestKey) {
	k[0] = byte(alg)
	copy(k[1:], d)
	return k
}

// pendingDigests are the digests anchored by the block so far (or by the
// mempool's transactions, in ModeCheck). Most digests are told apart by
// their first 8 bytes, a map key that costs a fraction of a whole digest's;
// digests that share them are kept whole in shared. Entries are kept as the
// transactions' batches (chunks), not copied one by one.
type pendingDigests struct {
	byPrefix map[uint64]int64 // prefix -> chunk<<32 | position, or -1: see shared
	shared   map[digestKey]Locator
	chunks   []IndexBatch
	n        int
	hint     int // expected entries (Exec.Reserve)
}

func digestPrefix(alg HashAlgorithm, d []byte) uint64 {
	return binary.BigEndian.Uint64(d[:8]) ^ uint64(uint8(alg))<<56
}

func (p *pendingDigests) reserve(n int) {
	if n > 0 {
		p.hint = n
	}
}

// add records a transaction's entries. The map is built on the first
// lookup and kept up to date from then on: with a DigestPrefilter most
// blocks never look a pending digest up.
func (p *pendingDigests) add(b IndexBatch) {
	if b.Len() == 0 {
		return
	}
	p.chunks = append(p.chunks, b)
	p.n += b.Len()
	if p.byPrefix != nil {
		p.index(len(p.chunks) - 1)
	}
}

// index adds chunk c to the map.
func (p *pendingDigests) index(c int) {
	b := p.chunks[c]
	for j := range b.Len() {
		e := b.Entry(j)
		k := digestPrefix(e.Algorithm, e.Digest)
		v, ok := p.byPrefix[k]
		switch {
		case !ok:
			p.byPrefix[k] = int64(c)<<32 | int64(j)
		case v >= 0:
			if p.shared == nil {
				p.shared = map[digestKey]Locator{}
			}
			old := p.at(v)
			p.shared[makeDigestKey(old.Algorithm, old.Digest)] = old.Locator
			p.byPrefix[k] = -1
			fallthrough
		default:
			p.shared[makeDigestKey(e.Algorithm, e.Digest)] = e.Locator
		}
	}
}

func (p *pendingDigests) at(v int64) IndexEntry { return p.chunks[v>>32].Entry(int(v & 0xffffffff)) }

func (p *pendingDigests) lookup(alg HashAlgorithm, d []byte) (Locator, bool) {
	if p.byPrefix == nil {
		if p.n == 0 {
			return Locator{}, false
		}
		p.byPrefix = make(map[uint64]int64, max(p.hint, p.n))
		for c := range p.chunks {
			p.index(c)
		}
	}
	v, ok := p.byPrefix[digestPrefix(alg, d)]
	switch {
	case !ok:
		return Locator{}, false
	case v >= 0:
		e := p.at(v)
		if e.Algorithm == alg && bytes.Equal(e.Digest, d) {
			return e.Locator, true
		}
		return Locator{}, false
	default:
		loc, ok := p.shared[makeDigestKey(alg, d)]
		return loc, ok
	}
}

// Exec executes the transactions of one block (ModeDeliver) or checks
// mempool transactions (ModeCheck) against a Store. It is not safe for
// concurrent use.
type Exec struct {
	l      *Ledger
	st     Store
	idx    DigestIndex
	block  BlockInfo
	mode   Mode
	params *notaryv1.Params

	pending    pendingDigests
	valChanges []string // ministry ids whose validator changed
	valUpdates []ValidatorUpdate
	unordered  int              // unordered transactions applied
	expiring   map[int64][]byte // nonces the block spent, by valid_until_height (endNonces)
	logLeaves  [][]byte         // the evidence log leaves of the block so far (evlog.go)
	logStart   uint64           // the log's size before them (End)
}

// NewExec starts executing a block at b on st, with idx answering for the
// digests of earlier blocks.
func (l *Ledger) NewExec(st Store, idx DigestIndex, b BlockInfo, mode Mode) (*Exec, error) {
	e := &Exec{l: l, st: wrapStore(st), idx: idx, block: b, mode: mode}
	p, err := loadParams(e.st)
	if err != nil {
		return nil, err
	}
	e.params = p
	return e, nil
}

// Params returns the parameters in force for this block.
func (e *Exec) Params() *notaryv1.Params { return e.params }

// Block returns the block being executed.
func (e *Exec) Block() BlockInfo { return e.block }

// NewBatches returns the index entries of the batches anchored so far, in
// anchoring order, one IndexBatch a transaction; they share the
// transactions' bytes.
func (e *Exec) NewBatches() []IndexBatch { return e.pending.chunks }

// Reserve prepares for about n digests anchored by the block (a hint).
func (e *Exec) Reserve(n int) { e.pending.reserve(n) }

// Pending is the number of digests anchored by the transactions run so far.
func (e *Exec) Pending() int { return e.pending.n }

// Run executes the transaction at txIndex of the block. The returned error is
// a StoreError only: any fault of the transaction is in Outcome.Err, and then
// the transaction changed nothing.
func (e *Exec) Run(txIndex uint32, tx *Tx) (Outcome, error) {
	return e.run(txIndex, tx, false)
}

// RunRelayed is Run for the mempool (ModeCheck) of a transaction that
// another node received from its sender, checked in full and relayed: it
// checks everything but that each digest it anchors is new (and does not
// remember its digests for the mempool's later checks). That rule costs a
// lookup per digest and is decided by the block that includes the
// transaction, where a repeated digest fails the transaction with its
// original record; the mempool only holds transactions for proposers.
// A transaction whose sequence is ahead (at most MaxSequenceAhead) is held
// (Outcome.Held) after its signer's authorization is checked: the
// transactions before it reached other proposers, and ProposalOrder keeps
// it out of a block until they are committed. In ModeDeliver it is Run.
func (e *Exec) RunRelayed(txIndex uint32, tx *Tx) (Outcome, error) {
	return e.run(txIndex, tx, e.mode == ModeCheck)
}

func (e *Exec) run(txIndex uint32, tx *Tx, relayed bool) (Outcome, error) {
	c := &txContext{e: e, cache: newCacheStore(e.st), tx: tx, txIndex: txIndex, relayed: relayed}
	c.st = wrapStore(c.cache)
	err := c.apply()
	var se *StoreError
	if errors.As(err, &se) {
		return Outcome{}, se
	}
	if errors.Is(err, errHeld) {
		return Outcome{Held: true}, nil
	}
	if err != nil {
		out := Outcome{Err: err}
		var dup *DuplicateError
		var dupCode *DuplicateCodeError
		switch {
		case errors.As(err, &dup):
			out.Result = &notaryv1.TxResult{Existing: &notaryv1.ExistingDigest{
				HashAlgorithm: dup.Algorithm,
				Digest:        dup.Digest,
				Locator:       &notaryv1.DigestLocator{Height: dup.Existing.Height, TxIndex: dup.Existing.TxIndex, LeafIndex: dup.Existing.Leaf},
			}}
		case errors.As(err, &dupCode):
			out.Result = &notaryv1.TxResult{Existing: &notaryv1.ExistingDigest{
				HashAlgorithm: tx.Body.GetAnchorBatch().GetHashAlgorithm(),
				CodeKey:       dupCode.Key,
				Locator:       &notaryv1.DigestLocator{Height: dupCode.Existing.Height, TxIndex: dupCode.Existing.TxIndex, LeafIndex: dupCode.Existing.Leaf},
			}}
		}
		return out, nil
	}
	if err := c.cache.flush(); err != nil {
		return Outcome{}, tag(err).(*StoreError)
	}
	e.pending.add(c.digests)
	e.logLeaves = append(e.logLeaves, c.leaves...)
	e.valChanges = append(e.valChanges, c.valChanges...)
	if tx.Unordered() {
		e.spent(tx)
	}
	return Outcome{Result: c.result, Events: c.events}, nil
}

// EndResult is the outcome of the end of a block.
type EndResult struct {
	ValidatorUpdates []ValidatorUpdate
	Events           []Event
}

// End finishes the block: governance proposals that passed are executed,
// those past their lifetime expire, spent nonces that no later block needs
// are forgotten, and validator updates are returned.
func (e *Exec) End() (EndResult, error) {
	var res EndResult
	if e.mode != ModeDeliver {
		return res, nil
	}
	evs, err := e.endGovernance()
	if err != nil {
		return res, err
	}
	res.Events = evs
	res.ValidatorUpdates = e.valUpdates
	if err := e.endNonces(); err != nil {
		return res, err
	}
	if err := e.endEvidenceLog(); err != nil {
		return res, err
	}
	if e.params.StatelessEmptyBlocks {
		// The block's height and time are in its header: a block that
		// changed nothing leaves the app hash as it was.
		return res, nil
	}
	// A chain created before stateless_empty_blocks records the block in
	// the state, last, as it always did: its app hashes stay the same.
	meta, err := loadMeta(e.st)
	if err != nil {
		return res, err
	}
	meta.LastBlockHeight = e.block.Height
	meta.LastBlockTime = timestamppb.New(e.block.Time)
	if err := e.st.Set(MetaKey(), Encode(meta)); err != nil {
		return res, err
	}
	return res, nil
}

// LastBlock returns the height and time of the last block executed on st,
// as a chain without params.stateless_empty_blocks records them; zero on
// one with it (a block's time is then read from its header).
func LastBlock(st Store) (BlockInfo, error) {
	meta, err := loadMeta(wrapStore(st))
	if err != nil {
		return BlockInfo{}, err
	}
	b := BlockInfo{Height: meta.LastBlockHeight}
	if meta.LastBlockTime != nil {
		b.Time = meta.LastBlockTime.AsTime()
	}
	return b, nil
}

// lookupDigest finds an anchored digest in this block or an earlier one.
func (e *Exec) lookupDigest(alg HashAlgorithm, d []byte) (Locator, bool, error) {
	if loc, ok := e.pending.lookup(alg, d); ok {
		return loc, true, nil
	}
	loc, ok, err := e.idx.Lookup(alg, d)
	return loc, ok, tag(err)
}

// txContext is the execution of one transaction: its writes go to cache and
// reach the block's store only if it succeeds.
type txContext struct {
	e        *Exec
	cache    *cacheStore
	st       Store
	tx       *Tx
	txIndex  uint32
	relayed  bool               // RunRelayed: digests are not looked up
	acct     *notaryv1.Account  // the signer's account, nil for a new citizen key
	agency   *notaryv1.Agency   // the signer's agency, for agency messages
	ministry *notaryv1.Ministry // the signer's ministry, for governance messages

	result     *notaryv1.TxResult
	events     []Event
	digests    IndexBatch
	valChanges []string
	leaves     [][]byte // evidence log leaves (logRecord)
}

func (c *txContext) now() *timestamppb.Timestamp { return timestamppb.New(c.e.block.Time) }

func (c *txContext) emit(typ string, kv ...string) {
	ev := Event{Type: typ}
	for i := 0; i+1 < len(kv); i += 2 {
		ev.Attributes = append(ev.Attributes, Attribute{Key: kv[i], Value: kv[i+1]})
	}
	c.events = append(c.events, ev)
}

// apply runs the checks common to all messages, the message's own rules, and
// then consumes the signer's sequence, or spends the nonce of an unordered
// transaction.
func (c *txContext) apply() error {
	p := c.e.params
	if uint64(len(c.tx.Raw)) > p.MaxTxBytes {
		return wrapf(ErrTxTooLarge, "%d bytes, limit %d", len(c.tx.Raw), p.MaxTxBytes)
	}
	if err := checkReplayFields(c.tx.Body); err != nil {
		return err
	}
	if m, ok := c.tx.Body.Msg.(*notaryv1.TxBody_CheckpointSignature); ok {
		// Authorized by the validator's own signature: no account,
		// sequence or nonce (a validator signs a size once).
		return c.checkpointSignature(m.CheckpointSignature)
	}
	unordered := c.tx.Unordered()
	acct, err := loadAccount(c.st, c.tx.Signer)
	if err != nil {
		return err
	}
	c.acct = acct
	if err := c.authorize(); err != nil {
		return err
	}
	if unordered {
		err = c.checkNonce()
	} else {
		err = c.checkSequence()
	}
	if err != nil {
		return err
	}
	var err2 error
	switch m := c.tx.Body.Msg.(type) {
	case *notaryv1.TxBody_AnchorBatch:
		err2 = c.anchorBatch(m.AnchorBatch)
	case *notaryv1.TxBody_Revoke:
		err2 = c.revoke(m.Revoke)
	case *notaryv1.TxBody_GrantConsent:
		err2 = c.grantConsent(m.GrantConsent)
	case *notaryv1.TxBody_WithdrawConsent:
		err2 = c.withdrawConsent(m.WithdrawConsent)
	case *notaryv1.TxBody_RecordExchange:
		err2 = c.recordExchange(m.RecordExchange)
	case *notaryv1.TxBody_Propose:
		err2 = c.propose(m.Propose)
	case *notaryv1.TxBody_Vote:
		err2 = c.vote(m.Vote)
	case *notaryv1.TxBody_EnrollCitizen:
		err2 = c.enrollCitizen(m.EnrollCitizen)
	default:
		err2 = ErrNoMessage
	}
	if err2 != nil {
		return err2
	}
	if unordered {
		return c.spendNonce()
	}
	return c.consumeSequence()
}

// authorize checks that the signer may send this kind of message, before the
// sequence and the message's own rules, and keeps the signer's agency or
// ministry for the handler.
func (c *txContext) authorize() error {
	var err error
	switch m := c.tx.Body.Msg.(type) {
	case *notaryv1.TxBody_AnchorBatch:
		c.agency, err = c.requireAgency(m.AnchorBatch.AgencyId, notaryv1.Permission_PERMISSION_ANCHOR)
	case *notaryv1.TxBody_Revoke:
		c.agency, err = c.requireAgency("", notaryv1.Permission_PERMISSION_REVOKE)
	case *notaryv1.TxBody_GrantConsent, *notaryv1.TxBody_WithdrawConsent:
		err = c.requireCitizen()
	case *notaryv1.TxBody_RecordExchange:
		c.agency, err = c.requireAgency(m.RecordExchange.RequesterAgencyId, notaryv1.Permission_PERMISSION_EXCHANGE)
	case *notaryv1.TxBody_Propose:
		c.ministry, err = c.requireMinistry(m.Propose.MinistryId)
	case *notaryv1.TxBody_Vote:
		c.ministry, err = c.requireMinistry(m.Vote.MinistryId)
	case *notaryv1.TxBody_EnrollCitizen:
		c.agency, err = c.requireAgency(m.EnrollCitizen.AgencyId, notaryv1.Permission_PERMISSION_ENROLL)
	default:
		err = ErrNoMessage
	}
	return err
}

func (c *txContext) checkSequence() error {
	var want uint64
	if c.acct != nil {
		want = c.acct.NextSequence
	}
	got := c.tx.Body.Sequence
	switch {
	case got < want:
		return wrapf(ErrSequenceReplayed, "sequence %d, next is %d", got, want)
	case got > want && c.relayed && got-want <= MaxSequenceAhead:
		return errHeld
	case got > want:
		return wrapf(ErrSequenceSkipped, "sequence %d, next is %d", got, want)
	}
	return nil
}

func (c *txContext) consumeSequence() error {
	if c.acct == nil {
		// Only citizen messages accept a key without an account, and only
		// while citizen enrolment is open: the key enrols itself.
		c.acct = &notaryv1.Account{
			PubKey: c.tx.Signer,
			Role:   notaryv1.Role_ROLE_CITIZEN,
			Owner:  fmt.Sprintf("%x", SubjectID(c.tx.Signer)),
		}
	}
	c.acct.NextSequence++
	return c.st.Set(AccountKey(c.tx.Signer), Encode(c.acct))
}

// requireAgency returns the signer's active agency, checking that the message
// names it and that it holds perm.
func (c *txContext) requireAgency(named string, perm notaryv1.Permission) (*notaryv1.Agency, error) {
	if c.acct == nil || c.acct.Role != notaryv1.Role_ROLE_AGENCY {
		return nil, wrapf(ErrUnknownSigner, "key %x is not a registered agency", c.tx.Signer)
	}
	if named != "" && named != c.acct.Owner {
		return nil, wrapf(ErrSignerMismatch, "message names agency %q, signer is %q", named, c.acct.Owner)
	}
	a, err := loadAgency(c.st, c.acct.Owner)
	if err != nil {
		return nil, err
	}
	if a == nil || !a.Active {
		return nil, wrapf(ErrInactive, "agency %q", c.acct.Owner)
	}
	if !hasPermission(a, perm) {
		return nil, wrapf(ErrUnauthorized, "agency %q lacks %s", a.Id, perm)
	}
	return a, nil
}

// requireMinistry returns the signer's active ministry, checking that the
// message names it.
func (c *txContext) requireMinistry(named string) (*notaryv1.Ministry, error) {
	if c.acct == nil || c.acct.Role != notaryv1.Role_ROLE_MINISTRY {
		return nil, wrapf(ErrNotMinistry, "key %x is not a ministry's governance key", c.tx.Signer)
	}
	if named != c.acct.Owner {
		return nil, wrapf(ErrSignerMismatch, "message names ministry %q, signer is %q", named, c.acct.Owner)
	}
	m, err := loadMinistry(c.st, c.acct.Owner)
	if err != nil {
		return nil, err
	}
	if m == nil || !m.Active {
		return nil, wrapf(ErrInactive, "ministry %q", c.acct.Owner)
	}
	return m, nil
}

// requireCitizen checks that the signer is a citizen key, or a new key
// while citizen enrolment is open.
func (c *txContext) requireCitizen() error {
	if c.acct == nil {
		if EnrollmentOpen(c.e.params) {
			return nil
		}
		return wrapf(ErrNotEnrolled, "key %x has no citizen account: citizen keys are enrolled by an accredited agency (citizen_enrollment ACCREDITED)", c.tx.Signer)
	}
	if c.acct.Role != notaryv1.Role_ROLE_CITIZEN {
		return wrapf(ErrNotCitizen, "key %x belongs to %s %q", c.tx.Signer, c.acct.Role, c.acct.Owner)
	}
	return nil
}

// load decodes the record at key into m; it reports false if there is none.
// A record that does not decode is a corrupted state: a StoreError.
func load(st Store, key []byte, m proto.Message) (bool, error) {
	b, err := st.Get(key)
	if err != nil || b == nil {
		return false, err
	}
	if err := proto.Unmarshal(b, m); err != nil {
		return false, &StoreError{fmt.Errorf("decode %T at %q: %w", m, key, err)}
	}
	return true, nil
}

// LoadParams returns the params in force in a committed state.
func LoadParams(st Store) (*notaryv1.Params, error) { return loadParams(wrapStore(st)) }

func loadParams(st Store) (*notaryv1.Params, error) {
	p := &notaryv1.Params{}
	ok, err := load(st, ParamsKey(), p)
	if err != nil {
		return nil, err
	}
	if !ok {
		return nil, &StoreError{errors.New("no params in state: genesis was not applied")}
	}
	return p, nil
}

func loadMeta(st Store) (*notaryv1.ChainMeta, error) {
	m := &notaryv1.ChainMeta{}
	if _, err := load(st, MetaKey(), m); err != nil {
		return nil, err
	}
	return m, nil
}

func loadAccount(st Store, pub []byte) (*notaryv1.Account, error) {
	a := &notaryv1.Account{}
	ok, err := load(st, AccountKey(pub), a)
	if !ok {
		return nil, err
	}
	return a, nil
}

func loadAgency(st Store, id string) (*notaryv1.Agency, error) {
	a := &notaryv1.Agency{}
	ok, err := load(st, AgencyKey(id), a)
	if !ok {
		return nil, err
	}
	return a, nil
}

func loadMinistry(st Store, id string) (*notaryv1.Ministry, error) {
	m := &notaryv1.Ministry{}
	ok, err := load(st, MinistryKey(id), m)
	if !ok {
		return nil, err
	}
	return m, nil
}

func loadBatch(st Store, height int64, txIndex uint32) (*notaryv1.Batch, error) {
	b := &notaryv1.Batch{}
	ok, err := load(st, BatchKey(height, txIndex), b)
	if !ok {
		return nil, err
	}
	return b, nil
}
