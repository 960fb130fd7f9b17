//go:build upgradetest

package upgrades

import (
	"github.com/gobtechlab/notary/ledger"
	notaryv1 "github.com/gobtechlab/notary/proto/notary/v1"
)

// TestUpgradeName is the upgrade the end-to-end upgrade test schedules
// (testnet/upgrade_test.go); its migration writes TestUpgradeKey.
const TestUpgradeName = "upgradetest.1"

// TestUpgradeKey is the state key the test upgrade adds, holding the
// upgrade's name.
const TestUpgradeKey = "upgradetest/marker"

func init() {
	Register(TestUpgradeName, func(st ledger.Store, p *notaryv1.UpgradePlan) error {
		return st.Set([]byte(TestUpgradeKey), []byte(p.Name))
	})
}
