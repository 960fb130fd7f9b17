package ledger_test

import (
	"encoding/hex"
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/gobtechlab/notary/abci/abcitest"
	"github.com/gobtechlab/notary/ledger"
	notaryv1 "github.com/gobtechlab/notary/proto/notary/v1"
)

// TestRandomized is a model-based randomized test in the manner of IAVL's
// tree_random_test.go: fixed seeds, valid and invalid transactions mixed,
// every outcome checked against a plain in-memory model of the rules, and the
// ledger's state compared with the model after every block.
func TestRandomized(t *testing.T) {
	for _, seed := range []uint64{7, 11, 99, 123456} {
		t.Run(fmt.Sprint(seed), func(t *testing.T) { runModel(t, seed, 60) })
	}
}

// model is what the rules say the state must be, kept in maps.
type model struct {
	seq      map[string]uint64 // hex pub key -> next sequence
	anchored map[string]modelDigest
	revoked  map[string]bool
	consents int
	active   map[string]int // citizen key name -> active consents
	enrolled int            // citizens enrolled by EnrollCitizen
}

type modelDigest struct {
	loc    ledger.Locator
	agency string
}

type index map[string]ledger.Locator

// errGarbage stands for any refusal of random bytes before the state is read.
var errGarbage = errors.New("any envelope error")

func isEnvelopeError(err error) bool {
	for _, e := range []error{ledger.ErrMalformedTx, ledger.ErrNonCanonical, ledger.ErrWrongChain,
		ledger.ErrBadPublicKey, ledger.ErrBadSignature, ledger.ErrNoMessage} {
		if errors.Is(err, e) {
			return true
		}
	}
	return false
}

func dkey(alg ledger.HashAlgorithm, d []byte) string { return fmt.Sprintf("%d/%x", alg, d) }

func (x index) Lookup(alg ledger.HashAlgorithm, d []byte) (ledger.Locator, bool, error) {
	l, ok := x[dkey(alg, d)]
	return l, ok, nil
}

const modelChain = "notary-model"

func runModel(t *testing.T, seed uint64, blocks int) {
	l := ledger.New(modelChain)
	st := ledger.NewMemStore()
	if _, err := l.InitGenesis(st, abcitest.Genesis(), 1); err != nil {
		t.Fatal(err)
	}
	g := abcitest.New(seed, modelChain)
	idx := index{}
	m := &model{seq: map[string]uint64{}, anchored: map[string]modelDigest{}, revoked: map[string]bool{}, active: map[string]int{}}
	kinds := map[abcitest.Kind]int{}
	now := time.Date(2026, 11, 23, 12, 0, 0, 0, time.UTC)
	for h := int64(1); h <= int64(blocks); h++ {
		e, err := l.NewExec(st, idx, ledger.BlockInfo{Height: h, Time: now}, ledger.ModeDeliver)
		if err != nil {
			t.Fatal(err)
		}
		pending := map[string]modelDigest{}
		for i := 0; i < int(seed%7)+3; i++ {
			tx := g.Next()
			kinds[tx.Kind]++
			want := m.predict(tx, ledger.Locator{Height: h, TxIndex: uint32(i)}, pending)
			var got error
			if dec, err := ledger.DecodeTx(modelChain, tx.Raw, 0); err != nil {
				got = err
			} else {
				out, err := e.Run(uint32(i), dec)
				if err != nil {
					t.Fatalf("store error: %v", err)
				}
				got = out.Err
			}
			if want == errGarbage && isEnvelopeError(got) {
				want = got
			}
			if (want == nil) != (got == nil) || (want != nil && !errors.Is(got, want)) {
				t.Fatalf("seed %d height %d tx %d (%s): got %v, model says %v", seed, h, i, tx.Kind, got, want)
			}
			if got == nil {
				m.commit(tx, ledger.Locator{Height: h, TxIndex: uint32(i)}, pending)
			}
			g.Observe(tx, got == nil)
		}
		if _, err := e.End(); err != nil {
			t.Fatal(err)
		}
		for _, d := range ledger.Entries(e.NewBatches()) {
			idx[dkey(d.Algorithm, d.Digest)] = d.Locator
		}
		m.check(t, st, idx)
		now = now.Add(time.Second)
	}
	for _, k := range []abcitest.Kind{abcitest.KindAnchor, abcitest.KindRevoke, abcitest.KindGrant, abcitest.KindAnchorDup, abcitest.KindGarbage,
		abcitest.KindEnroll, abcitest.KindNotEnrolled} {
		if kinds[k] == 0 {
			t.Fatalf("seed %d never generated %s", seed, k)
		}
	}
}

