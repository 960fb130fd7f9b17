package main

import (
	"bytes"
	"crypto/x509"
	"encoding/json"
	"encoding/pem"
	"errors"
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/gobtechlab/notary/app"
	"github.com/gobtechlab/notary/cmd/internal/cli"
)

// runCmd runs notaryd with args in-process and returns its stdout.
func runCmd(t *testing.T, args ...string) (string, error) {
	t.Helper()
	root := newRootCmd()
	var out bytes.Buffer
	root.SetOut(&out)
	root.SetErr(&out)
	root.SilenceUsage, root.SilenceErrors = true, true
	root.SetArgs(args)
	err := root.Execute()
	return out.String(), err
}

func readTestnet(t *testing.T, out string) testnetResult {
	t.Helper()
	var r testnetResult
	if err := json.Unmarshal([]byte(out), &r); err != nil {
		t.Fatalf("testnet output is not JSON: %v\n%s", err, out)
	}
	return r
}

// TestTestnet: the generated network has one home per ministry, named after
// Spanish ministries, with one genesis, distinct ports on 127.0.0.1, peers,
// the trust bundle everywhere, agency identities with certificates, and the
// CA key in no node's home.
func TestTestnet(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "localnet")
	out, err := runCmd(t, "testnet", "--out", dir, "--validators", "4", "--agencies", "2", "--full-nodes", "1", "--base-port", "31000", "-o", "json")
	if err != nil {
		t.Fatalf("testnet: %v\n%s", err, out)
	}
	r := readTestnet(t, out)
	manifest, err := os.ReadFile(filepath.Join(dir, testnetManifest))
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(bytes.TrimSpace(manifest), bytes.TrimSpace([]byte(out))) {
		t.Fatalf("network.json differs from the JSON output")
	}
	wantIDs := []string{"hacienda", "interior", "sanidad", "trabajo", "educacion"}
	if len(r.Nodes) != len(wantIDs) {
		t.Fatalf("%d nodes", len(r.Nodes))
	}
	genesis, err := os.ReadFile(filepath.Join(dir, "hacienda", "config", "genesis.json"))
	if err != nil {
		t.Fatal(err)
	}
	trust, err := os.ReadFile(filepath.Join(dir, app.TrustFile))
	if err != nil {
		t.Fatal(err)
	}
	ports := map[string]bool{}
	for i, n := range r.Nodes {
		if n.ID != wantIDs[i] || !strings.HasPrefix(n.Name, "Ministerio") || n.Home != filepath.Join(dir, n.ID) {
			t.Fatalf("node %d: %+v", i, n)
		}
		if want := map[bool]string{true: "validator", false: "full"}[i < 4]; n.Role != want {
			t.Fatalf("%s: role %s, want %s", n.ID, n.Role, want)
		}
		for _, a := range []string{n.P2P, n.RPC, n.Gateway, strings.TrimSuffix(strings.TrimPrefix(n.Metrics, "http://"), "/metrics"), strings.TrimPrefix(n.Public, "http://")} {
			if !strings.HasPrefix(a, "127.0.0.1:") || ports[a] {
				t.Fatalf("%s: address %s not on 127.0.0.1 or used twice", n.ID, a)
			}
			ports[a] = true
		}
		g, err := os.ReadFile(filepath.Join(n.Home, "config", "genesis.json"))
		if err != nil || !bytes.Equal(g, genesis) {
			t.Fatalf("%s: genesis differs (%v)", n.ID, err)
		}
		tb, err := os.ReadFile(filepath.Join(n.Home, app.TrustFile))
		if err != nil || !bytes.Equal(tb, trust) {
			t.Fatalf("%s: trust bundle differs (%v)", n.ID, err)
		}
		cfg, err := app.LoadConfig(n.Home)
		if err != nil {
			t.Fatal(err)
		}
		if cfg.Comet.RPC.ListenAddress != "tcp://"+n.RPC || cfg.App.Gateway.ListenAddress != n.Gateway || cfg.Comet.Moniker != n.ID ||
			"http://"+cfg.App.Public.Listen != n.Public {
			t.Fatalf("%s: config %s %s %s %s", n.ID, cfg.Comet.RPC.ListenAddress, cfg.App.Gateway.ListenAddress, cfg.Comet.Moniker, cfg.App.Public.Listen)
		}
		peers := strings.Split(cfg.Comet.P2P.PersistentPeers, ",")
		wantPeers := 3 // the other validators
		if n.Role == "full" {
			wantPeers = 4
		}
		if len(peers) != wantPeers {
			t.Fatalf("%s: peers %q", n.ID, cfg.Comet.P2P.PersistentPeers)
		}
		if _, err := os.Stat(filepath.Join(n.GovKeyDir, "identity.json")); err != nil {
			t.Fatalf("%s: governance identity: %v", n.ID, err)
		}
		if _, err := os.Stat(filepath.Join(n.Home, "tls", "ca.key")); err == nil {
			t.Fatalf("%s: the CA key is in a node home", n.ID)
		}
	}
	if r.Nodes[0].P2P != "127.0.0.1:31000" || r.Nodes[1].P2P != "127.0.0.1:31010" || r.Nodes[0].Gateway != "127.0.0.1:31002" ||
		r.Nodes[1].Public != "http://127.0.0.1:31014" {
		t.Fatalf("port layout: %+v", r.Nodes[:2])
	}
	if _, err := os.Stat(filepath.Join(dir, testnetCADir, "ca.key")); err != nil {
		t.Fatalf("CA key: %v", err)
	}
	if len(r.Agencies) != 2 || r.Agencies["aeat"] != filepath.Join(dir, "identities", "aeat") {
		t.Fatalf("agencies %v", r.Agencies)
	}
	for _, f := range []string{"identity.json", "tls.crt", "tls.key", "ca.crt"} {
		if _, err := os.Stat(filepath.Join(r.Agencies["dgt"], f)); err != nil {
			t.Fatalf("agency dgt: %v", err)
		}
	}
	var tb struct {
		ChainID    string `json:"chain_id"`
		Validators []struct {
			Name string `json:"name"`
		} `json:"validators"`
		PublicEndpoints []string `json:"public_endpoints"`
	}
	if err := json.Unmarshal(trust, &tb); err != nil || tb.ChainID != "notary-localnet" || len(tb.Validators) != 4 {
		t.Fatalf("trust bundle %v: %s", err, trust)
	}
	if len(tb.PublicEndpoints) != len(r.Nodes) {
		t.Fatalf("public endpoints %q", tb.PublicEndpoints)
	}
	for i, n := range r.Nodes {
		if tb.PublicEndpoints[i] != n.Public {
			t.Fatalf("public endpoint %d: %s, want %s", i, tb.PublicEndpoints[i], n.Public)
		}
	}

	// trust export, twice: the same bytes, the ones testnet wrote.
	for i := range 2 {
		p := filepath.Join(t.TempDir(), "trust.json")
		if out, err := runCmd(t, "trust", "export", "--home", r.Nodes[i].Home, "--out", p); err != nil {
			t.Fatalf("trust export: %v\n%s", err, out)
		}
		b, err := os.ReadFile(p)
		if err != nil || !bytes.Equal(b, trust) {
			t.Fatalf("trust export %d differs from the testnet's trust bundle (%v):\n%s\n%s", i, err, b, trust)
		}
	}

	// A second run into the same directory is refused.
	if _, err := runCmd(t, "testnet", "--out", dir); err == nil || !strings.Contains(err.Error(), "not empty") {
		t.Fatalf("second testnet into %s: %v", dir, err)
	}
}

