// Package abcitest generates seeded streams of notary transactions, valid and
// invalid mixed, for randomized, determinism and crash tests and for
// benchmarks. Given the same seed and the same feedback (Observe), a Gen
// produces the same transactions on every machine.
package abcitest

import (
	"crypto/ed25519"
	"crypto/sha256"
	"encoding/binary"
	"fmt"
	"math/rand/v2"
	"time"

	"google.golang.org/protobuf/types/known/timestamppb"

	"github.com/gobtechlab/notary/app/identity"
	"github.com/gobtechlab/notary/ledger"
	notaryv1 "github.com/gobtechlab/notary/proto/notary/v1"
)

// Key derives a deterministic ed25519 key from a name.
func Key(name string) ed25519.PrivateKey {
	seed := sha256.Sum256([]byte("abcitest/" + name))
	return ed25519.NewKeyFromSeed(seed[:])
}

// Pub returns the public key of k.
func Pub(k ed25519.PrivateKey) []byte { return k.Public().(ed25519.PublicKey) }

// Agencies of the generated genesis: the first three may anchor, revoke,
// record exchanges and enrol citizens, "ro" may do nothing.
var Agencies = []string{"aeat", "sepe", "dgt", "ro"}

// Citizens of the generated scenarios, enrolled in genesis.
var Citizens = []string{"ana", "luis", "marta"}

// MaxActiveConsents is the generated genesis' limit on a subject's active
// consents: low, so that the generated grants reach it.
const MaxActiveConsents = 4

// Genesis returns the genesis state the generator's transactions are for:
// one ministry (key "gov/hacienda", consensus key "cons/hacienda"), the
// agencies above (key "agency/<id>") and the citizens above (key
// "citizen/<name>"); citizen enrolment is ACCREDITED.
func Genesis() *notaryv1.GenesisState {
	g := &notaryv1.GenesisState{Params: ledger.DefaultParams()}
	g.Params.MaxActiveConsentsPerSubject = MaxActiveConsents
	g.Ministries = []*notaryv1.Ministry{{
		Id: "hacienda", Name: "Ministerio de Hacienda",
		GovPubKey: Pub(Key("gov/hacienda")), ConsensusPubKey: Pub(Key("cons/hacienda")), Power: 10,
	}}
	for _, id := range Agencies {
		a := &notaryv1.Agency{Id: id, Name: "Agencia " + id, PubKey: Pub(Key("agency/" + id))}
		if id != "ro" {
			a.Permissions = []notaryv1.Permission{
				notaryv1.Permission_PERMISSION_ANCHOR, notaryv1.Permission_PERMISSION_REVOKE, notaryv1.Permission_PERMISSION_EXCHANGE,
				notaryv1.Permission_PERMISSION_ENROLL,
			}
		}
		g.Agencies = append(g.Agencies, a)
	}
	for _, c := range Citizens {
		g.Citizens = append(g.Citizens, Pub(Key("citizen/"+c)))
	}
	return g
}

// Kind names what a generated transaction is meant to exercise.
type Kind string

// Generated kinds.
const (
	KindAnchor          Kind = "anchor"
	KindAnchorDup       Kind = "anchor-duplicate"
	KindRevoke          Kind = "revoke"
	KindRevokeForeign   Kind = "revoke-foreign"
	KindRevokeUnknown   Kind = "revoke-unknown"
	KindGrant           Kind = "grant-consent"
	KindBadSequence     Kind = "bad-sequence"
	KindNoPermission    Kind = "no-permission"
	KindGarbage         Kind = "garbage"
	KindNonCanonical    Kind = "non-canonical"
	KindBadDigestLen    Kind = "bad-digest-length"
	KindDupInBatch      Kind = "duplicate-in-batch"
	KindWrongChain      Kind = "wrong-chain"
	KindBadSignature    Kind = "bad-signature"
	KindUnknownAlgoritm Kind = "unknown-algorithm"
	KindEnroll          Kind = "enroll-citizen"
	KindEnrollTwice     Kind = "enroll-twice"
	KindNotEnrolled     Kind = "not-enrolled"
)

// Tx is a generated transaction.
type Tx struct {
	Raw    []byte
	Kind   Kind
	Signer string // key name, "" for garbage
	// Digests anchored or revoked by the transaction (concatenated).
	Digests []byte
	// Citizen is the key name of the citizen an EnrollCitizen enrols.
	Citizen string
}

// Gen generates transactions. It tracks each key's next sequence and the
// digests it believes anchored; Observe tells it which transactions succeeded.
type Gen struct {
	r        *rand.Rand
	chainID  string
	seq      map[string]uint64
	anchored map[string][][]byte // agency -> digests anchored (observed)
	citizens []string            // key names of enrolled citizens (observed)
	fresh    uint64              // citizen keys made
	counter  uint64
	// MaxBatch bounds the digests of a generated batch (default 8).
	MaxBatch int
	// Invalid is the share, in percent, of deliberately invalid transactions.
	Invalid int
	now     time.Time
}

