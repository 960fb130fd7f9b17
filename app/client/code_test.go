package client_test

import (
	"bytes"
	"context"
	"encoding/hex"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/gobtechlab/notary/cmd/verifier/verify/vcode/vcodetest"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"github.com/gobtechlab/notary/app"
	"github.com/gobtechlab/notary/app/apptest"
	"github.com/gobtechlab/notary/app/client"
	"github.com/gobtechlab/notary/cmd/verifier/verify"
	"github.com/gobtechlab/notary/ledger"
	notaryv1 "github.com/gobtechlab/notary/proto/notary/v1"
)

// testCode returns the salt and key of the made-up verification code of a
// label.
var testCode = vcodetest.Secrets

// TestAnchorCoded: documents anchored under verification codes, among plain
// ones, go in batches of their own with their code keys; the chain finds
// each by its key (not by its digest); the receipt carries the code's salt and key and
// verifies; the same document under the same code again is Existing; a
// code registered, or pending, for another document is refused.
func TestAnchorCoded(t *testing.T) {
	n := startNode(t, apptest.Options{})
	c := dial(t, n, n.Agency, client.WithBatching(64, time.Second))
	ctx := ctxT(t, 60*time.Second)

	// Interleaved plain and coded documents, sent together.
	type sent struct {
		p         *client.Pending
		coded     bool
		salt, key []byte
	}
	var all []sent
	for i := 0; i < 12; i++ {
		d := digest("coded-mix", i)
		if i%3 == 0 {
			p, err := c.AnchorAsync(ctx, mustDoc(t)(c.Document(d)))
			if err != nil {
				t.Fatal(err)
			}
			all = append(all, sent{p: p})
			continue
		}
		salt, key := testCode(fmt.Sprint("MIX", i))
		p, err := c.AnchorAsync(ctx, mustDoc(t)(c.CodedDocument(d, salt, key)))
		if err != nil {
			t.Fatal(err)
		}
		all = append(all, sent{p: p, coded: true, salt: salt, key: key})
	}
	c.Flush()
	kinds := map[string]bool{} // batch id -> coded
	for i, s := range all {
		a, err := s.p.Wait(ctx)
		if err != nil {
			t.Fatalf("document %d: %v", i, err)
		}
		if coded, seen := kinds[a.BatchID()]; seen && coded != s.coded {
			t.Fatalf("batch %s mixes coded and plain documents", a.BatchID())
		}
		kinds[a.BatchID()] = s.coded
		if a.Coded() != s.coded || a.Existing {
			t.Fatalf("document %d: %+v", i, a)
		}
		look, err := c.Lookup(ctx, a.Algorithm, a.Anchored, 0)
		if !s.coded {
			if err != nil || len(look.CodeKey) != 0 || look.LeafIndex != a.Leaf {
				t.Fatalf("document %d: lookup %v %v", i, look, err)
			}
			continue
		}
		// A coded document is found by its key only.
		if status.Code(err) != codes.NotFound {
			t.Fatalf("document %d: lookup by its digest: %v %v", i, look, err)
		}
		byCode, err := c.LookupCode(ctx, s.key, 0)
		if err != nil || !bytes.Equal(byCode.Digest, a.Anchored) || byCode.LeafIndex != a.Leaf || byCode.Batch.TxHash == nil ||
			!bytes.Equal(byCode.Batch.TxHash, a.TxHash) {
			t.Fatalf("document %d: lookup by code %v %v", i, byCode, err)
		}
	}
	if len(kinds) < 2 {
		t.Fatalf("batches %v: want plain and coded ones", kinds)
	}

	// The receipt of a coded document: the code's salt and key, verified.
	first := all[1]
	a, err := first.p.Wait(ctx)
	if err != nil {
		t.Fatal(err)
	}
	rc, err := c.Receipt(ctx, a.Document)
	if err != nil {
		t.Fatal(err)
	}
	b := rc.Document
	if b.CodeKey != hex.EncodeToString(first.key) || b.Salt != hex.EncodeToString(first.salt) || b.DocumentDigest != hex.EncodeToString(a.Digest) {
		t.Fatalf("binding %+v", b)
	}
	if want := a.Binding(); want.CodeKey != b.CodeKey || want.Salt != b.Salt || want.AnchoredDigest != b.AnchoredDigest {
		t.Fatalf("Document.Binding %+v, receipt %+v", want, b)
	}
	tb, err := readTrust(filepath.Join(n.Home, app.TrustFile))
	if err != nil {
		t.Fatal(err)
	}
	if res, err := verify.VerifyReceipt(rc, tb, nil); err != nil || res.Verdict != verify.Valid || res.Proven.Document.CodeKey != b.CodeKey {
		t.Fatalf("verify: %v %+v", err, res)
	}
	// A Document under another code than the chain's is refused.
	otherSalt, otherKey := testCode("NOT-ITS-CODE")
	wrong := a.Document
	wrong.Salt, wrong.CodeKey = otherSalt, otherKey
	wrong.Anchored = a.Anchored // inconsistent on purpose: only the key differs from the chain's
	wrong.Digest = nil
	if _, err := c.Receipt(ctx, wrong); err == nil {
		t.Fatal("a receipt under another code key")
	}

	// The same document under the same code: the original record.
	again, err := c.AnchorCoded(ctx, a.Digest, first.salt, first.key)
	if err != nil || !again.Existing {
		t.Fatalf("again: %+v %v", again, err)
	}
	sameRecord(t, a, again)

	// The same code on another document: refused by the chain.
	_, err = c.AnchorCoded(ctx, digest("coded-other", 0), first.salt, first.key)
	if !errors.Is(err, client.ErrCodeUsed) || !errors.Is(err, ledger.ErrDuplicateCode) {
		t.Fatalf("a used code on another document: %v", err)
	}

	// A batch with a used code among new ones: that one fails, the others
	// are anchored together.
	reused := all[2]
	var batch []*client.Pending
	for i := 0; i < 3; i++ {
		salt, key := testCode(fmt.Sprint("SPLIT", i))
		if i == 1 {
			salt, key = reused.salt, reused.key
		}
		p, err := c.AnchorAsync(ctx, mustDoc(t)(c.CodedDocument(digest("coded-split", i), salt, key)))
		if err != nil {
			t.Fatal(err)
		}
		batch = append(batch, p)
	}
	c.Flush()
	var ids []string
	for i, p := range batch {
		a, err := p.Wait(ctx)
		if i == 1 {
			if !errors.Is(err, client.ErrCodeUsed) || !errors.Is(err, ledger.ErrDuplicateCode) {
				t.Fatalf("the reused code: %+v %v", a, err)
			}
			continue
		}
		if err != nil {
			t.Fatalf("document %d of the split batch: %v", i, err)
		}
		ids = append(ids, a.BatchID())
	}
	if ids[0] != ids[1] {
		t.Fatalf("the rest was not anchored as one batch: %v", ids)
	}

	// One code pending for two documents at once: the second is refused
	// before anything is sent.
	salt, key := testCode("PENDING")
	p1, err := c.AnchorAsync(ctx, mustDoc(t)(c.CodedDocument(digest("pending", 1), salt, key)))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := c.AnchorAsync(ctx, mustDoc(t)(c.CodedDocument(digest("pending", 2), salt, key))); !errors.Is(err, client.ErrCodeUsed) {
		t.Fatalf("a code pending for another document: %v", err)
	}
	// The same document, plain, while it is pending coded: refused too.
	plain, err := client.CodedDocument(client.SHA256, digest("pending", 1), salt, key)
	if err != nil {
		t.Fatal(err)
	}
	plain.CodeKey = nil
	if _, err := c.AnchorAsync(ctx, plain); err == nil {
		t.Fatal("a pending value joined without its code")
	}
	c.Flush()
	if _, err := p1.Wait(ctx); err != nil {
		t.Fatal(err)
	}

	// The coded document's digest anchors plain, as another document.
	asPlain := a.Document
	asPlain.CodeKey = nil
	plainA, err := c.AnchorDocument(ctx, asPlain)
	if err != nil || plainA.Existing || plainA.Coded() {
		t.Fatalf("the coded document's digest, plain: %+v %v", plainA, err)
	}

	// Revocation by key: the record is the key's; the plain document with
	// the same digest is not revoked. Plain and coded documents do not mix
	// in one revocation.
	if _, err := c.RevokeDocuments(ctx, []client.Document{a.Document, plainA.Document}, notaryv1.RevocationReason_REVOCATION_REASON_FRAUD, ""); err == nil {
		t.Fatal("a revocation of coded and plain documents together")
	}
	if _, err := c.RevokeDocuments(ctx, []client.Document{a.Document}, notaryv1.RevocationReason_REVOCATION_REASON_FRAUD, "prueba"); err != nil {
		t.Fatal(err)
	}
	byKey, err := c.LookupCode(ctx, first.key, 0)
	if err != nil || byKey.Revocation == nil || !bytes.Equal(byKey.Revocation.CodeKey, first.key) || len(byKey.Revocation.Digest) != 0 {
		t.Fatalf("revoked by key: %v %v", byKey, err)
	}
	if plainLook, err := c.Lookup(ctx, plainA.Algorithm, plainA.Anchored, 0); err != nil || plainLook.Revocation != nil {
		t.Fatalf("the plain document: %v %v", plainLook, err)
	}
	revoked, err := c.Receipt(ctx, a.Document)
	if err != nil {
		t.Fatal(err)
	}
	if res, err := verify.VerifyReceipt(revoked, tb, nil); err != nil || res.Verdict != verify.Revoked {
		t.Fatalf("verify the revoked coded document: %v %+v", err, res)
	}
	if _, err := c.RevokeCodes(ctx, [][]byte{first.key}, notaryv1.RevocationReason_REVOCATION_REASON_FRAUD, ""); !errors.Is(err, ledger.ErrAlreadyRevoked) {
		t.Fatalf("revoked again: %v", err)
	}

	// Lookup of a key under which nothing is anchored.
	_, nokey := testCode("NOTHING")
	if _, err := c.LookupCode(ctx, nokey, 0); status.Code(err) != codes.NotFound {
		t.Fatalf("lookup of an unknown code: %v", err)
	}
}