// TestTestnetHosts: with one host per node, p2p and the gateway listen on
// all interfaces, every node uses the same ports, peers name the hosts and
// each gateway certificate names its host; nodes sharing a host get
// distinct ports. The public endpoints stay on 127.0.0.1, for the operator
// to open, and the trust bundle lists none.
func TestTestnetHosts(t *testing.T) {
	dir := t.TempDir()
	out, err := runCmd(t, "testnet", "--out", dir, "--validators", "4", "--agencies", "1", "-o", "json",
		"--hosts", "10.0.0.11,10.0.0.12,10.0.0.13,10.0.0.13")
	if err != nil {
		t.Fatalf("testnet: %v\n%s", err, out)
	}
	r := readTestnet(t, out)
	trust, err := os.ReadFile(filepath.Join(dir, app.TrustFile))
	if err != nil || bytes.Contains(trust, []byte("public_endpoints")) {
		t.Fatalf("trust bundle (%v): %s", err, trust)
	}
	want := []string{"10.0.0.11:26700", "10.0.0.12:26700", "10.0.0.13:26700", "10.0.0.13:26710"}
	for i, n := range r.Nodes {
		if n.P2P != want[i] {
			t.Fatalf("%s: p2p %s, want %s", n.ID, n.P2P, want[i])
		}
		cfg, err := app.LoadConfig(n.Home)
		if err != nil {
			t.Fatal(err)
		}
		_, port, _ := net.SplitHostPort(n.P2P)
		if cfg.Comet.P2P.ListenAddress != "tcp://0.0.0.0:"+port || !strings.HasPrefix(cfg.App.Gateway.ListenAddress, "0.0.0.0:") {
			t.Fatalf("%s: listens on %s and %s", n.ID, cfg.Comet.P2P.ListenAddress, cfg.App.Gateway.ListenAddress)
		}
		if !strings.HasPrefix(cfg.Comet.RPC.ListenAddress, "tcp://127.0.0.1:") || !strings.HasPrefix(cfg.Comet.Instrumentation.PrometheusListenAddr, "127.0.0.1:") ||
			!strings.HasPrefix(cfg.App.Public.Listen, "127.0.0.1:") {
			t.Fatalf("%s: RPC %s, metrics %s, public %s", n.ID, cfg.Comet.RPC.ListenAddress, cfg.Comet.Instrumentation.PrometheusListenAddr, cfg.App.Public.Listen)
		}
		for _, o := range r.Nodes {
			if o.ID != n.ID && !strings.Contains(cfg.Comet.P2P.PersistentPeers, o.NodeID+"@"+o.P2P) {
				t.Fatalf("%s: peers %s lack %s", n.ID, cfg.Comet.P2P.PersistentPeers, o.P2P)
			}
		}
		b, err := os.ReadFile(filepath.Join(n.Home, "tls", "node.crt"))
		if err != nil {
			t.Fatal(err)
		}
		blk, _ := pem.Decode(b)
		cert, err := x509.ParseCertificate(blk.Bytes)
		if err != nil {
			t.Fatal(err)
		}
		if err := cert.VerifyHostname(n.Host); err != nil {
			t.Fatalf("%s: gateway certificate: %v", n.ID, err)
		}
	}
}

