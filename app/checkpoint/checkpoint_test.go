package checkpoint_test

import (
	"context"
	"crypto/ed25519"
	"crypto/sha256"
	"encoding/base64"
	"fmt"
	"testing"
	"time"

	abcitypes "github.com/cometbft/cometbft/abci/types"
	"golang.org/x/mod/sumdb/note"
	"google.golang.org/protobuf/encoding/protojson"

	"github.com/gobtechlab/notary/abci"
	"github.com/gobtechlab/notary/app/checkpoint"
	"github.com/gobtechlab/notary/app/identity"
	"github.com/gobtechlab/notary/cmd/verifier/verify"
	"github.com/gobtechlab/notary/ledger"
	notaryv1 "github.com/gobtechlab/notary/proto/notary/v1"
)

const chainID = "notary-ckpt-test"

var ministries = []string{"hacienda", "interior", "sanidad", "trabajo"}

func key(name string) ed25519.PrivateKey {
	seed := sha256.Sum256([]byte("checkpoint-test/" + name))
	return ed25519.NewKeyFromSeed(seed[:])
}

func pubOf(k ed25519.PrivateKey) []byte { return k.Public().(ed25519.PublicKey) }

// chain is a real application (IAVL on disk) run block by block.
type chain struct {
	t      *testing.T
	a      *abci.Application
	height int64
	seq    uint64
}

func newChain(t *testing.T, interval uint64) *chain {
	t.Helper()
	p := ledger.DefaultParams()
	p.CheckpointInterval = interval
	g := &notaryv1.GenesisState{Params: p, Agencies: []*notaryv1.Agency{{
		Id: "aeat", Name: "Agencia Tributaria", PubKey: pubOf(key("aeat")),
		Permissions: []notaryv1.Permission{notaryv1.Permission_PERMISSION_ANCHOR},
	}}}
	for _, id := range ministries {
		g.Ministries = append(g.Ministries, &notaryv1.Ministry{
			Id: id, Name: "Ministerio de " + id, GovPubKey: pubOf(key("gov/" + id)), ConsensusPubKey: pubOf(key("cons/" + id)), Power: 10,
		})
	}
	state, err := protojson.Marshal(g)
	if err != nil {
		t.Fatal(err)
	}
	a, err := abci.NewApplication(abci.DefaultOptions(t.TempDir(), chainID))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = a.Close() })
	if _, err := a.InitChain(context.Background(), &abcitypes.RequestInitChain{ChainId: chainID, InitialHeight: 1, AppStateBytes: state, Time: time.Unix(1e9, 0)}); err != nil {
		t.Fatal(err)
	}
	return &chain{t: t, a: a}
}

// block runs a block of txs through FinalizeBlock and Commit and returns
// the transactions' result codes.
func (c *chain) block(txs ...[]byte) []uint32 {
	c.t.Helper()
	c.height++
	ctx := context.Background()
	fin, err := c.a.FinalizeBlock(ctx, &abcitypes.RequestFinalizeBlock{Txs: txs, Height: c.height, Time: time.Unix(1e9+c.height, 0), Hash: []byte(fmt.Sprint("block ", c.height))})
	if err != nil {
		c.t.Fatal(err)
	}
	if _, err := c.a.Commit(ctx, &abcitypes.RequestCommit{}); err != nil {
		c.t.Fatal(err)
	}
	var codes []uint32
	for _, r := range fin.TxResults {
		codes = append(codes, r.Code)
	}
	return codes
}

func (c *chain) anchor(tag string) {
	c.t.Helper()
	d := sha256.Sum256([]byte(tag))
	tx := identity.SignTx(chainID, key("aeat"), &notaryv1.TxBody{Sequence: c.seq, Msg: &notaryv1.TxBody_AnchorBatch{AnchorBatch: &notaryv1.AnchorBatch{
		AgencyId: "aeat", HashAlgorithm: notaryv1.HashAlgorithm_HASH_ALGORITHM_SHA2_256, Digests: d[:],
	}}})
	if codes := c.block(tx); codes[0] != 0 {
		c.t.Fatalf("anchor: code %d", codes[0])
	}
	c.seq++
}

// sign is ministry id's CheckpointSignature of the checkpoint of size.
func (c *chain) sign(id string, size uint64) []byte {
	c.t.Helper()
	view, err := c.a.StateAt(0)
	if err != nil {
		c.t.Fatal(err)
	}
	ck, err := ledger.LoadCheckpoint(view, size)
	if err != nil || ck == nil {
		c.t.Fatalf("no checkpoint of size %d: %v", size, err)
	}
	k := key("cons/" + id)
	text := ledger.CheckpointText(ledger.CheckpointOrigin(chainID), ck.Size, ck.Root)
	return identity.SignTx(chainID, k, &notaryv1.TxBody{Msg: &notaryv1.TxBody_CheckpointSignature{CheckpointSignature: &notaryv1.CheckpointSignature{
		Size: size, PubKey: pubOf(k), Signature: ed25519.Sign(k, text),
	}}})
}

func (c *chain) notes() *checkpoint.Notes {
	return checkpoint.NewNotes(chainID, func() (checkpoint.State, error) { return c.a.StateAt(0) })
}

func validators() []verify.LogValidator {
	var out []verify.LogValidator
	for _, id := range ministries {
		out = append(out, verify.LogValidator{MinistryID: id, PubKey: pubOf(key("cons/" + id)), Power: 10})
	}
	return out
}

