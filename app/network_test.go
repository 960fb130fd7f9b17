package app

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"testing"

	"google.golang.org/protobuf/encoding/protojson"

	"github.com/gobtechlab/notary/app/identity"
	"github.com/gobtechlab/notary/cmd/verifier/verify"
	notaryv1 "github.com/gobtechlab/notary/proto/notary/v1"
)

// TestNetworkIdentitiesKnowTheirNode: every identity GenerateNetwork
// writes names a gateway to use by default: agencies and citizens the
// first node's, each ministry's governance identity its own node's (full
// nodes included), so that a tool given any of them finds a node at once.
func TestNetworkIdentitiesKnowTheirNode(t *testing.T) {
	dir := t.TempDir()
	node := func(name string, port int) NodeSpec {
		return NodeSpec{Home: filepath.Join(dir, name), Host: "127.0.0.1", P2PPort: port, RPCPort: port + 1, GatewayPort: port + 2, MetricsPort: port + 3}
	}
	spec := NetworkSpec{
		ChainID:    "identities-test",
		Ministries: []MinistrySpec{{ID: "hacienda", Name: "Hacienda", Power: 10}, {ID: "interior", Name: "Interior", Power: 10}},
		Nodes:      []NodeSpec{node("hacienda", 30000), node("interior", 30010)},
		FullNodes:  []FullNodeSpec{{Ministry: MinistrySpec{ID: "sanidad", Name: "Sanidad"}, Node: node("sanidad", 30020)}},
		Agencies:   []AgencySpec{{ID: "registro", Name: "Registro"}},
		Citizens:   []string{"ana"},
	}
	net, err := GenerateNetwork(spec)
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]string{}
	for _, dir := range net.Agencies {
		want[dir] = "127.0.0.1:30002"
	}
	for _, dir := range net.Citizens {
		want[dir] = "127.0.0.1:30002"
	}
	gateways := map[string]int{"hacienda": 30002, "interior": 30012, "sanidad": 30022}
	if len(net.Ministries) != len(gateways) {
		t.Fatalf("ministry identities %v", net.Ministries)
	}
	for id, dir := range net.Ministries {
		want[dir] = fmt.Sprintf("127.0.0.1:%d", gateways[id])
	}
	for dir, node := range want {
		id, err := identity.Load(dir)
		if err != nil {
			t.Fatal(err)
		}
		if id.Node != node {
			t.Errorf("%s (%s %s): node %q, want %q", dir, id.Role, id.ID, id.Node, node)
		}
	}
}

// TestNetworkPublicEndpoints: nodes on a loopback address serve the public
// endpoint there and the trust bundle lists them; a node on another address
// serves it on 127.0.0.1 only (for a reverse proxy) and is not listed; a
// node without a public port has it off.
func TestNetworkPublicEndpoints(t *testing.T) {
	dir := t.TempDir()
	spec := NetworkSpec{
		ChainID:    "public-test",
		Ministries: []MinistrySpec{{ID: "hacienda", Name: "Hacienda", Power: 10}, {ID: "interior", Name: "Interior", Power: 10}, {ID: "justicia", Name: "Justicia", Power: 10}},
		Nodes: []NodeSpec{
			{Home: filepath.Join(dir, "hacienda"), Host: "127.0.0.1", P2PPort: 30000, RPCPort: 30001, GatewayPort: 30002, MetricsPort: 30003, PublicPort: 30004},
			{Home: filepath.Join(dir, "interior"), Host: "192.0.2.7", P2PPort: 30000, RPCPort: 30001, GatewayPort: 30002, MetricsPort: 30003, PublicPort: 30004, ListenAll: true},
			{Home: filepath.Join(dir, "justicia"), Host: "127.0.0.1", P2PPort: 30010, RPCPort: 30011, GatewayPort: 30012, MetricsPort: 30013},
		},
	}
	net, err := GenerateNetwork(spec)
	if err != nil {
		t.Fatal(err)
	}
	for i, want := range []string{"127.0.0.1:30004", "127.0.0.1:30004", ""} {
		c, err := LoadConfig(net.Homes[i])
		if err != nil {
			t.Fatal(err)
		}
		if c.App.Public.Listen != want {
			t.Errorf("%s: public.listen %q, want %q", net.Homes[i], c.App.Public.Listen, want)
		}
	}
	b, err := os.ReadFile(net.TrustFiles[0])
	if err != nil {
		t.Fatal(err)
	}
	tb, err := verify.DecodeTrustBundle(b)
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(tb.PublicEndpoints, []string{"http://127.0.0.1:30004"}) {
		t.Fatalf("public endpoints %q", tb.PublicEndpoints)
	}
	for _, p := range net.TrustFiles[1:] {
		if other, err := os.ReadFile(p); err != nil || !bytes.Equal(other, b) {
			t.Fatalf("%s differs from %s (%v)", p, net.TrustFiles[0], err)
		}
	}
}