// predict returns the error the rules give tx, or nil.
func (m *model) predict(tx abcitest.Tx, at ledger.Locator, pending map[string]modelDigest) error {
	switch tx.Kind {
	case abcitest.KindGarbage:
		return errGarbage
	case abcitest.KindNonCanonical:
		return ledger.ErrNonCanonical
	case abcitest.KindWrongChain:
		return ledger.ErrWrongChain
	case abcitest.KindBadSignature:
		return ledger.ErrBadSignature
	case abcitest.KindNoPermission:
		return ledger.ErrUnauthorized
	case abcitest.KindNotEnrolled:
		return ledger.ErrNotEnrolled
	}
	pub := hex.EncodeToString(abcitest.Pub(abcitest.Key(tx.Signer)))
	dec, err := ledger.DecodeTx(modelChain, tx.Raw, 0)
	if err != nil {
		return err
	}
	if s := dec.Body.Sequence; s < m.seq[pub] {
		return ledger.ErrSequenceReplayed
	} else if s > m.seq[pub] {
		return ledger.ErrSequenceSkipped
	}
	switch tx.Kind {
	case abcitest.KindBadDigestLen:
		return ledger.ErrBadDigestLength
	case abcitest.KindDupInBatch:
		return ledger.ErrDuplicateInBatch
	case abcitest.KindUnknownAlgoritm:
		return ledger.ErrUnknownHashAlgorithm
	case abcitest.KindAnchor, abcitest.KindAnchorDup:
		for i := 0; i < len(tx.Digests); i += ledger.DigestSize {
			k := dkey(1, tx.Digests[i:i+ledger.DigestSize])
			if _, ok := m.anchored[k]; ok {
				return ledger.ErrAlreadyAnchored
			}
			if _, ok := pending[k]; ok {
				return ledger.ErrAlreadyAnchored
			}
		}
		return nil
	case abcitest.KindRevoke, abcitest.KindRevokeForeign, abcitest.KindRevokeUnknown:
		k := dkey(1, tx.Digests)
		if tx.Kind == abcitest.KindRevokeUnknown {
			k = dkey(1, dec.Body.GetRevoke().Digests)
		}
		d, ok := m.anchored[k]
		if !ok {
			d, ok = pending[k]
		}
		switch {
		case !ok:
			return ledger.ErrNotAnchored
		case d.agency != tx.Signer[len("agency/"):]:
			return ledger.ErrNotIssuer
		case m.revoked[k]:
			return ledger.ErrAlreadyRevoked
		}
		return nil
	case abcitest.KindGrant:
		if m.active[tx.Signer] >= abcitest.MaxActiveConsents {
			return ledger.ErrConsentLimit
		}
		return nil
	case abcitest.KindEnroll:
		return nil
	case abcitest.KindEnrollTwice:
		return ledger.ErrKeyInUse
	}
	return fmt.Errorf("model: unknown kind %s", tx.Kind)
}

// commit applies a successful tx to the model.
func (m *model) commit(tx abcitest.Tx, at ledger.Locator, pending map[string]modelDigest) {
	pub := hex.EncodeToString(abcitest.Pub(abcitest.Key(tx.Signer)))
	m.seq[pub]++
	switch tx.Kind {
	case abcitest.KindAnchor:
		for i := 0; i < len(tx.Digests); i += ledger.DigestSize {
			loc := at
			loc.Leaf = uint32(i / ledger.DigestSize)
			md := modelDigest{loc: loc, agency: tx.Signer[len("agency/"):]}
			m.anchored[dkey(1, tx.Digests[i:i+ledger.DigestSize])] = md
			pending[dkey(1, tx.Digests[i:i+ledger.DigestSize])] = md
		}
	case abcitest.KindRevoke:
		m.revoked[dkey(1, tx.Digests)] = true
	case abcitest.KindGrant:
		m.consents++
		m.active[tx.Signer]++
	case abcitest.KindEnroll:
		m.enrolled++
	}
}

// check compares the ledger's state with the model.
func (m *model) check(t *testing.T, st *ledger.MemStore, idx index) {
	t.Helper()
	for k, d := range m.anchored {
		if idx[k] != d.loc {
			t.Fatalf("digest %s: index has %v, model %v", k, idx[k], d.loc)
		}
		v, _ := st.Get(ledger.BatchKey(d.loc.Height, d.loc.TxIndex))
		var b notaryv1.Batch
		if err := ledger.DecodeCanonical(v, &b); err != nil || b.AgencyId != d.agency || b.Count <= d.loc.Leaf {
			t.Fatalf("batch of %s: %v %v", k, &b, err)
		}
	}
	if len(idx) != len(m.anchored) {
		t.Fatalf("index has %d digests, model %d", len(idx), len(m.anchored))
	}
	revs := 0
	_ = st.Iterate([]byte("rev/"), ledger.PrefixEnd([]byte("rev/")), func(k, v []byte) bool { revs++; return true })
	if revs != len(m.revoked) {
		t.Fatalf("state has %d revocations, model %d", revs, len(m.revoked))
	}
	for pub, seq := range m.seq {
		b, _ := hex.DecodeString(pub)
		v, _ := st.Get(ledger.AccountKey(b))
		var a notaryv1.Account
		if err := ledger.DecodeCanonical(v, &a); err != nil || a.NextSequence != seq {
			t.Fatalf("account %s: next sequence %d, model %d (%v)", pub[:8], a.NextSequence, seq, err)
		}
	}
	consents := 0
	_ = st.Iterate([]byte("consent/"), ledger.PrefixEnd([]byte("consent/")), func(k, v []byte) bool { consents++; return true })
	if consents != m.consents {
		t.Fatalf("state has %d consents, model %d", consents, m.consents)
	}
	enrolled := 0
	_ = st.Iterate([]byte("acct/"), ledger.PrefixEnd([]byte("acct/")), func(k, v []byte) bool {
		var a notaryv1.Account
		if ledger.DecodeCanonical(v, &a) == nil && a.EnrolledBy != "" {
			enrolled++
		}
		return true
	})
	if enrolled != m.enrolled {
		t.Fatalf("state has %d enrolled citizens, model %d", enrolled, m.enrolled)
	}
}
