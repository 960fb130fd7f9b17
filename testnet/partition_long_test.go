//go:build e2e

package testnet

import (
	"testing"
	"time"

	"github.com/gobtechlab/notary/testnet/netlab"
)

// TestPartitionsLong is the long partition run (scripts/e2e.sh with
// E2E_RUN=TestPartitionsLong): four validators on hosts of their own, 25 ms
// ± 5 ms one way on every link, under load from four agencies: one
// validator isolated for 20 s, a 2 | 2 split watched for 10 s and healed, a
// minute of a flapping link between the halves, a validator nobody hears,
// a one-way cut between two validators, a slow validator (300 ms one way).
func TestPartitionsLong(t *testing.T) {
	runPartitions(t, partitionPlan{
		agencies:    4,
		batch:       48,
		delay:       netlab.Delay{Latency: 25 * time.Millisecond, Jitter: 5 * time.Millisecond},
		isolate:     20 * time.Second,
		isolateRuns: 10,
		splitWatch:  10 * time.Second,
		flap:        time.Minute,
		muteBlocks:  10,
		pairCut:     10,
		slowBlocks:  15,
		receipts:    300,
	})
}
