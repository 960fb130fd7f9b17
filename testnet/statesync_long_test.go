//go:build e2e

package testnet

import (
	"testing"
	"time"
)

// TestStateSyncJoinLong is the state sync acceptance run
// (E2E_RUN=TestStateSyncJoinLong scripts/e2e.sh): TestStateSyncJoin's run
// with four validators that anchor at least 5,000,000 digests through their
// gateways in batches of 10,000 before the snapshot, chunks of the default
// size, and 1,000 random digests whose lookups and v2 receipts on the
// joined node must equal a validator's. It logs the snapshot's size (bytes
// and chunks) and the join time (from the joining node's start to the tip).
func TestStateSyncJoinLong(t *testing.T) {
	runStateSync(t, stateSyncPlan{
		interval: 100, chunkBytes: 0,
		batch: 10_000, digests: 5_000_000,
		snapshotWait: 10 * time.Minute, joinWait: 30 * time.Minute,
		lookups: 1000, receipts: 1000,
	})
}
