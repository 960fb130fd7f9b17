package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"time"

	"github.com/gobtechlab/notary/cmd/verifier/verify"
	notaryv1 "github.com/gobtechlab/notary/proto/notary/v1"
)

// liveTimeout is how long verify waits for each node's live status.
const liveTimeout = 5 * time.Second

// checkNodeURL checks a --node value: an http:// or https:// base URL
// without user, query or fragment; it returns it without a final slash.
// Unlike the trust bundle's endpoints, any host is allowed: what a node
// answers is verified, whoever carries it.
func checkNodeURL(s string) (string, error) {
	u, err := url.Parse(s)
	if err != nil {
		return "", err
	}
	if (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" || u.User != nil || u.RawQuery != "" || u.Fragment != "" || u.Opaque != "" {
		return "", fmt.Errorf("want http(s)://host[:port][/path]")
	}
	return strings.TrimRight(s, "/"), nil
}

// endpoints are the trust bundle's public endpoints, then the --node ones,
// each once.
func endpoints(trust *notaryv1.TrustBundle, nodes []string) []string {
	var out []string
	seen := map[string]bool{}
	for _, e := range append(append([]string(nil), trust.PublicEndpoints...), nodes...) {
		if !seen[e] {
			seen[e] = true
			out = append(out, e)
		}
	}
	return out
}

// fetchLive asks every endpoint for the live status of the receipt's
// digest, all at once, each within timeout and reading at most
// getJSON asks url for JSON and returns the status and at most max+1 bytes
// of the body (one more than a valid answer may have, so that an oversize
// one is seen).
func getJSON(ctx context.Context, client *http.Client, url string, max int) (int, []byte, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return 0, nil, err
	}
	req.Header.Set("Accept", "application/json")
	resp, err := client.Do(req)
	if err != nil {
		return 0, nil, err
	}
	defer func() { _ = resp.Body.Close() }() // read only
	body, err := io.ReadAll(io.LimitReader(resp.Body, int64(max)+1))
	if err != nil {
		return 0, nil, err
	}
	return resp.StatusCode, body, nil
}

// verify.MaxLiveStatusSize+1 bytes, and checks each answer.
func fetchLive(ctx context.Context, trust *notaryv1.TrustBundle, rcpt *notaryv1.Receipt, eps []string, timeout time.Duration) []verify.NodeOutcome {
	out := make([]verify.NodeOutcome, len(eps))
	client := &http.Client{Timeout: timeout}
	path := verify.DocumentStatusPath(rcpt.Document)
	var wg sync.WaitGroup
	for i, ep := range eps {
		wg.Add(1)
		go func() {
			defer wg.Done()
			out[i] = fetchOne(ctx, client, trust, rcpt, ep, path, timeout)
		}()
	}
	wg.Wait()
	return out
}

func fetchOne(ctx context.Context, client *http.Client, trust *notaryv1.TrustBundle, rcpt *notaryv1.Receipt, ep, path string, timeout time.Duration) verify.NodeOutcome {
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	fail := func(err error) verify.NodeOutcome { return liveFailure(ep, err, timeout) }
	status, body, err := getJSON(ctx, client, ep+path, verify.MaxLiveStatusSize)
	if err != nil {
		return fail(err)
	}
	return verify.CheckLiveAnswer(trust, rcpt, ep, status, body)
}

// liveFailure is the outcome of a request to ep that failed with err: a
// timeout, or the node unreachable.
func liveFailure(ep string, err error, timeout time.Duration) verify.NodeOutcome {
	var ne net.Error
	if errors.Is(err, context.DeadlineExceeded) || (errors.As(err, &ne) && ne.Timeout()) {
		return verify.NodeOutcome{Endpoint: ep, Err: &verify.LiveError{Code: verify.LiveTimeout, Timeout: timeout, Detail: err.Error()}}
	}
	return verify.NodeOutcome{Endpoint: ep, Err: &verify.LiveError{Code: verify.LiveUnreachable, Detail: err.Error()}}
}
