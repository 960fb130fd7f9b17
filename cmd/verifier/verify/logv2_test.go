package verify_test

import (
	"bytes"
	"crypto/ed25519"
	"crypto/rand"
	"encoding/json"
	"errors"
	"strings"
	"testing"

	fnote "github.com/transparency-dev/formats/note"
	"golang.org/x/mod/sumdb/note"
	"google.golang.org/protobuf/proto"

	cmttypes "github.com/cometbft/cometbft/types"

	"github.com/gobtechlab/notary/cmd/verifier/verify"
	"github.com/gobtechlab/notary/ledger"
	notaryv1 "github.com/gobtechlab/notary/proto/notary/v1"
)

// TestVerifyV2 checks receipts v2 under each trust policy, and each way a
// receipt v2 can fail.
func TestVerifyV2(t *testing.T) {
	f := newFixture(t, fixtureOpts{later: 1})
	coded := newFixture(t, fixtureOpts{coded: true})
	genesis := f.trust
	const bundleSize = logSize + 1000
	withCkpt := logBundle(t, genesis, bundleOpts{size: bundleSize, cosigners: []string{"a"}, witnesses: []string{"a", "b"}, threshold: 1})
	ckptNoWitness := logBundle(t, genesis, bundleOpts{size: bundleSize})
	witnessOnly := logBundle(t, genesis, bundleOpts{witnesses: []string{"a", "b"}, threshold: 2})
	valid := makeV2(t, f, v2Opts{})
	cosigned := makeV2(t, f, v2Opts{witnesses: []string{"b"}})
	bothCosigned := makeV2(t, f, v2Opts{witnesses: []string{"a", "b"}})
	mod := func(r *notaryv1.Receipt, fn func(*notaryv1.Receipt)) *notaryv1.Receipt {
		r = proto.CloneOf(r)
		fn(r)
		return r
	}
	for _, tc := range []struct {
		name    string
		receipt *notaryv1.Receipt
		trust   *notaryv1.TrustBundle
		reason  verify.Reason // empty: valid
	}{
		{"genesis bundle", valid, genesis, ""},
		{"coded document", makeV2(t, coded, v2Opts{}), genesis, ""},
		{"three of four", makeV2(t, f, v2Opts{signers: []string{"hacienda", "justicia", "sanidad"}}), genesis, ""},
		{"bundle checkpoint", cosigned, withCkpt, ""},
		{"bundle checkpoint, no witness required", valid, ckptNoWitness, ""},
		{"witnesses only", bothCosigned, witnessOnly, ""},
		{"checkpoint equal to the bundle's", makeV2(t, f, v2Opts{index: logIndex, size: bundleSize}),
			logBundle(t, genesis, bundleOpts{size: bundleSize, root: logRoot(t, f, logIndex, bundleSize), cosigners: []string{"a"}, witnesses: []string{"a"}, threshold: 1}), ""},
		{"v1 refused by a checkpoint bundle", f.receipt, ckptNoWitness, verify.ReasonReceiptV2Required},
		{"v1 refused by a witness bundle", f.receipt, witnessOnly, verify.ReasonReceiptV2Required},
		{"no cosignature", valid, withCkpt, verify.ReasonInsufficientCosignatures},
		{"one of two cosignatures", cosigned, witnessOnly, verify.ReasonInsufficientCosignatures},
		{"a validator's line twice", mod(valid, func(r *notaryv1.Receipt) { r.Log.Checkpoint = repeatFirstLine(r.Log.Checkpoint) }), genesis, verify.ReasonProofInvalid},
		{"a cosignature line twice", mod(bothCosigned, func(r *notaryv1.Receipt) {
			i := bytes.LastIndex(r.Log.Checkpoint, []byte("\u2014 "))
			r.Log.Checkpoint = append(r.Log.Checkpoint, r.Log.Checkpoint[i:]...)
		}), witnessOnly, verify.ReasonProofInvalid},
		{"non-canonical base64 of a cosignature", mod(bothCosigned, func(r *notaryv1.Receipt) { r.Log.Checkpoint = nonCanonical(r.Log.Checkpoint) }), witnessOnly, verify.ReasonProofInvalid},
		{"fork", makeV2(t, f, v2Opts{index: logIndex, size: bundleSize, witnesses: []string{"a"}}), withCkpt, verify.ReasonCheckpointFork},
		{"two of four", makeV2(t, f, v2Opts{signers: []string{"hacienda", "justicia"}}), genesis, verify.ReasonInsufficientSignatures},
		{"another set", makeV2(t, f, v2Opts{signers: []string{"impostor-a", "impostor-b"}}), genesis, verify.ReasonValidatorSetNotReached},
		{"wrong size", makeV2(t, f, v2Opts{signedSize: 2 * logSize}), genesis, verify.ReasonProofInvalid},
		{"leaf tampered", mod(valid, func(r *notaryv1.Receipt) { r.Log.Leaf[len(r.Log.Leaf)-40] ^= 1 }), genesis, verify.ReasonProofInvalid},
		{"proof tampered", mod(valid, func(r *notaryv1.Receipt) { r.Log.Proof[3] = bytes.Repeat([]byte{7}, 32) }), genesis, verify.ReasonProofInvalid},
		{"index moved", mod(valid, func(r *notaryv1.Receipt) { r.Log.LeafIndex++ }), genesis, verify.ReasonProofInvalid},
		{"index beyond the size", mod(valid, func(r *notaryv1.Receipt) { r.Log.LeafIndex = logSize }), genesis, verify.ReasonProofInvalid},
		{"merkle path", mod(valid, func(r *notaryv1.Receipt) { r.Inclusion.MerklePath[0] = strings.Repeat("0", 64) }), genesis, verify.ReasonProofInvalid},
		{"signature", mod(valid, func(r *notaryv1.Receipt) {
			i := bytes.LastIndex(r.Log.Checkpoint, []byte(" ")) + 12
			r.Log.Checkpoint[i] ^= 1
		}), genesis, verify.ReasonSignatureInvalid},
		{"another chain's log", func() *notaryv1.Receipt {
			o := newFixture(t, fixtureOpts{later: 1})
			r := makeV2(t, o, v2Opts{})
			r.Log.Checkpoint = signCheckpointOf(t, verify.LogOrigin("notary-other"), r.ChainId, logSize, logRoot(t, o, logIndex, logSize), []string{"hacienda", "interior", "justicia", "sanidad"}, nil)
			return r
		}(), genesis, verify.ReasonWrongChain},
		{"v1 part in v2", mod(valid, func(r *notaryv1.Receipt) { r.Anchor = f.receipt.Anchor }), genesis, verify.ReasonMalformed},
		{"leaf of another kind", mod(valid, func(r *notaryv1.Receipt) { r.Log.Leaf[0] = 2 }), genesis, verify.ReasonMalformed},
		{"log in v1", mod(f.receipt, func(r *notaryv1.Receipt) { r.Log = valid.Log }), genesis, verify.ReasonMalformed},
	} {
		t.Run(tc.name, func(t *testing.T) {
			res := checkWith(t, encode(t, tc.receipt), tc.trust, f.doc)
			if tc.reason == "" {
				if res.Verdict != verify.Valid {
					t.Fatalf("verdict %s: %s: %s", res.Verdict, res.Reason, res.Detail)
				}
				if tc.receipt.Version == verify.VersionLog && (res.Proven.Log == nil || res.Proven.Log.Size == 0 || res.Proven.Issuer.ID == "") {
					t.Fatalf("proven %+v", res.Proven)
				}
				return
			}
			if res.Verdict != verify.NotValid || res.Reason != tc.reason {
				t.Fatalf("verdict %s, reason %s (%s), want %s", res.Verdict, res.Reason, res.Detail, tc.reason)
			}
		})
	}
}

