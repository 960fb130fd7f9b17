package gateway_test

import (
	"context"
	"crypto/sha256"
	"encoding/binary"
	"math/rand"
	"testing"
	"time"

	ics23 "github.com/cosmos/ics23/go"
	"github.com/transparency-dev/merkle/proof"
	"github.com/transparency-dev/merkle/rfc6962"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/proto"

	"github.com/gobtechlab/notary/app/apptest"
	"github.com/gobtechlab/notary/app/client"
	"github.com/gobtechlab/notary/app/identity"
	"github.com/gobtechlab/notary/ledger"
	notaryv1 "github.com/gobtechlab/notary/proto/notary/v1"
)

const sha2 = notaryv1.HashAlgorithm_HASH_ALGORITHM_SHA2_256

func ctxT(t testing.TB) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	t.Cleanup(cancel)
	return ctx
}

// digestsOf returns n distinct digests derived from seed, concatenated.
func digestsOf(seed string, n int) []byte {
	out := make([]byte, 0, n*ledger.DigestSize)
	var b [8]byte
	for i := 0; i < n; i++ {
		binary.BigEndian.PutUint64(b[:], uint64(i))
		s := sha256.Sum256(append([]byte(seed+"/"), b[:]...))
		out = append(out, s[:]...)
	}
	return out
}

func randomDigests(rng *rand.Rand, n int) []byte {
	out := make([]byte, n*ledger.DigestSize)
	rng.Read(out)
	return out
}

func digestAt(ds []byte, i int) []byte { return ds[i*ledger.DigestSize : (i+1)*ledger.DigestSize] }

func anchorBody(agency string, seq uint64, ds []byte) *notaryv1.TxBody {
	return &notaryv1.TxBody{Sequence: seq, Msg: &notaryv1.TxBody_AnchorBatch{AnchorBatch: &notaryv1.AnchorBatch{
		AgencyId: agency, HashAlgorithm: sha2, Digests: ds}}}
}

func revokeBody(seq uint64, ds []byte, text string) *notaryv1.TxBody {
	return &notaryv1.TxBody{Sequence: seq, Msg: &notaryv1.TxBody_Revoke{Revoke: &notaryv1.Revoke{
		HashAlgorithm: sha2, Digests: ds, Reason: notaryv1.RevocationReason_REVOCATION_REASON_SUPERSEDED, ReasonText: text}}}
}

// signer signs consecutive transactions of one identity.
type signer struct {
	id  *identity.Identity
	seq uint64
}

func (s *signer) sign(body *notaryv1.TxBody) []byte {
	body.Sequence = s.seq
	s.seq++
	return s.id.SignTx(body)
}

func wantCode(t testing.TB, err error, want codes.Code, what string) {
	t.Helper()
	if got := status.Code(err); got != want {
		t.Fatalf("%s: got %v (%v), want %v", what, got, err, want)
	}
}

// appHashOf returns the app hash of state version h as the header of h+1
// carries it, waiting for that block.
func appHashOf(t testing.TB, n *apptest.Node, h int64) []byte {
	t.Helper()
	n.WaitHeight(t, h+1)
	header, err := n.Chain().Header(h + 1)
	if err != nil {
		t.Fatal(err)
	}
	return header.AppHash
}

func decodeProof(t testing.TB, bz []byte) *ics23.CommitmentProof {
	t.Helper()
	var p ics23.CommitmentProof
	if err := p.Unmarshal(bz); err != nil {
		t.Fatalf("proof does not decode: %v", err)
	}
	return &p
}

// verifyMember checks an ICS23 existence proof with the unmodified verifier.
func verifyMember(t testing.TB, root, proofBytes, key, value []byte) {
	t.Helper()
	if !ics23.VerifyMembership(ics23.IavlSpec, root, decodeProof(t, proofBytes), key, value) {
		t.Fatalf("membership proof of %q does not verify against %X", key, root)
	}
}

// verifyAbsent checks an ICS23 non-existence proof.
func verifyAbsent(t testing.TB, root, proofBytes, key []byte) {
	t.Helper()
	if !ics23.VerifyNonMembership(ics23.IavlSpec, root, decodeProof(t, proofBytes), key) {
		t.Fatalf("non-membership proof of %q does not verify against %X", key, root)
	}
}

// verifyPath checks an RFC 6962 inclusion path with transparency-dev/merkle.
func verifyPath(t testing.TB, digest []byte, leaf, size uint32, path [][]byte, root []byte) {
	t.Helper()
	if err := proof.VerifyInclusion(rfc6962.DefaultHasher, uint64(leaf), uint64(size), rfc6962.DefaultHasher.HashLeaf(digest), path, root); err != nil {
		t.Fatalf("merkle path of leaf %d/%d: %v", leaf, size, err)
	}
}

// signedRead signs req with the citizen's key (client.SignRead) and
// returns it.
func signedRead[R proto.Message](t testing.TB, id *identity.Identity, req R) R {
	t.Helper()
	if err := client.SignRead(id, req); err != nil {
		t.Fatal(err)
	}
	return req
}

// newCitizen returns a fresh citizen identity of chain chainID.
func newCitizen(t testing.TB, chainID string) *identity.Identity {
	t.Helper()
	id, err := identity.Generate(identity.RoleCitizen, "citizen", chainID)
	if err != nil {
		t.Fatal(err)
	}
	return id
}
