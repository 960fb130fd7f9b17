package verify_test

import (
	"bytes"
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	cmttypes "github.com/cometbft/cometbft/types"
	"google.golang.org/protobuf/proto"

	"github.com/gobtechlab/notary/app/receipt/receipttest"
	"github.com/gobtechlab/notary/cmd/verifier/verify"
	"github.com/gobtechlab/notary/cmd/verifier/verify/msg"
	notaryv1 "github.com/gobtechlab/notary/proto/notary/v1"
)

// Golden test vectors for other implementations: testdata/vectors/<name>/
// holds document.txt, receipt.json, trust.json and the expected verdict
// (verdict.json, and the citizen's offline text in verdict.<lang>.txt for
// es, en, ca, gl and eu, with local times in Europe/Madrid). They are generated from the synthetic
// chain, which is deterministic: `go test -run Vectors -update` rewrites
// them, and the test fails if the committed ones differ from what the
// current code generates.

var update = flag.Bool("update", false, "rewrite the golden test vectors and texts")

const vectorsDir = "testdata/vectors"

// vectorZone is the local time zone of the vectors' texts.
const vectorZone = "Europe/Madrid"

type vector struct {
	name    string
	doc     []byte
	receipt []byte
	trust   []byte
}

// makeVectors builds the vectors: valid ones, then tampered ones, each
// tampered in one way.
func makeVectors(t *testing.T) []vector {
	t.Helper()
	trustOf := func(f *fixture) []byte {
		b, err := verify.EncodeTrustBundle(f.trust)
		if err != nil {
			t.Fatal(err)
		}
		return b
	}
	salted := newFixture(t, fixtureOpts{later: 2})
	bare := newFixture(t, fixtureOpts{bare: true, alg: sha3})
	revoked := newFixture(t, fixtureOpts{revoked: true})
	governed := newFixture(t, fixtureOpts{governed: true, later: 1})
	coded := newFixture(t, fixtureOpts{coded: true, later: 1})
	revokedCoded := newFixture(t, fixtureOpts{coded: true, revoked: true})
	entry := newFixture(t, fixtureOpts{coded: true, entries: true, later: 1})
	revokedEntry := newFixture(t, fixtureOpts{coded: true, entries: true, revoked: true})
	vs := []vector{
		{"valid-salted-sha2", salted.doc, salted.file, trustOf(salted)},
		{"valid-bare-sha3", bare.doc, bare.file, trustOf(bare)},
		{"revoked", revoked.doc, revoked.file, trustOf(revoked)},
		{"valid-after-validator-changes", governed.doc, governed.file, trustOf(governed)},
		{"valid-coded-sha2", coded.doc, coded.file, trustOf(coded)},
		{"revoked-coded-sha2", revokedCoded.doc, revokedCoded.file, trustOf(revokedCoded)},
		{"valid-coded-entry-sha2", entry.doc, entry.file, trustOf(entry)},
		{"revoked-coded-entry-sha2", revokedEntry.doc, revokedEntry.file, trustOf(revokedEntry)},
	}
	tamper := func(name string, f *fixture, fn func(r *notaryv1.Receipt)) {
		r := proto.CloneOf(f.receipt)
		fn(r)
		vs = append(vs, vector{name, f.doc, encode(t, r), trustOf(f)})
	}
	doc := append([]byte(nil), salted.doc...)
	doc[len(doc)-2] = '6'
	vs = append(vs, vector{"not-valid-document-changed", doc, salted.file, trustOf(salted)})
	tamper("not-valid-merkle-path", salted, func(r *notaryv1.Receipt) {
		r.Inclusion.MerklePath[0] = strings.Repeat("0", 64)
	})
	tamper("not-valid-signature", salted, func(r *notaryv1.Receipt) {
		r.Anchor.Commit.Signatures[1].Signature[5] ^= 0x40
	})
	tamper("not-valid-two-of-four-signatures", salted, func(r *notaryv1.Receipt) {
		r.Anchor.Commit.Signatures = r.Anchor.Commit.Signatures[:2]
	})
	tamper("not-valid-code-key", coded, func(r *notaryv1.Receipt) {
		r.Document.CodeKey = fmt.Sprintf("%x", otherKeys(1)[0])
	})
	tamper("not-valid-coded-entry-key", entry, func(r *notaryv1.Receipt) {
		r.Document.CodeKey = fmt.Sprintf("%x", otherKeys(1)[0])
	})
	// A coded batch's entry offered as a plain digest, its code left out.
	tamper("not-valid-coded-entry-as-plain", entry, func(r *notaryv1.Receipt) {
		r.Document.CodeKey, r.Document.Salt = "", ""
	})
	tamper("not-valid-transition-left-out", governed, func(r *notaryv1.Receipt) {
		r.ValidatorChain = r.ValidatorChain[1:]
	})
	// Rules a real chain always meets, broken in signed headers and
	// commits (re-signed by the synthetic chain's validators) and in
	// records (whose ICS23 proofs would fail next).
	tamper("not-valid-commit-round-negative", salted, func(r *notaryv1.Receipt) {
		resign(t, salted, &r.Anchor.Header, &r.Anchor.Commit, -1, func(*cmttypes.Header) {})
	})
	tamper("not-valid-header-proposer-address", salted, func(r *notaryv1.Receipt) {
		resign(t, salted, &r.Anchor.Header, &r.Anchor.Commit, 0, func(h *cmttypes.Header) { h.ProposerAddress = h.ProposerAddress[:19] })
	})
	tamper("not-valid-status-older-than-anchor", salted, func(r *notaryv1.Receipt) {
		at := decodeHeaderBytes(t, r.Anchor.Header).Time
		resign(t, salted, &r.Status.Checkpoint.Header, &r.Status.Checkpoint.Commit, 0, func(h *cmttypes.Header) { h.Time = at.Add(-time.Second) })
	})
	tamper("not-valid-revocation-before-batch", revoked, func(r *notaryv1.Receipt) {
		record(t, &r.Status.Revocation, &notaryv1.Revocation{}, func(rv *notaryv1.Revocation) { rv.Height = batchOf(t, r).Height - 1 })
	})
	tamper("not-valid-revocation-without-time", revoked, func(r *notaryv1.Receipt) {
		record(t, &r.Status.Revocation, &notaryv1.Revocation{}, func(rv *notaryv1.Revocation) { rv.Time = nil })
	})
	other := newFixture(t, fixtureOpts{chain: receipttest.Options{ChainID: "notary-other"}})
	vs = append(vs, vector{"not-valid-other-chain", other.doc, other.file, trustOf(salted)})
	impostor := newFixture(t, fixtureOpts{chain: receipttest.Options{Ministries: []receipttest.Ministry{
		{ID: "impostor", Name: "Ministerio Impostor", Power: 10},
	}}})
	vs = append(vs, vector{"not-valid-unknown-validators", impostor.doc, impostor.file, trustOf(salted)})
	// Keys in another order: same content, not canonical.
	var m map[string]json.RawMessage
	if err := json.Unmarshal(salted.file, &m); err != nil {
		t.Fatal(err)
	}
	reordered, err := json.MarshalIndent(m, "", "  ") // encoding/json sorts keys
	if err != nil {
		t.Fatal(err)
	}
	vs = append(vs, vector{"not-valid-not-canonical", salted.doc, append(reordered, '\n'), trustOf(salted)})
	return append(vs, makeV2Vectors(t, salted)...)
}