// New returns a generator for chainID with a fixed seed.
func New(seed uint64, chainID string) *Gen {
	return &Gen{
		r: rand.New(rand.NewPCG(seed, seed^0x9e3779b97f4a7c15)), chainID: chainID,
		seq: map[string]uint64{}, anchored: map[string][][]byte{}, MaxBatch: 8, Invalid: 30,
		citizens: citizenNames(),
		now:      time.Date(2026, 11, 23, 0, 0, 0, 0, time.UTC),
	}
}

// Digest returns a fresh digest, unique within the generator.
func (g *Gen) Digest() []byte {
	g.counter++
	var b [8]byte
	binary.BigEndian.PutUint64(b[:], g.counter)
	d := sha256.Sum256(append([]byte(g.chainID+"/digest/"), b[:]...))
	return d[:]
}

func citizenNames() []string {
	out := make([]string, len(Citizens))
	for i, c := range Citizens {
		out[i] = "citizen/" + c
	}
	return out
}

// newCitizen returns the key name of a citizen never used before.
func (g *Gen) newCitizen() string {
	g.fresh++
	return fmt.Sprintf("citizen/new-%d", g.fresh)
}

func enrollMsg(agency string, key []byte) *notaryv1.TxBody {
	return &notaryv1.TxBody{Msg: &notaryv1.TxBody_EnrollCitizen{EnrollCitizen: &notaryv1.EnrollCitizen{AgencyId: agency, PubKey: key}}}
}

func (g *Gen) sign(name string, body *notaryv1.TxBody) []byte {
	body.Sequence = g.seq[name]
	return identity.SignTx(g.chainID, Key(name), body)
}

func (g *Gen) pickAgency(withPerm bool) string {
	if withPerm {
		return Agencies[g.r.IntN(len(Agencies)-1)]
	}
	return Agencies[g.r.IntN(len(Agencies))]
}

func anchorMsg(agency string, alg notaryv1.HashAlgorithm, ds []byte) *notaryv1.TxBody {
	return &notaryv1.TxBody{Msg: &notaryv1.TxBody_AnchorBatch{AnchorBatch: &notaryv1.AnchorBatch{AgencyId: agency, HashAlgorithm: alg, Digests: ds}}}
}

func revokeMsg(ds []byte) *notaryv1.TxBody {
	return &notaryv1.TxBody{Msg: &notaryv1.TxBody_Revoke{Revoke: &notaryv1.Revoke{
		HashAlgorithm: notaryv1.HashAlgorithm_HASH_ALGORITHM_SHA2_256, Digests: ds,
		Reason: notaryv1.RevocationReason_REVOCATION_REASON_SUPERSEDED, ReasonText: "superseded",
	}}}
}

// Next returns the next transaction.
func (g *Gen) Next() Tx {
	if g.r.IntN(100) < g.Invalid {
		return g.invalid()
	}
	switch n := g.r.IntN(10); {
	case n < 6:
		return g.Anchor(g.pickAgency(true), 1+g.r.IntN(g.MaxBatch))
	case n < 8:
		a := g.pickAgency(true)
		if ds := g.anchored[a]; len(ds) > 0 {
			d := ds[g.r.IntN(len(ds))]
			name := "agency/" + a
			return Tx{Raw: g.sign(name, revokeMsg(d)), Kind: KindRevoke, Signer: name, Digests: d}
		}
		return g.Anchor(a, 1)
	case n < 9 || g.r.IntN(3) > 0:
		return g.grant(g.citizens[g.r.IntN(len(g.citizens))], KindGrant)
	default:
		a := g.pickAgency(true)
		name, c := "agency/"+a, g.newCitizen()
		return Tx{Raw: g.sign(name, enrollMsg(a, Pub(Key(c)))), Kind: KindEnroll, Signer: name, Citizen: c}
	}
}

// grant returns a GrantConsent signed by the citizen key name.
func (g *Gen) grant(name string, kind Kind) Tx {
	body := &notaryv1.TxBody{Msg: &notaryv1.TxBody_GrantConsent{GrantConsent: &notaryv1.GrantConsent{
		Subject: ledger.SubjectID(Pub(Key(name))), AgencyId: g.pickAgency(true),
		Category:  ledger.DefaultCategories[g.r.IntN(len(ledger.DefaultCategories))],
		Purpose:   ledger.DefaultPurposes[g.r.IntN(len(ledger.DefaultPurposes))],
		ValidFrom: timestamppb.New(g.now), ValidUntil: timestamppb.New(g.now.AddDate(1, 0, 0)),
	}}}
	return Tx{Raw: g.sign(name, body), Kind: kind, Signer: name}
}

