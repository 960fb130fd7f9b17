package ledger

import (
	"bytes"
	"crypto/ed25519"
	"crypto/sha256"
	"errors"
	"fmt"
	"slices"
	"testing"
	"time"

	notaryv1 "github.com/gobtechlab/notary/proto/notary/v1"
)

// testNonce derives a 16-byte nonce from a tag.
func testNonce(tag string) []byte {
	h := sha256.Sum256([]byte("nonce/" + tag))
	return h[:MinNonceBytes]
}

// signUnordered signs body as an unordered transaction of k.
func signUnordered(k ed25519.PrivateKey, nonce []byte, validUntil int64, body *notaryv1.TxBody) []byte {
	body.Sequence, body.Nonce, body.ValidUntilHeight = 0, nonce, validUntil
	return signTx(testChain, k, body)
}

// countPrefix counts the keys of st under prefix.
func countPrefix(t *testing.T, st Store, prefix []byte) int {
	t.Helper()
	n := 0
	if err := st.Iterate(prefix, PrefixEnd(prefix), func(_, _ []byte) bool { n++; return true }); err != nil {
		t.Fatal(err)
	}
	return n
}

// TestUnorderedSenders: transactions of one key with distinct nonces are
// all accepted in one block, in any order, beside the key's ordered ones,
// whose sequence they neither need nor advance.
func TestUnorderedSenders(t *testing.T) {
	f := newFixture(t, testGenesis())
	aeat := agencyKey("aeat")
	var txs [][]byte
	for i := range 8 {
		txs = append(txs, signUnordered(aeat, testNonce(fmt.Sprint("sender-", i)), f.height+10, anchorBody("aeat", digests(fmt.Sprint("sender-", i), 3))))
	}
	txs = append(txs[:4], append([][]byte{f.sign(aeat, anchorBody("aeat", digests("ordered", 1)))}, txs[4:]...)...)
	for i, out := range f.block(txs...) {
		if out.Err != nil {
			t.Fatalf("tx %d: %v", i, out.Err)
		}
	}
	acct, err := loadAccount(f.st, pub(aeat))
	if err != nil || acct.NextSequence != 1 {
		t.Fatalf("account after one ordered transaction: %v %v", acct, err)
	}
	mustOK(t, f.one(f.sign(aeat, anchorBody("aeat", digests("ordered-2", 1)))))
	// The other messages an agency and a ministry send.
	mustOK(t, f.one(signUnordered(aeat, testNonce("revoke"), f.height+1, revokeBody(digests("sender-0", 1)))))
	mustOK(t, f.one(signUnordered(aeat, testNonce("enroll"), f.height+1, enrollBody("aeat", pub(citizenKey("eva"))))))
	mustOK(t, f.one(signUnordered(ministryGov("hacienda"), testNonce("propose"), f.height+5, &notaryv1.TxBody{Msg: &notaryv1.TxBody_Propose{Propose: &notaryv1.Propose{
		MinistryId: "hacienda", Title: "quitar readonly", Action: &notaryv1.ProposalAction{Action: &notaryv1.ProposalAction_RemoveAgency{RemoveAgency: "readonly"}}}}})))
}