// TestExportTrustBundleReproducible: exporting the trust bundle of a chain
// twice gives the same bytes, the ones GenerateNetwork wrote; endpoints
// given replace the home's, and are checked.
func TestExportTrustBundleReproducible(t *testing.T) {
	dir := t.TempDir()
	home := filepath.Join(dir, "node")
	net, err := GenerateNetwork(NetworkSpec{
		ChainID:    "export-test",
		Ministries: []MinistrySpec{{ID: "hacienda", Name: "Ministerio de Hacienda", Power: 10}},
		Nodes:      []NodeSpec{{Home: home, Host: "127.0.0.1", P2PPort: 30000, RPCPort: 30001, GatewayPort: 30002, MetricsPort: 30003, PublicPort: 30004}},
	})
	if err != nil {
		t.Fatal(err)
	}
	written, err := os.ReadFile(net.TrustFiles[0])
	if err != nil {
		t.Fatal(err)
	}
	var exports [][]byte
	for i := range 2 {
		p := filepath.Join(dir, fmt.Sprintf("trust-%d.json", i))
		if _, err := ExportTrustBundle(home, p, TrustExport{}); err != nil {
			t.Fatal(err)
		}
		b, err := os.ReadFile(p)
		if err != nil {
			t.Fatal(err)
		}
		exports = append(exports, b)
	}
	if !bytes.Equal(exports[0], exports[1]) || !bytes.Equal(exports[0], written) {
		t.Fatalf("exports differ:\n%s\n%s\n%s", exports[0], exports[1], written)
	}
	p := filepath.Join(dir, "sede.json")
	tb, err := ExportTrustBundle(home, p, TrustExport{PublicEndpoints: []string{"https://sede.example.gob.es/", "https://nodo2.example.gob.es:8443", "https://sede.example.gob.es"}})
	if err != nil {
		t.Fatal(err)
	}
	if want := []string{"https://sede.example.gob.es", "https://nodo2.example.gob.es:8443"}; !reflect.DeepEqual(tb.PublicEndpoints, want) {
		t.Fatalf("endpoints %q, want %q", tb.PublicEndpoints, want)
	}
	// A home bundle written by an earlier release (indented protojson):
	// its endpoints are kept.
	tb.PublicEndpoints = []string{"https://old.example.gob.es"}
	indented, err := protojson.MarshalOptions{UseProtoNames: true, Multiline: true, Indent: "  "}.Marshal(tb)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(home, TrustFile), indented, 0o644); err != nil {
		t.Fatal(err)
	}
	if tb, err := ExportTrustBundle(home, p, TrustExport{}); err != nil || !reflect.DeepEqual(tb.PublicEndpoints, []string{"https://old.example.gob.es"}) {
		t.Fatalf("export over an earlier release's bundle: %v %v", tb.GetPublicEndpoints(), err)
	}
	// A witness policy without a checkpoint, or a bundle a verifier would
	// refuse, is not written.
	for _, tc := range []struct {
		name string
		log  *BundleLog
		err  error
	}{
		{"policy without a checkpoint", &BundleLog{Witnesses: []*notaryv1.Witness{{Name: "Tribunal", Key: "w.example/1+01020304+AQ=="}}, WitnessThreshold: 1, Missing: "no valid checkpoint yet"}, ErrNoWitnessedCheckpoint},
		{"threshold over the witnesses", &BundleLog{WitnessThreshold: 2, Checkpoint: []byte("x\n1\nAA==\n\n— x/a AAAA\n")}, nil},
	} {
		q := filepath.Join(dir, "refused.json")
		_, err := ExportTrustBundle(home, q, TrustExport{Log: tc.log})
		if err == nil || tc.err != nil && !errors.Is(err, tc.err) {
			t.Errorf("%s: %v", tc.name, err)
		}
		if _, serr := os.Stat(q); serr == nil {
			t.Errorf("%s: written", tc.name)
		}
	}
	for _, bad := range []string{"http://sede.example.gob.es", "ftp://x", "https://user@x", "https://x?a=1", "HTTPS://X"} {
		if _, err := ExportTrustBundle(home, p, TrustExport{PublicEndpoints: []string{bad}}); err == nil {
			t.Errorf("%q: no error", bad)
		}
		if _, err := ExportTrustBundle(home, p, TrustExport{VerifierURL: &bad}); err == nil {
			t.Errorf("verifier URL %q: no error", bad)
		}
	}
}

