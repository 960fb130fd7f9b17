package upgrades

import (
	"fmt"
	"sort"

	"github.com/gobtechlab/notary/ledger"
)

var registry = map[string]ledger.UpgradeHandler{}

// Register makes upgrade name known to this binary, with its state
// migration (nil: none). It is called from init functions; a bad or
// duplicate name is a programming error and panics.
func Register(name string, h ledger.UpgradeHandler) {
	if !ledger.ValidUpgradeName(name) {
		panic(fmt.Sprintf("upgrades: invalid upgrade name %q", name))
	}
	if _, dup := registry[name]; dup {
		panic(fmt.Sprintf("upgrades: upgrade %q registered twice", name))
	}
	registry[name] = h
}

// Handlers returns the registered upgrades, for abci.Options.Upgrades.
func Handlers() map[string]ledger.UpgradeHandler {
	out := make(map[string]ledger.UpgradeHandler, len(registry))
	for name, h := range registry {
		out[name] = h
	}
	return out
}

// Names returns the names of the registered upgrades, sorted.
func Names() []string {
	out := make([]string, 0, len(registry))
	for name := range registry {
		out = append(out, name)
	}
	sort.Strings(out)
	return out
}
