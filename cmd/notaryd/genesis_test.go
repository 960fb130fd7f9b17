package main

import (
	"crypto/ed25519"
	"crypto/x509"
	"encoding/hex"
	"encoding/json"
	"encoding/pem"
	"errors"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/gobtechlab/notary/app"
	"github.com/gobtechlab/notary/app/identity"
	"github.com/gobtechlab/notary/app/join"
	"github.com/gobtechlab/notary/cmd/internal/cli"
	"github.com/gobtechlab/notary/ledger"
)

// exitCode is the exit code a command's error gives (0 for none).
func exitCode(err error) int {
	if err == nil {
		return cli.ExitOK
	}
	var ee *cli.ExitError
	if errors.As(err, &ee) {
		return ee.Code
	}
	return cli.ExitFailure
}

// formationHomes makes n ministry homes with 'init --ministry' and returns
// their directories.
func formationHomes(t *testing.T, dir string, n int) []string {
	t.Helper()
	var homes []string
	for i := range n {
		home := filepath.Join(dir, fmt.Sprintf("m%d", i))
		out, err := runCmd(t, "init", "--ministry", fmt.Sprintf("m%d", i), "--ministry-name", fmt.Sprintf("Ministry %d", i),
			"--chain-id", "form-test", "--home", home, "--p2p-port", fmt.Sprint(33000+10*i), "--gateway-port", fmt.Sprint(33002+10*i))
		if err != nil {
			t.Fatalf("init --ministry: %v\n%s", err, out)
		}
		homes = append(homes, home)
	}
	return homes
}

// request reads a home's join request.
func request(t *testing.T, home string) *join.Request {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(home, join.RequestFile))
	if err != nil {
		t.Fatal(err)
	}
	r, err := join.Decode(b)
	if err != nil {
		t.Fatal(err)
	}
	return r
}

// govKey is the governance key of a ministry's home.
func govKey(t *testing.T, home, id string) ed25519.PrivateKey {
	t.Helper()
	i, err := identity.Load(filepath.Join(home, "identities", id))
	if err != nil {
		t.Fatal(err)
	}
	return i.Key()
}

func writeRequest(t *testing.T, path string, r *join.Request) string {
	t.Helper()
	if err := os.WriteFile(path, r.Encode(), 0o644); err != nil {
		t.Fatal(err)
	}
	return path
}

