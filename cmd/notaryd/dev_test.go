package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"testing"
	"time"

	"github.com/gobtechlab/notary/app/apptest"
	"github.com/gobtechlab/notary/app/identity"
	"github.com/gobtechlab/notary/cmd/verifier/verify"
)

// rpcHeight reads the latest height from CometBFT's /status.
func rpcHeight(port int) (int64, error) {
	// No keep-alive: a connection kept from a stopped node would still be
	// served by that node's handler.
	c := &http.Client{Transport: &http.Transport{DisableKeepAlives: true}, Timeout: 5 * time.Second}
	resp, err := c.Get(fmt.Sprintf("http://127.0.0.1:%d/status", port))
	if err != nil {
		return 0, err
	}
	defer func() { _ = resp.Body.Close() }()
	var st struct {
		Result struct {
			SyncInfo struct {
				LatestBlockHeight string `json:"latest_block_height"`
			} `json:"sync_info"`
		} `json:"result"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&st); err != nil {
		return 0, err
	}
	return strconv.ParseInt(st.Result.SyncInfo.LatestBlockHeight, 10, 64)
}

// runDev runs `notaryd dev` in-process until the chain reaches minHeight,
// then stops it; it returns the height reached and what dev printed.
func runDev(t *testing.T, home string, ports []int, minHeight int64, extra ...string) (int64, string) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	root := newRootCmd()
	var out bytes.Buffer
	root.SetOut(&out)
	root.SetArgs(append([]string{"dev", "--home", home, "--output", "json", "--empty-blocks",
		"--p2p-port", strconv.Itoa(ports[0]), "--rpc-port", strconv.Itoa(ports[1]),
		"--gateway-port", strconv.Itoa(ports[2]), "--metrics-port", strconv.Itoa(ports[3]), "--public-port", strconv.Itoa(ports[4]),
		"--http-port", strconv.Itoa(ports[5])}, extra...))
	done := make(chan error, 1)
	go func() { done <- root.ExecuteContext(ctx) }()
	deadline := time.Now().Add(60 * time.Second)
	var h int64
	for time.Now().Before(deadline) {
		select {
		case err := <-done:
			t.Fatalf("dev exited early: %v\n%s", err, out.String())
		case <-time.After(200 * time.Millisecond):
		}
		if got, err := rpcHeight(ports[1]); err == nil && got >= minHeight {
			h = got
			break
		}
	}
	if h == 0 {
		t.Fatalf("the dev chain did not reach height %d", minHeight)
	}
	c := &http.Client{Transport: &http.Transport{DisableKeepAlives: true}, Timeout: 5 * time.Second}
	resp, err := c.Get("http://127.0.0.1:" + strconv.Itoa(ports[4]) + "/healthz")
	if err != nil {
		t.Fatalf("public endpoint: %v", err)
	}
	_ = resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("public endpoint /healthz: %s", resp.Status)
	}
	cancel()
	if err := <-done; err != nil {
		t.Fatalf("dev stopped with an error: %v", err)
	}
	return h, out.String()
}

// TestDevChain: `notaryd dev` creates a single-validator chain with the dev
// agency, citizen and trust bundle, and its height grows; a second run
// resumes it; --reset starts over.
func TestDevChain(t *testing.T) {
	if testing.Short() {
		t.Skip("runs a node")
	}
	home := filepath.Join(t.TempDir(), "dev")
	ports := apptest.FreePorts(t, 6)
	h1, out := runDev(t, home, ports, 3)
	var info devInfo
	if err := json.Unmarshal([]byte(out), &info); err != nil {
		t.Fatalf("dev output is not the JSON banner: %v\n%s", err, out)
	}
	if !info.Created || info.ChainID != devChainID || info.Home != home || info.Public != "http://127.0.0.1:"+strconv.Itoa(ports[4]) ||
		info.HTTP != fmt.Sprintf("https://127.0.0.1:%d", ports[5]) {
		t.Fatalf("banner %+v", info)
	}
	trust, err := os.ReadFile(info.TrustBundle)
	if err != nil {
		t.Fatal(err)
	}
	if tb, err := verify.DecodeTrustBundle(trust); err != nil || len(tb.PublicEndpoints) != 1 || tb.PublicEndpoints[0] != info.Public {
		t.Fatalf("the dev trust bundle does not list the public endpoint %s (%v): %s", info.Public, err, trust)
	}
	for _, p := range []string{info.TrustBundle, filepath.Join(info.Agency, "identity.json"), filepath.Join(info.Citizen, "identity.json"), filepath.Join(info.Agency, "tls.crt")} {
		if _, err := os.Stat(p); err != nil {
			t.Fatalf("missing %s: %v", p, err)
		}
	}
	// Every dev identity, the ministry's too, names the dev gateway.
	for _, dir := range []string{info.Agency, info.Citizen, info.Ministry} {
		id, err := identity.Load(dir)
		if err != nil {
			t.Fatal(err)
		}
		if id.Node != info.Gateway {
			t.Errorf("%s: node %q, want the gateway %s", dir, id.Node, info.Gateway)
		}
	}
	h2, out := runDev(t, home, ports, h1+2)
	if err := json.Unmarshal([]byte(out), &info); err != nil || info.Created {
		t.Fatalf("second run should resume: %v %+v", err, info)
	}
	if h2 <= h1 {
		t.Fatalf("height did not grow across the restart: %d then %d", h1, h2)
	}
	_, out = runDev(t, home, ports, 2, "--reset")
	if err := json.Unmarshal([]byte(out), &info); err != nil || !info.Created {
		t.Fatalf("--reset should create a new chain: %v %+v", err, info)
	}
}
