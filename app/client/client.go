package client

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"sync"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/credentials"
	"google.golang.org/grpc/keepalive"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/proto"

	"github.com/gobtechlab/notary/app/identity"
	"github.com/gobtechlab/notary/ledger"
	notaryv1 "github.com/gobtechlab/notary/proto/notary/v1"
	"github.com/gobtechlab/notary/proto/notary/v1/gatewayv1"
)

// DefaultNode is the gateway address of a dev chain.
const DefaultNode = "127.0.0.1:9090"

// Options configure a Client. The zero value of each field means its
// default.
type Options struct {
	// Algorithm hashes documents and commitments; default SHA-256.
	Algorithm ledger.HashAlgorithm
	// Bare anchors document digests themselves instead of salted
	// commitments.
	Bare bool
	// MaxBatch is the most digests in one AnchorBatch (default 10,000; never
	// more than the chain's max_digests_per_batch).
	MaxBatch int
	// BatchWindow is how long a batch stays open for more digests after its
	// first one (default 200 ms).
	BatchWindow time.Duration
	// MaxInFlight is the most transactions waiting for commit at once on
	// the stream (default 16).
	MaxInFlight int
	// Label is put on every batch (at most the chain's max_label_bytes).
	Label string
	// RetryTimeout: when no transaction has made progress for this long,
	// pending work fails with the last error (default 2 minutes).
	RetryTimeout time.Duration
	// DialOptions are added to the gRPC dial options.
	DialOptions []grpc.DialOption
	// Ordered signs an agency's or a ministry's transactions with its
	// account's consecutive sequences, as a citizen's always are. By
	// default they are unordered (a random nonce and a valid_until_height
	// half the chain's max_unordered_window ahead), so that any number of
	// clients and processes holding one key submit at once; on a chain
	// whose max_unordered_window is 0 they are ordered anyway.
	Ordered bool
}

// Option changes Options.
type Option func(*Options)

// WithOptions replaces the options with o (zero fields keep their default).
func WithOptions(o Options) Option { return func(p *Options) { *p = o } }

// WithAlgorithm hashes with alg (SHA256 or SHA3256).
func WithAlgorithm(alg ledger.HashAlgorithm) Option { return func(o *Options) { o.Algorithm = alg } }

// WithBareDigests anchors document digests instead of salted commitments.
func WithBareDigests() Option { return func(o *Options) { o.Bare = true } }

// WithBatching sets the batch size and window.
func WithBatching(maxBatch int, window time.Duration) Option {
	return func(o *Options) { o.MaxBatch, o.BatchWindow = maxBatch, window }
}

// WithMaxInFlight sets how many transactions wait for commit at once.
func WithMaxInFlight(n int) Option { return func(o *Options) { o.MaxInFlight = n } }

// WithLabel labels every batch.
func WithLabel(label string) Option { return func(o *Options) { o.Label = label } }

// WithRetryTimeout sets how long the pipeline retries without progress.
func WithRetryTimeout(d time.Duration) Option { return func(o *Options) { o.RetryTimeout = d } }

// WithOrdered signs transactions with consecutive sequences instead of
// nonces (Options.Ordered): then only one client of a key submits at a time.
func WithOrdered() Option { return func(o *Options) { o.Ordered = true } }

// WithDialOptions adds gRPC dial options.
func WithDialOptions(opts ...grpc.DialOption) Option {
	return func(o *Options) { o.DialOptions = append(o.DialOptions, opts...) }
}

func (o *Options) defaults() error {
	if o.Algorithm == 0 {
		o.Algorithm = SHA256
	}
	if ledger.AlgorithmName(o.Algorithm) == "" {
		return fmt.Errorf("client: unknown hash algorithm %v", o.Algorithm)
	}
	if o.MaxBatch <= 0 {
		o.MaxBatch = 10_000
	}
	if o.BatchWindow <= 0 {
		o.BatchWindow = 200 * time.Millisecond
	}
	if o.MaxInFlight <= 0 {
		o.MaxInFlight = 16
	}
	if o.RetryTimeout <= 0 {
		o.RetryTimeout = 2 * time.Minute
	}
	return nil
}

// Client talks to one gateway as one identity. It is safe for concurrent
// use; Close it when done.
type Client struct {
	id   *identity.Identity
	addr string
	opts Options
	conn *grpc.ClientConn
	gw   gatewayv1.GatewayClient

	ctx    context.Context // cancelled by Close
	cancel context.CancelFunc

	mu   sync.Mutex
	pipe *pipeline
}