// TestV2Text checks that the citizen's text of a receipt v2 says who
// anchored it, the checkpoint and its witnesses, and that its status is
// asked online.
func TestV2Text(t *testing.T) {
	f := newFixture(t, fixtureOpts{})
	tb := logBundle(t, f.trust, bundleOpts{witnesses: []string{"a"}, threshold: 1})
	res := checkWith(t, encode(t, makeV2(t, f, v2Opts{witnesses: []string{"a"}})), tb, f.doc)
	if res.Verdict != verify.Valid {
		t.Fatalf("%s: %s", res.Reason, res.Detail)
	}
	for lang, want := range map[verify.Lang][]string{
		verify.English: {"registered by agency", "checkpoint of size 33550001", "Testigo a", "online"},
		verify.Spanish: {"registrado por el organismo", "punto de control de tamaño 33550001", "Testigo a", "en línea"},
	} {
		text := verify.Combine(res, nil).Text(lang, nil)
		for _, w := range want {
			if !strings.Contains(text, w) {
				t.Errorf("%s text lacks %q:\n%s", lang, w, text)
			}
		}
	}
}

// TestTrustBundleLogFields checks the canonical form and checks of the
// evidence log's trust fields.
func TestTrustBundleLogFields(t *testing.T) {
	f := newFixture(t, fixtureOpts{})
	tb := logBundle(t, f.trust, bundleOpts{size: 99, cosigners: []string{"a"}, witnesses: []string{"a", "b"}, threshold: 1})
	b, err := verify.EncodeTrustBundle(tb)
	if err != nil {
		t.Fatal(err)
	}
	back, err := verify.DecodeTrustBundle(b)
	if err != nil {
		t.Fatal(err)
	}
	if !proto.Equal(back, tb) {
		t.Fatalf("round trip changed the bundle")
	}
	for _, field := range []string{`"log_checkpoint": "`, `"log_validators": [`, `"witnesses": [`, `"witness_threshold": 1`} {
		if !bytes.Contains(b, []byte(field)) {
			t.Errorf("bundle lacks %s:\n%s", field, b)
		}
	}
	for _, tc := range []struct {
		name string
		fn   func(*notaryv1.TrustBundle)
		want string
	}{
		{"threshold above witnesses", func(tb *notaryv1.TrustBundle) { tb.WitnessThreshold = 3 }, "witness_threshold"},
		{"witness twice", func(tb *notaryv1.TrustBundle) { tb.Witnesses[1].Key = tb.Witnesses[0].Key }, "twice"},
		{"witness without name", func(tb *notaryv1.TrustBundle) { tb.Witnesses[0].Name = "" }, "name"},
		{"witness name too long", func(tb *notaryv1.TrustBundle) {
			tb.Witnesses[0].Name = strings.Repeat("n", ledger.MaxWitnessNameBytes+1)
		}, "name"},
		{"too many witnesses", func(tb *notaryv1.TrustBundle) {
			for i := len(tb.Witnesses); i <= ledger.MaxWitnesses; i++ {
				tb.Witnesses = append(tb.Witnesses, &notaryv1.Witness{Name: "Testigo", Key: sameKeyAs(t, tb.Witnesses[0].Key, "witness.example/extra"+strings.Repeat("x", i))})
			}
		}, "at most"},
		{"one public key under two key names", func(tb *notaryv1.TrustBundle) {
			tb.Witnesses[1].Key = sameKeyAs(t, tb.Witnesses[0].Key, "witness.example/alias")
		}, "another witness"},
		{"witness key hash", func(tb *notaryv1.TrustBundle) {
			k := []byte(tb.Witnesses[0].Key)
			i := bytes.IndexByte(k, '+') + 1
			k[i] ^= 1
			tb.Witnesses[0].Key = string(k)
		}, "witness"},
		{"log validators out of order", func(tb *notaryv1.TrustBundle) {
			tb.LogValidators[0], tb.LogValidators[1] = tb.LogValidators[1], tb.LogValidators[0]
		}, "order"},
		{"log validators without checkpoint", func(tb *notaryv1.TrustBundle) { tb.LogCheckpoint = nil }, "without"},
		{"checkpoint without validators", func(tb *notaryv1.TrustBundle) { tb.LogValidators = nil }, "without"},
		{"checkpoint not cosigned", func(tb *notaryv1.TrustBundle) { tb.WitnessThreshold = 2 }, "cosigned"},
		{"checkpoint of another set", func(tb *notaryv1.TrustBundle) {
			tb.LogValidators = tb.LogValidators[:1]
			tb.LogValidators[0].PubKey = consKey("impostor").Public().(ed25519.PublicKey)
		}, "2/3"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c := proto.CloneOf(tb)
			tc.fn(c)
			err := verify.CheckTrustBundle(c)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("error %v, want one with %q", err, tc.want)
			}
		})
	}
}