// TestGatherAndServe runs the checkpoint points of a real application,
// gathers its validators' signatures through CheckTx and blocks, and checks
// the served notes: none valid until 3 of the 4 signed, then the latest
// valid one, which verifies with verify.VerifyLogCheckpoint and note.Open
// and names the log's size and root at its height.
func TestGatherAndServe(t *testing.T) {
	c := newChain(t, 2)
	notes := c.notes()
	c.anchor("a") // height 1: the first checkpoint point, size 1
	c.anchor("b") // height 2: within the interval
	c.anchor("c") // height 3: size 3
	if _, ok, err := notes.Latest(); ok || err != nil {
		t.Fatalf("a valid checkpoint before any signature: %v", err)
	}
	if _, ok, _ := notes.At(2); ok {
		t.Fatal("a checkpoint of size 2, which no block ended with at an interval")
	}

	// CheckTx takes a signature once.
	first := c.sign("hacienda", 3)
	ctx := context.Background()
	for i, want := range []uint32{0, ledger.ErrCheckpointSigned.Code()} {
		res, err := c.a.CheckTx(ctx, &abcitypes.RequestCheckTx{Tx: first})
		if err != nil || res.Code != want {
			t.Fatalf("CheckTx %d: code %d (%s), want %d; %v", i, res.GetCode(), res.GetLog(), want, err)
		}
	}
	if codes := c.block(first, c.sign("interior", 3), first); fmt.Sprint(codes) != fmt.Sprint([]uint32{0, 0, ledger.ErrCheckpointSigned.Code()}) {
		t.Fatalf("codes %v", codes)
	}
	if _, ok, _ := notes.Latest(); ok {
		t.Fatal("valid with 2 of 4")
	}
	b, ok, err := notes.At(3)
	if err != nil || !ok {
		t.Fatalf("At(3): %v", err)
	}
	if _, err := verify.VerifyLogCheckpoint(chainID, b, validators()); err == nil {
		t.Fatal("2 of 4 verified")
	}
	c.block(c.sign("sanidad", 3))
	b, ok, err = notes.Latest()
	if err != nil || !ok {
		t.Fatalf("Latest: %v %v", ok, err)
	}
	got, err := verify.VerifyLogCheckpoint(chainID, b, validators())
	if err != nil {
		t.Fatalf("%v\n%s", err, b)
	}
	want, err := c.a.EvidenceLog(3)
	if err != nil {
		t.Fatal(err)
	}
	if got.Size != 3 || string(got.Root) != string(want.Root) || len(got.Signers) != 3 {
		t.Fatalf("checkpoint %+v, the log at height 3 %d %x", got, want.Size, want.Root)
	}
	var vs []note.Verifier
	for _, v := range validators() {
		nv, err := checkpoint.Verifier(verify.LogKeyName(chainID, v.MinistryID), v.PubKey)
		if err != nil {
			t.Fatal(err)
		}
		vs = append(vs, nv)
	}
	n, err := note.Open(b, note.VerifierList(vs...))
	if err != nil || len(n.Sigs) != 3 {
		t.Fatalf("note.Open: %v", err)
	}

	// A later checkpoint becomes the latest once it has a quorum; until
	// then the earlier one is served.
	c.anchor("d") // height 6: size 4
	if b2, _, _ := notes.Latest(); string(b2) != string(b) {
		t.Fatal("the latest changed before the new checkpoint was signed")
	}
	var txs [][]byte
	for _, id := range ministries {
		txs = append(txs, c.sign(id, 4))
	}
	c.block(txs...)
	b, _, _ = notes.Latest()
	if got, err = verify.VerifyLogCheckpoint(chainID, b, validators()); err != nil || got.Size != 4 || len(got.Signers) != 4 {
		t.Fatalf("latest %+v, %v", got, err)
	}
}

// TestNoteFormat: the note of a checkpoint is its C2SP body, a blank line
// and a signature line per signature of a validator of the checkpoint.
func TestNoteFormat(t *testing.T) {
	root := sha256.Sum256([]byte("root"))
	ck := &notaryv1.LogCheckpoint{Size: 7, Root: root[:], Height: 9, Validators: []*notaryv1.LogCheckpointValidator{
		{MinistryId: "hacienda", PubKey: pubOf(key("cons/hacienda")), Power: 10},
	}}
	text := ledger.CheckpointText(ledger.CheckpointOrigin(chainID), 7, root[:])
	if want := fmt.Sprintf("notary.gobtechlab/%s\n7\n%s\n", chainID, base64.StdEncoding.EncodeToString(root[:])); string(text) != want {
		t.Fatalf("body %q, want %q", text, want)
	}
	b, err := checkpoint.Note(chainID, ck, []ledger.CheckpointSignature{
		{MinistryID: "hacienda", Signature: ed25519.Sign(key("cons/hacienda"), text)},
		{MinistryID: "outsider", Signature: ed25519.Sign(key("cons/outsider"), text)},
	})
	if err != nil {
		t.Fatal(err)
	}
	v, err := checkpoint.Verifier(ledger.CheckpointKeyName(chainID, "hacienda"), pubOf(key("cons/hacienda")))
	if err != nil {
		t.Fatal(err)
	}
	n, err := note.Open(b, note.VerifierList(v))
	if err != nil || n.Text != string(text) || len(n.Sigs) != 1 || len(n.UnverifiedSigs) != 0 {
		t.Fatalf("note %q: %v", b, err)
	}
}
