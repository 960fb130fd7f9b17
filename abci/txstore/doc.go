// Package txstore keeps the bytes of the transactions that blocks name by
// hash. A block names each large transaction by its SHA-256 instead of
// carrying its bytes (abci.EncodeTxRef; docs/DESIGN.md, "Batch
// references"); every node keeps each such transaction it has received and
// whose signature checks, whether or not a block has named it yet, so that
// proposals and blocks can be executed, receipts built and peers served.
// Transactions no block ever names stay, as blocks stay in the block store.
//
// The store does not decode what it holds: it keeps bytes by the hash the
// caller computed (Put), and checks that hash again when it reads them back
// from disk.
//
// # API
//
//	s, err := txstore.Open(dir)
//	s.Put(h, raw)        // new? readable at once, durable after Sync
//	s.Sync()             // every Put so far durable and indexed
//	s.Get(h); s.Has(h)
//	s.Await(h)           // a channel closed when h is Put
//	s.Forget(hashes)     // drop from memory (a committed block's)
//	s.Close()
//
// # Files
//
// The transactions' bytes are appended to segment files, NNNNNNNN.seg
// (eight decimal digits, from 00000000; a new segment begins when the next
// record would take the current one past 1 GB), as records never
// rewritten; integers are big-endian:
//
//	record  length (4) | SHA-256 of the bytes (32) | the bytes
//
// A goleveldb database beside them, index/, maps each hash to its record:
//
//	<hash 32>  segment (4) | offset of the bytes (8) | length (4)
//	"end"      segment (4) | length (8): where the synced and indexed log ends
//
// # Crash rules
//
//   - Put writes the record to the current segment (not synced) and holds
//     its location in memory; Get finds it there until the next Sync.
//   - Sync syncs the segment, then writes the index entries of the records
//     it covered and the "end" key in one goleveldb batch, without waiting
//     for goleveldb's own sync. An index entry is therefore never written
//     for bytes that are not on disk. When a segment fills, it is synced
//     before the next begins.
//   - Open reads the records after "end" again (in its segment and the
//     segments after it) and indexes them, up to the first that is
//     incomplete or whose bytes do not hash to its header's hash (a write a
//     crash cut), where the last segment is truncated; then it syncs. Every
//     record on disk is indexed once the store is open, whatever part of
//     goleveldb's last writes a crash lost.
//   - A record damaged on disk later (its bytes no longer hash to its hash)
//     is refused when read, with an error naming the segment; it is never
//     returned.
//   - The application syncs the store before it proposes or accepts a block
//     that names transactions by hash, and before Commit saves the state.
//
// # Memory
//
// Recent transactions' bytes are also held in memory (up to 256 MB, the
// oldest leaving first), so that a block is executed without reading them
// back. Forget drops a committed block's from memory; they stay on disk.
//
// # Concurrency
//
// A Store is safe for concurrent use: one mutex guards the segments, the
// records not yet indexed, the memory and the waiters, and Sync calls are
// serialised by a second one, so that Put goes on while a Sync waits for
// the disk.
//
// # Tests
//
//   - TestStoreRecover: what a reopened store holds after a clean close, a
//     crash before Sync, a record cut by the crash, and a record damaged on
//     disk (before and after it was indexed); the store goes on after each.
//   - TestStoreSegments: a store that fills a segment goes on in the next,
//     and reads both after a reopen.
//   - TestStoreAwait: Await, Has, Put of bytes already held, Forget.
//   - In package abci: TestTxRefsLifecycle (blocks that name transactions
//     by hash, fetched from a peer, kept across a restart), TestQueryTx,
//     TestTxStoreDirRenamed (the directory's former name, batches/, is
//     renamed txs/ at open).
package txstore
