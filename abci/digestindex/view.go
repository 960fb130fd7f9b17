package digestindex

import "github.com/gobtechlab/notary/ledger"

// ExecView answers the ledger's digest lookups (ledger.DigestIndex and
// ledger.DigestPrefilter) for the execution of one block: a digest is
// anchored if it was anchored below the block's height. Its lookups add
// the digests to the filter, so that the block's run, once encoded
// (EncodeRun), is saved with SaveRun without touching the filter again; a
// digest added for a transaction that then fails, or for a block that is
// not committed, is a false positive, which costs a lookup and never
// changes an answer.
type ExecView struct {
	x      *Index
	height int64
}

// ExecView returns the view for the execution of the block at height.
func (x *Index) ExecView(height int64) ExecView { return ExecView{x: x, height: height} }

// Lookup implements ledger.DigestIndex.
func (v ExecView) Lookup(alg ledger.HashAlgorithm, digest []byte) (ledger.Locator, bool, error) {
	return v.x.lookupMark(alg, digest, v.height, true)
}

// Prefilter implements ledger.DigestPrefilter: the filter holds every
// digest of the index and every digest looked up through an ExecView.
func (v ExecView) Prefilter(alg ledger.HashAlgorithm, digests []byte, absent []bool) {
	if v.x.filter == nil || alg < 0 || alg > 255 || len(digests) != len(absent)*ledger.DigestSize {
		return
	}
	v.x.filter.mayContainAddBatch(alg, digests, absent)
}

// CheckView answers ledger.DigestIndex (and ledger.IndexPrefilter) for the
// mempool's checks on the state committed at height-1. A recheck (CometBFT
// re-runs CheckTx on every transaction left in the mempool after each
// block) of a batch asks about digests that passed a check of their novelty
// on the state before that block, so they were not anchored then: only the
// block just committed can have anchored them. NotIndexed, which only that
// novelty check asks, then rules out the digests that block does not hold
// (their sorted prefixes, in memory: prefixSet) instead of asking the
// filter about every digest again. Lookup answers from the whole index
// whether or not it is a recheck: a revocation asks it about digests that
// were anchored before, in any block, and must find them.
//
// A CheckView is not safe for concurrent use: its caller serialises the
// checks (and SetRecheck) of one mempool view.
type CheckView struct {
	x          *Index
	height     int64
	recent     *prefixSet
	haveRecent bool
	recheck    bool
}

// CheckView returns the view for the mempool's checks of transactions for
// the block at height, height-1 being the last committed. What it knows of
// the block at height-1 comes from the last Save or SaveRun since the index
// was opened; without it (after a restart), a recheck asks the index.
func (x *Index) CheckView(height int64) *CheckView {
	v := &CheckView{x: x, height: height}
	var recent []uint64
	recent, v.haveRecent = x.recentPrefixes(height - 1)
	v.recent = newPrefixSet(recent)
	return v
}

// SetRecheck says whether the checks that follow are rechecks (see
// CheckView).
func (v *CheckView) SetRecheck(recheck bool) { v.recheck = recheck }

// NotIndexed implements ledger.IndexPrefilter: the view does not add
// digests to the filter (a digest added for a transaction still in the
// mempool would send every lookup of it in FinalizeBlock to the runs), so it
// only rules digests out of the index, and the ledger still looks for them
// among its pending digests. A recheck rules out what the block just
// committed does not hold; a first check asks the filter, in bulk.
func (v *CheckView) NotIndexed(alg ledger.HashAlgorithm, digests []byte, absent []bool) {
	if alg < 0 || alg > 255 || len(digests) != len(absent)*ledger.DigestSize {
		return
	}
	if v.recheck && v.haveRecent {
		ps := make([]uint64, len(absent))
		for i := range absent {
			key, _ := indexKey(alg, digests[i*ledger.DigestSize:(i+1)*ledger.DigestSize])
			ps[i] = prefix(key[:])
		}
		v.recent.containsBatch(ps, absent)
		for i := range absent {
			absent[i] = !absent[i]
		}
		return
	}
	if f := v.x.filter; f != nil {
		f.mayContainBatch(alg, digests, absent)
	}
}

// Lookup implements ledger.DigestIndex: every digest anchored below the
// view's height, a recheck's as a first check's.
func (v *CheckView) Lookup(alg ledger.HashAlgorithm, digest []byte) (ledger.Locator, bool, error) {
	return v.x.lookupMark(alg, digest, v.height, false)
}
