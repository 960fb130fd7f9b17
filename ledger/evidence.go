package ledger

import (
	"encoding/binary"
	"encoding/hex"
	"fmt"
	"math/bits"
	"slices"
	"strconv"
	"sync"

	notaryv1 "github.com/gobtechlab/notary/proto/notary/v1"
)

// checkDigestList validates concatenated digests: 1..max of them, each
// DigestSize bytes, no duplicates. max 0 skips the count bound.
func checkDigestList(digests []byte, max uint32) (int, error) {
	if len(digests) == 0 {
		return 0, ErrEmptyBatch
	}
	if len(digests)%DigestSize != 0 {
		return 0, wrapf(ErrBadDigestLength, "%d bytes is not a whole number of %d-byte digests", len(digests), DigestSize)
	}
	n := len(digests) / DigestSize
	if max > 0 && n > int(max) {
		return 0, wrapf(ErrBatchTooLarge, "%d digests, limit %d", n, max)
	}
	if j, i, ok := findDuplicate(digests, n); ok {
		return 0, wrapf(ErrDuplicateInBatch, "digest %x at positions %d and %d", digestAt(digests, i), j, i)
	}
	return n, nil
}

// findDuplicate returns the positions j < i of the first digest that repeats
// an earlier one. It looks for two equal first-8-byte prefixes
// (hasEqualPrefix), and compares whole digests only if two are equal
// (never, for distinct hash outputs, unless made so on purpose): integers
// instead of a map insert per digest.
func findDuplicate(digests []byte, n int) (int, int, bool) {
	if !hasEqualPrefix(digests, DigestSize, n) {
		return 0, 0, false
	}
	seen := make(map[[DigestSize]byte]int, n)
	for i := 0; i < n; i++ {
		k := [DigestSize]byte(digestAt(digests, i))
		if j, ok := seen[k]; ok {
			return j, i, true
		}
		seen[k] = i
	}
	return 0, 0, false
}

// hasEqualPrefix reports whether two of the n items of size bytes in list
// (size at least 8) share their first 8 bytes.
func hasEqualPrefix(list []byte, size, n int) bool {
	if n <= smallSearch {
		for i := 1; i < n; i++ {
			p := binary.BigEndian.Uint64(list[i*size:])
			for j := 0; j < i; j++ {
				if binary.BigEndian.Uint64(list[j*size:]) == p {
					return true
				}
			}
		}
		return false
	}
	t := newPrefixTable(n)
	defer t.release()
	for i := 0; i < n; i++ {
		dup, crowded := t.add(binary.BigEndian.Uint64(list[i*size:]))
		if crowded {
			ps := make([]uint64, n)
			for i := range ps {
				ps[i] = binary.BigEndian.Uint64(list[i*size:])
			}
			return equalSorted(ps)
		}
		if dup {
			return true
		}
	}
	return false
}

// prefixTable is a set of uint64 values for the duplicate searches: an
// open-addressing table of at least twice as many slots as values, a
// value's slot given by multiply-shift hashing. One insert is a
// multiplication and, mostly, one memory access: a fraction of the cost of
// sorting the values. The prefixes are the sender's choice: values made to
// crowd a few slots make the probes exceed a bound linear in the values,
// and the search then sorts them instead (equalSorted), so that its cost
// stays that of a sort. Tables are reused.
type prefixTable struct {
	slots  []uint64 // 0: empty
	shift  uint
	zero   bool // 0 was added
	probes int  // probes left before the search sorts instead
}

// prefixMul is the hashing multiplier: odd, its bits well mixed.
const prefixMul = 0x9e3779b97f4a7c15

var prefixTables = sync.Pool{New: func() any { return new(prefixTable) }}

// smallSearch is the most items compared pairwise rather than through a
// table.
const smallSearch = 16

// maxPooledSlots bounds the tables kept for reuse (2 MB).
const maxPooledSlots = 1 << 18

