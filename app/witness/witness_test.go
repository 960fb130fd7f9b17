package witness_test

import (
	"bytes"
	"context"
	"encoding/base64"
	"errors"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	fnote "github.com/transparency-dev/formats/note"
	"golang.org/x/mod/sumdb/note"

	"github.com/gobtechlab/notary/app/witness"
)

const testOrigin = "notary.test/log"

// testWitness is a witness served over loopback HTTP.
type testWitness struct {
	w      *witness.Witness
	vkey   string
	client *witness.Client
	state  string
	srv    *httptest.Server
}

func startWitness(t *testing.T, skey string, logs []witness.Log, state string) *testWitness {
	t.Helper()
	signer, vkey, err := witness.NewSigner(skey)
	if err != nil {
		t.Fatal(err)
	}
	w, err := witness.New(signer, logs, state)
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(w.Handler(vkey))
	t.Cleanup(srv.Close)
	return &testWitness{w: w, vkey: vkey, client: &witness.Client{URL: srv.URL, HTTP: srv.Client()}, state: state, srv: srv}
}

// statusOf is the HTTP status a client call ended with.
func statusOf(err error) int {
	var se *witness.StatusError
	var ce *witness.ConflictError
	switch {
	case err == nil:
		return http.StatusOK
	case errors.As(err, &ce):
		return http.StatusConflict
	case errors.As(err, &se):
		return se.Status
	}
	return -1
}

// checkCosignature verifies cosig on checkpoint with the ecosystem's
// cosignature/v1 verifier and checks its timestamp.
func checkCosignature(t *testing.T, vkey string, checkpoint, cosig []byte) {
	t.Helper()
	v, err := fnote.NewVerifierForCosignatureV1(vkey)
	if err != nil {
		t.Fatal(err)
	}
	n, err := witness.VerifyCosignatures(checkpoint, cosig, note.VerifierList(v))
	if err != nil {
		t.Fatalf("cosignature does not verify: %v\n%s%s", err, checkpoint, cosig)
	}
	if len(n.Sigs) != 1 {
		t.Fatalf("%d verified cosignatures, want 1", len(n.Sigs))
	}
	ts, err := fnote.CoSigV1Timestamp(n.Sigs[0])
	if err != nil {
		t.Fatal(err)
	}
	if d := time.Since(ts); d < -time.Minute || d > time.Minute {
		t.Errorf("cosignature time %v, now %v", ts, time.Now())
	}
}

