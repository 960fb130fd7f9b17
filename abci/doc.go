// Package abci is the notary's ABCI++ application: it translates CometBFT's
// calls into calls of the ledger state machine and owns the lifecycle of the
// IAVL tree that holds the state. It has no business rules.
//
// # The translation
//
//   - InitChain writes the genesis state; Info reports the last committed
//     height and app hash.
//   - CheckTx decodes a transaction (through a cache of checked
//     decodings: the signature is verified once however often it is seen),
//     applies the state-independent checks and runs it against the committed
//     state plus the transactions already in the mempool (ledger.ModeCheck).
//     A large one is kept in the transaction store whatever the check says,
//     since a block may name it.
//   - PrepareProposal orders the mempool's valid transactions
//     (ledger.ProposalOrder) up to the block size and names each of
//     TxRefMinBytes or more by its hash (txref.go).
//   - ProcessProposal resolves the references (asking peers for bytes not
//     held, SetFetcher) and refuses a block whose transactions fail the
//     state-independent checks or do not arrive in time.
//   - FinalizeBlock executes the block (ledger.ModeDeliver) and returns the
//     results and the working hash; Commit persists it. At the height of a
//     scheduled upgrade (upgrade.go) it first runs the upgrade's migration
//     (Options.Upgrades), or, if the binary does not know the upgrade,
//     calls Options.UpgradeNeeded, which stops the node, before executing
//     anything.
//   - Query answers /store (with ICS23 proofs), /digest, and /tx (also
//     /batch) from committed state only (query.go).
//
// Ledger errors become ABCI results in one place (errors.go): a registered
// error keeps its code and message, anything else is CodeInternal, redacted.
//
// # Storage
//
// Options.Dir holds three stores:
//
//   - application.db, the IAVL state (goleveldb), whose root hash is the app
//     hash;
//   - digests/, the digest index (package abci/digestindex): for every
//     anchored digest its batch and leaf, outside the tree, rebuilt from the
//     block store when it falls behind the state;
//   - txs/, the transaction store (package abci/txstore): the bytes of the
//     transactions blocks name by hash. A directory of an earlier version,
//     batches/, is renamed txs/ at open.
//
// What a block means is the same whether a transaction is named by hash or
// carried inline: ResolveTxs gives a block's transactions with the stored
// bytes in place of the references, for the gateway, receipts and the
// index's rebuild.
//
// # Crash recovery
//
// The ABCI specification ("Crash Recovery") requires that the application
// never persists state of a height greater than the latest height CometBFT
// persisted, and that Info reports the last height for which Commit
// completed. Hence:
//
//   - PrepareProposal and ProcessProposal sync the transaction store before
//     they propose or accept a block that names transactions by hash, so a
//     block this node proposed or voted for can be executed after a crash.
//   - FinalizeBlock executes the block on the IAVL working tree, in block
//     order, and returns the working hash. It persists nothing.
//   - Commit syncs the transaction store (for a block fetched while
//     catching up) with what the block named (txstore.Named: a named
//     transaction is kept, one no block named is dropped after
//     Options.UnnamedTxRetention blocks), hands the block's digest-index
//     entries to the index, then saves the state version (IAVL SaveVersion with SyncOption on, and
//     a FlushThreshold above the largest version, so a version is one
//     atomic, synced batch), and only then returns. It panics if the saved
//     hash differs from the hash FinalizeBlock returned: that is a broken
//     invariant.
//   - Info reports the last saved version and its hash; CometBFT's handshake
//     replays whatever blocks the application lacks.
//   - At start, a last version that was written only in part (nodes without a
//     root) is rolled back, so that its block is replayed; the root of the
//     loaded version is read back and checked. The heights the digest index
//     lacks (its own crash rules let it lag the state) are indexed again from
//     the block store (Options.Blocks).
//
// The failpoints of abci/internal/failpoint (finalize-before,
// finalize-after, commit-before-index, commit-before-save,
// commit-after-save, commit-after) mark these boundaries; testnet's
// TestCrashSweep crashes a node at each.
//
// # Optimistic execution
//
// With Options.OptimisticExecution, a block ProcessProposal accepts starts
// executing on the working tree while the validators vote (optimistic.go).
// FinalizeBlock takes that result if the decided block is the same (height,
// header hash, time and transactions); otherwise it stops the execution
// between transactions, rolls the working tree back to the last saved
// version and executes the decided block. A later round's proposal discards
// an earlier one's execution the same way. It does not run on the chain's
// first block, whose working tree holds InitChain's unsaved writes. Nothing
// is persisted before Commit either way; digests a discarded execution
// added to the digest index's filter stay there as false positives, which
// cost a lookup and change no answer.
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
// staged are guarded by one mutex, the mempool's view by another, the
// optimistic execution by a third; committed views are immutable. The two
// storage engines are safe for concurrent use on their own terms (their
// package documentation).
package abci