// sameKeyAs is a cosignature/v1 verifier key of vkey's public key under
// the key name name.
func sameKeyAs(t *testing.T, vkey, name string) string {
	t.Helper()
	_, pub, err := ledger.ParseWitnessKey(vkey)
	if err != nil {
		t.Fatal(err)
	}
	plain, err := note.NewEd25519VerifierKey(name, pub)
	if err != nil {
		t.Fatal(err)
	}
	k, err := fnote.VKeyToCosignatureV1(plain)
	if err != nil {
		t.Fatal(err)
	}
	return k
}

// TestWitnessKeyInterop checks ParseWitnessKey's cosignature/v1 verifier
// against the transparency-dev implementation: its signatures verify, and
// its verifier accepts the key.
func TestWitnessKeyInterop(t *testing.T) {
	skey, plain, err := note.GenerateKey(rand.Reader, "witness.example/interop")
	if err != nil {
		t.Fatal(err)
	}
	vkey, err := fnote.VKeyToCosignatureV1(plain)
	if err != nil {
		t.Fatal(err)
	}
	signer, err := fnote.NewSignerForCosignatureV1(skey)
	if err != nil {
		t.Fatal(err)
	}
	ours, err := verify.ParseWitnessKey(vkey)
	if err != nil {
		t.Fatal(err)
	}
	theirs, err := fnote.NewVerifierForCosignatureV1(vkey)
	if err != nil {
		t.Fatal(err)
	}
	if ours.KeyHash() != theirs.KeyHash() || ours.Name() != theirs.Name() {
		t.Fatalf("key hash %08x, theirs %08x", ours.KeyHash(), theirs.KeyHash())
	}
	body := "notary.gobtechlab/notary-test\n12\nAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=\n"
	signed, err := note.Sign(&note.Note{Text: body}, signer)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := note.Open(signed, note.VerifierList(ours)); err != nil {
		t.Fatalf("our verifier refuses their cosignature: %v", err)
	}
	forged := bytes.Replace(signed, []byte("\n12\n"), []byte("\n13\n"), 1)
	if _, err := note.Open(forged, note.VerifierList(ours)); err == nil {
		t.Fatal("our verifier accepts a cosignature of another body")
	}
	if _, err := verify.ParseWitnessKey(plain); err == nil {
		t.Fatal("a plain ed25519 note key (algorithm 0x01) is accepted as a witness key")
	}
}

