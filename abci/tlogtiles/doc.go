// Package tlogtiles keeps a node's copy of the evidence log (ledger
// package, evlog.go) as C2SP tlog-tiles (https://c2sp.org/tlog-tiles), the
// static files that any web server can serve and from which a client builds
// inclusion and consistency proofs with golang.org/x/mod/sumdb/tlog.
//
// It is node-local and outside consensus: the state keeps only the log's
// size and compact range, and this store keeps every leaf and hash. The
// abci package appends each block's leaves at Commit and checks that the
// store always matches the state (size and root).
//
// # Files
//
// Under the store's directory:
//
//	tile/<L>/<N>[.p/<W>]       hash tiles of height 8: the W (full: 256)
//	                           hashes of tree level 8L, 32 bytes each
//	tile/entries/<N>[.p/<W>]   entry bundles: leaves 256N.., each as a
//	                           2-byte big-endian length and its bytes
//	tree                       the size and root the tiles hold, and the
//	                           block that appended the last leaf
//	staged                     the journal of staged blocks (Stage)
//
// N is written in groups of three decimal digits, every group but the last
// prefixed by "x" (1234067 is x001/x234/067). A full tile never changes; a
// partial tile's files are removed once its full tile is written (C2SP
// lets clients fall back to the full tile).
//
// # Crash rules
//
// Stage appends a block's leaves to the journal and syncs it: the abci
// package does so before it saves the state version that counts them.
// Integrate(upTo) writes the tiles and entry bundles of the staged blocks
// that the saved state holds (each file to a temporary name, synced,
// renamed, its directory synced), checks that the tiles hash to the block's
// root (tlog.TreeHash over the tiles), records the new tree (synced), and
// keeps in the journal only the blocks beyond upTo. A crash thus leaves the
// tiles of a tree and, in the journal, the leaves of every saved block
// after it; files written past the tree by an integration that did not
// finish are rewritten with the same bytes. Open checks that the tiles
// hash to the tree file's root.
//
// Integrate holds the journal's lock only to read the journal and, after
// the tiles are written, to trim it: Stage (on Commit's path) does not wait
// for the tiles. The trim keeps the records staged meanwhile, as they are.
//
// Tiles that do not hash to a staged block's root are a broken invariant
// (a fault of the disk or of the code), not a failure to retry: the store
// records the error (Err), and from then on Stage and Integrate return it
// (ErrRootMismatch). The abci package's Commit thus fails and the node
// stops, with the journal as it was; at the next start the same
// integration fails again, with the advice to remove the tiles directory,
// which the node then rebuilds from the block store. An I/O error is
// returned and the integration retried with the next block.
//
// A partial tile's file is removed once its full tile is written; Read
// serves a partial tile whose file is gone (a tree that a Reset took back
// inside a full tile) from the first items of the full tile.
//
// The hashing is golang.org/x/mod/sumdb/tlog's (RecordHash, NodeHash,
// TreeHash over the tiles with HashFromTile): the hash tiles of height 8
// are the Go checksum database's, only their paths differ.
package tlogtiles