func newPrefixTable(n int) *prefixTable {
	t := prefixTables.Get().(*prefixTable)
	lg := max(bits.Len(uint(n))+1, 4) // 2n to 4n slots
	if len(t.slots) != 1<<lg {
		t.slots = make([]uint64, 1<<lg)
	}
	t.shift, t.zero, t.probes = uint(64-lg), false, 4*n+64
	return t
}

// release clears the table and returns it to the pool.
func (t *prefixTable) release() {
	if len(t.slots) <= maxPooledSlots {
		clear(t.slots)
		prefixTables.Put(t)
	}
}

// add adds p and reports whether it was there already; crowded is set if
// the table ran out of probes (and p may not have been added).
func (t *prefixTable) add(p uint64) (dup, crowded bool) {
	if p == 0 {
		had := t.zero
		t.zero = true
		return had, false
	}
	mask := uint64(len(t.slots) - 1)
	for i := (p * prefixMul) >> t.shift; ; i = (i + 1) & mask {
		switch t.slots[i] {
		case 0:
			t.slots[i] = p
			return false, false
		case p:
			return true, false
		}
		if t.probes--; t.probes < 0 {
			return false, true
		}
	}
}

// equalSorted reports whether two values of ps are equal, by sorting them.
func equalSorted(ps []uint64) bool {
	slices.Sort(ps)
	for i := 1; i < len(ps); i++ {
		if ps[i] == ps[i-1] {
			return true
		}
	}
	return false
}

// checkDigests is checkDigestList for a transaction's AnchorBatch, which
// searches for duplicates once per decoded transaction.
func (t *Tx) checkDigests(digests []byte, max uint32) (int, error) {
	if t.digestsOK.Load() {
		n := len(digests) / DigestSize
		if max > 0 && n > int(max) {
			return 0, wrapf(ErrBatchTooLarge, "%d digests, limit %d", n, max)
		}
		return n, nil
	}
	n, err := checkDigestList(digests, max)
	if err == nil {
		t.digestsOK.Store(true)
	}
	return n, err
}

func digestAt(digests []byte, i int) []byte { return digests[i*DigestSize : (i+1)*DigestSize] }

// ValidateBasic checks what a transaction's message must satisfy whatever the
// state: the checks ProcessProposal applies to every transaction of a
// proposed block, so that a block carrying a malformed message is refused.
func ValidateBasic(tx *Tx) error {
	if err := checkReplayFields(tx.Body); err != nil {
		return err
	}
	switch m := tx.Body.Msg.(type) {
	case *notaryv1.TxBody_AnchorBatch:
		if _, err := tx.checkAnchorLists(m.AnchorBatch, 0); err != nil {
			return err
		}
		if AlgorithmName(m.AnchorBatch.HashAlgorithm) == "" {
			return wrapf(ErrUnknownHashAlgorithm, "%s", m.AnchorBatch.HashAlgorithm)
		}
		return checkText("label", m.AnchorBatch.Label, maxTextBound)
	case *notaryv1.TxBody_Revoke:
		return validateRevoke(m.Revoke, nil)
	case *notaryv1.TxBody_CheckpointSignature:
		return validateCheckpointSignature(tx.Body, m.CheckpointSignature)
	case *notaryv1.TxBody_GrantConsent:
		g := m.GrantConsent
		if len(g.Subject) != DigestSize {
			return wrapf(ErrInvalidField, "subject must be %d bytes", DigestSize)
		}
		if g.ValidFrom == nil || g.ValidUntil == nil || g.ValidFrom.CheckValid() != nil || g.ValidUntil.CheckValid() != nil {
			return wrapf(ErrInvalidValidity, "valid_from and valid_until must be valid times")
		}
	case *notaryv1.TxBody_RecordExchange:
		x := m.RecordExchange
		if len(x.Subject) != DigestSize {
			return wrapf(ErrInvalidField, "subject must be %d bytes", DigestSize)
		}
		if len(x.Reference) != 0 && len(x.Reference) != DigestSize {
			return wrapf(ErrInvalidField, "reference must be empty or %d bytes", DigestSize)
		}
		if x.Basis == nil {
			return ErrNoBasis
		}
		if pc := x.ProviderConfirmation; pc != nil && (len(pc.PubKey) != PublicKeySize || len(pc.Signature) != SignatureSize) {
			return wrapf(ErrBadConfirmation, "want a %d-byte key and a %d-byte signature", PublicKeySize, SignatureSize)
		}
	case *notaryv1.TxBody_EnrollCitizen:
		if len(m.EnrollCitizen.PubKey) != PublicKeySize {
			return wrapf(ErrBadPublicKey, "pub_key must be %d bytes", PublicKeySize)
		}
	case nil:
		return ErrNoMessage
	}
	return nil
}

