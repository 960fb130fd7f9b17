package app

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"

	cmtlog "github.com/cometbft/cometbft/libs/log"

	notaryv1 "github.com/gobtechlab/notary/proto/notary/v1"
)

// ExitUpgradeNeeded is the exit status of a node stopped at the height of a
// scheduled upgrade its binary does not know. A supervisor must not simply
// restart the same binary (it stops again at the same height): it installs
// the binary of the upgrade and starts that (docs/operations.md,
// "Upgrades").
const ExitUpgradeNeeded = 8

// UpgradeInfoFile is the file, in the node's data directory, where a node
// stopped for an upgrade writes the plan it waits for, as JSON
// {"name", "height", "info"}: what a supervisor reads to pick the binary.
const UpgradeInfoFile = "upgrade-info.json"

// upgradeInfo is UpgradeInfoFile's content.
type upgradeInfo struct {
	Name   string `json:"name"`
	Height int64  `json:"height"`
	Info   string `json:"info,omitempty"`
}

// stopForUpgrade is the application's UpgradeNeeded: it records the plan in
// dataDir/UpgradeInfoFile, says which upgrade the node waits for, and ends
// the process with ExitUpgradeNeeded. Nothing of the block at the plan's
// height is committed: the next binary executes it.
func stopForUpgrade(dataDir string, logger cmtlog.Logger) func(*notaryv1.UpgradePlan) {
	return func(p *notaryv1.UpgradePlan) {
		path := filepath.Join(dataDir, UpgradeInfoFile)
		b, _ := json.Marshal(upgradeInfo{Name: p.Name, Height: p.Height, Info: p.Info})
		if err := os.WriteFile(path, append(b, '\n'), 0o600); err != nil {
			logger.Error("cannot record the upgrade plan", "file", path, "err", err)
		}
		msg := fmt.Sprintf("UPGRADE %q NEEDED at height %d: the node stopped before executing the block; install the binary that knows %q and start it (exit status %d)",
			p.Name, p.Height, p.Name, ExitUpgradeNeeded)
		if p.Info != "" {
			msg += "; info: " + p.Info
		}
		logger.Error(msg, "upgrade", p.Name, "height", p.Height, "info", p.Info, "file", path)
		fmt.Fprintln(os.Stderr, msg)
		os.Exit(ExitUpgradeNeeded)
	}
}
