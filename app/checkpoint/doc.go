// Package checkpoint signs, gathers and serves the evidence log's
// checkpoints (docs/adr/0029-checkpoints.md, docs/receipt.md
// "Checkpoints").
//
// The ledger records checkpoint points (ledger.LoadCheckpoint) and the
// validators' signatures of them (ledger.LoadCheckpointSignatures). Signer
// is the node service that, on a validator whose consensus key is local,
// signs each new checkpoint point as a C2SP signed note and sends the
// signature to the chain through the node's own mempool. Notes builds the
// signed notes the public endpoint serves: a checkpoint with every
// signature gathered so far, and the latest checkpoint whose signatures
// carry more than 2/3 of its validators' power.
package checkpoint
