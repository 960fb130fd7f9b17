package app_test

import (
	"os/exec"
	"strings"
	"testing"
)

// TestCometBFTBoundary: package app is the one place that builds CometBFT
// (node.go) and reaches its consensus package; no other package of the
// module, tests included, imports CometBFT's node or consensus packages.
func TestCometBFTBoundary(t *testing.T) {
	out, err := exec.Command("go", "list", "-f",
		`{{.ImportPath}} {{join .Imports " "}} {{join .TestImports " "}} {{join .XTestImports " "}}`,
		"github.com/gobtechlab/notary/...").Output()
	if err != nil {
		t.Fatalf("go list: %v", err)
	}
	for _, line := range strings.Split(strings.TrimSpace(string(out)), "\n") {
		fields := strings.Fields(line)
		if len(fields) == 0 || fields[0] == "github.com/gobtechlab/notary/app" {
			continue
		}
		for _, imp := range fields[1:] {
			for _, forbidden := range []string{"github.com/cometbft/cometbft/node", "github.com/cometbft/cometbft/consensus"} {
				if imp == forbidden || strings.HasPrefix(imp, forbidden+"/") {
					t.Errorf("%s imports %s (only package app may)", fields[0], imp)
				}
			}
		}
	}
}