// TestUnorderedReplay: a nonce is spent once per signer, whatever the
// transaction carrying it, in the same block or a later one, until the
// transaction has expired; another signer may use the same nonce.
func TestUnorderedReplay(t *testing.T) {
	aeat, sepe := agencyKey("aeat"), agencyKey("sepe")
	n := testNonce("replay")
	for _, tc := range []struct {
		name   string
		second func(f *fixture, first []byte) []byte
		same   bool // in the first's block
		want   *Error
	}{
		{"same bytes, next block", func(_ *fixture, first []byte) []byte { return first }, false, ErrNonceUsed},
		{"same bytes, same block", func(_ *fixture, first []byte) []byte { return first }, true, ErrNonceUsed},
		{"same nonce, other message", func(f *fixture, _ []byte) []byte {
			return signUnordered(aeat, n, f.height+20, anchorBody("aeat", digests("other", 1)))
		}, false, ErrNonceUsed},
		{"same nonce, other message, same block", func(f *fixture, _ []byte) []byte {
			return signUnordered(aeat, n, f.height+20, anchorBody("aeat", digests("other", 1)))
		}, true, ErrNonceUsed},
		{"same nonce, other signer", func(f *fixture, _ []byte) []byte {
			return signUnordered(sepe, n, f.height+20, anchorBody("sepe", digests("other", 1)))
		}, false, nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f := newFixture(t, testGenesis())
			first := signUnordered(aeat, n, f.height+20, anchorBody("aeat", digests("first", 2)))
			var out Outcome
			if tc.same {
				outs := f.block(first, tc.second(f, first))
				mustOK(t, outs[0])
				out = outs[1]
			} else {
				mustOK(t, f.one(first))
				f.block()
				out = f.one(tc.second(f, first))
			}
			if tc.want == nil {
				mustOK(t, out)
				return
			}
			mustFail(t, out, tc.want)
		})
	}
}

// TestUnorderedWindow: valid_until_height must be after the including
// block's height and at most max_unordered_window after it; a window of 0
// (chains created before unordered transactions) refuses them all.
func TestUnorderedWindow(t *testing.T) {
	aeat := agencyKey("aeat")
	for _, tc := range []struct {
		name   string
		window uint64
		ahead  int64 // valid_until_height - block height
		want   *Error
	}{
		{"next height", DefaultMaxUnorderedWindow, 1, nil},
		{"window end", DefaultMaxUnorderedWindow, DefaultMaxUnorderedWindow, nil},
		{"beyond the window", DefaultMaxUnorderedWindow, DefaultMaxUnorderedWindow + 1, ErrUnorderedWindow},
		{"this height", DefaultMaxUnorderedWindow, 0, ErrTxExpired},
		{"passed", DefaultMaxUnorderedWindow, -1, ErrTxExpired},
		{"window of one", 1, 1, nil},
		{"disabled", 0, 1, ErrUnorderedWindow},
	} {
		t.Run(tc.name, func(t *testing.T) {
			g := testGenesis()
			g.Params.MaxUnorderedWindow = tc.window
			f := newFixture(t, g)
			f.block()
			f.block()
			out := f.one(signUnordered(aeat, testNonce(tc.name), f.height+tc.ahead, anchorBody("aeat", digests(tc.name, 1))))
			if tc.want == nil {
				mustOK(t, out)
				return
			}
			mustFail(t, out, tc.want)
			// A refused transaction spent nothing.
			if n := countPrefix(t, f.st, prefixNonce); n != 0 {
				t.Fatalf("%d nonces kept after a refusal", n)
			}
		})
	}
}

