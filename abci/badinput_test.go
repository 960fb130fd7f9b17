package abci

import (
	"bytes"
	"context"
	"crypto/sha256"
	"testing"
	"time"

	abcitypes "github.com/cometbft/cometbft/abci/types"
	"google.golang.org/protobuf/encoding/protojson"
	"google.golang.org/protobuf/proto"

	"github.com/gobtechlab/notary/app/identity"
	"github.com/gobtechlab/notary/ledger"
	notaryv1 "github.com/gobtechlab/notary/proto/notary/v1"
)

// badInputGenesis adds two agencies to the test genesis: sepe may anchor and
// revoke, dgt may only revoke.
func badInputGenesis(t *testing.T) []byte {
	var g notaryv1.GenesisState
	if err := protojson.Unmarshal(genesisJSON(t), &g); err != nil {
		t.Fatal(err)
	}
	g.Agencies = append(g.Agencies,
		&notaryv1.Agency{Id: "sepe", Name: "Servicio Público de Empleo", PubKey: pubOf(key("sepe")),
			Permissions: []notaryv1.Permission{notaryv1.Permission_PERMISSION_ANCHOR, notaryv1.Permission_PERMISSION_REVOKE}},
		&notaryv1.Agency{Id: "dgt", Name: "Dirección General de Tráfico", PubKey: pubOf(key("dgt")),
			Permissions: []notaryv1.Permission{notaryv1.Permission_PERMISSION_REVOKE}},
	)
	b, err := protojson.Marshal(&g)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func anchorBy(agency string, seq uint64, alg notaryv1.HashAlgorithm, ds []byte) []byte {
	return identity.SignTx(testChain, key(agency), &notaryv1.TxBody{Sequence: seq, Msg: &notaryv1.TxBody_AnchorBatch{AnchorBatch: &notaryv1.AnchorBatch{
		AgencyId: agency, HashAlgorithm: alg, Digests: ds,
	}}})
}

func revokeBy(agency string, seq uint64, ds []byte) []byte {
	return identity.SignTx(testChain, key(agency), &notaryv1.TxBody{Sequence: seq, Msg: &notaryv1.TxBody_Revoke{Revoke: &notaryv1.Revoke{
		HashAlgorithm: notaryv1.HashAlgorithm_HASH_ALGORITHM_SHA2_256, Digests: ds,
		Reason: notaryv1.RevocationReason_REVOCATION_REASON_ISSUED_IN_ERROR, ReasonText: "error de emisión",
	}}})
}

// TestBadInputEverywhere: each kind of bad transaction is refused by CheckTx
// with its own stable code, and refused again if a proposer includes it
// anyway: ProcessProposal rejects the proposal (stateless faults) or
// FinalizeBlock fails the transaction with the same code (faults that depend
// on state). Either way nothing is stored: a node that executes the bad
// transaction reaches the same app hash as one that executes an empty block.
func TestBadInputEverywhere(t *testing.T) {
	ctx := context.Background()
	bad, clean := openApp(t, t.TempDir()), openApp(t, t.TempDir())
	defer func() { _ = bad.Close() }()
	defer func() { _ = clean.Close() }()
	gen := badInputGenesis(t)
	initChainWith(t, bad, gen)
	initChainWith(t, clean, gen)

	d1, d2 := digestsOf("aeat-1", 1), digestsOf("sepe-1", 1)
	sha := notaryv1.HashAlgorithm_HASH_ALGORITHM_SHA2_256
	setup := [][]byte{anchorBy("aeat", 0, sha, d1), anchorBy("sepe", 0, sha, d2)}
	for _, r := range block(t, bad, 1, setup...).TxResults {
		if r.Code != 0 {
			t.Fatalf("setup: %d %s", r.Code, r.Log)
		}
	}
	block(t, clean, 1, setup...)

	valid := anchorBy("aeat", 1, sha, digestsOf("fresh", 1))
	var env notaryv1.Tx
	if err := proto.Unmarshal(valid, &env); err != nil {
		t.Fatal(err)
	}
	env.Signature = bytes.Clone(env.Signature)
	env.Signature[7] ^= 0x01
	badSig, err := proto.MarshalOptions{Deterministic: true}.Marshal(&env)
	if err != nil {
		t.Fatal(err)
	}
	oversize := digestsOf("big", int(ledger.DefaultParams().MaxDigestsPerBatch)+1)
	h := sha256.Sum256([]byte("dup"))
	dup := append(h[:], h[:]...)

	cases := []struct {
		name string
		tx   []byte
		want *ledger.Error
		// stateless faults are visible without state: ProcessProposal
		// rejects a proposal that carries them.
		stateless bool
	}{
		{"malformed bytes", []byte{0x0a, 0x05, 0x01}, ledger.ErrMalformedTx, true},
		{"unknown field appended", append(bytes.Clone(valid), 0x20, 0x01), ledger.ErrNonCanonical, true},
		{"field repeated", append(bytes.Clone(valid), valid[:2+int(valid[1])]...), ledger.ErrNonCanonical, true},
		{"wrong chain id", identity.SignTx("other-chain", key("aeat"), &notaryv1.TxBody{Sequence: 1, Msg: &notaryv1.TxBody_AnchorBatch{AnchorBatch: &notaryv1.AnchorBatch{AgencyId: "aeat", HashAlgorithm: sha, Digests: digestsOf("x", 1)}}}), ledger.ErrWrongChain, true},
		{"bad signature", badSig, ledger.ErrBadSignature, true},
		{"replayed sequence", anchorBy("aeat", 0, sha, digestsOf("replay", 1)), ledger.ErrSequenceReplayed, false},
		{"skipped sequence", anchorBy("aeat", 5, sha, digestsOf("skip", 1)), ledger.ErrSequenceSkipped, false},
		{"signer without the permission", anchorBy("dgt", 0, sha, digestsOf("dgt", 1)), ledger.ErrUnauthorized, false},
		{"unknown signer", anchorBy("nobody", 0, sha, digestsOf("nobody", 1)), ledger.ErrUnknownSigner, false},
		{"oversize batch", anchorBy("aeat", 1, sha, oversize), ledger.ErrBatchTooLarge, false},
		{"empty batch", anchorBy("aeat", 1, sha, nil), ledger.ErrEmptyBatch, true},
		{"unknown hash algorithm", anchorBy("aeat", 1, notaryv1.HashAlgorithm(77), digestsOf("alg", 1)), ledger.ErrUnknownHashAlgorithm, true},
		{"wrong digest length", anchorBy("aeat", 1, sha, append(digestsOf("len", 1), 0x00)), ledger.ErrBadDigestLength, true},
		{"duplicate digest in one batch", anchorBy("aeat", 1, sha, dup), ledger.ErrDuplicateInBatch, true},
		{"digest already anchored", anchorBy("aeat", 1, sha, d2), ledger.ErrAlreadyAnchored, false},
		{"revoke a digest never anchored", revokeBy("aeat", 1, digestsOf("never", 1)), ledger.ErrNotAnchored, false},
		{"revoke a digest of another agency", revokeBy("aeat", 1, d2), ledger.ErrNotIssuer, false},
	}
	height := int64(2)
	seen := map[uint32]string{}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			if prev, ok := seen[tc.want.Code()]; ok && prev != tc.name && tc.want != ledger.ErrNonCanonical {
				t.Fatalf("code %d shared with %q", tc.want.Code(), prev)
			}
			seen[tc.want.Code()] = tc.name
			chk, err := bad.CheckTx(ctx, &abcitypes.RequestCheckTx{Tx: tc.tx, Type: abcitypes.CheckTxType_New})
			if err != nil {
				t.Fatal(err)
			}
			if chk.Code != tc.want.Code() || chk.Log == "" {
				t.Fatalf("CheckTx: code %d log %q, want %d (%s)", chk.Code, chk.Log, tc.want.Code(), tc.want)
			}
			proc, err := bad.ProcessProposal(ctx, &abcitypes.RequestProcessProposal{Txs: [][]byte{tc.tx}, Height: height})
			if err != nil {
				t.Fatal(err)
			}
			fin, err := bad.FinalizeBlock(ctx, &abcitypes.RequestFinalizeBlock{Txs: [][]byte{tc.tx}, Height: height, Time: t0.Add(time.Duration(height) * time.Second)})
			if err != nil {
				t.Fatal(err)
			}
			if r := fin.TxResults[0]; r.Code != tc.want.Code() {
				t.Fatalf("FinalizeBlock: code %d (%s), want %d", r.Code, r.Log, tc.want.Code())
			}
			wantProc := abcitypes.ResponseProcessProposal_ACCEPT
			if tc.stateless {
				wantProc = abcitypes.ResponseProcessProposal_REJECT
			}
			if proc.Status != wantProc {
				t.Fatalf("ProcessProposal: %v, want %v", proc.Status, wantProc)
			}
			if _, err := bad.Commit(ctx, &abcitypes.RequestCommit{}); err != nil {
				t.Fatal(err)
			}
			want := block(t, clean, height).AppHash
			if !bytes.Equal(fin.AppHash, want) {
				t.Fatalf("the bad tx changed the state: app hash %X, an empty block gives %X", fin.AppHash, want)
			}
			height++
		})
	}
}