// makeV2Vectors builds the receipts v2 vectors from a v1 fixture
// (makeV2): under its genesis bundle and under a bundle that carries a
// later checkpoint and requires one of two witnesses.
func makeV2Vectors(t *testing.T, f *fixture) []vector {
	t.Helper()
	enc := func(tb *notaryv1.TrustBundle) []byte {
		b, err := verify.EncodeTrustBundle(tb)
		if err != nil {
			t.Fatal(err)
		}
		return b
	}
	genesis := enc(f.trust)
	const bundleSize = logSize + 1000
	policy := enc(logBundle(t, f.trust, bundleOpts{size: bundleSize, cosigners: []string{"a"}, witnesses: []string{"a", "b"}, threshold: 1}))
	valid := makeV2(t, f, v2Opts{})
	v := func(name string, r *notaryv1.Receipt, trust []byte) vector {
		return vector{name, f.doc, encode(t, r), trust}
	}
	tamper := func(name string, fn func(r *notaryv1.Receipt)) vector {
		r := proto.CloneOf(valid)
		fn(r)
		return v(name, r, genesis)
	}
	return []vector{
		v("valid-v2", valid, genesis),
		v("valid-v2-witnessed", makeV2(t, f, v2Opts{witnesses: []string{"b"}}), policy),
		tamper("not-valid-v2-leaf", func(r *notaryv1.Receipt) { r.Log.Leaf[len(r.Log.Leaf)-40] ^= 1 }),
		tamper("not-valid-v2-proof", func(r *notaryv1.Receipt) { r.Log.Proof[3][0] ^= 1 }),
		v("not-valid-v2-size", makeV2(t, f, v2Opts{signedSize: 2 * logSize}), genesis),
		v("not-valid-v2-two-of-four-signatures", makeV2(t, f, v2Opts{signers: []string{"hacienda", "justicia"}}), genesis),
		v("not-valid-v2-other-set", makeV2(t, f, v2Opts{signers: []string{"impostor-a", "impostor-b", "impostor-c"}}), genesis),
		v("not-valid-v2-fork", makeV2(t, f, v2Opts{index: logIndex, size: bundleSize, witnesses: []string{"a"}}), policy),
		v("not-valid-v2-no-cosignature", valid, policy),
		tamper("not-valid-v2-repeated-key", func(r *notaryv1.Receipt) { r.Log.Checkpoint = repeatFirstLine(r.Log.Checkpoint) }),
		tamper("not-valid-v2-non-canonical-base64", func(r *notaryv1.Receipt) { r.Log.Checkpoint = nonCanonical(r.Log.Checkpoint) }),
		vector{"not-valid-v1-bundle-requires-v2", f.doc, f.file, policy},
	}
}

