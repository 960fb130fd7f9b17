package checkpoint_test

import (
	"bytes"
	"context"
	"fmt"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	cmtlog "github.com/cometbft/cometbft/libs/log"
	tnote "github.com/transparency-dev/formats/note"
	"golang.org/x/mod/sumdb/note"
	"google.golang.org/protobuf/proto"

	"github.com/gobtechlab/notary/app"
	"github.com/gobtechlab/notary/app/checkpoint"
	"github.com/gobtechlab/notary/app/witness"
	"github.com/gobtechlab/notary/cmd/verifier/verify"
	"github.com/gobtechlab/notary/ledger"
	notaryv1 "github.com/gobtechlab/notary/proto/notary/v1"
)

// logKeys are the note verifier keys of the test chain's validators, as a
// witness configures them.
func logKeys(t *testing.T) []string {
	t.Helper()
	var keys []string
	for _, id := range ministries {
		k, err := note.NewEd25519VerifierKey(ledger.CheckpointKeyName(chainID, id), pubOf(key("cons/"+id)))
		if err != nil {
			t.Fatal(err)
		}
		keys = append(keys, k)
	}
	return keys
}

// startWitness serves a witness of the test chain's log over loopback and
// returns its URL and cosignature/v1 verifier key.
func startWitness(t *testing.T, name, state string) (url, vkey string) {
	t.Helper()
	skey, vkey, err := witness.GenerateKey(name)
	if err != nil {
		t.Fatal(err)
	}
	signer, _, err := witness.NewSigner(skey)
	if err != nil {
		t.Fatal(err)
	}
	w, err := witness.New(signer, []witness.Log{{Origin: ledger.CheckpointOrigin(chainID), Keys: logKeys(t), Threshold: 3}}, state)
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(w.Handler(vkey))
	t.Cleanup(srv.Close)
	return srv.URL, vkey
}

// signAll gathers 3 of the 4 validators' signatures of the checkpoint of
// size.
func (c *chain) signAll(size uint64) {
	c.t.Helper()
	c.block(c.sign("hacienda", size), c.sign("interior", size), c.sign("sanidad", size))
}

// last is the size of the chain's last checkpoint point.
func (c *chain) last() uint64 {
	c.t.Helper()
	view, err := c.a.StateAt(0)
	if err != nil {
		c.t.Fatal(err)
	}
	_, size, ok, err := ledger.LastCheckpoint(view)
	if err != nil || !ok {
		c.t.Fatalf("no checkpoint point: %v", err)
	}
	return size
}

// cosignedBy checks that b, a served checkpoint, carries a valid
// cosignature of the witness of vkey and more than 2/3 of the validators'
// signatures, and returns its size.
func cosignedBy(t *testing.T, b []byte, vkey string) uint64 {
	t.Helper()
	cv, err := tnote.NewVerifierForCosignatureV1(vkey)
	if err != nil {
		t.Fatal(err)
	}
	n, err := note.Open(b, note.VerifierList(cv))
	if err != nil || len(n.Sigs) != 1 {
		t.Fatalf("cosignature: %v\n%s", err, b)
	}
	// The witness package's check, on the checkpoint without the
	// cosignature and the cosignature line alone.
	i := bytes.LastIndex(b[:len(b)-1], []byte("\n")) + 1
	if _, err := witness.VerifyCosignatures(b[:i], b[i:], note.VerifierList(cv)); err != nil {
		t.Fatalf("VerifyCosignatures: %v", err)
	}
	got, err := verify.VerifyLogCheckpoint(chainID, b, validators())
	if err != nil {
		t.Fatalf("validators' signatures: %v\n%s", err, b)
	}
	return got.Size
}

