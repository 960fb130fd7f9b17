// Package abci is the notary's ABCI++ application: it translates CometBFT's
// calls into calls of the ledger state machine and owns the lifecycle of the
// IAVL tree that holds the state. It has no business rules.
//
// # Crash recovery
//
// The ABCI specification ("Crash Recovery") requires that the application
// never persists state of a height greater than the latest height CometBFT
// persisted, and that Info reports the last height for which Commit
// completed. Hence:
//
//   - FinalizeBlock executes the block on the IAVL working tree, in block
//     order, and returns the working hash. It persists nothing.
//   - Commit writes the block's digest-index entries, then saves the state
//     version (IAVL SaveVersion with SyncOption on, and a FlushThreshold above
//     the largest version, so a version is one atomic, synced batch), and only
//     then returns. It panics if the saved hash differs from the hash
//     FinalizeBlock returned: that is a broken invariant.
//   - Info reports the last saved version and its hash; CometBFT's handshake
//     replays whatever blocks the application lacks.
//   - At start, a last version that was written only in part (nodes without a
//     root) is rolled back, so that its block is replayed.
//
// # Reads and proofs
//
// Queries and the gateway read committed versions only (StateView, from
// IAVL's immutable trees), never the working tree; proofs are ICS23
// CommitmentProofs that verify with ics23.IavlSpec against the app hash in
// the header of the next height.
//
// # Concurrency
//
// CometBFT's consensus, mempool and query connections may call concurrently;
// each serialises its own calls. The working tree and what FinalizeBlock
// staged are guarded by one mutex, the mempool's view by another; committed
// views are immutable.
package abci