func TestVectors(t *testing.T) {
	loc, err := time.LoadLocation(vectorZone)
	if err != nil {
		t.Skipf("time zone %s: %v", vectorZone, err)
	}
	generated := makeVectors(t)
	if *update {
		if err := os.RemoveAll(vectorsDir); err != nil {
			t.Fatal(err)
		}
		for _, v := range generated {
			dir := filepath.Join(vectorsDir, v.name)
			if err := os.MkdirAll(dir, 0o755); err != nil {
				t.Fatal(err)
			}
			for name, b := range map[string][]byte{"document.txt": v.doc, "receipt.json": v.receipt, "trust.json": v.trust} {
				if err := os.WriteFile(filepath.Join(dir, name), b, 0o644); err != nil {
					t.Fatal(err)
				}
			}
		}
	}
	entries, err := os.ReadDir(vectorsDir)
	if err != nil {
		t.Fatal(err)
	}
	byName := map[string]vector{}
	for _, v := range generated {
		byName[v.name] = v
	}
	n := 0
	for _, e := range entries {
		if !e.IsDir() {
			continue
		}
		n++
		dir := filepath.Join(vectorsDir, e.Name())
		read := func(name string) []byte {
			b, err := os.ReadFile(filepath.Join(dir, name))
			if err != nil {
				t.Fatal(err)
			}
			return b
		}
		doc, rec, tr := read("document.txt"), read("receipt.json"), read("trust.json")
		if g, ok := byName[e.Name()]; !ok {
			t.Errorf("%s: not generated any more (run with -update)", e.Name())
		} else if !bytes.Equal(g.doc, doc) || !bytes.Equal(g.receipt, rec) || !bytes.Equal(g.trust, tr) {
			t.Errorf("%s: the committed vector differs from the generated one (run with -update)", e.Name())
		}
		trust, err := verify.DecodeTrustBundle(tr)
		if err != nil {
			t.Fatalf("%s: %v", e.Name(), err)
		}
		res, err := verify.Verify(verify.Input{Receipt: rec, Trust: trust, Document: bytes.NewReader(doc)})
		if err != nil {
			t.Fatalf("%s: %v", e.Name(), err)
		}
		got, err := json.MarshalIndent(res, "", "  ")
		if err != nil {
			t.Fatal(err)
		}
		golden(t, filepath.Join(dir, "verdict.json"), append(got, '\n'))
		// The texts are the offline verdict, as `verifier verify --offline`
		// prints it.
		offline := verify.Combine(res, nil)
		for _, lang := range msg.Langs {
			golden(t, filepath.Join(dir, "verdict."+string(lang)+".txt"), []byte(offline.Text(lang, loc)+"\n"))
		}
		wantValid := strings.HasPrefix(e.Name(), "valid") || strings.HasPrefix(e.Name(), "revoked")
		if wantValid != (res.Verdict != verify.NotValid) {
			t.Errorf("%s: verdict %s (%s)", e.Name(), res.Verdict, res.Detail)
		}
	}
	if n != len(generated) {
		t.Errorf("%d vectors committed, %d generated (run with -update)", n, len(generated))
	}
}

// golden compares got with a golden file, or rewrites it with -update.
func golden(t *testing.T, path string, got []byte) {
	t.Helper()
	if *update {
		if err := os.WriteFile(path, got, 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run with -update)", err)
	}
	if !bytes.Equal(got, want) {
		t.Errorf("%s differs (run with -update to accept):\n--- got\n%s\n--- want\n%s", path, got, want)
	}
}