// TestLiveStatusV2 checks a node's live status for a receipt v2, which
// carries none: checked from the genesis bundle, it decides the verdict.
func TestLiveStatusV2(t *testing.T) {
	lc := newLiveChain(t)
	r := makeV2(t, &fixture{receipt: lc.old}, v2Opts{})
	res := checkWith(t, encode(t, r), lc.trust, nil)
	if res.Verdict != verify.Valid || res.Proven.Status.Height != 0 {
		t.Fatalf("receipt v2: %s %s %+v", res.Verdict, res.Detail, res.Proven.Status)
	}
	live := liveOf(lc.later)
	live.AnchorHeight = res.Proven.Batch.Height
	now, err := verify.CheckLiveStatus(lc.trust, r, live)
	if err != nil || !now.Revoked || now.Revocation == nil || now.Revocation.Reason != "fraud" {
		t.Fatalf("live status: %v %+v", err, now)
	}
	combined := verify.Combine(res, []verify.NodeOutcome{{Endpoint: "https://nodo.example", Check: now}})
	if combined.Verdict != verify.Revoked {
		t.Fatalf("combined verdict %s", combined.Verdict)
	}
	if text := combined.Text(verify.English, nil); !strings.Contains(text, "It was revoked on") || strings.Contains(text, "not part of this receipt") {
		t.Errorf("text: %s", text)
	}
	for _, tc := range []struct {
		name   string
		change func(ls *notaryv1.LiveStatus)
		want   verify.LiveErrorCode
	}{
		{"anchor height", func(ls *notaryv1.LiveStatus) { ls.AnchorHeight++ }, verify.LiveMismatch},
		{"digest", func(ls *notaryv1.LiveStatus) { ls.AnchoredDigest = lc.other.Document.AnchoredDigest }, verify.LiveMismatch},
		{"signature", func(ls *notaryv1.LiveStatus) { ls.Status.Checkpoint.Commit.Signatures[0].Signature[3] ^= 1 }, verify.LiveNotValid},
		{"transition left out", func(ls *notaryv1.LiveStatus) { ls.ValidatorChain = ls.ValidatorChain[1:] }, verify.LiveNotValid},
		{"proof for another digest", func(ls *notaryv1.LiveStatus) {
			o := liveOf(lc.other)
			ls.Status = o.Status
		}, verify.LiveNotValid},
		{"no status", func(ls *notaryv1.LiveStatus) { ls.Status = nil }, verify.LiveMalformed},
		{"status header not after the last transition's", func(ls *notaryv1.LiveStatus) {
			old := liveOf(lc.old) // its status proves no revocation
			ls.Status, ls.ValidatorChain = old.Status, old.ValidatorChain
			last := decodeHeaderBytes(t, ls.ValidatorChain[len(ls.ValidatorChain)-1].Header).Time
			resign(t, &fixture{chain: lc.chain}, &ls.Status.Checkpoint.Header, &ls.Status.Checkpoint.Commit, 0, func(h *cmttypes.Header) { h.Time = last })
		}, verify.LiveNotValid},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ls := proto.CloneOf(live)
			tc.change(ls)
			_, err := verify.CheckLiveStatus(lc.trust, r, ls)
			var le *verify.LiveError
			if !errors.As(err, &le) || le.Code != tc.want {
				t.Fatalf("got %v, want %s", err, tc.want)
			}
		})
	}
}

