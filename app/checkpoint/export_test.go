package checkpoint

import "github.com/gobtechlab/notary/app"

// BundleLogOf exposes bundleLog to the tests.
func BundleLogOf(chainID string, get func(key []byte) ([]byte, error), note []byte) (*app.BundleLog, error) {
	return bundleLog(chainID, get, note)
}