// TestAddCheckpoint runs a witness over loopback HTTP through a log's life:
// a first checkpoint, consistent growth, and every refusal of C2SP
// tlog-witness; then a restart that keeps the witness's memory.
func TestAddCheckpoint(t *testing.T) {
	vals := newValidators(t, 4)
	skey, _, err := witness.GenerateKey("witness.audit.test/w1")
	if err != nil {
		t.Fatal(err)
	}
	logs := []witness.Log{
		{Origin: testOrigin, Keys: vals.vkeys, Threshold: 3},
		{Origin: "second.test/log", Keys: vals.vkeys[:1]},
	}
	state := filepath.Join(t.TempDir(), "state.json")
	tw := startWitness(t, skey, logs, state)

	lg := newTestLog(t, testOrigin)
	fork := newTestLog(t, testOrigin)
	other := newTestLog(t, "other.test/log")
	other.append("o", 3)
	second := newTestLog(t, "second.test/log")
	second.append("s", 6)
	var forkRoot12 []byte

	three := vals.signers[:3]
	var cosigned uint64
	var cosignedRoot []byte

	type step struct {
		name string
		// prepare changes the logs and returns the request.
		prepare func() (old uint64, proof [][]byte, cp []byte)
		status  int
		// conflict is the size a 409 for a stale old size carries.
		conflict uint64
		msg      string
	}
	steps := []step{
		{name: "first checkpoint, old 0", status: 200, prepare: func() (uint64, [][]byte, []byte) {
			lg.append("a", 5)
			fork.append("a", 5)
			return 0, nil, lg.checkpoint(three...)
		}},
		{name: "consistent growth", status: 200, prepare: func() (uint64, [][]byte, []byte) {
			lg.append("b", 7)
			return cosigned, lg.consistency(cosigned, cosignedRoot), lg.checkpoint(vals.signers...)
		}},
		{name: "same checkpoint again", status: 200, prepare: func() (uint64, [][]byte, []byte) {
			return cosigned, nil, lg.checkpoint(vals.signers[1:]...)
		}},
		{name: "stale old size", status: 409, conflict: 12, prepare: func() (uint64, [][]byte, []byte) {
			lg.append("c", 1)
			return 5, lg.consistency(12, cosignedRoot), lg.checkpoint(three...)
		}},
		{name: "old 0 after a cosignature", status: 409, conflict: 12, prepare: func() (uint64, [][]byte, []byte) {
			return 0, nil, lg.checkpoint(three...)
		}},
		{name: "fork at the cosigned size", status: 409, msg: "different root", prepare: func() (uint64, [][]byte, []byte) {
			fork.append("forged", 7)
			forkRoot12 = fork.root()
			return 12, nil, fork.checkpoint(three...)
		}},
		{name: "larger fork, its own proof", status: 422, msg: "consistency proof", prepare: func() (uint64, [][]byte, []byte) {
			fork.append("forged", 8)
			return 12, fork.consistency(12, forkRoot12), fork.checkpoint(vals.signers...)
		}},
		{name: "proof of the wrong sizes", status: 422, msg: "wrong proof size", prepare: func() (uint64, [][]byte, []byte) {
			return 12, lg.consistency(5, nil), lg.checkpoint(three...)
		}},
		{name: "proof from size 0 not empty", status: 422, msg: "from size 0 must be empty", prepare: func() (uint64, [][]byte, []byte) {
			return 0, second.consistency(2, nil), second.checkpoint(vals.signers[0])
		}},
		{name: "size 0 with a root not empty", status: 422, msg: "empty root", prepare: func() (uint64, [][]byte, []byte) {
			empty := newTestLog(t, "second.test/log")
			cp := empty.checkpoint(vals.signers[0])
			n, err := note.Open(cp, note.VerifierList(vals.verifier[0]))
			if err != nil {
				t.Fatal(err)
			}
			text := strings.Replace(n.Text, base64.StdEncoding.EncodeToString(empty.root()), base64.StdEncoding.EncodeToString(second.root()), 1)
			signed, err := note.Sign(&note.Note{Text: text}, vals.signers[0])
			if err != nil {
				t.Fatal(err)
			}
			return 0, nil, signed
		}},
		{name: "another log, its first checkpoint", status: 200, prepare: func() (uint64, [][]byte, []byte) {
			return 0, nil, second.checkpoint(vals.signers[0])
		}},
		{name: "two of four keys, three needed", status: 403, msg: "2 of its keys signed, 3 needed", prepare: func() (uint64, [][]byte, []byte) {
			return 12, lg.consistency(12, cosignedRoot), lg.checkpoint(vals.signers[2:]...)
		}},
		{name: "one key signing twice", status: 403, msg: "1 of its keys signed, 3 needed", prepare: func() (uint64, [][]byte, []byte) {
			cp := lg.checkpoint(vals.signers[0])
			return 12, lg.consistency(12, cosignedRoot), append(cp, lastLine(cp)...)
		}},
		{name: "no key of the log", status: 403, msg: "none is by a key of the log", prepare: func() (uint64, [][]byte, []byte) {
			stranger := newValidators(t, 3)
			return 12, lg.consistency(12, cosignedRoot), lg.checkpoint(stranger.signers...)
		}},
		{name: "a log key's signature altered", status: 403, msg: "invalid signature for key validator-3", prepare: func() (uint64, [][]byte, []byte) {
			return 12, lg.consistency(12, cosignedRoot), tamperLast(t, lg.checkpoint(three...))
		}},
		{name: "unknown origin", status: 404, msg: "unknown log origin", prepare: func() (uint64, [][]byte, []byte) {
			return 0, nil, other.checkpoint(three...)
		}},
		{name: "old size above the checkpoint's", status: 400, msg: "old 14, checkpoint 13", prepare: func() (uint64, [][]byte, []byte) {
			return 14, nil, lg.checkpoint(three...)
		}},
		{name: "checkpoint without a signature", status: 400, msg: "malformed note", prepare: func() (uint64, [][]byte, []byte) {
			return 12, nil, []byte(testOrigin + "\n13\n" + strings.Repeat("A", 43) + "=\n")
		}},
		{name: "growth after the refusals", status: 200, prepare: func() (uint64, [][]byte, []byte) {
			return 12, lg.consistency(12, cosignedRoot), lg.checkpoint(three...)
		}},
	}
	ctx := context.Background()
	for _, s := range steps {
		old, p, cp := s.prepare()
		cosig, err := tw.client.AddCheckpoint(ctx, old, p, cp)
		if got := statusOf(err); got != s.status {
			t.Fatalf("%s: status %d (%v), want %d", s.name, got, err, s.status)
		}
		var ce *witness.ConflictError
		if s.conflict != 0 && (!errors.As(err, &ce) || ce.Size != s.conflict) {
			t.Errorf("%s: %v, want a conflict carrying size %d", s.name, err, s.conflict)
		}
		if s.msg != "" && !strings.Contains(err.Error(), s.msg) {
			t.Errorf("%s: %v, want a message with %q", s.name, err, s.msg)
		}
		if err != nil {
			continue
		}
		checkCosignature(t, tw.vkey, cp, cosig)
		if !bytes.HasPrefix(cp, []byte(testOrigin+"\n")) {
			continue
		}
		cosigned, cosignedRoot = lg.size(), lg.root()
		if size, root, ok := tw.w.Latest(testOrigin); !ok || size != cosigned || !bytes.Equal(root, cosignedRoot) {
			t.Fatalf("%s: latest %d %x, want %d %x", s.name, size, root, cosigned, cosignedRoot)
		}
	}

	// A restarted witness remembers: the old size is the last cosigned.
	tw.srv.Close()
	tw2 := startWitness(t, skey, logs, state)
	_, err = tw2.client.AddCheckpoint(ctx, 0, nil, lg.checkpoint(three...))
	var ce *witness.ConflictError
	if !errors.As(err, &ce) || ce.Size != 13 {
		t.Fatalf("after restart: %v, want a conflict at 13", err)
	}
	lg.append("d", 20)
	cp := lg.checkpoint(three...)
	cosig, err := tw2.client.AddCheckpoint(ctx, 13, lg.consistency(13, cosignedRoot), cp)
	if err != nil {
		t.Fatalf("after restart: %v", err)
	}
	checkCosignature(t, tw2.vkey, cp, cosig)
	entries, err := os.ReadDir(filepath.Dir(state))
	if err != nil {
		t.Fatal(err)
	}
	if len(entries) != 1 {
		t.Errorf("state directory holds %d files, want the state alone", len(entries))
	}
}