// TestUnorderedFields: the rules of the replay fields that need no state
// fail the transaction in ValidateBasic (ProcessProposal) and in a block.
func TestUnorderedFields(t *testing.T) {
	aeat, ana := agencyKey("aeat"), citizenKey("ana")
	anchor := func() *notaryv1.TxBody { return anchorBody("aeat", digests("fields", 1)) }
	for _, tc := range []struct {
		name string
		key  ed25519.PrivateKey
		body func(*notaryv1.TxBody) *notaryv1.TxBody
	}{
		{"nonce too short", aeat, func(b *notaryv1.TxBody) *notaryv1.TxBody {
			b.Nonce, b.ValidUntilHeight = make([]byte, MinNonceBytes-1), 5
			return b
		}},
		{"nonce too long", aeat, func(b *notaryv1.TxBody) *notaryv1.TxBody {
			b.Nonce, b.ValidUntilHeight = make([]byte, MaxNonceBytes+1), 5
			return b
		}},
		{"sequence with a nonce", aeat, func(b *notaryv1.TxBody) *notaryv1.TxBody {
			b.Nonce, b.ValidUntilHeight, b.Sequence = testNonce("x"), 5, 1
			return b
		}},
		{"nonce without valid_until_height", aeat, func(b *notaryv1.TxBody) *notaryv1.TxBody {
			b.Nonce = testNonce("x")
			return b
		}},
		{"negative valid_until_height", aeat, func(b *notaryv1.TxBody) *notaryv1.TxBody {
			b.Nonce, b.ValidUntilHeight = testNonce("x"), -3
			return b
		}},
		{"valid_until_height without a nonce", aeat, func(b *notaryv1.TxBody) *notaryv1.TxBody {
			b.ValidUntilHeight = 5
			return b
		}},
		{"unordered grant_consent", ana, func(*notaryv1.TxBody) *notaryv1.TxBody {
			b := grantMsg(SubjectID(pub(ana)), "aeat", "tax", "statistics", genesisTime, genesisTime.Add(time.Hour))
			b.Nonce, b.ValidUntilHeight = testNonce("grant"), 5
			return b
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f := newFixture(t, testGenesis())
			raw := signTx(testChain, tc.key, tc.body(anchor()))
			tx, err := DecodeTx(testChain, raw, 0)
			if err != nil {
				t.Fatal(err)
			}
			if err := ValidateBasic(tx); !errors.Is(err, ErrInvalidField) {
				t.Fatalf("ValidateBasic: %v", err)
			}
			mustFail(t, f.one(raw), ErrInvalidField)
		})
	}
}

// TestUnorderedPruning: the state keeps a spent nonce while a block could
// still include its transaction, and forgets it after; a block forgets at
// most noncePruneBase plus two per unordered transaction it includes, the
// rest at the next blocks. A transaction resent after its nonce is
// forgotten has expired.
func TestUnorderedPruning(t *testing.T) {
	f := newFixture(t, testGenesis())
	aeat := agencyKey("aeat")
	base := f.st.Len()
	const n = noncePruneBase + 40
	until := f.height + 3
	var txs [][]byte
	for i := range n {
		txs = append(txs, signUnordered(aeat, testNonce(fmt.Sprint("prune-", i)), until, anchorBody("aeat", digests(fmt.Sprint("prune-", i), 1))))
	}
	for i, out := range f.block(txs...) {
		if out.Err != nil {
			t.Fatalf("tx %d: %v", i, out.Err)
		}
	}
	if got := countPrefix(t, f.st, prefixNonce); got != n {
		t.Fatalf("%d spent nonces, want %d", got, n)
	}
	if got := countPrefix(t, f.st, prefixNonceExpiry); got != 1 {
		t.Fatalf("%d expiry index entries, want 1 (one height)", got)
	}
	// Still includable up to height until-1: kept.
	for f.height < until-1 {
		f.block()
		if got := countPrefix(t, f.st, prefixNonce); got != n {
			t.Fatalf("after height %d: %d spent nonces, want %d", f.height-1, got, n)
		}
	}
	mustFail(t, f.one(txs[0]), ErrNonceUsed)
	// The block at until-1 is the last that could include them: it forgets
	// noncePruneBase (it includes no unordered transaction), the next the rest.
	if got, exp := countPrefix(t, f.st, prefixNonce), countPrefix(t, f.st, prefixNonceExpiry); got != n-noncePruneBase || exp != 1 {
		t.Fatalf("after the first pruning: %d spent nonces and %d expiry index entries, want %d and 1", got, exp, n-noncePruneBase)
	}
	f.block()
	if got, exp := countPrefix(t, f.st, prefixNonce), countPrefix(t, f.st, prefixNonceExpiry); got != 0 || exp != 0 {
		t.Fatalf("after the second pruning: %d spent nonces, %d expiry entries", got, exp)
	}
	mustFail(t, f.one(txs[1]), ErrTxExpired)
	// The batches (and the evidence log and its checkpoints) stay; every
	// other key the nonces added is gone.
	batches := countPrefix(t, f.st, prefixBatch) + countPrefix(t, f.st, prefixAgencyBatch) + countPrefix(t, f.st, keyEvidenceLog) +
		countPrefix(t, f.st, prefixCheckpoint) + countPrefix(t, f.st, keyLastCheckpoint)
	if got := f.st.Len() - batches; got != base {
		t.Fatalf("%d keys besides the batches, %d before", got, base)
	}
}