// TestTrustBundleVerifierURL: the network's spec and an export set the
// trust bundle's verifier URL (without a final slash); an export without
// one keeps the home's; "" removes it.
func TestTrustBundleVerifierURL(t *testing.T) {
	dir := t.TempDir()
	home := filepath.Join(dir, "node")
	net, err := GenerateNetwork(NetworkSpec{
		ChainID:     "verifier-url-test",
		Ministries:  []MinistrySpec{{ID: "hacienda", Name: "Ministerio de Hacienda", Power: 10}},
		Nodes:       []NodeSpec{{Home: home, Host: "127.0.0.1", P2PPort: 30000, RPCPort: 30001, GatewayPort: 30002, MetricsPort: 30003, PublicPort: 30004}},
		VerifierURL: "https://sede.example.gob.es/verificar/",
	})
	if err != nil {
		t.Fatal(err)
	}
	read := func(p string) *notaryv1.TrustBundle {
		t.Helper()
		b, err := os.ReadFile(p)
		if err != nil {
			t.Fatal(err)
		}
		tb, err := verify.DecodeTrustBundle(b)
		if err != nil {
			t.Fatal(err)
		}
		return tb
	}
	if tb := read(net.TrustFiles[0]); tb.VerifierUrl != "https://sede.example.gob.es/verificar" {
		t.Fatalf("generated: %q", tb.VerifierUrl)
	}
	p := filepath.Join(dir, "export.json")
	if _, err := ExportTrustBundle(home, p, TrustExport{}); err != nil || read(p).VerifierUrl != "https://sede.example.gob.es/verificar" {
		t.Fatalf("export keeping the home's: %v %q", err, read(p).VerifierUrl)
	}
	other := "http://127.0.0.1:30004"
	if _, err := ExportTrustBundle(home, p, TrustExport{VerifierURL: &other}); err != nil || read(p).VerifierUrl != other {
		t.Fatalf("export with another: %v", err)
	}
	none := ""
	if _, err := ExportTrustBundle(home, p, TrustExport{VerifierURL: &none}); err != nil || read(p).VerifierUrl != "" {
		t.Fatalf("export without: %v", err)
	}
	if _, err := GenerateNetwork(NetworkSpec{
		ChainID:     "verifier-url-bad",
		Ministries:  []MinistrySpec{{ID: "hacienda", Name: "Ministerio de Hacienda", Power: 10}},
		Nodes:       []NodeSpec{{Home: filepath.Join(dir, "bad"), Host: "127.0.0.1", P2PPort: 30010, RPCPort: 30011, GatewayPort: 30012, MetricsPort: 30013}},
		VerifierURL: "http://sede.example.gob.es",
	}); err == nil {
		t.Fatal("an http verifier URL on a public host accepted")
	}
}