// validateRevoke checks a Revoke message; with params it also applies their bounds.
func validateRevoke(m *notaryv1.Revoke, p *notaryv1.Params) error {
	max, maxText := uint32(0), uint32(maxTextBound)
	if p != nil {
		max, maxText = p.MaxDigestsPerBatch, p.MaxTextBytes
		if !algorithmAccepted(p, m.HashAlgorithm) {
			return wrapf(ErrUnknownHashAlgorithm, "%s", m.HashAlgorithm)
		}
	} else if AlgorithmName(m.HashAlgorithm) == "" {
		return wrapf(ErrUnknownHashAlgorithm, "%s", m.HashAlgorithm)
	}
	switch {
	case len(m.Digests) > 0 && len(m.CodeKeys) > 0:
		return wrapf(ErrRevokeTargets, "%d bytes of digests and %d bytes of code keys: a Revoke carries one of them", len(m.Digests), len(m.CodeKeys))
	case len(m.CodeKeys) > 0:
		if _, err := checkCodeKeyList(m.CodeKeys, max); err != nil {
			return err
		}
	default:
		if _, err := checkDigestList(m.Digests, max); err != nil {
			return err
		}
	}
	if _, ok := notaryv1.RevocationReason_name[int32(m.Reason)]; !ok || m.Reason == notaryv1.RevocationReason_REVOCATION_REASON_UNSPECIFIED {
		return wrapf(ErrInvalidReason, "%d", m.Reason)
	}
	return checkText("reason_text", m.ReasonText, maxText)
}

