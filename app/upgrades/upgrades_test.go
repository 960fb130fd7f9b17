package upgrades

import (
	"testing"

	"github.com/gobtechlab/notary/ledger"
	notaryv1 "github.com/gobtechlab/notary/proto/notary/v1"
)

func TestRegister(t *testing.T) {
	saved := registry
	t.Cleanup(func() { registry = saved })
	registry = map[string]ledger.UpgradeHandler{}

	Register("v0.3.0", nil)
	Register("v0.4.0", func(ledger.Store, *notaryv1.UpgradePlan) error { return nil })
	if got := Names(); len(got) != 2 || got[0] != "v0.3.0" || got[1] != "v0.4.0" {
		t.Fatalf("Names() = %v", got)
	}
	h := Handlers()
	if _, ok := h["v0.3.0"]; !ok || h["v0.4.0"] == nil {
		t.Fatalf("Handlers() = %v", h)
	}
	delete(h, "v0.3.0") // a copy: the registry keeps it
	if len(Handlers()) != 2 {
		t.Fatal("Handlers returned the registry itself")
	}
	for _, tc := range []struct{ name, why string }{
		{"v0.3.0", "twice"},
		{"V1", "bad name"},
		{"", "empty"},
	} {
		func() {
			defer func() {
				if recover() == nil {
					t.Errorf("Register(%q) (%s) did not panic", tc.name, tc.why)
				}
			}()
			Register(tc.name, nil)
		}()
	}
}