// TestTestnetEmptyBlocks: a new network makes no empty blocks unless told:
// --empty-blocks makes one every block interval, --empty-block-interval
// one after that long without a block.
func TestTestnetEmptyBlocks(t *testing.T) {
	for _, tc := range []struct {
		name     string
		args     []string
		always   bool
		interval time.Duration
	}{
		{"default", nil, false, 0},
		{"always", []string{"--empty-blocks"}, true, 0},
		{"interval", []string{"--empty-block-interval", "1h"}, false, time.Hour},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			out, err := runCmd(t, append([]string{"testnet", "--out", dir, "--validators", "1", "--agencies", "0", "-o", "json"}, tc.args...)...)
			if err != nil {
				t.Fatalf("testnet: %v\n%s", err, out)
			}
			cfg, err := app.LoadConfig(readTestnet(t, out).Nodes[0].Home)
			if err != nil {
				t.Fatal(err)
			}
			if c := cfg.Comet.Consensus; c.CreateEmptyBlocks != tc.always || c.CreateEmptyBlocksInterval != tc.interval {
				t.Fatalf("create_empty_blocks %v, interval %s; want %v, %s", c.CreateEmptyBlocks, c.CreateEmptyBlocksInterval, tc.always, tc.interval)
			}
		})
	}
}

