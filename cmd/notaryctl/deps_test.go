package main

import (
	"os/exec"
	"strings"
	"testing"
)

// TestDependencies keeps notaryctl a client: it links neither the node
// (package app, CometBFT's node and consensus) nor the node's stores (IAVL,
// goleveldb).
func TestDependencies(t *testing.T) {
	const pkg = "github.com/gobtechlab/notary/cmd/notaryctl"
	forbidden := []string{
		"github.com/cometbft/cometbft/node",
		"github.com/cometbft/cometbft/consensus",
		"github.com/cosmos/iavl",
		"github.com/syndtr/goleveldb",
	}
	out, err := exec.Command("go", "list", "-deps", pkg).Output()
	if err != nil {
		t.Fatalf("go list: %v", err)
	}
	for _, dep := range strings.Fields(string(out)) {
		if dep == "github.com/gobtechlab/notary/app" {
			t.Errorf("%s depends on %s", pkg, dep)
		}
		for _, f := range forbidden {
			if dep == f || strings.HasPrefix(dep, f+"/") {
				t.Errorf("%s depends on %s", pkg, dep)
			}
		}
	}
}