// tamperLast flips a bit of the last signature of the signed note b,
// keeping its key hash: a signature by a known key that does not verify.
func tamperLast(t *testing.T, b []byte) []byte {
	t.Helper()
	line := lastLine(b)
	sp := bytes.LastIndexByte(line, ' ')
	raw, err := base64.StdEncoding.DecodeString(string(line[sp+1 : len(line)-1]))
	if err != nil {
		t.Fatal(err)
	}
	raw[len(raw)-1] ^= 1
	out := bytes.Clone(b[:len(b)-len(line)])
	out = append(out, line[:sp+1]...)
	out = append(out, base64.StdEncoding.EncodeToString(raw)...)
	return append(out, '\n')
}

// lastLine is the last line of b, with its newline.
func lastLine(b []byte) []byte {
	i := bytes.LastIndexByte(b[:len(b)-1], '\n')
	return bytes.Clone(b[i+1:])
}

// TestConcurrentSubmissions sends the same old size twice at once with
// two different consistent checkpoints: the witness checks and saves one at
// a time, so one is cosigned and the other gets a conflict, never a
// rollback.
func TestConcurrentSubmissions(t *testing.T) {
	vals := newValidators(t, 3)
	skey, _, err := witness.GenerateKey("witness.audit.test/w1")
	if err != nil {
		t.Fatal(err)
	}
	tw := startWitness(t, skey, []witness.Log{{Origin: testOrigin, Keys: vals.vkeys, Threshold: 2}}, filepath.Join(t.TempDir(), "state.json"))
	lg := newTestLog(t, testOrigin)
	lg.append("a", 4)
	ctx := context.Background()
	if _, err := tw.client.AddCheckpoint(ctx, 0, nil, lg.checkpoint(vals.signers...)); err != nil {
		t.Fatal(err)
	}
	root4 := lg.root()
	lg.append("b", 3)
	p7, cp7 := lg.consistency(4, root4), lg.checkpoint(vals.signers...)
	lg.append("c", 3)
	p10, cp10 := lg.consistency(4, root4), lg.checkpoint(vals.signers...)

	var wg sync.WaitGroup
	errs := make([]error, 2)
	for i, req := range []struct {
		p  [][]byte
		cp []byte
	}{{p7, cp7}, {p10, cp10}} {
		wg.Go(func() { _, errs[i] = tw.client.AddCheckpoint(ctx, 4, req.p, req.cp) })
	}
	wg.Wait()
	ok, conflicts := 0, 0
	for _, err := range errs {
		var ce *witness.ConflictError
		switch {
		case err == nil:
			ok++
		case errors.As(err, &ce) && (ce.Size == 7 || ce.Size == 10):
			conflicts++
		default:
			t.Errorf("unexpected answer: %v", err)
		}
	}
	if ok != 1 || conflicts != 1 {
		t.Errorf("%d cosigned, %d conflicts; want 1 and 1", ok, conflicts)
	}
}