// TestUnorderedPruneKeepsPace: a block that includes many unordered
// transactions forgets two expired nonces for each of them, beyond
// noncePruneBase.
func TestUnorderedPruneKeepsPace(t *testing.T) {
	f := newFixture(t, testGenesis())
	aeat := agencyKey("aeat")
	const n = 3 * noncePruneBase
	var first [][]byte
	for i := range n {
		first = append(first, signUnordered(aeat, testNonce(fmt.Sprint("a-", i)), f.height+1, anchorBody("aeat", digests(fmt.Sprint("a-", i), 1))))
	}
	f.block(first...)
	// The first block forgot noncePruneBase + 2n >= n: all of them.
	if got := countPrefix(t, f.st, prefixNonce); got != 0 {
		t.Fatalf("%d spent nonces left", got)
	}
}

// TestUnorderedMempool: the mempool (ModeCheck) refuses a second
// transaction with a spent (signer, nonce), keeps no expiry entry, and a
// relayed unordered transaction is never held.
func TestUnorderedMempool(t *testing.T) {
	f := newFixture(t, testGenesis())
	aeat := agencyKey("aeat")
	overlay := NewOverlay(f.st)
	e, err := f.l.NewExec(overlay, f.idx, BlockInfo{Height: f.height, Time: f.time}, ModeCheck)
	if err != nil {
		t.Fatal(err)
	}
	decode := func(raw []byte) *Tx {
		tx, err := DecodeTx(testChain, raw, 0)
		if err != nil {
			t.Fatal(err)
		}
		return tx
	}
	n := testNonce("mempool")
	a := decode(signUnordered(aeat, n, f.height+5, anchorBody("aeat", digests("m1", 1))))
	b := decode(signUnordered(aeat, n, f.height+6, anchorBody("aeat", digests("m2", 1))))
	if out, err := e.RunRelayed(0, a); err != nil || out.Err != nil || out.Held {
		t.Fatalf("first: %+v %v", out, err)
	}
	for _, run := range []func(uint32, *Tx) (Outcome, error){e.Run, e.RunRelayed} {
		out, err := run(1, b)
		if err != nil {
			t.Fatal(err)
		}
		mustFail(t, out, ErrNonceUsed)
	}
	if got := countPrefix(t, overlay, prefixNonceExpiry); got != 0 {
		t.Fatalf("the mempool kept %d expiry entries", got)
	}
	if got := countPrefix(t, f.st, prefixNonce); got != 0 {
		t.Fatalf("the mempool wrote %d nonces to the state", got)
	}
}

// TestProposalOrderUnordered: unordered transactions keep their place and
// leave the ordering of their signer's sequences alone, even for a key
// whose next sequence is 0.
func TestProposalOrderUnordered(t *testing.T) {
	f := newFixture(t, testGenesis())
	aeat := agencyKey("aeat")
	var txs []*Tx
	names := []string{"u0", "s1", "u1", "s0", "u2"}
	for i, name := range names {
		var raw []byte
		body := anchorBody("aeat", digests(fmt.Sprint("order-", i), 1))
		if name[0] == 'u' {
			raw = signUnordered(aeat, testNonce(name), f.height+5, body)
		} else {
			raw = f.signSeq(aeat, uint64(name[1]-'0'), body)
		}
		tx, err := DecodeTx(testChain, raw, 0)
		if err != nil {
			t.Fatal(err)
		}
		txs = append(txs, tx)
	}
	order, err := ProposalOrder(f.st, txs)
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	var raws [][]byte
	for _, i := range order {
		got = append(got, names[i])
		raws = append(raws, txs[i].Raw)
	}
	if want := []string{"u0", "u1", "s0", "s1", "u2"}; !slices.Equal(got, want) {
		t.Fatalf("order %v, want %v", got, want)
	}
	for i, out := range f.block(raws...) {
		if out.Err != nil {
			t.Fatalf("%s: %v", got[i], out.Err)
		}
	}
}

