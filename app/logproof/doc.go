// Package logproof reads the evidence log (docs/adr/0027-evidence-log.md)
// from its C2SP tlog-tiles and builds what a v2 receipt carries: the index
// and bytes of a batch's leaf, its RFC 6962 inclusion proof in the log of a
// checkpoint's size, and the consistency of a newer checkpoint with an
// older one.
//
// It reads tiles through Tiles: StoreTiles over a node's own tile store
// (abci/tlogtiles), HTTPTiles over a public endpoint (/log/tile/...). The
// hashes are read with tlog.TileHashReader, which checks every hash tile
// against the checkpoint's root: a server cannot make a proof out of
// forged hashes. Entry bundles are not authenticated by the tiles; a leaf
// found in one is returned only with an inclusion proof that checks
// against the root.
//
// The log does not record where a batch's leaf is. Leaves are in block
// order, and each leaf names its block (a batch record's key holds its
// height and transaction index, a revocation record its height), so
// FindBatch searches the entry bundles by height (a binary search over
// bundles, then a scan of the block's leaves): the same search serves a
// node and a client reading the tiles over HTTP.
//
// The package links neither the node nor its stores, so that the verifier
// and notaryctl can use it.
package logproof