// stepUntil steps ws until it serves its latest checkpoint of size with a
// cosignature of the first witness (the tiles are written beside the
// blocks: a proof may wait for them), at most 10 seconds.
func stepUntil(t *testing.T, ws *checkpoint.Witnesses, size uint64) ([]byte, bool, error) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for {
		ws.Step(context.Background())
		b, ok, err := ws.Latest()
		done := bytes.Contains(b, []byte(fmt.Sprintf("\n%d\n", size))) && bytes.Contains(b, []byte("\n— witness.audit.example/"))
		if err != nil || !ok || done || time.Now().After(deadline) {
			return b, ok, err
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// TestWitnesses runs a real application's checkpoints through witnesses
// served over loopback: the first valid checkpoint is cosigned (from size
// 0) and served with its cosignature, a later one is cosigned after a
// consistency proof built from the tiles, a submitter that starts afresh
// learns the witness's size from its 409, and a witness configured with
// another key leaves the checkpoint served without its cosignature, logged.
func TestWitnesses(t *testing.T) {
	c := newChain(t, 2)
	notes := c.notes()
	url, vkey := startWitness(t, "witness.audit.example/w1", t.TempDir()+"/state.json")
	badURL, _ := startWitness(t, "witness.uni.example/w1", t.TempDir()+"/state.json")
	_, otherKey, err := witness.GenerateKey("witness.uni.example/w1")
	if err != nil {
		t.Fatal(err)
	}
	var logs bytes.Buffer
	cfg := []app.WitnessConfig{{URL: url, Key: vkey}, {URL: badURL, Key: otherKey}}
	ws, err := checkpoint.NewWitnesses(notes, c.a.LogTiles().HashReader, cfg, cmtlog.NewTMLogger(&logs), time.Millisecond)
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()

	c.anchor("a") // size 1
	ws.Step(ctx)  // no valid checkpoint yet: nothing to submit
	if _, ok, err := ws.Latest(); ok || err != nil {
		t.Fatalf("a checkpoint before any: %v", err)
	}
	c.anchor("b")
	c.anchor("c") // size 3
	c.signAll(3)
	b, ok, err := stepUntil(t, ws, 3)
	if err != nil || !ok {
		t.Fatalf("Latest: %v", err)
	}
	if size := cosignedBy(t, b, vkey); size != 3 {
		t.Fatalf("cosigned size %d, want 3", size)
	}
	if at, _, _ := ws.At(3); !bytes.Equal(at, b) {
		t.Fatalf("At(3) without the cosignature:\n%s", at)
	}
	if strings.Contains(string(b), "witness.uni.example") {
		t.Fatalf("served a cosignature that does not verify with the configured key:\n%s", b)
	}
	if !strings.Contains(logs.String(), "does not verify with key "+otherKey) {
		t.Fatalf("the refused cosignature is not logged:\n%s", logs.String())
	}

	// A later checkpoint: cosigned after a consistency proof from 3.
	c.anchor("d")
	c.anchor("e")
	second := c.last()
	if second <= 3 {
		t.Fatalf("no later checkpoint point: %d", second)
	}
	c.signAll(second)
	b, _, _ = stepUntil(t, ws, second)
	if size := cosignedBy(t, b, vkey); size != second {
		t.Fatalf("cosigned size %d, want %d\n%s", size, second, logs.String())
	}
	// The older checkpoint stays served, with its cosignature held.
	if at, ok, _ := ws.At(3); !ok || cosignedBy(t, at, vkey) != 3 {
		t.Fatalf("At(3):\n%s", at)
	}

	// A submitter that starts afresh (a restarted node) sends from 0, is
	// told the witness's size, and is cosigned again from there.
	fresh, err := checkpoint.NewWitnesses(notes, c.a.LogTiles().HashReader, cfg[:1], cmtlog.NewNopLogger(), time.Millisecond)
	if err != nil {
		t.Fatal(err)
	}
	b, _, _ = stepUntil(t, fresh, second)
	if size := cosignedBy(t, b, vkey); size != second {
		t.Fatalf("restarted: cosigned size %d, want %d", size, second)
	}
	c.anchor("f")
	c.anchor("g")
	c.anchor("h")
	third := c.last()
	if third <= second {
		t.Fatalf("no later checkpoint point: %d", third)
	}
	c.signAll(third)
	if err := fresh.Start(); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(10 * time.Second)
	for {
		b, _, _ = fresh.Latest()
		if strings.Contains(string(b), "witness.audit.example") || time.Now().After(deadline) {
			break
		}
		time.Sleep(10 * time.Millisecond)
	}
	if err := fresh.Stop(); err != nil {
		t.Fatal(err)
	}
	if size := cosignedBy(t, b, vkey); size != third {
		t.Fatalf("cosigned size %d, want %d", size, third)
	}
}

// TestWitnessesPolicy: with a witness threshold in force, Latest serves
// the latest checkpoint cosigned by that many registered witnesses while
// a newer one waits for its cosignatures; without a threshold, or once
// cosigned, the newest.
func TestWitnessesPolicy(t *testing.T) {
	c := newChain(t, 1)
	url, vkey := startWitness(t, "witness.audit.example/w1", t.TempDir()+"/state.json")
	ws, err := checkpoint.NewWitnesses(c.notes(), c.a.LogTiles().HashReader, []app.WitnessConfig{{URL: url, Key: vkey}}, cmtlog.NewNopLogger(), time.Millisecond)
	if err != nil {
		t.Fatal(err)
	}
	params := proto.Clone(ledger.DefaultParams()).(*notaryv1.Params)
	params.Witnesses = []*notaryv1.Witness{{Name: "Tribunal de Cuentas", Key: vkey}}
	params.WitnessThreshold = 1
	ws.CheckRegistered(func() (*notaryv1.Params, error) { return params, nil })

	c.anchor("a")
	c.anchor("b")
	c.signAll(2)
	b, _, err := stepUntil(t, ws, 2)
	if err != nil || cosignedBy(t, b, vkey) != 2 {
		t.Fatalf("first checkpoint: %v\n%s", err, b)
	}
	c.anchor("c")
	c.anchor("d")
	newer := c.last()
	if newer <= 2 {
		t.Fatalf("no later checkpoint point: %d", newer)
	}
	c.signAll(newer)

	for _, tc := range []struct {
		name      string
		threshold uint32
		step      bool
		want      uint64
		cosigned  bool
	}{
		{"threshold, newest not cosigned", 1, false, 2, true},
		{"no threshold", 0, false, newer, false},
		{"threshold, newest cosigned", 1, true, newer, true},
	} {
		params.WitnessThreshold = tc.threshold
		var b []byte
		if tc.step {
			b, _, err = stepUntil(t, ws, newer)
		} else {
			b, _, err = ws.Latest()
		}
		if err != nil {
			t.Fatalf("%s: %v", tc.name, err)
		}
		got, err := verify.VerifyLogCheckpoint(chainID, b, validators())
		if err != nil {
			t.Fatalf("%s: %v\n%s", tc.name, err, b)
		}
		if got.Size != tc.want || strings.Contains(string(b), "witness.audit.example") != tc.cosigned {
			t.Fatalf("%s: size %d, want %d\n%s", tc.name, got.Size, tc.want, b)
		}
	}
}

// TestWitnessesUnreachable: a witness that cannot be reached is tried again
// after a wait, and the checkpoint is served without its cosignature.
func TestWitnessesUnreachable(t *testing.T) {
	c := newChain(t, 1)
	srv := httptest.NewServer(nil)
	url := srv.URL
	srv.Close()
	_, vkey, err := witness.GenerateKey("witness.gone.example/w1")
	if err != nil {
		t.Fatal(err)
	}
	var logs bytes.Buffer
	ws, err := checkpoint.NewWitnesses(c.notes(), c.a.LogTiles().HashReader, []app.WitnessConfig{{URL: url, Key: vkey}}, cmtlog.NewTMLogger(&logs), time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	c.anchor("a")
	c.signAll(1)
	ws.Step(context.Background())
	ws.Step(context.Background()) // within the wait: not tried
	if n := strings.Count(logs.String(), "checkpoint not cosigned"); n != 1 {
		t.Fatalf("%d errors logged, want 1 (then a wait):\n%s", n, logs.String())
	}
	b, ok, err := ws.Latest()
	if err != nil || !ok {
		t.Fatalf("Latest: %v", err)
	}
	if _, err := verify.VerifyLogCheckpoint(chainID, b, validators()); err != nil || strings.Contains(string(b), "witness.gone") {
		t.Fatalf("%v\n%s", err, b)
	}
}

// TestWitnessesRegistered: a configured witness whose key governance did
// not register is logged as a warning at the first step and again when the
// registered list changes, not at every step; once registered, it is said
// so.
func TestWitnessesRegistered(t *testing.T) {
	c := newChain(t, 1)
	_, vkey, err := witness.GenerateKey("witness.audit.example/w1")
	if err != nil {
		t.Fatal(err)
	}
	var logs bytes.Buffer
	ws, err := checkpoint.NewWitnesses(c.notes(), c.a.LogTiles().HashReader, []app.WitnessConfig{{URL: "http://127.0.0.1:1", Key: vkey}}, cmtlog.NewTMLogger(&logs), time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	params := ledger.DefaultParams()
	ws.CheckRegistered(func() (*notaryv1.Params, error) { return params, nil })
	ws.Step(context.Background())
	ws.Step(context.Background())
	if n := strings.Count(logs.String(), "witness not registered by governance"); n != 1 {
		t.Fatalf("%d warnings, want 1:\n%s", n, logs.String())
	}
	params = proto.Clone(params).(*notaryv1.Params)
	params.Witnesses = []*notaryv1.Witness{{Name: "Tribunal de Cuentas", Key: vkey}}
	params.WitnessThreshold = 1
	ws.Step(context.Background())
	if n := strings.Count(logs.String(), "witness registered by governance"); n != 1 || strings.Count(logs.String(), "not registered") != 1 {
		t.Fatalf("after registration:\n%s", logs.String())
	}
}
