// Package layout names the parts of a node's home directory that tools
// other than the node use too: the identities that `notaryd dev` and
// `notaryd testnet` create for agencies and citizens, the trust bundle for
// verifiers and the consortium's TLS material.
//
// It imports nothing, so that clients (notaryctl, the verifier) can find
// these files without linking the node (package app and CometBFT's node,
// consensus and stores). Package app refers to these names under the same
// identifiers (app.IdentitiesDir, app.TrustFile, app.TLSDir).
package layout
