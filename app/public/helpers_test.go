package public_test

import (
	"context"
	"io"
	"net/http"
	"os"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	cmtlog "github.com/cometbft/cometbft/libs/log"

	"github.com/gobtechlab/notary/app"
	"github.com/gobtechlab/notary/app/public"
	"github.com/gobtechlab/notary/app/receipt"
	"github.com/gobtechlab/notary/app/receipt/receipttest"
	"github.com/gobtechlab/notary/ledger"
	notaryv1 "github.com/gobtechlab/notary/proto/notary/v1"
)

var sha2 = notaryv1.HashAlgorithm_HASH_ALGORITHM_SHA2_256

// chainBackend answers from a synthetic chain's builder; catchingUp
// stands for the node's block sync state, which a synthetic chain does not
// have.
type chainBackend struct {
	*receipt.Builder
	catchingUp atomic.Bool
}

func (b *chainBackend) CatchingUp() bool { return b.catchingUp.Load() }

// slowBackend delays every answer.
type slowBackend struct {
	public.Backend
	delay time.Duration
}

func (b slowBackend) LiveStatus(ctx context.Context, alg ledger.HashAlgorithm, digest []byte) (*notaryv1.LiveStatus, error) {
	select {
	case <-time.After(b.delay):
	case <-ctx.Done():
		return nil, ctx.Err()
	}
	return b.Backend.LiveStatus(ctx, alg, digest)
}

// serve starts a public endpoint over b on a free loopback port.
func serve(t *testing.T, cfg app.PublicConfig, b public.Backend, opts public.Options) string {
	t.Helper()
	if cfg.Listen == "" {
		cfg.Listen = "127.0.0.1:0"
	}
	s, err := public.NewServer(cfg, b, cmtlog.NewNopLogger(), opts)
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = s.Stop() })
	return "http://" + s.Addr()
}

// syntheticChain is a chain with one digest anchored and signed.
func syntheticChain(t *testing.T) (*receipttest.Chain, []byte) {
	t.Helper()
	c := receipttest.New(t, receipttest.Options{})
	d := receipttest.Digest("public")
	c.Anchor(sha2, "", d)
	c.Empty(1)
	return c, d
}

// response is a fetched answer.
type response struct {
	code   int
	header http.Header
	body   string
}

var client = &http.Client{Timeout: 10 * time.Second}

// get sends a request with headers ("Name: value").
func get(t *testing.T, method, url string, headers ...string) response {
	t.Helper()
	req, err := http.NewRequest(method, url, nil)
	if err != nil {
		t.Fatal(err)
	}
	for _, h := range headers {
		k, v, _ := strings.Cut(h, ": ")
		req.Header.Set(k, v)
	}
	resp, err := client.Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", method, url, err)
	}
	defer func() { _ = resp.Body.Close() }()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return response{code: resp.StatusCode, header: resp.Header, body: string(b)}
}

func readFile(p string) ([]byte, error) { return os.ReadFile(p) }
