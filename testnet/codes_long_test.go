//go:build e2e

package testnet

// The long suite anchors 1,000 documents under codes before the privacy
// scan of TestVerificationCodes.
func init() { privacyDocs = 1000 }
