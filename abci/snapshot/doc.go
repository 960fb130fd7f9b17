// Package snapshot keeps a node's state snapshots for CometBFT's state sync:
// the files a node serves to peers that join (ABCI ListSnapshots,
// LoadSnapshotChunk) and the checks and decoding a joining node applies to
// the chunks it receives (OfferSnapshot, ApplySnapshotChunk). It knows the
// format, not the state: the abci package decides what the sections hold
// (docs/adr/0031-state-sync.md).
//
// # Format
//
// A snapshot is a stream of sections, each framed as
//
//	kind (1) | length (uvarint) | payload
//
// cut into chunks of a configured size (the last one shorter); a section
// may span chunks. The abci package writes, in this order: one header, the
// IAVL export's nodes (KindNode, EncodeNode), the batch transactions
// (KindTx), the evidence log's leaves (KindLeaf), and an end section
// (KindEnd), after which nothing follows.
//
// The metadata (Metadata.Encode) carries the format version, the height,
// the chunk size and the SHA-256 of each chunk; the snapshot's hash is the
// SHA-256 of the metadata. CometBFT takes the hash and the metadata from
// the peer that offers the snapshot; a joining node checks each chunk
// against the metadata before it decodes it (Decoder.Chunk), and the abci
// package checks what the chunks restore against the app hash CometBFT's
// light client verified. Nothing in a chunk is trusted before that.
//
// # Files
//
// Under the store's directory, one directory per snapshot, named by its
// height in decimal:
//
//	<height>/metadata      Metadata.Encode's bytes
//	<height>/<index>       chunk index (decimal, from 0)
//
// A snapshot is written to <height>.tmp, each file synced, then renamed to
// <height> and the directory synced: a snapshot directory is complete or
// absent. Open removes the *.tmp directories a crash left. Prune keeps the
// most recent snapshots and removes the others.
//
// # API
//
//	s, err := snapshot.Open(dir)
//	w, err := s.Create(height, chunkSize)  // w.Add(kind, payload)...; w.Close() or w.Abort()
//	s.List(); s.LoadChunk(height, index); s.Prune(keep)
//	d := snapshot.NewDecoder(meta)
//	sections, err := d.Chunk(index, data) // ErrChunkHash: refetch it from another peer
//
// # Tests
//
//   - TestWriteList: sections written across chunk boundaries read back
//     in order; List and Prune.
//   - TestDecoderRejects: a chunk whose bytes do not match its hash, out
//     of order, or after the end; metadata that does not decode.
//   - TestNodeEncoding: IAVL export nodes round-trip.
//   - In package abci: TestStateSync (take, list, load, restore into an
//     empty home; state root, lookups and tiles; a corrupted chunk refused
//     and fetched again; a stop while the restored stores move in),
//     TestStateSyncRejects (content that does not check, the data left
//     clean) and TestSnapshotWhileCommitting (snapshots taken while blocks
//     commit restore to their height; run with -race).
package snapshot
