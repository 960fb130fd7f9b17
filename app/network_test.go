package app

import (
	"fmt"
	"path/filepath"
	"testing"

	"github.com/gobtechlab/notary/app/identity"
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