// TestV2ProvenJSON checks that the JSON of what a receipt v2 proves leaves
// out the anchor and the status it does not prove, shows a live status
// once Combine adds one, and that a receipt v1's keeps both.
func TestV2ProvenJSON(t *testing.T) {
	lc := newLiveChain(t)
	r := makeV2(t, &fixture{receipt: lc.old}, v2Opts{})
	v2 := checkWith(t, encode(t, r), lc.trust, nil)
	v1 := checkWith(t, encode(t, lc.old), lc.trust, nil)
	live := liveOf(lc.later)
	live.AnchorHeight = v2.Proven.Batch.Height
	now, err := verify.CheckLiveStatus(lc.trust, r, live)
	if err != nil {
		t.Fatal(err)
	}
	combined := verify.Combine(v2, []verify.NodeOutcome{{Endpoint: "https://nodo.example", Check: now}})
	for _, tc := range []struct {
		name   string
		res    *verify.Result
		anchor bool
		status bool
	}{
		{"v1", v1, true, true},
		{"v2", v2, false, false},
		{"v2 with a live status", combined, false, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if tc.res.Proven == nil {
				t.Fatalf("verdict %s: %s", tc.res.Verdict, tc.res.Detail)
			}
			b, err := json.Marshal(tc.res.Proven)
			if err != nil {
				t.Fatal(err)
			}
			var keys map[string]json.RawMessage
			if err := json.Unmarshal(b, &keys); err != nil {
				t.Fatal(err)
			}
			if _, ok := keys["anchor"]; ok != tc.anchor {
				t.Errorf("anchor in the JSON: %v, want %v: %s", ok, tc.anchor, b)
			}
			if _, ok := keys["status"]; ok != tc.status {
				t.Errorf("status in the JSON: %v, want %v: %s", ok, tc.status, b)
			}
		})
	}
}
