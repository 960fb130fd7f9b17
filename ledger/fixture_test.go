package ledger

import (
	"crypto/ed25519"
	"crypto/sha256"
	"errors"
	"testing"
	"time"

	"google.golang.org/protobuf/types/known/timestamppb"

	notaryv1 "github.com/gobtechlab/notary/proto/notary/v1"
)

const testChain = "notary-test"

// testKey derives a deterministic ed25519 key from a name.
func testKey(name string) ed25519.PrivateKey {
	seed := sha256.Sum256([]byte("ledger-test/" + name))
	return ed25519.NewKeyFromSeed(seed[:])
}

func pub(k ed25519.PrivateKey) []byte { return k.Public().(ed25519.PublicKey) }

// signTx signs body with k for chainID.
func signTx(chainID string, k ed25519.PrivateKey, body *notaryv1.TxBody) []byte {
	return EncodeSigned(chainID, pub(k), body, func(m []byte) []byte { return ed25519.Sign(k, m) })
}

// memIndex is a DigestIndex of committed blocks, for tests.
type memIndex map[digestKey]Locator

func (m memIndex) Lookup(alg HashAlgorithm, d []byte) (Locator, bool, error) {
	loc, ok := m[makeDigestKey(alg, d)]
	return loc, ok, nil
}

// fixture is a chain in memory: genesis with ministries and agencies, and a
// helper to run blocks.
type fixture struct {
	t      *testing.T
	l      *Ledger
	st     *MemStore
	idx    memIndex
	height int64
	time   time.Time
	seq    map[string]uint64
	// leaves are the evidence log leaves of the last block (Exec.LogLeaves).
	leaves [][]byte
}

var genesisTime = time.Date(2026, 11, 23, 9, 0, 0, 0, time.UTC)

// ministryGov and ministryCons name the keys of ministry id.
func ministryGov(id string) ed25519.PrivateKey  { return testKey("gov/" + id) }
func ministryCons(id string) ed25519.PrivateKey { return testKey("cons/" + id) }
func agencyKey(id string) ed25519.PrivateKey    { return testKey("agency/" + id) }
func citizenKey(name string) ed25519.PrivateKey { return testKey("citizen/" + name) }

var allPerms = []notaryv1.Permission{
	notaryv1.Permission_PERMISSION_ANCHOR,
	notaryv1.Permission_PERMISSION_REVOKE,
	notaryv1.Permission_PERMISSION_EXCHANGE,
	notaryv1.Permission_PERMISSION_ENROLL,
}

// genesisCitizens are the citizens enrolled in testGenesis.
var genesisCitizens = []string{"ana", "bea", "dora"}

// testGenesis has four ministries of power 10, three agencies: "aeat"
// (all permissions), "sepe" (all permissions) and "readonly" (none), and the
// citizens of genesisCitizens. Its params are DefaultParams: citizen
// enrolment ACCREDITED.
func testGenesis() *notaryv1.GenesisState {
	g := &notaryv1.GenesisState{Params: DefaultParams()}
	for _, id := range []string{"hacienda", "interior", "sanidad", "trabajo"} {
		g.Ministries = append(g.Ministries, &notaryv1.Ministry{
			Id: id, Name: "Ministerio de " + id,
			GovPubKey: pub(ministryGov(id)), ConsensusPubKey: pub(ministryCons(id)), Power: 10,
		})
	}
	for _, a := range []struct {
		id    string
		perms []notaryv1.Permission
	}{{"aeat", allPerms}, {"sepe", allPerms}, {"readonly", nil}} {
		g.Agencies = append(g.Agencies, &notaryv1.Agency{Id: a.id, Name: "Agencia " + a.id, PubKey: pub(agencyKey(a.id)), Permissions: a.perms})
	}
	for _, name := range genesisCitizens {
		g.Citizens = append(g.Citizens, pub(citizenKey(name)))
	}
	return g
}

// openGenesis is testGenesis as a chain created before citizen enrolment,
// the consent limit and stateless empty blocks: its params leave them unset.
func openGenesis() *notaryv1.GenesisState {
	g := testGenesis()
	g.Params.CitizenEnrollment = notaryv1.CitizenEnrollment_CITIZEN_ENROLLMENT_UNSPECIFIED
	g.Params.MaxActiveConsentsPerSubject = 0
	g.Params.StatelessEmptyBlocks = false
	g.Citizens = nil
	return g
}

func enrollBody(agency string, key []byte) *notaryv1.TxBody {
	return &notaryv1.TxBody{Msg: &notaryv1.TxBody_EnrollCitizen{EnrollCitizen: &notaryv1.EnrollCitizen{AgencyId: agency, PubKey: key}}}
}