// Anchor returns a valid AnchorBatch of n fresh digests by agency.
func (g *Gen) Anchor(agency string, n int) Tx {
	var ds []byte
	for i := 0; i < n; i++ {
		ds = append(ds, g.Digest()...)
	}
	name := "agency/" + agency
	return Tx{Raw: g.sign(name, anchorMsg(agency, notaryv1.HashAlgorithm_HASH_ALGORITHM_SHA2_256, ds)), Kind: KindAnchor, Signer: name, Digests: ds}
}

func (g *Gen) invalid() Tx {
	a := g.pickAgency(true)
	name := "agency/" + a
	switch g.r.IntN(14) {
	case 12:
		return g.grant(g.newCitizen(), KindNotEnrolled)
	case 13:
		c := g.citizens[g.r.IntN(len(g.citizens))]
		return Tx{Raw: g.sign(name, enrollMsg(a, Pub(Key(c)))), Kind: KindEnrollTwice, Signer: name, Citizen: c}
	case 0:
		if ds := g.anchored[a]; len(ds) > 0 {
			d := ds[g.r.IntN(len(ds))]
			return Tx{Raw: g.sign(name, anchorMsg(a, 1, d)), Kind: KindAnchorDup, Signer: name, Digests: d}
		}
		fallthrough
	case 1:
		for _, o := range Agencies {
			if ds := g.anchored[o]; o != a && len(ds) > 0 {
				d := ds[g.r.IntN(len(ds))]
				return Tx{Raw: g.sign(name, revokeMsg(d)), Kind: KindRevokeForeign, Signer: name, Digests: d}
			}
		}
		fallthrough
	case 2:
		return Tx{Raw: g.sign(name, revokeMsg(g.Digest())), Kind: KindRevokeUnknown, Signer: name}
	case 3:
		body := anchorMsg(a, 1, g.Digest())
		body.Sequence = g.seq[name] + 1 + uint64(g.r.IntN(3))
		if g.seq[name] > 0 && g.r.IntN(2) == 0 {
			body.Sequence = g.seq[name] - 1
		}
		return Tx{Raw: identity.SignTx(g.chainID, Key(name), body), Kind: KindBadSequence, Signer: name}
	case 4:
		ro := "agency/ro"
		return Tx{Raw: g.sign(ro, anchorMsg("ro", 1, g.Digest())), Kind: KindNoPermission, Signer: ro}
	case 5:
		b := make([]byte, 1+g.r.IntN(64))
		for i := range b {
			b[i] = byte(g.r.UintN(256))
		}
		return Tx{Raw: b, Kind: KindGarbage}
	case 6:
		raw := g.sign(name, anchorMsg(a, 1, g.Digest()))
		return Tx{Raw: append(raw, 0x20, byte(1+g.r.IntN(100))), Kind: KindNonCanonical, Signer: name}
	case 7:
		return Tx{Raw: g.sign(name, anchorMsg(a, 1, g.Digest()[:1+g.r.IntN(31)])), Kind: KindBadDigestLen, Signer: name}
	case 8:
		d := g.Digest()
		return Tx{Raw: g.sign(name, anchorMsg(a, 1, append(append([]byte{}, d...), d...))), Kind: KindDupInBatch, Signer: name}
	case 9:
		body := anchorMsg(a, 1, g.Digest())
		body.Sequence = g.seq[name]
		return Tx{Raw: identity.SignTx(g.chainID+"-other", Key(name), body), Kind: KindWrongChain, Signer: name}
	case 10:
		raw := g.sign(name, anchorMsg(a, 1, g.Digest()))
		raw[len(raw)-1-g.r.IntN(64)] ^= 0x40
		return Tx{Raw: raw, Kind: KindBadSignature, Signer: name}
	default:
		return Tx{Raw: g.sign(name, anchorMsg(a, 7, g.Digest())), Kind: KindUnknownAlgoritm, Signer: name}
	}
}

// Observe tells the generator whether tx succeeded, so that sequences and
// anchored digests follow the chain.
func (g *Gen) Observe(tx Tx, ok bool) {
	if !ok || tx.Signer == "" {
		return
	}
	g.seq[tx.Signer]++
	if tx.Kind == KindEnroll {
		g.citizens = append(g.citizens, tx.Citizen)
	}
	if tx.Kind == KindAnchor {
		agency := tx.Signer[len("agency/"):]
		for i := 0; i+ledger.DigestSize <= len(tx.Digests); i += ledger.DigestSize {
			g.anchored[agency] = append(g.anchored[agency], tx.Digests[i:i+ledger.DigestSize])
		}
	}
}

// String describes the generator's position, for test failure messages.
func (g *Gen) String() string { return fmt.Sprintf("abcitest.Gen{%d digests}", g.counter) }
