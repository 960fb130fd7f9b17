// Package harness runs real notaryd processes for tests: it builds the
// binary once, generates networks with `notaryd testnet`, starts, kills
// (SIGKILL), stops (SIGTERM), freezes (SIGSTOP/SIGCONT) and restarts nodes,
// waits on their CometBFT RPC, drives an anchoring load from several
// agencies, compares nodes (blocks, app hashes, proofs), scans their logs
// and keeps them when a test fails, and replays a node's blocks through a
// fresh application to check its app hashes independently.
//
// With NetOptions.Lab every node runs on a host of its own
// (testnet/netlab): a network namespace with its own address where the
// test may make one, every p2p link through a proxy of Net.Lab that delays
// or cuts it.
package harness