func newFixture(t *testing.T, g *notaryv1.GenesisState) *fixture {
	t.Helper()
	f := &fixture{t: t, l: New(testChain), st: NewMemStore(), idx: memIndex{}, height: 1, time: genesisTime, seq: map[string]uint64{}}
	if _, err := f.l.InitGenesis(f.st, g, 1); err != nil {
		t.Fatalf("genesis: %v", err)
	}
	return f
}

// sign builds a transaction of key with its next sequence (tracked by the
// fixture: it advances only when the caller says the tx succeeded, see block).
func (f *fixture) sign(key ed25519.PrivateKey, body *notaryv1.TxBody) []byte {
	body.Sequence = f.seq[string(pub(key))]
	return signTx(testChain, key, body)
}

// signSeq builds a transaction with an explicit sequence.
func (f *fixture) signSeq(key ed25519.PrivateKey, seq uint64, body *notaryv1.TxBody) []byte {
	body.Sequence = seq
	return signTx(testChain, key, body)
}

// block runs one block of raw transactions and commits its digests to the
// index. A transaction that does not decode gets its decode error.
func (f *fixture) block(txs ...[]byte) []Outcome {
	f.t.Helper()
	e, err := f.l.NewExec(f.st, f.idx, BlockInfo{Height: f.height, Time: f.time}, ModeDeliver)
	if err != nil {
		f.t.Fatalf("NewExec: %v", err)
	}
	outs := make([]Outcome, len(txs))
	for i, raw := range txs {
		tx, err := DecodeTx(testChain, raw, 0)
		if err != nil {
			outs[i] = Outcome{Err: err}
			continue
		}
		out, err := e.Run(uint32(i), tx)
		if err != nil {
			f.t.Fatalf("Run: store error %v", err)
		}
		if out.Err == nil && !tx.Unordered() {
			f.seq[string(tx.Signer)]++
		}
		outs[i] = out
	}
	if _, err := e.End(); err != nil {
		f.t.Fatalf("End: %v", err)
	}
	_, f.leaves = e.LogLeaves()
	for _, d := range Entries(e.NewBatches()) {
		f.idx[makeDigestKey(d.Algorithm, d.Digest)] = d.Locator
	}
	f.height++
	f.time = f.time.Add(time.Second)
	return outs
}

// one runs a block with a single transaction and returns its outcome.
func (f *fixture) one(raw []byte) Outcome { return f.block(raw)[0] }

func mustOK(t *testing.T, out Outcome) {
	t.Helper()
	if out.Err != nil {
		t.Fatalf("unexpected failure: %v", out.Err)
	}
}

func mustFail(t *testing.T, out Outcome, want *Error) {
	t.Helper()
	if out.Err == nil {
		t.Fatalf("unexpected success, want %v", want)
	}
	if !errors.Is(out.Err, want) {
		t.Fatalf("got %v (code %d), want %v (code %d)", out.Err, CodeOf(out.Err), want, want.Code())
	}
}

// digests returns n distinct digests derived from a tag.
func digests(tag string, n int) []byte {
	out := make([]byte, 0, n*DigestSize)
	for i := 0; i < n; i++ {
		d := sha256.Sum256([]byte(tag + "/" + string(rune('a'+i%26)) + "/" + itoa(i)))
		out = append(out, d[:]...)
	}
	return out
}

func itoa(i int) string {
	if i == 0 {
		return "0"
	}
	var b []byte
	for i > 0 {
		b = append([]byte{byte('0' + i%10)}, b...)
		i /= 10
	}
	return string(b)
}

func anchorBody(agency string, ds []byte) *notaryv1.TxBody {
	return &notaryv1.TxBody{Msg: &notaryv1.TxBody_AnchorBatch{AnchorBatch: &notaryv1.AnchorBatch{
		AgencyId: agency, HashAlgorithm: notaryv1.HashAlgorithm_HASH_ALGORITHM_SHA2_256, Digests: ds,
	}}}
}

func revokeBody(ds []byte) *notaryv1.TxBody {
	return &notaryv1.TxBody{Msg: &notaryv1.TxBody_Revoke{Revoke: &notaryv1.Revoke{
		HashAlgorithm: notaryv1.HashAlgorithm_HASH_ALGORITHM_SHA2_256, Digests: ds,
		Reason: notaryv1.RevocationReason_REVOCATION_REASON_ISSUED_IN_ERROR, ReasonText: "error de emisión",
	}}}
}

func ts(t time.Time) *timestamppb.Timestamp { return timestamppb.New(t) }
