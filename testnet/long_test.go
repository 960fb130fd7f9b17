//go:build e2e

package testnet

import (
	"testing"
	"time"
)

// TestConsortiumLong is the long end-to-end run (scripts/e2e.sh): four
// validators under load from four agencies through 20 SIGKILL restarts, a
// SIGTERM restart of each, a 10 s SIGSTOP, one and then two validators down;
// then a 5th validator voted in by governance (it must sign) and a genesis
// validator voted out, all under load; then a full node that joins at height
// 100 or later, catches up by block sync and serves identical proofs.
func TestConsortiumLong(t *testing.T) {
	runConsortium(t, plan{
		seed:       2026,
		agencies:   4,
		batch:      48, // 1.7 kB transactions: blocks name them by reference
		kills:      20,
		termEach:   true,
		pause:      10 * time.Second,
		oneDown:    true,
		twoDown:    true,
		governance: true,
		lateJoin:   100,
		haltWatch:  8 * time.Second,
	})
}
