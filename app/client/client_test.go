package client_test

import (
	"context"
	"encoding/hex"
	"errors"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"github.com/gobtechlab/notary/app"
	"github.com/gobtechlab/notary/app/apptest"
	"github.com/gobtechlab/notary/app/client"
	"github.com/gobtechlab/notary/app/identity"
	"github.com/gobtechlab/notary/ledger"
	notaryv1 "github.com/gobtechlab/notary/proto/notary/v1"
)

// TestConcurrentCallers: many goroutines anchoring at once each get the
// result of their own document, and each result is where a lookup finds it.
func TestConcurrentCallers(t *testing.T) {
	n := startNode(t, apptest.Options{})
	c := dial(t, n, n.Agency, client.WithBatching(0, 20*time.Millisecond))
	ctx := ctxT(t, 60*time.Second)
	const callers, each = 12, 25
	res := make([][]*client.Anchored, callers)
	var wg sync.WaitGroup
	errs := make(chan error, callers*each)
	for g := range callers {
		wg.Go(func() {
			for i := range each {
				d := digest(fmt.Sprintf("caller-%d", g), i)
				a, err := c.Anchor(ctx, d)
				if err != nil {
					errs <- err
					return
				}
				if string(a.Digest) != string(d) || a.Existing {
					errs <- fmt.Errorf("caller %d got %x (existing %v), want %x", g, a.Digest, a.Existing, d)
					return
				}
				res[g] = append(res[g], a)
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
	batches := map[string]bool{}
	for _, rs := range res {
		for _, a := range rs {
			batches[a.BatchID()] = true
			r, err := c.Lookup(ctx, a.Algorithm, a.Anchored, 0)
			if err != nil {
				t.Fatal(err)
			}
			if r.Batch.Height != a.Height || r.Batch.TxIndex != a.TxIndex || r.LeafIndex != a.Leaf || !r.Batch.Time.AsTime().Equal(a.Time) {
				t.Fatalf("lookup %+v != result %+v", r, a)
			}
			if a.AgencyID != apptest.AgencyID || a.Count == 0 || len(a.TxHash) != 32 {
				t.Fatalf("incomplete result %+v", a)
			}
		}
	}
	if len(batches) >= callers*each {
		t.Fatalf("no batching: %d batches for %d digests", len(batches), callers*each)
	}
	t.Logf("%d digests in %d batches", callers*each, len(batches))
}

// TestReanchorReturnsOriginal: anchoring a document again is a success with
// the original record, Existing set, height and time unchanged; a file is
// read and hashed by the client.
func TestReanchorReturnsOriginal(t *testing.T) {
	n := startNode(t, apptest.Options{})
	c := dial(t, n, n.Agency)
	ctx := ctxT(t, 60*time.Second)
	path := filepath.Join(t.TempDir(), "certificado.pdf")
	if err := os.WriteFile(path, []byte("certificado de prueba"), 0o600); err != nil {
		t.Fatal(err)
	}
	first, err := c.AnchorFile(ctx, path)
	if err != nil {
		t.Fatal(err)
	}
	if first.Existing || !first.Salted() {
		t.Fatalf("first anchoring: %+v", first)
	}
	n.WaitHeight(t, first.Height+2)
	again, err := c.AnchorFile(ctx, path)
	if err != nil {
		t.Fatal(err)
	}
	if !again.Existing {
		t.Fatal("the second anchoring is not marked Existing")
	}
	sameRecord(t, first, again)

	// A second client with the same identity (another process) gets the
	// same answer.
	c2 := dial(t, n, n.Agency)
	third, err := c2.AnchorFile(ctx, path)
	if err != nil || !third.Existing {
		t.Fatalf("other client: %+v %v", third, err)
	}
	sameRecord(t, first, third)

	// Bare digests are distinct values, anchored separately.
	bare := dial(t, n, n.Agency, client.WithBareDigests())
	b, err := bare.AnchorFile(ctx, path)
	if err != nil || b.Existing || b.Salted() || string(b.Anchored) != string(first.Digest) {
		t.Fatalf("bare: %+v %v", b, err)
	}
}

// TestDuplicateSplit: a batch carrying values anchored before is split:
// the duplicates get their original records, the rest is anchored.
func TestDuplicateSplit(t *testing.T) {
	n := startNode(t, apptest.Options{})
	c := dial(t, n, n.Agency)
	ctx := ctxT(t, 60*time.Second)
	old := digests("old", 3)
	orig, err := c.AnchorAll(ctx, old)
	if err != nil {
		t.Fatal(err)
	}
	// One duplicate in the middle of a batch.
	ds := append(digests("one-dup", 5), old[1])
	ds[2], ds[5] = ds[5], ds[2]
	got, err := c.AnchorAll(ctx, ds)
	if err != nil {
		t.Fatal(err)
	}
	var fresh []*client.Anchored
	for i, a := range got {
		if string(a.Digest) != string(ds[i]) {
			t.Fatalf("result %d is of %x", i, a.Digest)
		}
		if i == 2 {
			if !a.Existing {
				t.Fatal("duplicate not marked Existing")
			}
			sameRecord(t, orig[1], a)
			continue
		}
		if a.Existing {
			t.Fatalf("fresh value %d marked Existing", i)
		}
		fresh = append(fresh, a)
	}
	for _, a := range fresh[1:] {
		if a.BatchID() != fresh[0].BatchID() || a.Count != 5 {
			t.Fatalf("the rest was not anchored as one batch of 5: %s (%d) vs %s", a.BatchID(), a.Count, fresh[0].BatchID())
		}
	}

	// Several duplicates: after the second one the rest is looked up.
	ds = append(digests("many-dups", 4), old...)
	got, err = c.AnchorAll(ctx, ds)
	if err != nil {
		t.Fatal(err)
	}
	for i, a := range got {
		if i >= 4 {
			if !a.Existing {
				t.Fatalf("duplicate %d not Existing", i)
			}
			sameRecord(t, orig[i-4], a)
		} else if a.Existing {
			t.Fatalf("fresh %d marked Existing", i)
		}
	}

	st := client.Stats(c)
	if st["splits"] < 3 || st["lookups"] == 0 {
		t.Fatalf("split and look-up paths not taken: %v", st)
	}
	// All of them again: everything is Existing, nothing new is anchored.
	all := append(append([][]byte{}, ds...), old...)
	h := n.Height()
	got, err = c.AnchorAll(ctx, all[:len(ds)])
	if err != nil {
		t.Fatal(err)
	}
	for i, a := range got {
		if !a.Existing || a.Height > h {
			t.Fatalf("re-anchored %d: %+v", i, a)
		}
	}
}

// TestSequenceRecovery: another process signing with the same key uses
// sequence numbers an ordered client believed were next; the client reads
// the account again and re-signs.
func TestSequenceRecovery(t *testing.T) {
	n := startNode(t, apptest.Options{})
	c := dial(t, n, n.Agency, client.WithBatching(0, 10*time.Millisecond), client.WithOrdered())
	ctx := ctxT(t, 60*time.Second)
	if _, err := c.Anchor(ctx, digest("seq", 0)); err != nil {
		t.Fatal(err)
	}
	// Another process: raw transactions on the gateway with the same key.
	id := n.Identity(t, n.Agency)
	gw := n.Client(t, n.Agency)
	acct, err := c.Account(ctx)
	if err != nil {
		t.Fatal(err)
	}
	for i := range 3 {
		body := &notaryv1.TxBody{Sequence: acct.NextSequence + uint64(i), Msg: &notaryv1.TxBody_AnchorBatch{AnchorBatch: &notaryv1.AnchorBatch{
			AgencyId: id.ID, HashAlgorithm: client.SHA256, Digests: digest("other-process", i)}}}
		if _, err := gw.Submit(ctx, &notaryv1.SubmitRequest{Tx: id.SignTx(body)}); err != nil {
			t.Fatal(err)
		}
	}
	// The client's next sequence is stale now.
	var wg sync.WaitGroup
	for i := 1; i <= 20; i++ {
		wg.Go(func() {
			if _, err := c.Anchor(ctx, digest("seq", i)); err != nil {
				t.Error(err)
			}
		})
	}
	wg.Wait()
	if st := client.Stats(c); st["resyncs"] == 0 || st["refused"] == 0 {
		t.Fatalf("no sequence recovery happened: %v", st)
	}
	after, err := c.Account(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if after.NextSequence < acct.NextSequence+4 {
		t.Fatalf("next sequence %d, want at least %d", after.NextSequence, acct.NextSequence+4)
	}
	// And once more, with the other process and the client interleaved.
	c2 := dial(t, n, n.Agency, client.WithBatching(0, 5*time.Millisecond), client.WithOrdered())
	for i := range 10 {
		wg.Go(func() {
			if _, err := c.Anchor(ctx, digest("mix-a", i)); err != nil {
				t.Error(err)
			}
		})
		wg.Go(func() {
			if _, err := c2.Anchor(ctx, digest("mix-b", i)); err != nil {
				t.Error(err)
			}
		})
	}
	wg.Wait()
}

// TestSubmitAndRevoke: Revoke and Submit go through the pipeline; refusals
// are *TxError with the chain's code.
func TestSubmitAndRevoke(t *testing.T) {
	n := startNode(t, apptest.Options{})
	c := dial(t, n, n.Agency)
	ctx := ctxT(t, 60*time.Second)
	got, err := c.AnchorAll(ctx, digests("revoke", 3))
	if err != nil {
		t.Fatal(err)
	}
	resp, err := c.Revoke(ctx, [][]byte{got[0].Anchored, got[1].Anchored}, notaryv1.RevocationReason_REVOCATION_REASON_ISSUED_IN_ERROR, "emitido por error")
	if err != nil {
		t.Fatal(err)
	}
	if resp.Height == 0 || len(resp.TxHash) != 32 {
		t.Fatalf("revoke response %+v", resp)
	}
	r, err := c.Lookup(ctx, got[0].Algorithm, got[0].Anchored, 0)
	if err != nil {
		t.Fatal(err)
	}
	if r.Revocation == nil || r.Revocation.Height != resp.Height || r.Revocation.ReasonText != "emitido por error" {
		t.Fatalf("revocation %+v", r.Revocation)
	}
	// Revoking again: AlreadyExists.
	_, err = c.RevokeDocuments(ctx, []client.Document{got[0].Document}, notaryv1.RevocationReason_REVOCATION_REASON_FRAUD, "")
	var te *client.TxError
	if !errors.As(err, &te) || te.GRPC != codes.AlreadyExists || !errors.Is(err, ledger.ErrAlreadyRevoked) || status.Code(err) != codes.AlreadyExists {
		t.Fatalf("revoke twice: %v", err)
	}
	// A value never anchored: NotFound.
	_, err = c.Revoke(ctx, [][]byte{digest("never", 0)}, notaryv1.RevocationReason_REVOCATION_REASON_OTHER, "x")
	if !errors.As(err, &te) || te.GRPC != codes.NotFound {
		t.Fatalf("revoke unknown: %v", err)
	}
	// Anchoring still works after refusals (the sequence was resynchronised).
	if _, err := c.Anchor(ctx, digest("after-refusals", 0)); err != nil {
		t.Fatal(err)
	}
	// Submit a body built by hand; its chain id and sequence are filled in.
	body := &notaryv1.TxBody{Sequence: 999, Msg: &notaryv1.TxBody_Revoke{Revoke: &notaryv1.Revoke{
		HashAlgorithm: client.SHA256, Digests: got[2].Anchored, Reason: notaryv1.RevocationReason_REVOCATION_REASON_SUPERSEDED}}}
	resp, err = c.Submit(ctx, body)
	if err != nil {
		t.Fatal(err)
	}
	if body.Sequence != 999 || body.ChainId != "" {
		t.Fatal("Submit modified the caller's body")
	}
	if resp.Code != 0 || resp.Height == 0 {
		t.Fatalf("submit: %+v", resp)
	}
	// A transaction the chain refuses for its content.
	_, err = c.Submit(ctx, &notaryv1.TxBody{Msg: &notaryv1.TxBody_AnchorBatch{AnchorBatch: &notaryv1.AnchorBatch{
		AgencyId: "another-agency", HashAlgorithm: client.SHA256, Digests: digest("x", 0)}}})
	if !errors.As(err, &te) || te.GRPC != codes.PermissionDenied {
		t.Fatalf("submit for another agency: %v", err)
	}
}

// TestCloseFlushes: Close sends the open batch at once and waits for it.
func TestCloseFlushes(t *testing.T) {
	n := startNode(t, apptest.Options{})
	c, err := client.Dial(n.Addr, n.Identity(t, n.Agency), client.WithBatching(0, time.Hour))
	if err != nil {
		t.Fatal(err)
	}
	ctx := ctxT(t, 60*time.Second)
	var pend []*client.Pending
	for i := range 10 {
		doc, err := c.Document(digest("close", i))
		if err != nil {
			t.Fatal(err)
		}
		p, err := c.AnchorAsync(ctx, doc)
		if err != nil {
			t.Fatal(err)
		}
		pend = append(pend, p)
	}
	// Submit goes out at once, though the batch window is an hour.
	if _, err := c.Revoke(ctx, [][]byte{digest("close-none", 0)}, notaryv1.RevocationReason_REVOCATION_REASON_OTHER, ""); status.Code(err) != codes.NotFound {
		t.Fatalf("revoke: %v", err)
	}
	select {
	case <-pend[0].Done():
		t.Fatal("the batch went out before its window or Close")
	default:
	}
	start := time.Now()
	if err := c.Close(ctx); err != nil {
		t.Fatal(err)
	}
	if time.Since(start) > 20*time.Second {
		t.Fatal("Close waited for the window")
	}
	for i, p := range pend {
		select {
		case <-p.Done():
		default:
			t.Fatalf("pending %d not done after Close", i)
		}
		a, err := p.Wait(ctx)
		if err != nil || a.Height == 0 {
			t.Fatalf("pending %d: %+v %v", i, a, err)
		}
	}
	if _, err := c.Anchor(ctx, digest("after-close", 0)); !errors.Is(err, client.ErrClosed) {
		t.Fatalf("anchor after close: %v", err)
	}

	// Flush sends without closing.
	c2 := dial(t, n, n.Agency, client.WithBatching(0, time.Hour))
	doc, _ := c2.Document(digest("flush", 0))
	p, err := c2.AnchorAsync(ctx, doc)
	if err != nil {
		t.Fatal(err)
	}
	c2.Flush()
	if _, err := p.Wait(ctx); err != nil {
		t.Fatal(err)
	}
}

// TestCloseDeadline: Close with an expired context abandons pending work
// with ErrClosed instead of hanging.
func TestCloseDeadline(t *testing.T) {
	n := startNode(t, apptest.Options{})
	c, err := client.Dial(n.Addr, n.Identity(t, n.Agency), client.WithBatching(0, time.Hour))
	if err != nil {
		t.Fatal(err)
	}
	doc, _ := c.Document(digest("abandon", 0))
	p, err := c.AnchorAsync(context.Background(), doc)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if err := c.Close(ctx); err == nil {
		t.Log("close finished before noticing its context")
	}
	<-p.Done()
	if _, err := p.Wait(context.Background()); err == nil {
		// It may have been committed in time; then it must be real.
		if _, err := n.Client(t, "").LookupDigest(ctxT(t, 10*time.Second), &notaryv1.LookupDigestRequest{HashAlgorithm: doc.Algorithm, Digest: doc.Anchored}); err != nil {
			t.Fatalf("acknowledged but not found: %v", err)
		}
	} else if !errors.Is(err, client.ErrClosed) && !errors.Is(err, client.ErrUnknownOutcome) {
		t.Fatalf("abandoned work: %v", err)
	}
}

// TestCloseDeadlineSilentNode: against a node that accepts connections and
// never answers, Close returns as soon as its context ends, even while the
// client waits in a call of its own (the chain parameters).
func TestCloseDeadlineSilentNode(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	var (
		mu    sync.Mutex
		conns []net.Conn
	)
	accepted := make(chan struct{}, 1)
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			mu.Lock()
			conns = append(conns, c)
			mu.Unlock()
			select {
			case accepted <- struct{}{}:
			default:
			}
		}
	}()
	t.Cleanup(func() {
		_ = ln.Close()
		mu.Lock()
		defer mu.Unlock()
		for _, c := range conns {
			_ = c.Close()
		}
	})
	id, err := identity.Generate(identity.RoleAgency, "silent-test", apptest.ChainID)
	if err != nil {
		t.Fatal(err)
	}
	c, err := client.Dial(ln.Addr().String(), id)
	if err != nil {
		t.Fatal(err)
	}
	doc, _ := c.Document(digest("silent", 0))
	p, err := c.AnchorAsync(context.Background(), doc)
	if err != nil {
		t.Fatal(err)
	}
	c.Flush()
	<-accepted
	ctx, cancel := context.WithTimeout(context.Background(), 500*time.Millisecond)
	defer cancel()
	start := time.Now()
	if err := c.Close(ctx); err == nil {
		t.Fatal("close reported no abandoned work")
	}
	if took := time.Since(start); took > 2*time.Second {
		t.Fatalf("close took %s with a 500ms context", took)
	}
	if _, err := p.Wait(context.Background()); !errors.Is(err, client.ErrClosed) {
		t.Fatalf("abandoned work: %v", err)
	}
}

// TestReceipt: the receipt's document binding carries the document digest
// and salt that only the agency knows.
func TestReceipt(t *testing.T) {
	n := startNode(t, apptest.Options{})
	c := dial(t, n, n.Agency)
	ctx := ctxT(t, 60*time.Second)
	a, err := c.Anchor(ctx, digest("receipt", 0))
	if err != nil {
		t.Fatal(err)
	}
	rc, err := c.Receipt(ctx, a.Document)
	if err != nil {
		t.Fatal(err)
	}
	b := rc.Document
	if b.DocumentDigest != hex.EncodeToString(a.Digest) || b.Salt != hex.EncodeToString(a.Salt) || b.AnchoredDigest != hex.EncodeToString(a.Anchored) || b.HashAlgorithm != "sha2-256" {
		t.Fatalf("binding %+v", b)
	}
	salt, _ := hex.DecodeString(b.Salt)
	if string(ledger.SaltedDigest(client.SHA256, salt, a.Digest)) != string(a.Anchored) {
		t.Fatal("binding does not recompute")
	}
	if rc.ChainId != apptest.ChainID || rc.Inclusion == nil || rc.Anchor == nil || rc.Status == nil || rc.Issuer == nil {
		t.Fatalf("receipt parts missing: %+v", rc)
	}
	// Only the anchored value known: the binding starts there.
	rc, err = c.Receipt(ctx, client.Document{Algorithm: a.Algorithm, Anchored: a.Anchored})
	if err != nil || rc.Document.DocumentDigest != "" || rc.Document.Salt != "" {
		t.Fatalf("anchored only: %+v %v", rc.GetDocument(), err)
	}
	// Not anchored.
	doc, _ := c.Document(digest("receipt-none", 0))
	if _, err := c.Receipt(ctx, doc); status.Code(err) != codes.NotFound {
		t.Fatalf("receipt of nothing: %v", err)
	}
}

// TestBadInput: wrong input gives clear errors and never reaches the chain.
func TestBadInput(t *testing.T) {
	n := startNode(t, apptest.Options{})
	c := dial(t, n, n.Agency)
	ctx := ctxT(t, 30*time.Second)
	check := func(what string, err error, want string) {
		t.Helper()
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("%s: got %v, want an error with %q", what, err, want)
		}
	}
	_, err := c.Anchor(ctx, []byte("short"))
	check("short digest", err, "32")
	_, err = c.AnchorDocument(ctx, client.Document{})
	check("empty document", err, "algorithm")
	doc, _ := client.Commit(client.SHA3256, nil, digest("x", 0))
	_, err = c.AnchorDocument(ctx, doc)
	check("other algorithm", err, "sha3-256")
	_, err = c.AnchorAll(ctx, [][]byte{digest("ok", 0), nil})
	check("AnchorAll with a bad digest", err, "digest 1")
	_, err = c.Revoke(ctx, nil, notaryv1.RevocationReason_REVOCATION_REASON_OTHER, "")
	check("revoke nothing", err, "no digests")
	_, err = c.Revoke(ctx, [][]byte{digest("x", 0)}, notaryv1.RevocationReason_REVOCATION_REASON_UNSPECIFIED, "")
	check("revoke without reason", err, "reason")
	_, err = c.Revoke(ctx, [][]byte{digest("x", 0)}, notaryv1.RevocationReason(99), "")
	check("revoke unknown reason", err, "reason")
	_, err = c.Revoke(ctx, [][]byte{digest("x", 0), digest("x", 0)}, notaryv1.RevocationReason_REVOCATION_REASON_OTHER, "")
	check("revoke twice the same", err, "twice")
	_, err = c.Revoke(ctx, [][]byte{{1, 2}}, notaryv1.RevocationReason_REVOCATION_REASON_OTHER, "")
	check("revoke short digest", err, "bytes")
	_, err = c.Submit(ctx, nil)
	check("submit nil", err, "no message")
	_, err = c.Submit(ctx, &notaryv1.TxBody{})
	check("submit empty", err, "no message")
	_, err = c.Receipt(ctx, client.Document{Algorithm: client.SHA256, Digest: digest("a", 0), Anchored: digest("b", 0)})
	check("inconsistent document", err, "inconsistent")
	_, err = client.ParseDigest("zz")
	check("bad hex", err, "hex")
	_, err = c.AnchorFile(ctx, t.TempDir())
	check("a folder", err, "not a regular file")
	_, err = client.Dial(n.Addr, nil)
	check("no identity", err, "identity")

	// A citizen has no salt key and may not anchor.
	cit := dial(t, n, n.Citizen)
	_, err = cit.Anchor(ctx, digest("x", 0))
	check("citizen salted", err, "salt key")
	bare := dial(t, n, n.Citizen, client.WithBareDigests())
	_, err = bare.Anchor(ctx, digest("x", 0))
	check("citizen bare", err, "only an agency")

	// A label over the chain's limit is refused by the chain, for every
	// value of the batch, as a *TxError.
	long := dial(t, n, n.Agency, client.WithLabel(strings.Repeat("x", 5000)))
	_, err = long.Anchor(ctx, digest("label", 0))
	var te *client.TxError
	if !errors.As(err, &te) || te.GRPC != codes.InvalidArgument {
		t.Fatalf("long label: %v", err)
	}
	// The client still works afterwards, and a caller that gives up gets
	// its context's error.
	short, cancel := context.WithCancel(ctx)
	cancel()
	if _, err := c.Anchor(short, digest("cancelled", 0)); !errors.Is(err, context.Canceled) {
		t.Fatalf("cancelled: %v", err)
	}
	if _, err := c.Anchor(ctx, digest("after", 0)); err != nil {
		t.Fatal(err)
	}
}

// TestReconnect: connections are cut while batches are in flight; the
// client reconnects, learns the fate of what it had sent, and every caller
// gets the one true record of its value, none of them anchored twice.
func TestReconnect(t *testing.T) {
	n := startNode(t, apptest.Options{})
	px := newProxy(t, n.Addr)
	c, err := client.Dial(px.Addr(), n.Identity(t, n.Agency), client.WithBatching(8, 5*time.Millisecond), client.WithMaxInFlight(4))
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = c.Close(context.Background()) }() // the proxy cuts streams: Close may report one
	ctx := ctxT(t, 90*time.Second)
	stop := make(chan struct{})
	var cutter sync.WaitGroup
	cutter.Go(func() {
		for range 6 {
			select {
			case <-stop:
				return
			case <-time.After(250 * time.Millisecond):
				px.cut()
			}
		}
	})
	const callers, each = 8, 30
	var wg sync.WaitGroup
	var mu sync.Mutex
	var got []*client.Anchored
	for g := range callers {
		wg.Go(func() {
			for i := range each {
				a, err := c.Anchor(ctx, digest(fmt.Sprintf("reconnect-%d", g), i))
				if err != nil {
					t.Error(err)
					return
				}
				mu.Lock()
				got = append(got, a)
				mu.Unlock()
			}
		})
	}
	wg.Wait()
	close(stop)
	cutter.Wait()
	st := client.Stats(c)
	t.Logf("stats %v", st)
	if st["streams"] < 2 {
		t.Fatalf("the stream was never broken: %v", st)
	}
	pub := n.Client(t, "")
	for _, a := range got {
		if a.Existing {
			t.Fatalf("own value reported as Existing after a retry: %+v", a)
		}
		r, err := pub.LookupDigest(ctx, &notaryv1.LookupDigestRequest{HashAlgorithm: a.Algorithm, Digest: a.Anchored})
		if err != nil {
			t.Fatal(err)
		}
		if r.Batch.Height != a.Height || r.Batch.TxIndex != a.TxIndex || r.LeafIndex != a.Leaf {
			t.Fatalf("result %s/%d, chain %d-%d/%d", a.BatchID(), a.Leaf, r.Batch.Height, r.Batch.TxIndex, r.LeafIndex)
		}
	}
}

// TestGatewayDigestLimit: a gateway that takes fewer digests per
// transaction than the chain makes the client send smaller batches.
func TestGatewayDigestLimit(t *testing.T) {
	n := startNode(t, apptest.Options{Gateway: func(g *app.GatewayConfig) { g.MaxDigestsPerRequest = 100 }})
	c := dial(t, n, n.Agency)
	ctx := ctxT(t, 60*time.Second)
	got, err := c.AnchorAll(ctx, digests("limit", 450))
	if err != nil {
		t.Fatal(err)
	}
	for i, a := range got {
		if a.Count > 100 || a.Existing {
			t.Fatalf("value %d in a batch of %d (existing %v)", i, a.Count, a.Existing)
		}
	}
	if st := client.Stats(c); st["refused"] == 0 {
		t.Fatalf("the gateway limit was never hit: %v", st)
	}
}

// TestUnorderedClients: clients of one agency key submit at once, with no
// coordination: every document is anchored, nothing is refused, and the
// key's sequence is not used. On a chain whose max_unordered_window is 0
// the client signs ordered transactions instead.
func TestUnorderedClients(t *testing.T) {
	// The test chain makes a block every 50 ms: a window of 2,000 heights
	// gives a transaction about 50 s, what the default gives at one block a
	// second.
	wide := ledger.DefaultParams()
	wide.MaxUnorderedWindow = 2000
	n := startNode(t, apptest.Options{Params: wide})
	ctx := ctxT(t, 90*time.Second)
	const clients, docs = 4, 30
	cs := make([]*client.Client, clients)
	for i := range cs {
		cs[i] = dial(t, n, n.Agency, client.WithBatching(5, 5*time.Millisecond), client.WithMaxInFlight(4))
	}
	var wg sync.WaitGroup
	for i, c := range cs {
		for j := range docs {
			wg.Go(func() {
				if _, err := c.Anchor(ctx, digest(fmt.Sprint("unordered-", i), j)); err != nil {
					t.Error(err)
				}
			})
		}
		wg.Go(func() {
			a, err := c.Anchor(ctx, digest(fmt.Sprint("to-revoke-", i), 0))
			if err == nil {
				_, err = c.Revoke(ctx, [][]byte{a.Anchored}, notaryv1.RevocationReason_REVOCATION_REASON_OTHER, "")
			}
			if err != nil {
				t.Error(err)
			}
		})
	}
	wg.Wait()
	for i, c := range cs {
		if st := client.Stats(c); st["refused"] != 0 || st["resyncs"] != 0 {
			t.Errorf("client %d: %v", i, st)
		}
	}
	acct, err := cs[0].Account(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if acct.NextSequence != 0 {
		t.Fatalf("next sequence %d: unordered transactions used it", acct.NextSequence)
	}

	p := ledger.DefaultParams()
	p.MaxUnorderedWindow = 0
	old := startNode(t, apptest.Options{Params: p})
	c := dial(t, old, old.Agency, client.WithBatching(0, 5*time.Millisecond))
	if _, err := c.Anchor(ctx, digest("window-0", 0)); err != nil {
		t.Fatal(err)
	}
	if acct, err := c.Account(ctx); err != nil || acct.NextSequence != 1 {
		t.Fatalf("on a chain without unordered transactions: account %v %v", acct, err)
	}
}