func (c *txContext) anchorBatch(m *notaryv1.AnchorBatch) error {
	p := c.e.params
	if !algorithmAccepted(p, m.HashAlgorithm) {
		return wrapf(ErrUnknownHashAlgorithm, "%s", m.HashAlgorithm)
	}
	n, err := c.tx.checkAnchorLists(m, p.MaxDigestsPerBatch)
	if err != nil {
		return err
	}
	if err := checkText("label", m.Label, p.MaxLabelBytes); err != nil {
		return err
	}
	height := c.e.block.Height
	// The index entries of the batch: its digests under its algorithm, or,
	// for a coded batch, its code keys under CodeKeyIndex (and not its
	// digests: a coded document is found, and kept unique, by its key). A
	// relayed check neither looks them up nor keeps them.
	idxAlg, idxDigests := m.HashAlgorithm, m.Digests
	keys, stride := BatchCodeKeys(m)
	if keys != nil && !c.relayed {
		idxAlg, idxDigests = CodeKeyIndex, codeKeyIndexDigests(keys, stride)
	}
	if !c.relayed {
		i, loc, found, err := c.findAnchored(idxAlg, idxDigests, n)
		if err != nil {
			return err
		}
		if found && idxAlg == CodeKeyIndex {
			// A code key finds one document: never two, in this batch
			// (checkCodeKeys) or across batches.
			return &DuplicateCodeError{Key: append([]byte(nil), keys[i*stride:i*stride+CodeKeySize]...), Existing: loc}
		}
		if found {
			return &DuplicateError{Algorithm: m.HashAlgorithm, Digest: append([]byte(nil), digestAt(m.Digests, i)...), Existing: loc}
		}
	}
	var root []byte
	if c.e.mode == ModeDeliver {
		root = BatchRoot(m.CodeKeys, m.Digests)
	}
	batch := &notaryv1.Batch{
		Height:        height,
		TxIndex:       c.txIndex,
		AgencyId:      c.agency.Id,
		HashAlgorithm: m.HashAlgorithm,
		Root:          root,
		Count:         uint32(n),
		Time:          c.now(),
		Label:         m.Label,
		TxHash:        c.tx.Hash[:],
		Coded:         m.Coded,
	}
	key, value := BatchKey(height, c.txIndex), Encode(batch)
	if err := c.st.Set(key, value); err != nil {
		return err
	}
	c.logRecord(LogLeafBatch, key, value)
	if err := c.st.Set(AgencyBatchKey(c.agency.Id, height, c.txIndex), marker()); err != nil {
		return err
	}
	if !c.relayed {
		c.digests = IndexBatch{Algorithm: idxAlg, Digests: idxDigests, Locator: Locator{Height: height, TxIndex: c.txIndex}}
	}
	c.result = &notaryv1.TxResult{Created: &notaryv1.TxResult_Batch{Batch: &notaryv1.DigestLocator{Height: height, TxIndex: c.txIndex}}}
	c.emit("notary.anchor",
		"batch", FormatBatchID(height, c.txIndex),
		"agency", c.agency.Id,
		"count", strconv.Itoa(n),
		"root", hex.EncodeToString(root))
	return nil
}

// findAnchored looks for the first of n concatenated digests (under alg)
// that is anchored already, in an earlier block or earlier in this
// execution: its position and locator.
func (c *txContext) findAnchored(alg HashAlgorithm, digests []byte, n int) (int, Locator, bool, error) {
	var absent, notIndexed []bool
	switch pf := c.e.idx.(type) {
	case DigestPrefilter:
		// Every digest anchored earlier in this execution was given to
		// the index (here or by lookupDigest), so a digest ruled out is
		// neither anchored before nor pending.
		absent = make([]bool, n)
		pf.Prefilter(alg, digests, absent)
	case IndexPrefilter:
		notIndexed = make([]bool, n)
		pf.NotIndexed(alg, digests, notIndexed)
	}
	for i := 0; i < n; i++ {
		if absent != nil && absent[i] {
			continue
		}
		d := digestAt(digests, i)
		var (
			loc   Locator
			found bool
			err   error
		)
		if notIndexed != nil && notIndexed[i] {
			loc, found = c.e.pending.lookup(alg, d)
		} else {
			loc, found, err = c.e.lookupDigest(alg, d)
		}
		if err != nil {
			return 0, Locator{}, false, err
		}
		if found {
			return i, loc, true, nil
		}
	}
	return 0, Locator{}, false, nil
}

func (c *txContext) revoke(m *notaryv1.Revoke) error {
	return c.revokeDigests(m, c.agency.Id, "agency/"+c.agency.Id)
}

