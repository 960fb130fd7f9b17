//go:build e2e

package testnet

import "testing"

// TestGovernedUpgradeFour is TestGovernedUpgrade with four validators:
// every ministry votes, every node stops at the height and every node is
// restarted on the binary that knows the upgrade.
func TestGovernedUpgradeFour(t *testing.T) {
	runUpgrade(t, 4)
}