// Dial returns a client of the gateway at addr (host:port; "" for the
// identity's node, else DefaultNode) acting as id: TLS with the consortium
// CA of id's directory and id's client certificate (mutual TLS), keepalive
// pings every 30 s while a stream is open. It does not wait for the
// connection: the first call does.
func Dial(addr string, id *identity.Identity, opts ...Option) (*Client, error) {
	if id == nil {
		return nil, errors.New("client: no identity")
	}
	var o Options
	for _, f := range opts {
		f(&o)
	}
	if err := o.defaults(); err != nil {
		return nil, err
	}
	if addr == "" {
		addr = id.Node
	}
	if addr == "" {
		addr = DefaultNode
	}
	tc, err := id.ClientTLS()
	if err != nil {
		return nil, fmt.Errorf("client: TLS of identity %s: %w", id.Dir(), err)
	}
	dial := append([]grpc.DialOption{
		grpc.WithTransportCredentials(credentials.NewTLS(tc)),
		grpc.WithUnaryInterceptor(retryLimited(o.RetryTimeout)),
		grpc.WithKeepaliveParams(keepalive.ClientParameters{Time: 30 * time.Second, Timeout: 10 * time.Second}),
		grpc.WithDefaultCallOptions(grpc.MaxCallRecvMsgSize(64<<20), grpc.MaxCallSendMsgSize(64<<20)),
	}, o.DialOptions...)
	conn, err := grpc.NewClient(addr, dial...)
	if err != nil {
		return nil, fmt.Errorf("client: %s: %w", addr, err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	return &Client{id: id, addr: addr, opts: o, conn: conn, gw: gatewayv1.NewGatewayClient(conn), ctx: ctx, cancel: cancel}, nil
}

// retryLimited is a unary interceptor that retries a call the gateway
// refused with ResourceExhausted (a rate limit: the request was not served),
// backing off from 50 ms, doubling, to 2 s, with jitter, until it is served,
// ctx ends or retryTimeout has passed. The processes of one agency share its
// rate limits: many of them fetching receipts at once meet them.
func retryLimited(retryTimeout time.Duration) grpc.UnaryClientInterceptor {
	return func(ctx context.Context, method string, req, reply any, cc *grpc.ClientConn, invoker grpc.UnaryInvoker, opts ...grpc.CallOption) error {
		deadline := time.Now().Add(retryTimeout)
		wait := 50 * time.Millisecond
		for {
			err := invoker(ctx, method, req, reply, cc, opts...)
			if status.Code(err) != codes.ResourceExhausted || time.Now().Add(wait).After(deadline) {
				return err
			}
			t := time.NewTimer(wait/2 + rand.N(wait/2+1))
			select {
			case <-ctx.Done():
				t.Stop()
				return err
			case <-t.C:
			}
			wait = min(2*wait, 2*time.Second)
		}
	}
}

// Addr is the gateway's address.
func (c *Client) Addr() string { return c.addr }

// Identity is the client's identity.
func (c *Client) Identity() *identity.Identity { return c.id }

// Options are the client's options, defaults filled in.
func (c *Client) Options() Options { return c.opts }

// Gateway is the raw gRPC client, for calls this package does not wrap.
func (c *Client) Gateway() gatewayv1.GatewayClient { return c.gw }

// Close flushes open batches, waits (until ctx ends) for the pending work to
// finish, then closes the connection. Work still pending when ctx ends fails
// with ErrClosed.
func (c *Client) Close(ctx context.Context) error {
	c.mu.Lock()
	p := c.pipe
	c.mu.Unlock()
	var err error
	if p != nil {
		err = p.close(ctx)
	}
	c.cancel()
	if cerr := c.conn.Close(); err == nil && cerr != nil && status.Code(cerr) != codes.Canceled {
		err = cerr
	}
	return err
}

// pipeline returns the submit pipeline, starting it on first use.
func (c *Client) pipeline() (*pipeline, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.ctx.Err() != nil {
		return nil, ErrClosed
	}
	if c.pipe == nil {
		c.pipe = newPipeline(c)
	}
	return c.pipe, nil
}

// Status returns the node's and the chain's status.
func (c *Client) Status(ctx context.Context) (*notaryv1.GetStatusResponse, error) {
	r, err := c.gw.GetStatus(ctx, &notaryv1.GetStatusRequest{})
	return r, rpcError("status", err)
}

// Params returns the chain parameters in force.
func (c *Client) Params(ctx context.Context) (*notaryv1.Params, error) {
	r, err := c.gw.GetParams(ctx, &notaryv1.GetParamsRequest{})
	if err != nil {
		return nil, rpcError("params", err)
	}
	return r.Params, nil
}

// Account returns the identity's account (role, owner, next sequence); a key
// the chain has never seen has next sequence 0 and no role.
func (c *Client) Account(ctx context.Context) (*notaryv1.Account, error) {
	r, err := c.gw.GetAccount(ctx, &notaryv1.GetAccountRequest{PubKey: c.id.Public()})
	if err != nil {
		return nil, rpcError("account", err)
	}
	if r.Account == nil {
		return &notaryv1.Account{PubKey: c.id.Public()}, nil
	}
	return r.Account, nil
}

// Document returns the Document of a document digest under the client's
// options: a salted commitment with the identity's salt key, or the bare
// digest.
func (c *Client) Document(digest []byte) (Document, error) {
	return c.documentAs(digest, c.opts.Bare)
}

func (c *Client) documentAs(digest []byte, bare bool) (Document, error) {
	if bare {
		return Commit(c.opts.Algorithm, nil, digest)
	}
	key := c.id.Salt()
	if len(key) == 0 {
		return Document{}, fmt.Errorf("client: identity %s (%s) has no salt key: only an agency salts its commitments; anchor bare digests instead", c.id.ID, c.id.Role)
	}
	return Commit(c.opts.Algorithm, key, digest)
}

// CodedDocument returns the Document of a document digest anchored under a
// verification code, with the client's algorithm (package CodedDocument).
func (c *Client) CodedDocument(digest, salt, key []byte) (Document, error) {
	return CodedDocument(c.opts.Algorithm, digest, salt, key)
}

// HashFile hashes a file with the client's algorithm and returns its
// Document.
func (c *Client) HashFile(path string) (Document, error) {
	d, err := HashFile(c.opts.Algorithm, path)
	if err != nil {
		return Document{}, err
	}
	return c.Document(d)
}

// Lookup finds an anchored value (a commitment or a bare digest) at height
// (0: latest): its batch, issuer, time and status with their proofs. A value
// that is not anchored gives a NotFound status error.
func (c *Client) Lookup(ctx context.Context, alg ledger.HashAlgorithm, anchored []byte, height int64) (*notaryv1.LookupDigestResponse, error) {
	r, err := c.gw.LookupDigest(ctx, &notaryv1.LookupDigestRequest{HashAlgorithm: alg, Digest: anchored, Height: height})
	return r, rpcError("lookup", err)
}

// LookupCode finds the document anchored under a verification code's key
// at height (0: latest), as Lookup: the response's Digest is its anchored
// value. A key under which nothing is anchored gives a NotFound status
// error.
func (c *Client) LookupCode(ctx context.Context, key []byte, height int64) (*notaryv1.LookupDigestResponse, error) {
	r, err := c.gw.LookupDigest(ctx, &notaryv1.LookupDigestRequest{CodeKey: key, Height: height})
	return r, rpcError("lookup", err)
}

// Locate looks up a document digest as the client anchors it (salted or
// bare) and, if that is not anchored, the other way (an agency may have
// anchored some documents bare). It returns the Document as found (with
// the code key the chain holds, if any); a document anchored neither way
// gives NotFound. A document anchored under a verification code is not
// found by its digest: it is found by its code's key (LookupCode).
func (c *Client) Locate(ctx context.Context, digest []byte) (Document, *notaryv1.LookupDigestResponse, error) {
	var notFound, other error
	for _, bare := range []bool{c.opts.Bare, !c.opts.Bare} {
		doc, err := c.documentAs(digest, bare)
		if err != nil {
			other = err // no salt key: only bare digests can be looked up
			continue
		}
		r, err := c.Lookup(ctx, doc.Algorithm, doc.Anchored, 0)
		switch {
		case err == nil:
			return doc, r, nil
		case status.Code(err) != codes.NotFound:
			return doc, nil, err
		case notFound == nil:
			notFound = err
		}
	}
	if notFound != nil {
		return Document{}, nil, notFound
	}
	return Document{}, nil, other
}

// batchRecord reads the batch record at (height, txIndex) from the state.
func (c *Client) batchRecord(ctx context.Context, height int64, txIndex uint32) (*notaryv1.Batch, error) {
	r, err := c.gw.QueryState(ctx, &notaryv1.QueryStateRequest{Key: ledger.BatchKey(height, txIndex)})
	if err != nil {
		return nil, rpcError("batch record", err)
	}
	if len(r.Value) == 0 {
		return nil, fmt.Errorf("client: batch %s is not in the state at height %d", ledger.FormatBatchID(height, txIndex), r.Height)
	}
	b := &notaryv1.Batch{}
	if err := proto.Unmarshal(r.Value, b); err != nil {
		return nil, fmt.Errorf("client: batch %s: %w", ledger.FormatBatchID(height, txIndex), err)
	}
	return b, nil
}
