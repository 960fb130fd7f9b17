package main

import (
	"context"
	"crypto/ed25519"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"

	cmtlog "github.com/cometbft/cometbft/libs/log"
	"golang.org/x/mod/sumdb/tlog"
	"google.golang.org/protobuf/proto"

	"github.com/gobtechlab/notary/abci/tlogtiles"
	"github.com/gobtechlab/notary/app"
	"github.com/gobtechlab/notary/app/checkpoint"
	"github.com/gobtechlab/notary/app/logproof"
	"github.com/gobtechlab/notary/app/public"
	"github.com/gobtechlab/notary/app/receipt/receipttest"
	"github.com/gobtechlab/notary/cmd/internal/cli"
	"github.com/gobtechlab/notary/cmd/verifier/verify"
	"github.com/gobtechlab/notary/ledger"
	notaryv1 "github.com/gobtechlab/notary/proto/notary/v1"
)

// renewLog is an evidence log in a real tile store, served by a real
// public endpoint whose latest checkpoint the test sets.
type renewLog struct {
	t       *testing.T
	chainID string
	store   *tlogtiles.Store
	hashes  []tlog.Hash
	n       int64
	latest  []byte
	url     string
}

func (l *renewLog) ReadHashes(idx []int64) ([]tlog.Hash, error) {
	out := make([]tlog.Hash, len(idx))
	for i, x := range idx {
		out[i] = l.hashes[x]
	}
	return out, nil
}

// Latest and At make the log a public.CheckpointSource.
func (l *renewLog) Latest() ([]byte, bool, error)   { return l.latest, l.latest != nil, nil }
func (l *renewLog) At(uint64) ([]byte, bool, error) { return nil, false, nil }

func newRenewLog(t *testing.T, chainID string) *renewLog {
	t.Helper()
	s, err := tlogtiles.Open(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = s.Close() })
	l := &renewLog{t: t, chainID: chainID, store: s}
	srv, err := public.NewServer(app.PublicConfig{Listen: "127.0.0.1:0", RatePerSecond: 1e6, Burst: 1e6}, nil, cmtlog.NewNopLogger(), public.Options{Log: s, Checkpoints: l})
	if err != nil {
		t.Fatal(err)
	}
	if err := srv.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = srv.Stop() })
	l.url = "http://" + srv.Addr()
	return l
}

// append appends leaves as the block at height.
func (l *renewLog) append(height int64, leaves ...[]byte) {
	l.t.Helper()
	b := tlogtiles.Block{Height: height, Start: uint64(l.n)}
	for _, leaf := range leaves {
		hs, err := tlog.StoredHashes(l.n, leaf, l)
		if err != nil {
			l.t.Fatal(err)
		}
		l.hashes = append(l.hashes, hs...)
		l.n++
		b.Leaves = append(b.Leaves, leaf)
	}
	b.Size = uint64(l.n)
	root, err := tlog.TreeHash(l.n, l)
	if err != nil {
		l.t.Fatal(err)
	}
	b.Root = root
	if err := l.store.Append(b); err != nil {
		l.t.Fatal(err)
	}
}

// filler is a batch leaf of another batch at height.
func filler(height int64, tx uint32) []byte {
	rec, _ := proto.Marshal(&notaryv1.Batch{Height: height, TxIndex: tx, AgencyId: "otra", Root: make([]byte, 32), Count: 1})
	return ledger.EncodeLogLeaf(ledger.LogLeafBatch, ledger.BatchKey(height, tx), rec)
}

// sign makes the log's current size the latest checkpoint, signed by the
// ministries signers (their receipttest consensus keys) among vals.
func (l *renewLog) sign(vals []*notaryv1.TrustedValidator, signers ...string) {
	l.t.Helper()
	root, err := tlog.TreeHash(l.n, l)
	if err != nil {
		l.t.Fatal(err)
	}
	c := &notaryv1.LogCheckpoint{Size: uint64(l.n), Root: root[:]}
	for _, v := range vals {
		c.Validators = append(c.Validators, &notaryv1.LogCheckpointValidator{MinistryId: v.MinistryId, PubKey: v.PubKey, Power: v.Power})
	}
	text := ledger.CheckpointText(ledger.CheckpointOrigin(l.chainID), c.Size, c.Root)
	var sigs []ledger.CheckpointSignature
	for _, id := range signers {
		sigs = append(sigs, ledger.CheckpointSignature{MinistryID: id, Signature: ed25519.Sign(receipttest.Key("cons/"+id), text)})
	}
	if l.latest, err = checkpoint.Note(l.chainID, c, sigs); err != nil {
		l.t.Fatal(err)
	}
}

