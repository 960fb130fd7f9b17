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
//	tree                       the size, root and height the tiles hold
//	staged                     a block's leaves, written before the state
//	                           that holds them is saved (see below)
//
// N is written in groups of three decimal digits, every group but the last
// prefixed by "x" (1234067 is x001/x234/067). A full tile never changes; a
// partial tile's files are removed once its full tile is written (C2SP
// lets clients fall back to the full tile).
//
// # Crash rules
//
// Every file is written to a temporary name, synced and renamed, and its
// directory synced. Commit stages a block's leaves (staged) before it saves
// the state version, and integrates them (tiles, entry bundles, then tree)
// after: a crash leaves either the tiles of the state before the block and
// the staged leaves, or the tiles after it. Open reads tree and checks that
// the tiles hash to its root; Integrate completes a staged block; files
// written past tree by an integration that did not finish are rewritten
// with the same bytes.
//
// The hashing is golang.org/x/mod/sumdb/tlog's (RecordHash, NodeHash,
// TreeHash over the tiles with HashFromTile): the hash tiles of height 8
// are the Go checksum database's, only their paths differ.
package tlogtiles
