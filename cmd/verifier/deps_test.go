package main

import (
	"os/exec"
	"strings"
	"testing"
)

// TestDependencies keeps the verifier a client, and its verify package a
// library that an independent verifier can embed: neither links the node
// (package app, CometBFT's node and consensus) nor the node's stores (IAVL,
// goleveldb).
func TestDependencies(t *testing.T) {
	forbidden := []string{
		"github.com/cometbft/cometbft/node",
		"github.com/cometbft/cometbft/consensus",
		"github.com/cosmos/iavl",
		"github.com/syndtr/goleveldb",
	}
	for _, pkg := range []string{
		"github.com/gobtechlab/notary/cmd/verifier",
		"github.com/gobtechlab/notary/cmd/verifier/verify",
	} {
		t.Run(pkg, func(t *testing.T) {
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
		})
	}
}
