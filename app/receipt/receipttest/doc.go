// Package receipttest is a synthetic chain for receipt tests and benchmarks:
// the real notary application over real IAVL in a temporary directory,
// driven block by block, with real CometBFT headers, validator sets and
// commits signed by deterministic ed25519 keys, but no consensus and no
// network. It implements receipt.Source, so receipts come from the same
// builder as on a node, and it lets a test choose what a real network would
// never produce: a hundred validators, commits signed by too few of them,
// headers of another chain, validator sets no transition leads to.
//
// Everything is deterministic: the same calls give byte-identical receipts.
//
// StartNetwork runs real in-process nodes (one for a dev chain, four for a
// local consortium) for round trips and governance on a real network.
package receipttest