// TestCodedDocument: the derivation of a coded Document and the checks of
// its parts.
func TestCodedDocument(t *testing.T) {
	d := digest("doc", 0)
	salt, key := testCode("DOC")
	doc, err := client.CodedDocument(client.SHA3256, d, salt, key)
	if err != nil {
		t.Fatal(err)
	}
	if !doc.Coded() || !doc.Salted() || !bytes.Equal(doc.Anchored, ledger.CodedEntry(key, salt, d)) || !bytes.Equal(doc.CodeKey, key) {
		t.Fatalf("coded document %+v", doc)
	}
	for name, tc := range map[string]struct {
		alg            ledger.HashAlgorithm
		d, salt, key   []byte
		wantErrContain string
	}{
		"short key":         {client.SHA256, d, salt, key[:15], "key"},
		"a digest as a key": {client.SHA256, d, salt, d, "key"},
		"short salt":        {client.SHA256, d, salt[:31], key, "salt"},
		"no salt":           {client.SHA256, d, nil, key, "salt"},
		"short digest":      {client.SHA256, d[:31], salt, key, "digest"},
		"no algorithm":      {0, d, salt, key, "algorithm"},
		"the key's index":   {ledger.CodeKeyIndex, d, salt, key, "algorithm"},
	} {
		if _, err := client.CodedDocument(tc.alg, tc.d, tc.salt, tc.key); err == nil || !bytes.Contains([]byte(err.Error()), []byte(tc.wantErrContain)) {
			t.Errorf("%s: %v", name, err)
		}
	}
}