// TestUnorderedNonceKeys: the expiry index sorts by height, and its
// entries give back the nonces they hold.
func TestUnorderedNonceKeys(t *testing.T) {
	signer := pub(agencyKey("aeat"))
	a, b := NonceExpiryKey(9), NonceExpiryKey(10)
	if bytes.Compare(a, b) >= 0 {
		t.Fatal("the expiry index is not ordered by height")
	}
	if !bytes.HasPrefix(NonceKey(signer, testNonce("a")), prefixNonce) || !bytes.HasPrefix(a, NonceExpiryPrefix()) {
		t.Fatal("keys outside their prefixes")
	}
	long := bytes.Repeat([]byte{7}, MaxNonceBytes)
	v := append(append(append([]byte(nil), signer...), MinNonceBytes), testNonce("a")...)
	v = append(append(append(v, signer...), MaxNonceBytes), long...)
	for _, want := range [][]byte{testNonce("a"), long} {
		s, n, rest, err := expiryEntry(v)
		if err != nil || !bytes.Equal(s, signer) || !bytes.Equal(n, want) {
			t.Fatalf("entry %x %x %v", s, n, err)
		}
		v = rest
	}
	for _, bad := range [][]byte{signer, append(append([]byte(nil), signer...), 3, 1, 2, 3), append(append([]byte(nil), signer...), MinNonceBytes, 1)} {
		if _, _, _, err := expiryEntry(bad); err == nil {
			t.Fatalf("entry %x accepted", bad)
		}
	}
}

// TestUnorderedPruneAcrossHeights: forgetting goes oldest height first,
// stops inside a height's entry, which keeps the rest for the next block,
// and goes on into the next height; nonces of any allowed length are read
// back.
func TestUnorderedPruneAcrossHeights(t *testing.T) {
	f := newFixture(t, testGenesis())
	aeat := agencyKey("aeat")
	start := f.height
	var txs [][]byte
	for i := range 900 {
		n := sha256.Sum256([]byte(fmt.Sprint("across-", i)))
		nonce := n[:] // 32 bytes, and 16 for every other one
		if i%2 == 1 {
			nonce = n[:MinNonceBytes]
		}
		until := start + 3 // 600 of them, then 300 until start+4
		if i >= 600 {
			until = start + 4
		}
		txs = append(txs, signUnordered(aeat, nonce, until, anchorBody("aeat", digests(fmt.Sprint("across-", i), 1))))
	}
	for i, out := range f.block(txs...) {
		if out.Err != nil {
			t.Fatalf("tx %d: %v", i, out.Err)
		}
	}
	if got := countPrefix(t, f.st, prefixNonceExpiry); got != 2 {
		t.Fatalf("%d expiry index entries, want 2", got)
	}
	// Empty blocks: start+1 forgets nothing, start+2 and start+3 forget
	// noncePruneBase of the first height, start+4 the rest of it and the
	// first of the second, start+5 the rest.
	for _, want := range []int{900, 900 - noncePruneBase, 900 - 2*noncePruneBase, 900 - 3*noncePruneBase, 0} {
		f.block()
		if got := countPrefix(t, f.st, prefixNonce); got != want {
			t.Fatalf("after block %d: %d spent nonces, want %d", f.height-1, got, want)
		}
	}
	if got := countPrefix(t, f.st, prefixNonceExpiry); got != 0 {
		t.Fatalf("%d expiry index entries left", got)
	}
}