// TestGenesisCollectRefuses: every bad set of join requests is refused with
// one message and its exit code, and no genesis is written.
func TestGenesisCollectRefuses(t *testing.T) {
	dir := t.TempDir()
	homes := formationHomes(t, dir, 4)
	var good []string
	for _, h := range homes {
		good = append(good, filepath.Join(h, join.RequestFile))
	}
	variant := func(name string, i int, change func(r *join.Request), resign bool) string {
		r := request(t, homes[i])
		key := govKey(t, homes[i], r.ID)
		change(r)
		if resign {
			if err := r.Sign(key); err != nil {
				t.Fatal(err)
			}
		}
		return writeRequest(t, filepath.Join(dir, name+".json"), r)
	}
	other := request(t, homes[1])
	cases := []struct {
		name string
		reqs []string
		code int
		msg  string
	}{
		{"unsigned", []string{good[0], good[1], good[2], variant("unsigned", 3, func(r *join.Request) { r.Signature = "" }, false)}, ExitUnsigned, "is not signed"},
		{"signed by another key", []string{good[0], good[1], good[2], variant("other-key", 3, func(r *join.Request) {
			r.Signature = other.Signature
		}, false)}, ExitUnsigned, "not signed by its own key"},
		{"changed after signing", []string{good[0], good[1], good[2], variant("changed", 3, func(r *join.Request) { r.Power = 11 }, false)}, ExitUnsigned, "not signed by its own key"},
		{"duplicated", []string{good[0], good[1], good[2], good[3], good[3]}, ExitConflict, "given twice"},
		{"key already in use", []string{good[0], good[1], good[2], variant("key-in-use", 3, func(r *join.Request) {
			r.ConsensusPubKey = request(t, homes[0]).ConsensusPubKey
		}, true)}, ExitConflict, "already in use"},
		{"id twice", []string{good[0], good[1], good[2], variant("id-twice", 3, func(r *join.Request) { r.ID = "m0" }, true)}, ExitConflict, "requested by"},
		{"node id in use", []string{good[0], good[1], good[2], variant("node-in-use", 3, func(r *join.Request) {
			r.NodeID = request(t, homes[0]).NodeID
		}, true)}, ExitConflict, "already in use"},
		{"other chain", []string{good[0], good[1], good[2], variant("other-chain", 3, func(r *join.Request) { r.ChainID = "other" }, true)}, ExitConflict, "for chain"},
		{"power zero", []string{good[0], good[1], good[2], variant("power-0", 3, func(r *join.Request) { r.Power = 0 }, true)}, ExitPower, "power 0"},
		{"power negative", []string{good[0], good[1], good[2], variant("power-neg", 3, func(r *join.Request) { r.Power = -5 }, true)}, ExitPower, "power -5"},
		{"power over a third", []string{good[0], good[1], good[2], variant("power-third", 3, func(r *join.Request) { r.Power = 15 }, true)}, ExitPower, "1/3"},
		{"not a request", []string{good[0], filepath.Join(homes[0], "config", "config.toml")}, cli.ExitUsage, "not a valid join request"},
		{"missing file", []string{good[0], filepath.Join(dir, "nope.json")}, cli.ExitUsage, "no such file"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			out := filepath.Join(t.TempDir(), "genesis.json")
			msg, err := runCmd(t, append(append([]string{"genesis", "collect"}, c.reqs...), "--out", out)...)
			if code := exitCode(err); code != c.code {
				t.Fatalf("exit %d (%v), want %d\n%s", code, err, c.code, msg)
			}
			if !strings.Contains(err.Error(), c.msg) || strings.Count(err.Error(), "\n") > 0 {
				t.Fatalf("message %q, want one line with %q", err, c.msg)
			}
			if _, err := os.Stat(out); err == nil {
				t.Fatal("a genesis was written")
			}
		})
	}
}