// TestRenew: verifier renew brings a published v1 receipt to a v2 one at
// a public endpoint's checkpoint, then that v2 one to a later checkpoint,
// from the endpoint's tiles only; the proofs check and the inputs are
// kept. A checkpoint without a quorum of the trust bundle's validators, a
// log that does not extend the receipt's checkpoint, an older checkpoint
// and an endpoint that does not answer are refused with their exit codes;
// an endpoint whose tiles do not match its checkpoint, or whose checkpoint
// does not verify, fails and the next one renews.
func TestRenew(t *testing.T) {
	vec := filepath.Join(vectors, "valid-salted-sha2")
	trustPath := filepath.Join(vec, "trust.json")
	tb, err := os.ReadFile(trustPath)
	if err != nil {
		t.Fatal(err)
	}
	trust, err := verify.DecodeTrustBundle(tb)
	if err != nil {
		t.Fatal(err)
	}
	for _, v := range trust.Validators {
		if string(v.PubKey) != string(receipttest.Key("cons/"+v.MinistryId).Public().(ed25519.PublicKey)) {
			t.Fatalf("validator %s of the vector is not receipttest's", v.MinistryId)
		}
	}
	rb, err := os.ReadFile(filepath.Join(vec, "receipt.json"))
	if err != nil {
		t.Fatal(err)
	}
	v1, err := verify.DecodeReceipt(rb)
	if err != nil {
		t.Fatal(err)
	}
	batch := &notaryv1.Batch{}
	if err := proto.Unmarshal(v1.Inclusion.Batch, batch); err != nil {
		t.Fatal(err)
	}
	leaf := ledger.EncodeLogLeaf(ledger.LogLeafBatch, ledger.BatchKey(batch.Height, batch.TxIndex), v1.Inclusion.Batch)
	all := []string{"hacienda", "interior", "justicia", "sanidad"}

	// The chain's log: batches before and after the receipt's.
	good := newRenewLog(t, trust.ChainId)
	good.append(batch.Height-1, filler(batch.Height-1, 0), filler(batch.Height-1, 1))
	good.append(batch.Height, leaf, filler(batch.Height, batch.TxIndex+1), filler(batch.Height, batch.TxIndex+2))
	good.sign(trust.Validators, all[:3]...)

	dir := t.TempDir()
	in := filepath.Join(dir, "doc.receipt.json")
	if err := os.WriteFile(in, rb, 0o644); err != nil {
		t.Fatal(err)
	}
	renew := func(want int, args ...string) renewResult {
		t.Helper()
		out, code := run(t, rootEnv{}, append([]string{"renew", "--trust", trustPath, "-o", "json", "--lang", "en"}, args...)...)
		if code != want {
			t.Fatalf("renew %v: exit %d, want %d\n%s", args, code, want, out)
		}
		var res renewResult
		if want == cli.ExitOK {
			if err := json.Unmarshal([]byte(out), &res); err != nil {
				t.Fatalf("%v\n%s", err, out)
			}
		}
		return res
	}
	check := func(path string, size uint64) *notaryv1.Receipt {
		t.Helper()
		b, err := os.ReadFile(path)
		if err != nil {
			t.Fatal(err)
		}
		r, err := verify.DecodeReceipt(b)
		if err != nil {
			t.Fatal(err)
		}
		cp, err := logproof.ParseCheckpoint(r.Log.Checkpoint)
		if err != nil || cp.Size != size {
			t.Fatalf("%s: checkpoint %+v, want size %d (%v)", path, cp, size, err)
		}
		var p tlog.RecordProof
		for _, h := range r.Log.Proof {
			p = append(p, tlog.Hash(h))
		}
		if err := tlog.CheckRecord(p, int64(cp.Size), cp.Root, int64(r.Log.LeafIndex), tlog.RecordHash(leaf)); err != nil || r.Log.LeafIndex != 2 {
			t.Fatalf("%s: leaf %d: %v", path, r.Log.LeafIndex, err)
		}
		if !proto.Equal(r.Document, v1.Document) || r.Inclusion.LeafIndex != v1.Inclusion.LeafIndex || len(r.Inclusion.MerklePath) != len(v1.Inclusion.MerklePath) {
			t.Fatalf("%s: the document binding or batch path changed", path)
		}
		if _, err := verify.VerifyLogCheckpoint(trust.ChainId, r.Log.Checkpoint, nil); err == nil {
			t.Fatal("a checkpoint verified without validators")
		}
		return r
	}

	// v1 -> v2, beside the input.
	res := renew(cli.ExitOK, in, "--node", good.url)
	v2 := filepath.Join(dir, "doc.receipt.v2.json")
	if res.Output != v2 || res.OldVersion != 1 || res.CheckpointSize != 5 || res.LeafIndex != 2 || len(res.Signers) != 3 {
		t.Fatalf("v1 renewal: %+v", res)
	}
	check(v2, 5)
	if after, _ := os.ReadFile(in); string(after) != string(rb) {
		t.Fatal("renew changed its input")
	}

	// v2 -> v2 at a later checkpoint, in place when told.
	good.append(batch.Height+1, filler(batch.Height+1, 0))
	good.append(batch.Height+2, filler(batch.Height+2, 0), filler(batch.Height+2, 1))
	good.sign(trust.Validators, all...)
	res = renew(cli.ExitOK, v2, "--node", good.url, "--out", v2)
	if res.OldVersion != 2 || res.OldCheckpointSize != 5 || res.CheckpointSize != 8 {
		t.Fatalf("v2 renewal: %+v", res)
	}
	check(v2, 8)

	// A log that rewrote the receipt's history: same leaf at the same
	// index, another leaf before it.
	forked := newRenewLog(t, trust.ChainId)
	forked.append(batch.Height-1, filler(batch.Height-1, 0), filler(batch.Height-1, 7))
	forked.append(batch.Height, leaf, filler(batch.Height, batch.TxIndex+1), filler(batch.Height, batch.TxIndex+2))
	forked.append(batch.Height+3, filler(batch.Height+3, 0), filler(batch.Height+3, 1), filler(batch.Height+3, 2), filler(batch.Height+3, 3))
	forked.sign(trust.Validators, all...)

	// An older checkpoint than the receipt's.
	older := newRenewLog(t, trust.ChainId)
	older.append(batch.Height-1, filler(batch.Height-1, 0), filler(batch.Height-1, 1))
	older.append(batch.Height, leaf, filler(batch.Height, batch.TxIndex+1), filler(batch.Height, batch.TxIndex+2))
	older.sign(trust.Validators, all...)

	// Two of four signatures.
	weak := newRenewLog(t, trust.ChainId)
	weak.append(batch.Height, leaf)
	weak.sign(trust.Validators, all[:2]...)

	// A log without the batch.
	without := newRenewLog(t, trust.ChainId)
	without.append(batch.Height, filler(batch.Height, batch.TxIndex+1))
	without.sign(trust.Validators, all...)

	// A mirror of the good log whose entry bundles are changed.
	tampered := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		resp, err := http.Get(good.url + req.URL.Path)
		if err != nil {
			http.Error(w, err.Error(), http.StatusBadGateway)
			return
		}
		defer func() { _ = resp.Body.Close() }()
		b, _ := io.ReadAll(resp.Body)
		if strings.Contains(req.URL.Path, "/tile/entries/") && len(b) > 0 {
			b[len(b)-1] ^= 1
		}
		w.WriteHeader(resp.StatusCode)
		_, _ = w.Write(b)
	}))
	t.Cleanup(tampered.Close)

	// A tampered mirror first fails as an endpoint, the next one renews.
	res = renew(cli.ExitOK, in, "--node", tampered.URL, "--node", good.url, "--out", filepath.Join(dir, "mirror.json"))
	if res.Endpoint != good.url || res.CheckpointSize != 8 {
		t.Fatalf("renewal past a tampered mirror: %+v", res)
	}
	// A checkpoint that does not verify fails as an endpoint too.
	res = renew(cli.ExitOK, in, "--node", weak.url, "--node", good.url, "--out", filepath.Join(dir, "weak.json"))
	if res.Endpoint != good.url {
		t.Fatalf("renewal past a weak checkpoint: %+v", res)
	}

	for _, tc := range []struct {
		name string
		in   string
		url  string
		want int
		text string
	}{
		{"forked", v2, forked.url, cli.ExitFailure, "does not extend"},
		{"tampered mirror", in, tampered.URL, cli.ExitUnavail, "do not match"},
		{"older", v2, older.url, cli.ExitFailure, "older"},
		{"two of four", in, weak.url, cli.ExitFailure, "does not verify"},
		{"no batch", in, without.url, cli.ExitFailure, "no such leaf"},
		{"revoked", filepath.Join(vectors, "revoked", "receipt.json"), good.url, cli.ExitFailure, "revoked"},
		{"unreachable", in, "http://127.0.0.1:1", cli.ExitUnavail, "no endpoint answered"},
		{"not a receipt", trustPath, good.url, cli.ExitUsage, "receipt"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			out := filepath.Join(t.TempDir(), "out.json")
			o, code := run(t, rootEnv{}, "renew", "--trust", trustPath, "--lang", "en", tc.in, "--node", tc.url, "--out", out)
			if code != tc.want {
				t.Fatalf("exit %d, want %d:\n%s", code, tc.want, o)
			}
			if _, err := os.Stat(out); err == nil {
				t.Fatal("a refused renewal wrote its output")
			}
			if tc.want == cli.ExitUsage {
				return
			}
			b, err := os.ReadFile(tc.in)
			if err != nil {
				t.Fatal(err)
			}
			r, err := verify.DecodeReceipt(b)
			if err != nil {
				t.Fatal(err)
			}
			if _, _, err := renewAt(context.Background(), trust, r, []string{tc.url}); err == nil || !strings.Contains(err.Error(), tc.text) {
				t.Fatalf("renewAt: %v, want %q", err, tc.text)
			}
		})
	}
}
