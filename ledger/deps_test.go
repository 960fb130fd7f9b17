package ledger_test

import (
	"os/exec"
	"strings"
	"testing"
)

// TestDependencies keeps the state machine pure: no CometBFT, gRPC, IAVL,
// goleveldb, networking, process execution or randomness in its imports.
func TestDependencies(t *testing.T) {
	out, err := exec.Command("go", "list", "-deps", "github.com/gobtechlab/notary/ledger").Output()
	if err != nil {
		t.Fatalf("go list: %v", err)
	}
	forbidden := []string{"github.com/cometbft/", "google.golang.org/grpc", "github.com/cosmos/iavl",
		"github.com/syndtr/goleveldb", "net", "net/http", "os/exec", "math/rand", "math/rand/v2"}
	for _, dep := range strings.Fields(string(out)) {
		for _, f := range forbidden {
			if dep == f || (strings.HasSuffix(f, "/") && strings.HasPrefix(dep, f)) || strings.HasPrefix(dep, f+"/") && f != "net" {
				t.Errorf("ledger depends on %s", dep)
			}
		}
	}
}