// TestGenesisVerify: the collected genesis verifies against its hash, with
// and without a ministry's home; a genesis differing by one byte, another
// hash, or a genesis without the home's ministry is refused with exit 1.
func TestGenesisVerify(t *testing.T) {
	dir := t.TempDir()
	homes := formationHomes(t, dir, 4)
	gen := filepath.Join(dir, "genesis.json")
	args := []string{"genesis", "collect"}
	for _, h := range homes[:3] {
		args = append(args, filepath.Join(h, join.RequestFile))
	}
	out, err := runCmd(t, append(args, "--out", gen, "-o", "json")...)
	if err != nil {
		t.Fatalf("collect: %v\n%s", err, out)
	}
	var res collectResult
	if err := json.Unmarshal([]byte(out), &res); err != nil {
		t.Fatal(err)
	}
	if len(res.Hash) != 64 || strings.Count(res.Peers, "@") != 3 {
		t.Fatalf("collect result %+v", res)
	}
	if out, err := runCmd(t, "genesis", "verify", gen, "--hash", res.Hash, "--home", homes[0]); err != nil {
		t.Fatalf("verify: %v\n%s", err, out)
	}
	b, err := os.ReadFile(gen)
	if err != nil {
		t.Fatal(err)
	}
	flipped := append([]byte(nil), b...)
	i := strings.Index(string(flipped), `"chain_id": "form-test"`) + len(`"chain_id": "form-tes`)
	flipped[i] = 'x'
	bad := filepath.Join(dir, "genesis-flipped.json")
	if err := os.WriteFile(bad, flipped, 0o644); err != nil {
		t.Fatal(err)
	}
	cases := []struct {
		name string
		args []string
		code int
		msg  string
	}{
		{"one byte differs", []string{bad, "--hash", res.Hash}, cli.ExitFailure, "not the agreed"},
		{"another hash", []string{gen, "--hash", strings.Repeat("0", 64)}, cli.ExitFailure, "not the agreed"},
		{"ministry not in it", []string{gen, "--hash", res.Hash, "--home", homes[3]}, cli.ExitFailure, `"m3" is not in it`},
		{"no hash", []string{gen}, cli.ExitUsage, "--hash is required"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			_, err := runCmd(t, append([]string{"genesis", "verify"}, c.args...)...)
			if code := exitCode(err); code != c.code || !strings.Contains(err.Error(), c.msg) {
				t.Fatalf("exit %d, %v; want %d and %q", code, err, c.code, c.msg)
			}
		})
	}
	// install refuses the flipped genesis too, and installs the right one.
	if _, err := runCmd(t, "genesis", "install", bad, "--hash", res.Hash, "--peers", res.Peers, "--home", homes[1]); exitCode(err) != cli.ExitFailure {
		t.Fatalf("install of a changed genesis: %v", err)
	}
	if _, err := os.Stat(filepath.Join(homes[1], "config", "genesis.json")); err == nil {
		t.Fatal("a changed genesis was installed")
	}
	if out, err := runCmd(t, "genesis", "install", gen, "--hash", res.Hash, "--peers", res.Peers, "--home", homes[1]); err != nil {
		t.Fatalf("install: %v\n%s", err, out)
	}
	installed, err := os.ReadFile(filepath.Join(homes[1], "config", "genesis.json"))
	if err != nil || string(installed) != string(b) {
		t.Fatalf("installed genesis differs (%v)", err)
	}
	// Installing it again changes nothing; another genesis is refused.
	if out, err := runCmd(t, "genesis", "install", gen, "--hash", res.Hash, "--peers", res.Peers, "--home", homes[1]); err != nil {
		t.Fatalf("install again: %v\n%s", err, out)
	}
	other := filepath.Join(dir, "other.json")
	out, err = runCmd(t, "genesis", "collect", filepath.Join(homes[1], join.RequestFile), "--out", other, "-o", "json")
	if err != nil {
		t.Fatalf("collect: %v\n%s", err, out)
	}
	var res2 collectResult
	if err := json.Unmarshal([]byte(out), &res2); err != nil {
		t.Fatal(err)
	}
	_, err = runCmd(t, "genesis", "install", other, "--hash", res2.Hash, "--home", homes[1])
	if exitCode(err) != cli.ExitFailure || !strings.Contains(err.Error(), "already holds another genesis") {
		t.Fatalf("install of another genesis: %v", err)
	}

	// A ministry voted in later installs the genesis with --join; a
	// ministry in the genesis may not.
	_, err = runCmd(t, "genesis", "install", gen, "--hash", res.Hash, "--join", "--home", homes[2])
	if exitCode(err) != cli.ExitFailure || !strings.Contains(err.Error(), `"m2" is in it: install it without --join`) {
		t.Fatalf("install --join of a genesis with the ministry: %v", err)
	}
	if _, err := runCmd(t, "genesis", "install", bad, "--hash", res.Hash, "--join", "--home", homes[3]); exitCode(err) != cli.ExitFailure {
		t.Fatalf("install --join of a changed genesis: %v", err)
	}
	// With --rpc-servers it also turns on state sync, as 'notaryd statesync'.
	trustHash := strings.Repeat("AB", 32)
	if out, err := runCmd(t, "genesis", "install", gen, "--hash", res.Hash, "--peers", res.Peers, "--join", "--home", homes[3],
		"--rpc-servers", "http://127.0.0.1:1,http://127.0.0.1:2", "--trust-height", "7", "--trust-hash", trustHash); err != nil {
		t.Fatalf("install --join: %v\n%s", err, out)
	}
	if installed, err := os.ReadFile(filepath.Join(homes[3], "config", "genesis.json")); err != nil || string(installed) != string(b) {
		t.Fatalf("the later ministry's genesis differs (%v)", err)
	}
	cfg, err := app.LoadConfig(homes[3])
	if err != nil {
		t.Fatal(err)
	}
	if ss := cfg.Comet.StateSync; !ss.Enable || len(ss.RPCServers) != 2 || ss.TrustHeight != 7 || ss.TrustHash != trustHash {
		t.Fatalf("state sync after install --join --rpc-servers: %+v", ss)
	}
}