// TestTestnetUsage: bad flags are usage errors (exit 2) with a message.
func TestTestnetUsage(t *testing.T) {
	for _, tc := range []struct {
		args []string
		msg  string
	}{
		{[]string{"--validators", "0"}, "--validators must be"},
		{[]string{"--validators", "23"}, "--validators must be"},
		{[]string{"--validators", "20", "--full-nodes", "3"}, "at most 22"},
		{[]string{"--agencies", "13"}, "--agencies must be"},
		{[]string{"--hosts", "10.0.0.1,10.0.0.2"}, "one per node"},
		{[]string{"--hosts", "a:1,b,c,d"}, "not a host name"},
		{[]string{"--base-port", "80"}, "--base-port"},
		{[]string{"--power", "0"}, "--power"},
		{[]string{"--empty-block-interval", "-1s"}, "--empty-block-interval"},
	} {
		_, err := runCmd(t, append([]string{"testnet", "--out", filepath.Join(t.TempDir(), "x")}, tc.args...)...)
		var ee *cli.ExitError
		if !errors.As(err, &ee) || ee.Code != cli.ExitUsage || !strings.Contains(err.Error(), tc.msg) {
			t.Errorf("%v: %v, want a usage error with %q", tc.args, err, tc.msg)
		}
	}
	_, err := runCmd(t, "testnet", "--out", filepath.Join(t.TempDir(), "x"), "--chain-id", "Bad_Chain")
	if err == nil || !strings.Contains(err.Error(), "chain id") {
		t.Errorf("bad chain id: %v", err)
	}
}

// TestTrustVerifierURL: testnet --verifier-url names the web verifier in
// the trust bundle; trust export keeps it, replaces it, or removes it
// (--verifier-url ""), and refuses one that is not a base URL.
func TestTrustVerifierURL(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "net")
	const sede = "https://sede.example.gob.es/verificar"
	if out, err := runCmd(t, "testnet", "--out", dir, "--validators", "1", "--agencies", "0", "--base-port", "31300", "--verifier-url", sede+"/", "-o", "json"); err != nil {
		t.Fatalf("testnet: %v\n%s", err, out)
	}
	urlOf := func(p string) string {
		t.Helper()
		b, err := os.ReadFile(p)
		if err != nil {
			t.Fatal(err)
		}
		var tb struct {
			VerifierURL string `json:"verifier_url"`
		}
		if err := json.Unmarshal(b, &tb); err != nil {
			t.Fatal(err)
		}
		return tb.VerifierURL
	}
	if got := urlOf(filepath.Join(dir, app.TrustFile)); got != sede {
		t.Fatalf("testnet's trust bundle: verifier_url %q", got)
	}
	home := filepath.Join(dir, "hacienda")
	p := filepath.Join(t.TempDir(), "trust.json")
	out, err := runCmd(t, "trust", "export", "--home", home, "--out", p)
	if err != nil || urlOf(p) != sede || !strings.Contains(out, "web verifier    "+sede) {
		t.Fatalf("export keeping it: %v %q\n%s", err, urlOf(p), out)
	}
	if out, err := runCmd(t, "trust", "export", "--home", home, "--out", p, "--verifier-url", "http://127.0.0.1:31304"); err != nil || urlOf(p) != "http://127.0.0.1:31304" {
		t.Fatalf("export replacing it: %v\n%s", err, out)
	}
	if out, err := runCmd(t, "trust", "export", "--home", home, "--out", p, "--verifier-url", ""); err != nil || urlOf(p) != "" || strings.Contains(out, "web verifier") {
		t.Fatalf("export removing it: %v\n%s", err, out)
	}
	if _, err := runCmd(t, "trust", "export", "--home", home, "--out", p, "--verifier-url", "http://sede.example.gob.es"); err == nil {
		t.Fatal("an http verifier URL on a public host accepted")
	}
}
