// Package txstore keeps the bytes of the transactions that blocks name by
// hash. A block names each large transaction by its SHA-256 instead of
// carrying its bytes (abci.EncodeTxRef; docs/DESIGN.md, "Batch
// references"); every node keeps each such transaction it has received and
// whose signature checks, whether or not a block has named it yet, so that
// proposals and blocks can be executed, receipts built and peers served.
// A transaction a block named is kept for ever; one no block named is
// dropped after a retention counted in blocks (Options.Retention; see
// Retention below).
//
// The store does not decode what it holds: it keeps bytes by the hash the
// caller computed (Put), and checks that hash again when it reads them back
// from disk.
//
// # API
//
//	s, err := txstore.Open(dir, txstore.Options{Retention: blocks})
//	s.Put(h, raw)           // new? readable at once, durable after Sync
//	s.Sync()                // every Put so far durable and indexed
//	s.Named(height, hashes) // Sync, and the block at height named these (durable)
//	s.Get(h); s.Has(h)
//	s.Await(h)              // a channel closed when h is Put
//	s.Forget(hashes)        // drop from memory (a committed block's)
//	s.Bytes(); s.Dropped()  // segment files' size; records dropped
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
// A goleveldb database beside them, index/, maps each hash to its record,
// and says which records no block named:
//
//	<hash 32>              segment (4) | offset of the bytes (8) | length (4) |
//	                       height at which it was indexed (8) | named (1)
//	"end"                  segment (4) | length (8): where the synced and indexed log ends
//	"height"               the last height Named recorded (8)
//	'u' height (8) <hash>  a record no block named, by the height it was indexed at
//	'd' segment (4)        bytes of that segment's records no entry points to (8)
//
// An entry of 16 bytes (the location only, from a store written before
// names were recorded) counts as named: it is kept. Segments are removed
// by compaction (below), so their numbers have gaps; a new segment always
// takes the number after the last.
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
//     that names transactions by hash, and calls Named before Commit saves
//     the state. Named writes the block's names (each named entry, its 'u'
//     key deleted) and the height in the batch of its Sync, synced when it
//     names anything: a block whose state is saved has its names on disk.
//     A crash before that replays the block, which names them again.
//   - A drop deletes entries, their 'u' keys, and adds to the segments' dead
//     bytes, in one synced batch (a compaction trusts those dead bytes, and
//     goleveldb does not sync an earlier journal when a later write syncs);
//     a drop a crash lost before the batch is made again by a later
//     collection. An entry that points into a segment that no longer exists
//     (a drop lost all the same, its segment compacted away) counts as
//     absent: Has and Get do not hold the record, and a Put of it writes it
//     again and overwrites the entry.
//   - A compaction copies a segment's live records (those whose entry points
//     into it) to the end of the log, as Put writes records; a Sync then
//     syncs the segment and repoints the entries in a synced batch (an
//     entry is repointed only if it still points at the record copied, its
//     height and name kept, the old record's bytes counted dead), which
//     also writes "end" past the segment; only then, and only if all its
//     bytes are counted dead (a record whose header no longer reads would
//     not be), is the file removed, and its dead bytes key deleted. A
//     record of the segment damaged on disk that an entry points to is not
//     copied, and the segment is kept. A crash
//     before the batch leaves the copies after "end": Open finds their hashes
//     indexed elsewhere and counts them dead; the segment is still whole and
//     compacted again. A crash after it leaves a segment no entry points to,
//     compacted again (nothing to copy) and removed; a dead bytes key of a
//     removed segment is deleted by the next collection.
//
// # Retention
//
// Named gives the store the committed heights and what each block named.
// After each Named, with a retention, a collector in the background:
//
//  1. drops the records it marked at an earlier height that no block has
//     named since and that nothing read (Get, Has) or Put again since;
//  2. marks the records no block named that were indexed at least Retention
//     blocks before the last named height (the 'u' keys in order), at the
//     current height;
//  3. compacts each sealed segment (not the one being written) whose dead
//     bytes reached half of it.
//
// A record a proposal names is therefore never dropped before its block is
// named: the application reads it for the proposal (ProcessProposal, or
// FinalizeBlock for a block fetched while catching up) or Puts it
// (PrepareProposal) after the previous block's Commit, so either before the
// record is marked, at a height at least that previous block's, or after,
// which spares it; a record marked at a height is dropped only at a later
// height, after the proposal's block was named, and only if still unnamed.
// A proposal that names a record after it was dropped is handled as any
// transaction the node lacks: fetched from the peers (the proposer stores
// its proposal's transactions again from its mempool). The retention is in
// blocks, not time: every node counts the same heights, and a node that was
// down counts the blocks it replays. Transactions stored from elsewhere than
// a proposal (restored from a snapshot, say) are named with Named at the
// height they belong to, or they count as unnamed.
//
// Drops take both locks for one batch of at most dropBatch records; a
// compaction takes mu for each record it copies and syncMu for each Sync of
// its copies (every moveChunk bytes), so that Put, Get and Sync wait for at
// most one of these.
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
// records not yet indexed, the memory, the waiters and the marks; writers
// of the index (Sync, Named, drops, compaction) are serialised by a second
// one, so that Put goes on while a Sync waits for the disk. A Get that
// reads a segment outside the first holds readMu, which a compaction takes
// before it closes a segment it removes.
//
// # Tests
//
//   - TestStoreRecover: what a reopened store holds after a clean close, a
//     crash before Sync, a record cut by the crash, and a record damaged on
//     disk (before and after it was indexed); the store goes on after each.
//   - TestStoreSegments: a store that fills a segment goes on in the next,
//     and reads both after a reopen.
//   - TestStoreAwait: Await, Has, Put of bytes already held, Forget.
//   - TestStoreRetention: what is dropped and what is kept (named, within
//     the retention, read or Put after the mark, read just before it and
//     named by the next block, dropped and stored again, a replayed
//     block), before and after a reopen; TestStoreRetentionOff;
//     TestStoreLegacyEntries.
//   - TestStoreCompaction: segments mostly dropped are removed and their
//     space no longer counted, all-named ones stay; named records read
//     after the compaction and a reopen.
//   - TestStoreCompactionDamaged: a segment with a kept record damaged,
//     or a header that no longer reads, is kept; the next one is compacted.
//   - TestStoreCrashRetention: a crash at each write of a drop and of a
//     compaction (before the copies are synced, before they are indexed,
//     after some chunks are, before the file is removed); every named
//     record reads back, and the next collections finish the work.
//     TestStoreCrashNamed: a crash before Named's batch.
//     TestStoreEntryInRemovedSegment: an entry whose segment is gone
//     counts as absent, and a Put writes the record again.
//     TestNamedWithoutEntry: a named hash with no entry is logged.
//   - TestStoreCompactionConcurrent: the background collector compacts
//     while blocks Put, name and read (run with -race).
//   - BenchmarkStore: a block's Puts, Sync, Named and Gets, without
//     retention, with it, and with a compaction running.
//   - In package abci: TestTxRefsLifecycle (blocks that name transactions
//     by hash, fetched from a peer, kept across a restart), TestQueryTx,
//     TestTxStoreDirRenamed (the directory's former name, batches/, is
//     renamed txs/ at open), TestUnnamedTxRetention (a dropped transaction
//     a block names later is fetched from a peer), TestTxInRemovedSegment
//     (so is one whose entry points into a segment that does not exist).
package txstore
