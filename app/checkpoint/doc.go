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
// carry more than 2/3 of its validators' power. Witnesses is the node
// service that submits that latest checkpoint to the witnesses of app.toml
// [log] witnesses (C2SP tlog-witness, with a consistency proof from the
// log's tiles), verifies their cosignatures and serves the notes with them
// appended (docs/operations.md "Witnesses").
package checkpoint
