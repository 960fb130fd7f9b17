package client

import (
	"context"
	"errors"
	"fmt"
	"sync/atomic"
	"time"

	"github.com/gobtechlab/notary/ledger"
	notaryv1 "github.com/gobtechlab/notary/proto/notary/v1"
)

// Anchored is where a document's anchored value is on chain.
type Anchored struct {
	Document
	// Height and TxIndex name the batch (ledger.FormatBatchID); Leaf is the
	// value's index in it.
	Height  int64
	TxIndex uint32
	Leaf    uint32
	// Time is the block time of Height.
	Time time.Time
	// TxHash of the AnchorBatch transaction.
	TxHash []byte
	// AgencyID of the agency that anchored the batch.
	AgencyID string
	// Count of values in the batch, and its Label.
	Count uint32
	Label string
	// Existing is true when the value was anchored before this client's own
	// transactions (the chain answered AlreadyExists): the record is the
	// original one, unchanged.
	Existing bool
}

// BatchID is the batch's id, "<height>-<tx index>".
func (a *Anchored) BatchID() string { return ledger.FormatBatchID(a.Height, a.TxIndex) }

// Locator is the value's locator.
func (a *Anchored) Locator() ledger.Locator {
	return ledger.Locator{Height: a.Height, TxIndex: a.TxIndex, Leaf: a.Leaf}
}

func anchoredFrom(doc Document, b *notaryv1.Batch, leaf uint32, existing bool) *Anchored {
	return &Anchored{
		Document: doc,
		Height:   b.Height,
		TxIndex:  b.TxIndex,
		Leaf:     leaf,
		Time:     b.Time.AsTime(),
		TxHash:   b.TxHash,
		AgencyID: b.AgencyId,
		Count:    b.Count,
		Label:    b.Label,
		Existing: existing,
	}
}

// entry is one value being anchored; every caller asking for the same value
// while it is pending shares it.
type entry struct {
	doc  Document
	key  string // the anchored value
	ch   chan struct{}
	done atomic.Bool
	res  *Anchored
	err  error

	// Guarded by the pipeline's mutex.
	ctxs []context.Context
	sent map[[32]byte]bool // hashes of the transactions that carried it
}

// wanted reports whether a caller still waits. Called with the mutex held.
func (e *entry) wanted() bool {
	for _, c := range e.ctxs {
		if c.Err() == nil {
			return true
		}
	}
	return false
}

// Pending is an anchoring in progress.
type Pending struct {
	e *entry
}

// Done is closed when the result is known.
func (p *Pending) Done() <-chan struct{} { return p.e.ch }

// Document is what is being anchored.
func (p *Pending) Document() Document { return p.e.doc }

// Wait returns the result, or ctx's error if ctx ends first.
func (p *Pending) Wait(ctx context.Context) (*Anchored, error) {
	select {
	case <-p.e.ch:
		if p.e.err != nil {
			return nil, p.e.err
		}
		a := *p.e.res
		return &a, nil
	case <-ctx.Done():
		return nil, ctx.Err()
	}
}

// AnchorAsync queues a Document for anchoring and returns at once. The
// value is sent in the next batch; ctx only says whether the caller still
// wants it (a value nobody waits for is dropped before it is sent).
func (c *Client) AnchorAsync(ctx context.Context, doc Document) (*Pending, error) {
	if ledger.AlgorithmName(doc.Algorithm) == "" || len(doc.Anchored) != ledger.DigestSize {
		return nil, fmt.Errorf("client: anchor: a Document needs an algorithm and a %d-byte anchored value (use Client.Document)", ledger.DigestSize)
	}
	if doc.Coded() && (len(doc.CodeKey) != ledger.CodeKeySize || !doc.Salted()) {
		return nil, fmt.Errorf("client: anchor: a coded Document needs a %d-byte code key and the code's salt (use Client.CodedDocument)", ledger.CodeKeySize)
	}
	if doc.Algorithm != c.opts.Algorithm {
		return nil, fmt.Errorf("client: anchor: the document is hashed with %s, the client anchors %s", ledger.AlgorithmName(doc.Algorithm), ledger.AlgorithmName(c.opts.Algorithm))
	}
	p, err := c.pipeline()
	if err != nil {
		return nil, err
	}
	e, err := p.enqueue(ctx, doc)
	if err != nil {
		return nil, err
	}
	return &Pending{e: e}, nil
}

// AnchorDocument anchors a Document and waits for the result.
func (c *Client) AnchorDocument(ctx context.Context, doc Document) (*Anchored, error) {
	p, err := c.AnchorAsync(ctx, doc)
	if err != nil {
		return nil, err
	}
	return p.Wait(ctx)
}

// Anchor anchors a document digest (salted unless the client anchors bare
// digests) and waits until it is committed. A digest anchored before is a
// success: the result is the original record, with Existing set.
func (c *Client) Anchor(ctx context.Context, digest []byte) (*Anchored, error) {
	doc, err := c.Document(digest)
	if err != nil {
		return nil, err
	}
	return c.AnchorDocument(ctx, doc)
}

// AnchorCoded anchors a document digest under a verification code, salt
// and key being the code's (package cmd/verifier/verify/vcode: Salt and
// Key), and waits until it is committed. The same document under the same
// code anchored before is a success with Existing set; a code registered
// for another document fails with ErrCodeUsed. Coded documents go in
// coded batches of their own (AnchorBatch coded, each a coded entry);
// plain ones are not held back by them. The code tag costs some 50 ms of
// one core (scrypt).
func (c *Client) AnchorCoded(ctx context.Context, digest, salt, key []byte) (*Anchored, error) {
	doc, err := c.CodedDocument(digest, salt, key)
	if err != nil {
		return nil, err
	}
	return c.AnchorDocument(ctx, doc)
}

// AnchorFileCoded hashes a file (reading it once) and anchors it under a
// verification code, as AnchorCoded.
func (c *Client) AnchorFileCoded(ctx context.Context, path string, salt, key []byte) (*Anchored, error) {
	d, err := HashFileContext(ctx, c.opts.Algorithm, path)
	if err != nil {
		return nil, err
	}
	return c.AnchorCoded(ctx, d, salt, key)
}

// AnchorFile hashes a file (reading it once) and anchors it.
func (c *Client) AnchorFile(ctx context.Context, path string) (*Anchored, error) {
	doc, err := c.HashFile(path)
	if err != nil {
		return nil, err
	}
	return c.AnchorDocument(ctx, doc)
}

// AnchorAll anchors document digests, sending them without waiting for the
// batch window, and returns a result per digest (nil where it failed) and the
// failures joined.
func (c *Client) AnchorAll(ctx context.Context, digests [][]byte) ([]*Anchored, error) {
	pend := make([]*Pending, len(digests))
	var errs []error
	for i, d := range digests {
		doc, err := c.Document(d)
		if err == nil {
			pend[i], err = c.AnchorAsync(ctx, doc)
		}
		if err != nil {
			errs = append(errs, fmt.Errorf("digest %d: %w", i, err))
		}
	}
	c.Flush()
	out := make([]*Anchored, len(digests))
	for i, p := range pend {
		if p == nil {
			continue
		}
		a, err := p.Wait(ctx)
		if err != nil {
			errs = append(errs, fmt.Errorf("digest %d: %w", i, err))
			continue
		}
		out[i] = a
	}
	return out, errors.Join(errs...)
}

// Flush sends the open batch now instead of at the end of its window.
func (c *Client) Flush() {
	c.mu.Lock()
	p := c.pipe
	c.mu.Unlock()
	if p != nil {
		p.requestFlush()
	}
}
