// Package digestindex is the notary's digest index: for every anchored
// digest, the batch and leaf that anchored it (a ledger.Locator: height,
// transaction index, leaf). It lives outside the IAVL tree so that a batch
// of N digests costs N small records instead of N tree leaves
// (docs/DESIGN.md, "Digest index"). It is never what a proof rests on, and
// the application rebuilds it from the block store when it falls behind the
// state (IndexedHeight).
//
// It is a small log-structured index of fixed-size records, made for what
// it stores: keys are digests (uniformly spread, written once, never changed
// or deleted) and nearly every lookup is for an absent digest, which an
// in-memory filter answers. Each committed block with digests becomes one
// sorted run file; a background goroutine merges runs; a lookup the filter
// lets through reads one page of each run. Writing a block costs a sort and
// a sequential write, and merges rewrite each record once per size class: a
// fraction of what a general-purpose LSM store spends per key.
//
// # API
//
//	x, err := digestindex.Open(dir, filterBytes, logger)
//	x.Lookup(alg, digest, before)   // anchored below height before?
//	x.ExecView(height)              // ledger.DigestIndex for executing a block
//	run, err := digestindex.EncodeRun(batches, height)
//	x.SaveRun(run, height)          // Commit: the block's run, encoded while executing
//	x.Save(batches, height)         // the same, encoded on the spot (rebuilding)
//	x.CheckView(height)             // ledger.DigestIndex for the mempool's checks
//	x.IndexedHeight(); x.Sync(); x.Close()
//
// # Files
//
// The directory holds the runs, the file HEIGHT, and, after a crash,
// temporary files (*.tmp), which Open removes.
//
// A run file, run-<lo>-<hi>.idx (heights as 20 decimal digits), holds the
// entries of the heights lo to hi as fixed-size records sorted by key,
// strictly increasing, then a footer; integers are big-endian:
//
//	record  algorithm (1) | digest (32) | height (8) | tx index (4) | leaf (4)     49 bytes; the key is the first 33
//	footer  "NTRYRUN1" (8) | lo (8) | hi (8) | records (8) | CRC-32C of the records (4) | CRC-32C of the footer before it (4)
//
// A verification code's key (ledger.CodeKeyIndex) is a record of algorithm
// 255 whose digest is the 16-byte key and 16 zero bytes, with the locator of
// its document (batch and leaf). A coded document has that record only: its
// anchored digest has none.
//
// A run is written once, to its name with ".tmp" appended, then renamed, and
// never changed. Its records are read in pages of 128; for each run the
// index holds in memory the first 8 key bytes of each page's first record
// (fence keys, 8 bytes per 128 records), so a lookup reads the one page
// whose fence is the last not above the key's (and the pages before it
// while they start with the same 8 bytes). Runs are written around the
// page cache (O_DIRECT) where the file system allows it, and the kernel is
// asked to read them back into the cache for lookups and merges.
//
// HEIGHT holds the indexed height as 8 bytes big-endian and their CRC-32C
// (Castagnoli, as every checksum here). It is written to HEIGHT.tmp,
// synced, renamed, and the directory synced.
//
// Merges: when sixteen runs of a size class (a factor of sixteen in records)
// accumulate in a row, a background goroutine merges them (a k-way merge
// into one run covering all their heights, synced and renamed; then the
// inputs are removed). Runs of 2^19 to 2^23 records (25 to 411 MB) are kept
// as they are, so no merge writes more than 411 MB and the index is never
// rewritten whole; a lookup that reaches the runs (an anchored digest: a
// receipt, a revocation) reads one page of each. Merges' writes are paced,
// and a large merge starts after a random delay, so that validators, whose
// indexes grow in lockstep, do not all write their largest merges at once.
//
// The filter is a blocked Bloom filter over every digest of the index: 8
// bits in one 512-bit block (a cache line) per digest, the digest's own
// bytes serving as its hash (digests are outputs of cryptographic hash
// functions) with the algorithm mixed in. Its size is fixed at Open (sized
// for 32 bits per digest; past that it lets more lookups through, slower and
// never wrong, and the index logs that once); its memory is outside the Go
// heap where the system allows, on huge pages. It is built at Open from
// every run and learns each digest before its entry is saved, so it has no
// false negatives: a "maybe" goes to the runs, and no answer depends on it.
// An ExecView's lookups add the digests they ask about (the block's new
// digests are then in it before SaveRun); a digest of a transaction that
// failed, or of a block not committed, stays in it as a false positive. A
// CheckView never adds to it.
//
// # Crash rules
//
//   - Save and SaveRun add the block's run held in memory, where lookups
//     search it, and mark the height as indexed; they do not wait for the
//     disk. A background goroutine writes each such run to its file (synced,
//     with its name), and only then advances HEIGHT. HEIGHT therefore never
//     names a height whose run may not be on disk; it may lag the indexed
//     height by a few heights. A height without digests, with nothing held
//     in memory, is saved to HEIGHT at once.
//   - If the background write fails, the next Save writes the runs itself
//     and fails with the disk's error if the disk still refuses (the
//     application's Commit stops there); Save also writes them itself,
//     waiting for the disk, rather than hold more than 256 MB of runs not
//     yet written (a slow disk, a rebuild).
//   - Only runs on disk and at or below HEIGHT are merged (a merged run above
//     HEIGHT would be removed at Open with the heights below it).
//   - Open removes temporary files (an unfinished run, merge or HEIGHT), runs
//     above HEIGHT (not known to be synced, or a save that did not finish)
//     and runs contained in a wider run (a merge that did not finish
//     removing its inputs), then checks every run whole: size, footer,
//     checksums, key order, heights within the run's. A damaged run or HEIGHT,
//     or runs that overlap, are refused with an error that says "damaged",
//     names the file, and says to remove the directory to rebuild it.
//     IndexedHeight is then HEIGHT: the caller saves the heights after it
//     again, from the block store.
//   - Lookup ignores an entry whose height is not below before, and saving a
//     height already indexed does nothing, so the entries of a block whose
//     Commit did not finish are invisible to the block's re-execution and
//     are saved again, identically, when it is replayed.
//   - Close stops merging (an unfinished merge leaves only a temporary file),
//     writes the runs held in memory and saves HEIGHT.
//
// # Concurrency
//
// Lookup, the views' lookups and IndexedHeight are safe for concurrent use
// with each other, with saves and with the background goroutines: one
// read-write mutex guards the list of runs and the heights, runs are never
// changed once published (a merge publishes its output, then removes its
// inputs), files are read with ReadAt, and the filter's words are read and
// set atomically. Save and SaveRun are called from one goroutine, in height
// order (the application's Commit, or its rebuild at open). A CheckView is
// used by one goroutine at a time (the mempool's checks are serialised).
//
// # Tests
//
//   - TestDigestIndexModel: random heights (empty ones, thousands of digests,
//     digests sharing their first bytes across pages, the same digest under
//     two algorithms) compared with a map, while merges run and another
//     goroutine looks up, and after reopening with and without the filter.
//   - TestDigestIndexCrashLeftovers, TestDigestIndexDamaged: what a crash
//     leaves is removed at Open; every kind of damage to a run or HEIGHT is
//     refused, and the same damage above HEIGHT is a leftover.
//   - TestDigestIndexSyncsInBackground, TestDigestIndexWriteFailure: the
//     background sync and HEIGHT's order; a disk that refuses writes.
//   - TestRunWritersAgree, TestMergeRuns, TestEncodeBlockRun,
//     TestEncodeBlockRunOrder: the run writers, merges and block encoding
//     produce the same bytes and order.
//   - TestNextMergeFinalClass, TestDigestIndexMergeBacklog: the merge policy,
//     also when merges are slower than blocks.
//   - TestDigestFilter, TestDigestFilterCapacity, TestDigestIndexFilter,
//     TestDigestFilterReleased, TestDigestFilterCodeKeys: the filter's
//     answers, its false positives at capacity and for code keys, and its
//     memory outside the heap.
//   - TestCheckViewRecheck, TestPrefixSet: the mempool's view.
//   - In package abci: TestIndexRebuiltAfterUnsyncedRuns (the rebuild from
//     the block store), TestCodeKeysIndexed (code keys saved, rebuilt and
//     looked up), TestCommitLeavesDigestsInFilter, TestDiskFull; in
//     testnet, TestCrashSweep crashes a node at each of Commit's
//     persistence boundaries.
//
// Benchmarks: BenchmarkDigestIndexLookup, BenchmarkMerge,
// BenchmarkEncodeBlockRun, BenchmarkRecheckPrefixes.
package digestindex
