package verify_test

import (
	"testing"

	"github.com/gobtechlab/notary/app/receipt/receipttest"
	"github.com/gobtechlab/notary/cmd/verifier/verify"
	"github.com/gobtechlab/notary/ledger"
	notaryv1 "github.com/gobtechlab/notary/proto/notary/v1"
)

// TestForgeryWithOldKeys: more than 2/3 of an old validator set's keys
// forge evidence of a document never anchored on the real chain.
//
// The real chain and the forger's private fork are two synthetic chains
// (real ABCI application, real IAVL) from the same genesis: the forger
// holds the genesis keys of interior, justicia and sanidad (3 of 4, more
// than 2/3), and anchors a document of its own. Later the consortium's
// validators changed to hacienda, educacion, cultura and defensa; that
// set signed a checkpoint of the evidence log and witness "a" cosigned it.
// The checkpoints are signed here with the validators' keys (the synthetic
// chain keeps no evidence log), as the nodes sign them.
func TestForgeryWithOldKeys(t *testing.T) {
	real := newFixture(t, fixtureOpts{later: 1})
	genesis := real.trust

	// The forger's fork from genesis, signed by 3 of the 4 genesis keys.
	fork := receipttest.New(t, receipttest.Options{})
	fork.Absent = func(int64) map[int]bool { return map[int]bool{0: true} }
	forgedDoc := []byte("Escritura de compraventa: la finca pasa a manos del falsificador\n")
	forged := fixtureFrom(t, fork, forgedDoc)
	if genesis.ChainId != forged.receipt.ChainId {
		t.Fatal("the fork has another chain id")
	}

	oldCoalition := []string{"interior", "justicia", "sanidad"}
	newSet := []receipttest.Ministry{
		{ID: "cultura", Name: "Ministerio de Cultura", Power: 10},
		{ID: "defensa", Name: "Ministerio de Defensa", Power: 10},
		{ID: "educacion", Name: "Ministerio de Educación", Power: 10},
		{ID: "hacienda", Name: "Ministerio de Hacienda", Power: 10},
	}
	newAll := []string{"cultura", "defensa", "educacion", "hacienda"}
	newCoalition := []string{"cultura", "defensa", "educacion"}

	// The consortium's later checkpoint, of the real log, in which the real
	// receipt's leaf is.
	const laterSize = logSize + 5000
	laterRoot := logRoot(t, real, logIndex, laterSize)
	withCheckpoint := logBundle(t, genesis, bundleOpts{size: laterSize, root: laterRoot, logVals: newAll, ministries: newSet, cosigners: []string{"a"}})
	withWitnesses := logBundle(t, genesis, bundleOpts{size: laterSize, root: laterRoot, logVals: newAll, ministries: newSet,
		cosigners: []string{"a"}, witnesses: []string{"a"}, threshold: 1})
	// Before the validators changed, a consortium that requires witnesses
	// can export a bundle without a checkpoint.
	witnessesOnly := logBundle(t, genesis, bundleOpts{witnesses: []string{"a"}, threshold: 1})

	v2 := func(f *fixture, index, size uint64, signers, witnesses []string) *notaryv1.Receipt {
		return makeV2(t, f, v2Opts{index: index, size: size, signers: signers, witnesses: witnesses})
	}
	realV2 := v2(real, logIndex, laterSize, newAll, []string{"a"})
	realEarly := v2(real, logIndex, logSize, []string{"hacienda", "interior", "justicia", "sanidad"}, []string{"a"})
	for _, tc := range []struct {
		name    string
		receipt *notaryv1.Receipt
		doc     []byte
		trust   *notaryv1.TrustBundle
		reason  verify.Reason // empty: accepted
	}{
		// The vulnerability: v1 rules accept the old keys' fork.
		{"forged v1, genesis bundle", forged.receipt, forgedDoc, genesis, ""},
		{"forged v1, bundle with checkpoint", forged.receipt, forgedDoc, withCheckpoint, verify.ReasonReceiptV2Required},
		{"forged v1, bundle requiring witnesses", forged.receipt, forgedDoc, withWitnesses, verify.ReasonReceiptV2Required},
		{"forged v1, witnesses-only bundle", forged.receipt, forgedDoc, witnessesOnly, verify.ReasonReceiptV2Required},
		// A forged receipt v2 whose checkpoint the old keys sign.
		{"forged v2 old keys, genesis bundle", v2(forged, 7, 1000, oldCoalition, nil), forgedDoc, genesis, ""},
		{"forged v2 old keys, bundle with checkpoint", v2(forged, 7, 1000, oldCoalition, nil), forgedDoc, withCheckpoint, verify.ReasonValidatorSetNotReached},
		{"forged v2 old keys at the bundle's size", v2(forged, 7, laterSize, oldCoalition, nil), forgedDoc, withCheckpoint, verify.ReasonValidatorSetNotReached},
		{"forged v2 old keys, later size", v2(forged, 7, laterSize+10, oldCoalition, nil), forgedDoc, withCheckpoint, verify.ReasonValidatorSetNotReached},
		{"forged v2 old keys, bundle requiring witnesses", v2(forged, 7, 1000, oldCoalition, nil), forgedDoc, withWitnesses, verify.ReasonValidatorSetNotReached},
		{"forged v2 old keys, witnesses-only bundle", v2(forged, 7, 1000, oldCoalition, nil), forgedDoc, witnessesOnly, verify.ReasonInsufficientCosignatures},
		// A coalition of more than 2/3 of the current power.
		{"forged v2 current coalition, bundle with checkpoint", v2(forged, 7, 1000, newCoalition, nil), forgedDoc, withCheckpoint, ""},
		{"forged v2 current coalition, bundle requiring witnesses", v2(forged, 7, 1000, newCoalition, nil), forgedDoc, withWitnesses, verify.ReasonInsufficientCosignatures},
		{"forged v2 current coalition at the bundle's size", v2(forged, 7, laterSize, newCoalition, nil), forgedDoc, withCheckpoint, verify.ReasonCheckpointFork},
		// ... with a colluding witness: the witness policy is only as
		// strong as k honest witnesses; the bundle's checkpoint still
		// pins its own size.
		{"forged v2 current coalition and witness, bundle requiring witnesses", v2(forged, 7, 1000, newCoalition, []string{"a"}), forgedDoc, withWitnesses, ""},
		{"forged v2 current coalition and witness at the bundle's size", v2(forged, 7, laterSize, newCoalition, []string{"a"}), forgedDoc, withWitnesses, verify.ReasonCheckpointFork},
		// The real receipts.
		{"real v1, genesis bundle", real.receipt, real.doc, genesis, ""},
		{"real v2, bundle with checkpoint", realV2, real.doc, withCheckpoint, ""},
		{"real v2, bundle requiring witnesses", realV2, real.doc, withWitnesses, ""},
		{"real v2 of the old set, bundle with checkpoint", realEarly, real.doc, withCheckpoint, verify.ReasonInsufficientSignatures},
		{"real v2 of the old set, genesis bundle", realEarly, real.doc, genesis, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			res := checkWith(t, encode(t, tc.receipt), tc.trust, tc.doc)
			if tc.reason == "" {
				if res.Verdict != verify.Valid {
					t.Fatalf("refused: %s: %s", res.Reason, res.Detail)
				}
				return
			}
			if res.Verdict != verify.NotValid || res.Reason != tc.reason {
				t.Fatalf("verdict %s, reason %s (%s), want %s", res.Verdict, res.Reason, res.Detail, tc.reason)
			}
		})
	}
}

// fixtureFrom anchors doc (salted) on chain c and returns its receipt v1
// as the agency's client completes it.
func fixtureFrom(t *testing.T, c *receipttest.Chain, doc []byte) *fixture {
	t.Helper()
	c.Empty(1)
	d := sha2Digest(doc)
	anchored := saltedSha2(d)
	c.Anchor(sha2, "escrituras", receipttest.Digest("x"), anchored, receipttest.Digest("y"))
	c.Empty(2)
	r := c.Receipt(sha2, anchored)
	bind(r, sha2, doc, testSalt[:])
	return &fixture{chain: c, trust: c.TrustBundle(), doc: doc, receipt: r, file: encode(t, r)}
}

func sha2Digest(doc []byte) []byte { return ledger.HashDocument(sha2, doc) }

func saltedSha2(d []byte) []byte { return ledger.SaltedDigest(sha2, testSalt[:], d) }
