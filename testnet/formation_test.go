package testnet

import (
	"bytes"
	"context"
	"crypto/x509"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"encoding/pem"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/cometbft/cometbft/p2p"
	"github.com/cometbft/cometbft/privval"
	cmttypes "github.com/cometbft/cometbft/types"

	"github.com/gobtechlab/notary/app/identity"
	"github.com/gobtechlab/notary/testnet/internal/harness"
)

// TestFormation forms a 4-validator consortium as four ministries on four
// hosts would, each host a separate folder: each ministry makes its keys
// with 'notaryd init --ministry', an agency makes its own with 'notaryctl
// identity new', the coordinator collects the join requests into the
// genesis, the offline CA signs the certificate requests, every ministry
// verifies and installs the genesis; then the four nodes run as separate
// processes and the agency anchors through each gateway. No folder holds a
// private key of another (scanned raw, in hex and in base64), and the CA
// key is in no node's or agency's folder. docs/operations.md, "Forming a
// consortium", gives the same commands.
//
// Then a fifth ministry, voted in from its join request, installs the
// genesis with --join, syncs, becomes a validator and serves the agency
// through its gateway (certificate from the same CA); and governance
// removes the agency: once each node has the block after the one that
// passed it, all five gateways refuse the agency's certificate with "was
// removed at height H".
func TestFormation(t *testing.T) {
	if testing.Short() {
		t.Skip("runs four validator processes")
	}
	const chainID = "formation-test"
	dir := t.TempDir()
	start := time.Now()
	phase := func(name string) { t.Logf("%s: %v", name, time.Since(start).Round(100*time.Millisecond)) }
	notaryd := harness.Binary(t)
	notaryctl := harness.Tool(t, "github.com/gobtechlab/notary/cmd/notaryctl")
	run := func(bin string, args ...string) string {
		t.Helper()
		cmd := exec.Command(bin, args...)
		cmd.Dir = dir
		var out, errb bytes.Buffer
		cmd.Stdout, cmd.Stderr = &out, &errb
		if err := cmd.Run(); err != nil {
			t.Fatalf("%s %s: %v\n%s%s", filepath.Base(bin), strings.Join(args, " "), err, out.String(), errb.String())
		}
		return out.String()
	}

	phase("binaries built")

	// Each ministry, on its own host.
	const n = 4
	ports := harness.FreePorts(t, 4*n)
	homes := make([]string, n)
	ids := make([]string, n)
	for i := range n {
		ids[i] = fmt.Sprintf("ministry-%d", i+1)
		homes[i] = filepath.Join(dir, "host-"+ids[i], "home")
		p := ports[4*i:]
		run(notaryd, "init", "--ministry", ids[i], "--ministry-name", fmt.Sprintf("Ministerio %d", i+1),
			"--chain-id", chainID, "--power", "10", "--home", homes[i], "--host", "127.0.0.1",
			"--p2p-port", strconv.Itoa(p[0]), "--rpc-port", strconv.Itoa(p[1]),
			"--gateway-port", strconv.Itoa(p[2]), "--metrics-port", strconv.Itoa(p[3]), "--public-port", "0",
			// A signed header at least every second: the validator
			// update of a vote applies two blocks later, also when no
			// transaction comes.
			"--empty-block-interval", "1s")
	}
	gateway := func(i int) string { return "127.0.0.1:" + strconv.Itoa(ports[4*i+2]) }
	// An agency, on its own host.
	agency := filepath.Join(dir, "host-agency", "aeat")
	run(notaryctl, "identity", "new", "--agency", "aeat", "--name", "Agencia Tributaria", "--chain-id", chainID,
		"--dir", agency, "--permissions", "anchor,revoke", "--node", gateway(0))

	// The coordinator collects the join requests it was sent.
	coord := filepath.Join(dir, "host-coordinator")
	var reqs []string
	for i, h := range homes {
		reqs = append(reqs, copyFile(t, filepath.Join(h, "join-request.json"), filepath.Join(coord, ids[i]+".json")))
	}
	reqs = append(reqs, copyFile(t, filepath.Join(agency, "join-request.json"), filepath.Join(coord, "aeat.json")))
	genesis := filepath.Join(coord, "genesis.json")
	var collected struct {
		Hash  string `json:"genesis_hash"`
		Peers string `json:"peers"`
	}
	out := run(notaryd, append(append([]string{"genesis", "collect"}, reqs...), "--out", genesis, "-o", "json")...)
	if err := json.Unmarshal([]byte(out), &collected); err != nil || len(collected.Hash) != 64 {
		t.Fatalf("collect output %q: %v", out, err)
	}

	// The offline CA signs the certificate requests it was sent.
	caHost := filepath.Join(dir, "host-ca")
	run(notaryd, "ca", "new", "--dir", filepath.Join(caHost, "ca"), "--chain-id", chainID)
	caCert := filepath.Join(caHost, "ca", "ca.crt")
	sign := func(csr, crtDest string) {
		t.Helper()
		in := copyFile(t, csr, filepath.Join(caHost, "in", filepath.Base(filepath.Dir(crtDest))+"-"+filepath.Base(csr)))
		crt := strings.TrimSuffix(in, ".csr") + ".crt"
		run(notaryd, "ca", "sign", in, "--ca", filepath.Join(caHost, "ca"), "--out", crt)
		copyFile(t, crt, crtDest)
		copyFile(t, caCert, filepath.Join(filepath.Dir(crtDest), "ca.crt"))
	}
	for i, h := range homes {
		sign(filepath.Join(h, "tls", "node.csr"), filepath.Join(h, "tls", "node.crt"))
		gov := filepath.Join(h, "identities", ids[i])
		sign(filepath.Join(gov, "tls.csr"), filepath.Join(gov, "tls.crt"))
	}
	sign(filepath.Join(agency, "tls.csr"), filepath.Join(agency, "tls.crt"))

	// Every ministry checks the genesis it received against the hash, and
	// installs it.
	for i, h := range homes {
		got := copyFile(t, genesis, filepath.Join(filepath.Dir(h), "genesis.json"))
		run(notaryd, "genesis", "verify", got, "--hash", collected.Hash, "--home", h)
		run(notaryd, "genesis", "install", got, "--hash", collected.Hash, "--peers", collected.Peers, "--home", h)
		if i == 0 {
			b, err := os.ReadFile(filepath.Join(h, "config", "genesis.json"))
			if err != nil || !bytes.Contains(b, []byte(`"aeat"`)) {
				t.Fatalf("installed genesis does not register the agency (%v)", err)
			}
		}
	}

	hosts := map[string]string{"ca": caHost, "agency": filepath.Dir(agency), "coordinator": coord}
	for i, h := range homes {
		hosts[ids[i]] = filepath.Dir(h)
	}
	secrets := map[string][][]byte{
		"ca":     pemKey(t, filepath.Join(caHost, "ca", "ca.key")),
		"agency": append(identityKeys(t, agency), pemKey(t, filepath.Join(agency, "tls.key"))...),
	}
	for i, h := range homes {
		secrets[ids[i]] = homeKeys(t, h, ids[i])
	}
	checkNoForeignKeys(t, hosts, secrets)
	phase("genesis installed")

	// The nodes run.
	procs := make([]*harness.Proc, n)
	for i, h := range homes {
		procs[i] = harness.NewProc(t, h, ports[4*i+1])
		procs[i].Start()
	}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	// An idle chain of production settings makes its first block and
	// then waits for transactions.
	for _, p := range procs {
		if err := p.WaitHeight(ctx, 1, time.Minute); err != nil {
			log, _ := os.ReadFile(p.LogPath)
			t.Fatalf("%v\n%s", err, tail(string(log), 4096))
		}
	}

	phase("nodes at height 1")

	// The agency anchors through each gateway, and every document is found
	// through the next gateway.
	for i := range n {
		doc := filepath.Join(filepath.Dir(agency), fmt.Sprintf("document-%d.txt", i))
		if err := os.WriteFile(doc, []byte(fmt.Sprintf("formation document %d\n", i)), 0o644); err != nil {
			t.Fatal(err)
		}
		out := run(notaryctl, "anchor", doc, "--identity", agency, "--node", gateway(i), "--timeout", "60s")
		if !strings.Contains(out, "1 anchored") {
			t.Fatalf("anchor through %s: %s", gateway(i), out)
		}
		out = run(notaryctl, "get", doc, "--identity", agency, "--node", gateway((i+1)%n), "--timeout", "60s")
		if !strings.Contains(out, "aeat") {
			t.Fatalf("get through %s: %s", gateway((i+1)%n), out)
		}
	}
	phase("anchored through every gateway")
	checkNoForeignKeys(t, hosts, secrets)

	// A ministry voted in later, on its own host: its keys and request by
	// 'notaryd init --ministry', the vote by the consortium from its join
	// request, its certificates by the same offline CA, the genesis by
	// 'genesis install --join'; it syncs, becomes a validator, and the
	// agency anchors through its gateway.
	govDir := func(i int) string { return filepath.Join(homes[i], "identities", ids[i]) }
	const late = "ministry-5"
	lp := harness.FreePorts(t, 4)
	lateHome := filepath.Join(dir, "host-"+late, "home")
	run(notaryd, "init", "--ministry", late, "--ministry-name", "Ministerio 5",
		"--chain-id", chainID, "--power", "10", "--home", lateHome, "--host", "127.0.0.1",
		"--p2p-port", strconv.Itoa(lp[0]), "--rpc-port", strconv.Itoa(lp[1]),
		"--gateway-port", strconv.Itoa(lp[2]), "--metrics-port", strconv.Itoa(lp[3]), "--public-port", "0",
		"--empty-block-interval", "1s")
	lateGW := "127.0.0.1:" + strconv.Itoa(lp[2])
	lateReq := copyFile(t, filepath.Join(lateHome, "join-request.json"), filepath.Join(dir, "host-"+ids[0], late+".json"))
	pass := func(what string, args ...string) int64 {
		t.Helper()
		var prop struct {
			Proposal struct {
				ID json.RawMessage `json:"id"`
			} `json:"proposal"`
		}
		out := run(notaryctl, append(append([]string{"gov", "propose"}, args...), "--identity", govDir(0), "--node", gateway(0), "-o", "json")...)
		if err := json.Unmarshal([]byte(out), &prop); err != nil {
			t.Fatalf("%s: propose output %q: %v", what, out, err)
		}
		id := strings.Trim(string(prop.Proposal.ID), `"`)
		var h int64
		for i := 0; ; i++ { // until more than 2/3 of the power voted yes
			if i == n {
				t.Fatalf("%s: proposal %s did not pass with every ministry's vote", what, id)
			}
			var v struct {
				Height   int64 `json:"height"`
				Proposal struct {
					Status string `json:"status"`
				} `json:"proposal"`
			}
			out := run(notaryctl, "gov", "vote", id, "yes", "--identity", govDir(i), "--node", gateway(i), "-o", "json")
			if err := json.Unmarshal([]byte(out), &v); err != nil {
				t.Fatalf("%s: vote output %q: %v", what, out, err)
			}
			if h = v.Height; v.Proposal.Status == "passed" {
				break
			}
		}
		t.Logf("%s: proposal %s passed at height %d", what, id, h)
		return h
	}
	added := pass("add "+late, "add-validator", "--request", lateReq)
	sign(filepath.Join(lateHome, "tls", "node.csr"), filepath.Join(lateHome, "tls", "node.crt"))
	sign(filepath.Join(lateHome, "identities", late, "tls.csr"), filepath.Join(lateHome, "identities", late, "tls.crt"))
	lateGenesis := copyFile(t, genesis, filepath.Join(dir, "host-"+late, "genesis.json"))
	run(notaryd, "genesis", "install", lateGenesis, "--hash", collected.Hash, "--peers", collected.Peers, "--join", "--home", lateHome)
	lateProc := harness.NewProc(t, lateHome, lp[1])
	lateProc.Start()
	// A validator update of block H applies from H+2.
	if err := lateProc.WaitHeight(ctx, added+3, time.Minute); err != nil {
		log, _ := os.ReadFile(lateProc.LogPath)
		t.Fatalf("%s: %v\n%s", late, err, tail(string(log), 4096))
	}
	pv := privval.LoadFilePVEmptyState(filepath.Join(lateHome, "config", "priv_validator_key.json"), "")
	vs, err := harness.Validators(ctx, procs[0], added+2)
	if err != nil {
		t.Fatal(err)
	}
	if !slices.ContainsFunc(vs, func(v *cmttypes.Validator) bool { return bytes.Equal(v.Address, pv.Key.Address) }) {
		t.Fatalf("%s is not a validator at height %d", late, added+2)
	}
	// It signs: a commit after the change carries its signature.
	for h, signed := added+2, false; !signed; h++ {
		if h > added+20 {
			t.Fatalf("%s signed no commit of heights %d..%d", late, added+2, h-1)
		}
		if err := procs[0].WaitHeight(ctx, h+1, time.Minute); err != nil {
			t.Fatal(err)
		}
		signed, _ = harness.Signed(ctx, procs[0], h, pv.Key.Address)
	}
	doc := filepath.Join(filepath.Dir(agency), "document-late.txt")
	if err := os.WriteFile(doc, []byte("formation document, late gateway\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if out := run(notaryctl, "anchor", doc, "--identity", agency, "--node", lateGW, "--timeout", "60s"); !strings.Contains(out, "1 anchored") {
		t.Fatalf("anchor through %s: %s", lateGW, out)
	}
	phase("a ministry joined later")

	// Governance removes the agency: once each node has the next block,
	// its gateway refuses the agency's certificate.
	removed := pass("remove aeat", "remove-agency", "--id", "aeat")
	all := append(append([]*harness.Proc{}, procs...), lateProc)
	gws := []string{gateway(0), gateway(1), gateway(2), gateway(3), lateGW}
	for i, p := range all {
		if err := p.WaitHeight(ctx, removed+1, time.Minute); err != nil {
			t.Fatal(err)
		}
		fresh := filepath.Join(filepath.Dir(agency), fmt.Sprintf("document-removed-%d.txt", i))
		if err := os.WriteFile(fresh, []byte(fmt.Sprintf("after the removal %d\n", i)), 0o644); err != nil {
			t.Fatal(err)
		}
		cmd := exec.Command(notaryctl, "anchor", fresh, "--identity", agency, "--node", gws[i], "--timeout", "20s")
		out, err := cmd.CombinedOutput()
		want := fmt.Sprintf(`agency "aeat" was removed at height %d`, removed)
		if err == nil || !strings.Contains(string(out), want) {
			t.Fatalf("gateway %s after the removal: %v: %s (want %q)", gws[i], err, out, want)
		}
	}
	phase("the removed agency refused by every gateway")
	hosts[late], secrets[late] = filepath.Dir(lateHome), homeKeys(t, lateHome, late)
	checkNoForeignKeys(t, hosts, secrets)
}

// copyFile copies src to dst (creating its folder) and returns dst: the
// test's stand-in for sending a file to another host.
func copyFile(t *testing.T, src, dst string) string {
	t.Helper()
	b, err := os.ReadFile(src)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.MkdirAll(filepath.Dir(dst), 0o700); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(dst, b, 0o644); err != nil {
		t.Fatal(err)
	}
	return dst
}

// homeKeys returns the private keys a ministry's home made: consensus,
// node (p2p), governance, and the TLS keys of the gateway and of the
// governance identity.
func homeKeys(t *testing.T, home, id string) [][]byte {
	t.Helper()
	pv := privval.LoadFilePV(filepath.Join(home, "config", "priv_validator_key.json"), filepath.Join(home, "data", "priv_validator_state.json"))
	nk, err := p2p.LoadNodeKey(filepath.Join(home, "config", "node_key.json"))
	if err != nil {
		t.Fatal(err)
	}
	keys := [][]byte{pv.Key.PrivKey.Bytes()[:32], nk.PrivKey.Bytes()[:32]}
	keys = append(keys, identityKeys(t, filepath.Join(home, "identities", id))...)
	keys = append(keys, pemKey(t, filepath.Join(home, "tls", "node.key"))...)
	return append(keys, pemKey(t, filepath.Join(home, "identities", id, "tls.key"))...)
}

// identityKeys returns an identity's ed25519 seed (and an agency's salt key).
func identityKeys(t *testing.T, dir string) [][]byte {
	t.Helper()
	id, err := identity.Load(dir)
	if err != nil {
		t.Fatal(err)
	}
	keys := [][]byte{id.Key().Seed()}
	if s := id.Salt(); len(s) > 0 {
		keys = append(keys, s)
	}
	return keys
}

// pemKey returns an EC private key file's DER.
func pemKey(t *testing.T, path string) [][]byte {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	blk, _ := pem.Decode(b)
	if blk == nil {
		t.Fatalf("%s: not PEM", path)
	}
	if _, err := x509.ParseECPrivateKey(blk.Bytes); err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	return [][]byte{blk.Bytes}
}

// checkNoForeignKeys fails if a file under one host's folder holds a
// private key of another host, raw, in hex or in base64.
//
// Each host's own keys must be found in its own folder by the same scan;
// the test checks that too, so that a scan that finds nothing fails.
func checkNoForeignKeys(t *testing.T, hosts map[string]string, secrets map[string][][]byte) {
	t.Helper()
	if len(secrets) < len(hosts)-1 {
		t.Fatalf("secrets of %d hosts for %d folders", len(secrets), len(hosts))
	}
	own := map[string]map[int]bool{} // host -> its keys found in its folder
	for host, dir := range hosts {
		own[host] = map[int]bool{}
		err := filepath.WalkDir(dir, func(path string, d fs.DirEntry, err error) error {
			if err != nil || d.IsDir() {
				return err
			}
			b, err := os.ReadFile(path)
			if errors.Is(err, fs.ErrNotExist) {
				return nil // a running node's temporary file, gone
			}
			if err != nil {
				return err
			}
			for owner, keys := range secrets {
				for i, k := range keys {
					if !holdsKey(b, k) {
						continue
					}
					if owner == host {
						own[host][i] = true
					} else {
						t.Errorf("%s (folder of %s) holds private key %d of %s", path, host, i, owner)
					}
				}
			}
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
	}
	for owner, keys := range secrets {
		if len(own[owner]) != len(keys) {
			t.Fatalf("the scan found %d of the %d keys of %s in its own folder", len(own[owner]), len(keys), owner)
		}
	}
}

// holdsKey reports whether b holds key k raw, in hex or in base64 (of the
// key's first whole 3-byte groups: a key at the start of a longer encoded
// value, such as a CometBFT key file's seed and public key or a PEM file's
// first line, is found too).
func holdsKey(b, k []byte) bool {
	b64 := base64.StdEncoding.EncodeToString(k[:min(len(k)/3*3, 48)])
	for _, form := range [][]byte{k, []byte(hex.EncodeToString(k)), []byte(b64)} {
		if bytes.Contains(b, form) {
			return true
		}
	}
	return false
}
