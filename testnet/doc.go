// Package testnet holds the tests that run real notaryd processes on
// 127.0.0.1: the kill/restart test in the default suite, and the
// multi-validator end-to-end suite behind the e2e build tag (scripts/e2e.sh).
package testnet