// TestAnchorCodedRefusedInput: a coded Document without its salt, or with
// a key of another length, is refused before anything is sent.
func TestAnchorCodedRefusedInput(t *testing.T) {
	n := startNode(t, apptest.Options{})
	c := dial(t, n, n.Agency)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	salt, key := testCode("INPUT")
	doc := mustDoc(t)(c.CodedDocument(digest("input", 0), salt, key))
	noSalt := doc
	noSalt.Salt = nil
	longKey := doc
	longKey.CodeKey = append(append([]byte(nil), key...), 0)
	for name, d := range map[string]client.Document{"no salt": noSalt, "long key": longKey} {
		if _, err := c.AnchorAsync(ctx, d); err == nil {
			t.Errorf("%s: accepted", name)
		}
	}
	if st := client.Stats(c); st["sent"] != 0 {
		t.Fatalf("sent %v", st)
	}
}

// TestAnchorCodedEarlierForm: a document anchored under a code in the
// earlier form (code_keys beside the salted commitment) is found by a
// client that anchors coded entries: the same document again is Existing,
// with the chain's value, and its receipt verifies; another document under
// that code is refused.
func TestAnchorCodedEarlierForm(t *testing.T) {
	n := startNode(t, apptest.Options{})
	c := dial(t, n, n.Agency)
	ctx := ctxT(t, 60*time.Second)
	d := digest("earlier", 0)
	salt, key := testCode("EARLIER")
	old := ledger.SaltedDigest(client.SHA256, salt, d)
	id := n.Identity(t, n.Agency)
	if _, err := c.Submit(ctx, &notaryv1.TxBody{Msg: &notaryv1.TxBody_AnchorBatch{AnchorBatch: &notaryv1.AnchorBatch{
		AgencyId: id.ID, HashAlgorithm: client.SHA256, Digests: old, CodeKeys: key}}}); err != nil {
		t.Fatal(err)
	}
	a, err := c.AnchorCoded(ctx, d, salt, key)
	if err != nil || !a.Existing || !bytes.Equal(a.Anchored, old) {
		t.Fatalf("again: %+v %v", a, err)
	}
	for name, doc := range map[string]client.Document{"the Anchored": a.Document, "a new Document": mustDoc(t)(c.CodedDocument(d, salt, key))} {
		rc, err := c.Receipt(ctx, doc)
		if err != nil {
			t.Fatalf("receipt of %s: %v", name, err)
		}
		if rc.Document.AnchoredDigest != hex.EncodeToString(old) || rc.Document.Salt != hex.EncodeToString(salt) {
			t.Fatalf("receipt of %s: binding %+v", name, rc.Document)
		}
		tb, err := readTrust(filepath.Join(n.Home, app.TrustFile))
		if err != nil {
			t.Fatal(err)
		}
		if res, err := verify.VerifyReceipt(rc, tb, nil); err != nil || res.Verdict != verify.Valid {
			t.Fatalf("receipt of %s: %v %+v", name, err, res)
		}
	}
	if _, err := c.AnchorCoded(ctx, digest("earlier-other", 0), salt, key); !errors.Is(err, client.ErrCodeUsed) {
		t.Fatalf("another document under the code: %v", err)
	}
}

// mustDoc unwraps a Document or fails the test.
func mustDoc(t testing.TB) func(client.Document, error) client.Document {
	return func(d client.Document, err error) client.Document {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
		return d
	}
}

// readTrust reads and decodes a trust bundle file.
func readTrust(path string) (*notaryv1.TrustBundle, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	return verify.DecodeTrustBundle(b)
}
