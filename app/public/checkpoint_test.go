package public_test

import (
	"context"
	"crypto/ed25519"
	"io"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	abcitypes "github.com/cometbft/cometbft/abci/types"
	cmtlog "github.com/cometbft/cometbft/libs/log"
	tnote "github.com/transparency-dev/formats/note"
	"golang.org/x/mod/sumdb/note"
	"google.golang.org/protobuf/encoding/protojson"

	"github.com/gobtechlab/notary/abci"
	"github.com/gobtechlab/notary/abci/abcitest"
	"github.com/gobtechlab/notary/app"
	"github.com/gobtechlab/notary/app/checkpoint"
	"github.com/gobtechlab/notary/app/identity"
	"github.com/gobtechlab/notary/app/public"
	"github.com/gobtechlab/notary/app/witness"
	"github.com/gobtechlab/notary/cmd/verifier/verify"
	"github.com/gobtechlab/notary/ledger"
	notaryv1 "github.com/gobtechlab/notary/proto/notary/v1"
)

// TestCheckpointRoutes: a real application anchors and its one validator
// signs the checkpoint; /log/checkpoint is 404 until then and then the
// signed note, /log/checkpoint/<size> a recorded size, 404 another, 400 a
// size that is not decimal; served through checkpoint.Witnesses, both carry
// a witness's cosignature as well.
func TestCheckpointRoutes(t *testing.T) {
	const chain = "ckpt-http"
	ctx := context.Background()
	a, err := abci.NewApplication(abci.DefaultOptions(t.TempDir(), chain))
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = a.Close() }()
	gen, _ := protojson.Marshal(abcitest.Genesis())
	if _, err := a.InitChain(ctx, &abcitypes.RequestInitChain{ChainId: chain, InitialHeight: 1, AppStateBytes: gen, Time: time.Unix(1_800_000_000, 0)}); err != nil {
		t.Fatal(err)
	}
	height := int64(0)
	block := func(txs ...[]byte) {
		height++
		fin, err := a.FinalizeBlock(ctx, &abcitypes.RequestFinalizeBlock{Txs: txs, Height: height, Time: time.Unix(1_800_000_000+height, 0)})
		if err != nil {
			t.Fatal(err)
		}
		for _, r := range fin.TxResults {
			if r.Code != 0 {
				t.Fatalf("height %d: code %d %s", height, r.Code, r.Log)
			}
		}
		if _, err := a.Commit(ctx, &abcitypes.RequestCommit{}); err != nil {
			t.Fatal(err)
		}
	}
	g := abcitest.New(7, chain)
	block(g.Anchor("aeat", 3).Raw)
	notes := checkpoint.NewNotes(chain, func() (checkpoint.State, error) { return a.StateAt(0) })
	base := serve(t, app.PublicConfig{RatePerSecond: 1e6, Burst: 1e6}, nil, public.Options{Checkpoints: notes})
	get := func(path string) (int, string, http.Header) {
		resp, err := http.Get(base + path)
		if err != nil {
			t.Fatal(err)
		}
		defer func() { _ = resp.Body.Close() }()
		b, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, string(b), resp.Header
	}
	if code, body, _ := get("/log/checkpoint"); code != http.StatusNotFound {
		t.Fatalf("before any signature: %d %s", code, body)
	}

	view, err := a.StateAt(0)
	if err != nil {
		t.Fatal(err)
	}
	ck, err := ledger.LoadCheckpoint(view, 1)
	if err != nil || ck == nil {
		t.Fatalf("no checkpoint of size 1: %v", err)
	}
	k := abcitest.Key("cons/hacienda")
	pub := k.Public().(ed25519.PublicKey)
	sig := ed25519.Sign(k, ledger.CheckpointText(ledger.CheckpointOrigin(chain), 1, ck.Root))
	block(identity.SignTx(chain, k, &notaryv1.TxBody{Msg: &notaryv1.TxBody_CheckpointSignature{CheckpointSignature: &notaryv1.CheckpointSignature{Size: 1, PubKey: pub, Signature: sig}}}))

	vals := []verify.LogValidator{{MinistryID: "hacienda", PubKey: pub, Power: 10}}
	for _, p := range []string{"/log/checkpoint", "/log/checkpoint/1"} {
		code, body, h := get(p)
		if code != http.StatusOK || h.Get("Content-Type") != "text/plain; charset=utf-8" || h.Get("Cache-Control") != "public, max-age=5" {
			t.Fatalf("%s: %d %v %s", p, code, h, body)
		}
		c, err := verify.VerifyLogCheckpoint(chain, []byte(body), vals)
		if err != nil || c.Size != 1 || string(c.Root) != string(ck.Root) {
			t.Fatalf("%s: %+v %v", p, c, err)
		}
	}
	for path, want := range map[string]int{
		"/log/checkpoint/2":  http.StatusNotFound,
		"/log/checkpoint/01": http.StatusBadRequest,
		"/log/checkpoint/x":  http.StatusBadRequest,
		"/log/checkpoint/":   http.StatusBadRequest,
	} {
		if code, body, _ := get(path); code != want {
			t.Errorf("%s: %d %s, want %d", path, code, body, want)
		}
	}
	// Served through the witnesses: the same note with a witness's
	// cosignature line appended, one note that verifies with the
	// validators' keys and with the witness's.
	vkeyLog, err := note.NewEd25519VerifierKey(ledger.CheckpointKeyName(chain, "hacienda"), pub)
	if err != nil {
		t.Fatal(err)
	}
	skey, vkey, err := witness.GenerateKey("witness.audit.example/w1")
	if err != nil {
		t.Fatal(err)
	}
	signer, _, err := witness.NewSigner(skey)
	if err != nil {
		t.Fatal(err)
	}
	w, err := witness.New(signer, []witness.Log{{Origin: ledger.CheckpointOrigin(chain), Keys: []string{vkeyLog}}}, t.TempDir()+"/state.json")
	if err != nil {
		t.Fatal(err)
	}
	wsrv := httptest.NewServer(w.Handler(vkey))
	defer wsrv.Close()
	ws, err := checkpoint.NewWitnesses(notes, a.LogTiles().HashReader, []app.WitnessConfig{{URL: wsrv.URL, Key: vkey}}, cmtlog.NewNopLogger(), time.Second)
	if err != nil {
		t.Fatal(err)
	}
	ws.Step(ctx)
	base = serve(t, app.PublicConfig{RatePerSecond: 1e6, Burst: 1e6}, nil, public.Options{Checkpoints: ws})
	cv, err := tnote.NewVerifierForCosignatureV1(vkey)
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range []string{"/log/checkpoint", "/log/checkpoint/1"} {
		code, body, _ := get(p)
		if code != http.StatusOK {
			t.Fatalf("%s: %d %s", p, code, body)
		}
		if c, err := verify.VerifyLogCheckpoint(chain, []byte(body), vals); err != nil || c.Size != 1 {
			t.Fatalf("%s: validators' signatures: %v\n%s", p, err, body)
		}
		if n, err := note.Open([]byte(body), note.VerifierList(cv)); err != nil || len(n.Sigs) != 1 {
			t.Fatalf("%s: cosignature: %v\n%s", p, err, body)
		}
	}
}
