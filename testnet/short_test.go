package testnet

import (
	"testing"
	"time"
)

// TestConsortiumShort is the short end-to-end run of the default test
// command: four validators as separate notaryd processes on 127.0.0.1 under
// a steady anchoring load from three agencies, through a few SIGKILL
// restarts, a SIGTERM restart of each validator, one validator frozen for
// 10 s, one validator down and then two (halt, no fork, resume). The long
// run (TestConsortiumLong, build tag e2e, scripts/e2e.sh) adds governance,
// a late joiner and many more kills.
func TestConsortiumShort(t *testing.T) {
	if testing.Short() {
		t.Skip("runs four validator processes (about a minute and a half)")
	}
	runConsortium(t, plan{
		seed:      1,
		agencies:  3,
		batch:     48, // 1.7 kB transactions: blocks name them by reference
		kills:     3,
		termEach:  true,
		pause:     10 * time.Second,
		oneDown:   true,
		twoDown:   true,
		haltWatch: 4 * time.Second,
	})
}