// revokeDigests revokes every document of m: each digest, or each code key
// of a coded document. If issuer is not empty, each document must have been
// anchored by that agency; by names who revoked.
func (c *txContext) revokeDigests(m *notaryv1.Revoke, issuer, by string) error {
	if err := validateRevoke(m, c.e.params); err != nil {
		return err
	}
	if len(m.CodeKeys) > 0 {
		for i := 0; i < len(m.CodeKeys)/CodeKeySize; i++ {
			if err := c.revokeCodeKey(m, m.CodeKeys[i*CodeKeySize:(i+1)*CodeKeySize], issuer, by); err != nil {
				return err
			}
		}
		return nil
	}
	for i := 0; i < len(m.Digests)/DigestSize; i++ {
		d := digestAt(m.Digests, i)
		loc, found, err := c.e.lookupDigest(m.HashAlgorithm, d)
		if err != nil {
			return err
		}
		if !found {
			return wrapf(ErrNotAnchored, "%x", d)
		}
		batch, err := c.anchoringBatch(loc)
		if err != nil {
			return err
		}
		if issuer != "" && batch.AgencyId != issuer {
			return wrapf(ErrNotIssuer, "%x was anchored by %q", d, batch.AgencyId)
		}
		rev := &notaryv1.Revocation{HashAlgorithm: m.HashAlgorithm, Digest: append([]byte(nil), d...)}
		if err := c.saveRevocation(RevocationKey(m.HashAlgorithm, d), rev, loc, m, by, hex.EncodeToString(d)); err != nil {
			return err
		}
		c.emit("notary.revoke", "digest", hex.EncodeToString(d), "batch", loc.BatchID(), "reason", m.Reason.String(), "by", by)
	}
	return nil
}

// revokeCodeKey revokes the coded document anchored under key: its record
// is at the key's revocation key, which no revocation by digest reaches,
// and names the key, not the digest.
func (c *txContext) revokeCodeKey(m *notaryv1.Revoke, key []byte, issuer, by string) error {
	kd := CodeKeyIndexDigest(key)
	loc, found, err := c.e.lookupDigest(CodeKeyIndex, kd)
	if err != nil {
		return err
	}
	if !found {
		return wrapf(ErrNotAnchored, "code key %x", key)
	}
	batch, err := c.anchoringBatch(loc)
	if err != nil {
		return err
	}
	if issuer != "" && batch.AgencyId != issuer {
		return wrapf(ErrNotIssuer, "code key %x was anchored by %q", key, batch.AgencyId)
	}
	if batch.HashAlgorithm != m.HashAlgorithm {
		return wrapf(ErrAlgorithmMismatch, "code key %x: batch %s anchored %s, the Revoke names %s", key, loc.BatchID(), batch.HashAlgorithm, m.HashAlgorithm)
	}
	rev := &notaryv1.Revocation{HashAlgorithm: m.HashAlgorithm, CodeKey: append([]byte(nil), key...)}
	if err := c.saveRevocation(CodeRevocationKey(key), rev, loc, m, by, "code key "+hex.EncodeToString(key)); err != nil {
		return err
	}
	c.emit("notary.revoke", "code_key", hex.EncodeToString(key), "batch", loc.BatchID(), "reason", m.Reason.String(), "by", by)
	return nil
}

// anchoringBatch loads the batch an index locator names.
func (c *txContext) anchoringBatch(loc Locator) (*notaryv1.Batch, error) {
	batch, err := loadBatch(c.st, loc.Height, loc.TxIndex)
	if err != nil {
		return nil, err
	}
	if batch == nil {
		return nil, &StoreError{fmt.Errorf("digest index names batch %s, which is not in the state", loc.BatchID())}
	}
	return batch, nil
}

// saveRevocation completes rev (locator, reason, block, by) and writes it at
// key, or returns ErrAlreadyRevoked, naming what, if a record is there.
func (c *txContext) saveRevocation(key []byte, rev *notaryv1.Revocation, loc Locator, m *notaryv1.Revoke, by, what string) error {
	prev, err := c.st.Get(key)
	if err != nil {
		return err
	}
	if prev != nil {
		return wrapf(ErrAlreadyRevoked, "%s", what)
	}
	rev.BatchHeight, rev.BatchTxIndex, rev.LeafIndex = loc.Height, loc.TxIndex, loc.Leaf
	rev.Reason, rev.ReasonText = m.Reason, m.ReasonText
	rev.Height, rev.Time, rev.RevokedBy = c.e.block.Height, c.now(), by
	value := Encode(rev)
	if err := c.st.Set(key, value); err != nil {
		return err
	}
	c.logRecord(LogLeafRevocation, key, value)
	return nil
}
