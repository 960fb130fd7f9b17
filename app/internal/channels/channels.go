// Package channels lists the p2p channels the notary adds to CometBFT's, in
// one place, so that no two reactors take the same id and none takes one of
// CometBFT's (v0.38 uses 0x00 for peer exchange, 0x20 to 0x23 for
// consensus, 0x30 for the mempool, 0x38 for evidence, 0x40 for block sync
// and 0x60 and 0x61 for state sync).
//
// Each channel carries CometBFT's mempool Txs message (a list of byte
// strings), so that its messages are framed and bounded like the mempool's.
package channels

const (
	// Forward carries a transaction a node's gateway accepted, sent once to
	// every connected node (app/internal/forward).
	Forward = byte(0x70)
	// TxWant carries a request for the transactions with the given hashes,
	// which a block names and the node does not hold (app/internal/txsync).
	TxWant = byte(0x74)
	// Tx carries the answer to a TxWant: one transaction's bytes.
	Tx = byte(0x75)
)

// All is every channel the notary adds.
var All = []byte{Forward, TxWant, Tx}