// TestCASign: the offline CA issues a gateway's server certificate and a
// ministry's client certificate from the requests 'init --ministry' made,
// each chaining to ca.crt with the names asked for, and refuses a file that
// is not a request.
func TestCASign(t *testing.T) {
	dir := t.TempDir()
	home := formationHomes(t, dir, 1)[0]
	ca := filepath.Join(dir, "ca")
	if out, err := runCmd(t, "ca", "new", "--dir", ca, "--chain-id", "form-test"); err != nil {
		t.Fatalf("ca new: %v\n%s", err, out)
	}
	if _, err := runCmd(t, "ca", "new", "--dir", ca, "--chain-id", "form-test"); err == nil {
		t.Fatal("ca new over an existing CA succeeded")
	}
	caPEM, err := os.ReadFile(filepath.Join(ca, "ca.crt"))
	if err != nil {
		t.Fatal(err)
	}
	pool := x509.NewCertPool()
	pool.AppendCertsFromPEM(caPEM)
	sign := func(csr string, usage x509.ExtKeyUsage) *x509.Certificate {
		out := filepath.Join(dir, filepath.Base(csr)+".crt")
		if msg, err := runCmd(t, "ca", "sign", csr, "--ca", ca, "--out", out); err != nil {
			t.Fatalf("ca sign %s: %v\n%s", csr, err, msg)
		}
		b, err := os.ReadFile(out)
		if err != nil {
			t.Fatal(err)
		}
		blk, _ := pem.Decode(b)
		cert, err := x509.ParseCertificate(blk.Bytes)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := cert.Verify(x509.VerifyOptions{Roots: pool, KeyUsages: []x509.ExtKeyUsage{usage}}); err != nil {
			t.Fatalf("%s: %v", out, err)
		}
		return cert
	}
	srv := sign(filepath.Join(home, "tls", "node.csr"), x509.ExtKeyUsageServerAuth)
	if len(srv.IPAddresses) == 0 || !srv.IPAddresses[0].Equal(net.ParseIP("127.0.0.1")) {
		t.Fatalf("server certificate for %v", srv.IPAddresses)
	}
	client := sign(filepath.Join(home, "identities", "m0", "tls.csr"), x509.ExtKeyUsageClientAuth)
	if len(client.URIs) != 1 || client.URIs[0].String() != "notary:ministry/m0" {
		t.Fatalf("client certificate names %v", client.URIs)
	}
	// The join request registers the key the certificate carries.
	if want := request(t, home).TLSKey; hex.EncodeToString(ledger.TLSKeyHash(client.RawSubjectPublicKeyInfo)) != want || want == "" {
		t.Fatalf("the certificate's key is not the request's tls_key %q", want)
	}
	_, err = runCmd(t, "ca", "sign", filepath.Join(home, join.RequestFile), "--ca", ca, "--out", filepath.Join(dir, "x.crt"))
	if exitCode(err) != cli.ExitUsage || !strings.Contains(err.Error(), "not a PEM certificate request") {
		t.Fatalf("ca sign of a join request: %v", err)
	}
}

// TestGenesisCollectRepeatable: the same requests and genesis time give the
// same genesis file, in any order, so any ministry can rebuild it.
func TestGenesisCollectRepeatable(t *testing.T) {
	dir := t.TempDir()
	homes := formationHomes(t, dir, 3)
	var reqs []string
	for _, h := range homes {
		reqs = append(reqs, filepath.Join(h, join.RequestFile))
	}
	hash := func(out string, reqs ...string) string {
		args := append(append([]string{"genesis", "collect"}, reqs...), "--out", out, "--genesis-time", "2026-12-01T10:00:00Z", "-o", "json")
		msg, err := runCmd(t, args...)
		if err != nil {
			t.Fatalf("collect: %v\n%s", err, msg)
		}
		var r collectResult
		if err := json.Unmarshal([]byte(msg), &r); err != nil {
			t.Fatal(err)
		}
		return r.Hash
	}
	a := hash(filepath.Join(dir, "a.json"), reqs...)
	b := hash(filepath.Join(dir, "b.json"), reqs[2], reqs[0], reqs[1])
	if a != b {
		t.Fatalf("hashes %s and %s of the same requests", a, b)
	}
}
