package digestindex

import (
	"bufio"
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"hash"
	"hash/crc32"
	"io"
	"os"
	"path/filepath"
	"sort"
	"sync"
	"syscall"
	"unsafe"

	"github.com/gobtechlab/notary/ledger"
)

// A run is one file of the digest index: the index entries of the heights
// [lo, hi], as fixed-size records sorted by key, strictly increasing, then a
// footer.
//
//	record  algorithm (1) | digest (32) | height (8) | tx index (4) | leaf (4), integers big-endian
//	footer  magic "NTRYRUN1" (8) | lo (8) | hi (8) | records (8) | CRC-32C of the records (4) | CRC-32C of the footer before it (4)
//
// A run is written once (to a temporary name, then renamed) and never
// changed; merging runs writes a new run that covers all their heights and
// then removes them. A merged run is synced before it is renamed; a block's
// run is held in memory and written and synced in the background
// (Index.syncRuns).
type run struct {
	lo, hi int64
	n      int
	path   string
	f      *os.File
	fences []uint64 // the first 8 key bytes of the first record of each page
	// synced: the file and its name are on disk. A block's run is held in
	// mem, without a file, until the index's sync goroutine writes it;
	// only runs on disk are merged. Both are guarded by the index's mu.
	synced bool
	mem    []byte
}

const (
	recKeySize  = 1 + ledger.DigestSize
	recSize     = recKeySize + 8 + 4 + 4
	pageRecs    = 128 // records per page: a lookup reads one page per run
	pageBytes   = pageRecs * recSize
	footerSize  = 8 + 8 + 8 + 8 + 4 + 4
	ioBufferLen = 1 << 20
)

var (
	runMagic = []byte("NTRYRUN1")
	crcTable = crc32.MakeTable(crc32.Castagnoli)
	pagePool = sync.Pool{New: func() any { return new([pageBytes]byte) }}

	errDamaged = errors.New("damaged")
)

func runName(lo, hi int64) string { return fmt.Sprintf("run-%020d-%020d.idx", lo, hi) }

func parseRunName(name string) (lo, hi int64, ok bool) {
	if len(name) != len(runName(0, 0)) {
		return 0, 0, false
	}
	if _, err := fmt.Sscanf(name, "run-%020d-%020d.idx", &lo, &hi); err != nil || lo < 1 || hi < lo {
		return 0, 0, false
	}
	return lo, hi, runName(lo, hi) == name
}

func prefix(key []byte) uint64 { return binary.BigEndian.Uint64(key[:8]) }

// putRecord encodes an index entry into rec (recSize bytes).
func putRecord(rec []byte, alg ledger.HashAlgorithm, digest []byte, loc ledger.Locator) {
	rec[0] = byte(alg)
	copy(rec[1:recKeySize], digest)
	binary.BigEndian.PutUint64(rec[recKeySize:], uint64(loc.Height))
	binary.BigEndian.PutUint32(rec[recKeySize+8:], loc.TxIndex)
	binary.BigEndian.PutUint32(rec[recKeySize+12:], loc.Leaf)
}

func recordLocator(rec []byte) ledger.Locator {
	return ledger.Locator{
		Height:  int64(binary.BigEndian.Uint64(rec[recKeySize:])),
		TxIndex: binary.BigEndian.Uint32(rec[recKeySize+8:]),
		Leaf:    binary.BigEndian.Uint32(rec[recKeySize+12:]),
	}
}

// runWriter writes a run's records in key order.
type runWriter struct {
	dir    string
	tmp    string
	f      *os.File
	buf    []byte // bytes not yet written; the checksum covers the records among those that were
	crc    hash.Hash32
	n      int
	last   [recKeySize]byte
	fences []uint64

	// direct: f bypasses the page cache (O_DIRECT, merges): buf is
	// aligned and written only in whole buffers, and the file's padding
	// after the footer is cut at finish. off counts the bytes written,
	// sealed that the footer is in buf (not covered by the checksum).
	direct bool
	off    int64
	sealed bool

	// throttle, if set, paces the writer (merges): it waits for each
	// writebackEvery records' bytes.
	throttle func(bytes int) error
}

// writebackEvery is how many records a writer writes between requests to
// start writing them back (1 MB), which is also the step of a merge's
// pacing. Small steps keep little of a merge queued at the disk at any time,
// in front of every Commit's synced writes (nodes that share a disk add
// theirs up).
const writebackEvery = (1 << 20) / recSize

func newRunWriter(dir string, lo, hi int64) (*runWriter, error) {
	tmp := filepath.Join(dir, runName(lo, hi)+".tmp")
	f, err := os.OpenFile(tmp, os.O_CREATE|os.O_TRUNC|os.O_WRONLY, 0o600)
	if err != nil {
		return nil, err
	}
	return &runWriter{dir: dir, tmp: tmp, f: f, buf: make([]byte, 0, ioBufferLen), crc: crc32.New(crcTable)}, nil
}

// newDirectRunWriter is newRunWriter for a merge: where the system allows
// it, the file is written around the page cache (O_DIRECT). Copying a
// merge's output into the page cache costs the processor about ten times
// what reading as much back does, and a merged run is read only by lookups
// of anchored digests, one page each. Where O_DIRECT is refused (tmpfs,
// say) the run is written as newRunWriter writes it.
func newDirectRunWriter(dir string, lo, hi int64) (*runWriter, error) {
	tmp := filepath.Join(dir, runName(lo, hi)+".tmp")
	f, err := openDirect(tmp)
	if err != nil {
		return newRunWriter(dir, lo, hi)
	}
	return &runWriter{dir: dir, tmp: tmp, f: f, buf: alignedBuffer(ioBufferLen), crc: crc32.New(crcTable), direct: true}, nil
}

// directAlign is the alignment of O_DIRECT's buffers, offsets and lengths
// (the largest logical block size of common devices).
const directAlign = 4096

// alignedBuffer returns an empty slice of capacity n whose array starts at
// a multiple of directAlign.
func alignedBuffer(n int) []byte {
	raw := make([]byte, n+directAlign)
	skip := (directAlign - int(uintptr(unsafe.Pointer(unsafe.SliceData(raw)))%directAlign)) % directAlign
	return raw[skip : skip : skip+n]
}

// add appends a record; keys must come in strictly increasing order. It
// compares the keys' first 8 bytes as a number first: merges add millions
// of records a second.
func (rw *runWriter) add(rec []byte) error {
	p := prefix(rec)
	if rw.n > 0 {
		if last := prefix(rw.last[:]); p < last || (p == last && bytes.Compare(rec[:recKeySize], rw.last[:]) <= 0) {
			return fmt.Errorf("digest index: key %x out of order or repeated", rec[:recKeySize])
		}
	}
	copy(rw.last[:], rec[:recKeySize])
	if rw.n%pageRecs == 0 {
		rw.fences = append(rw.fences, p)
	}
	rw.n++
	if err := rw.put(rec[:recSize]); err != nil {
		return err
	}
	if rw.n%writebackEvery == 0 {
		if !rw.direct {
			if err := rw.flush(); err != nil {
				return err
			}
			startWriteback(rw.f)
		}
		if rw.throttle != nil {
			return rw.throttle(writebackEvery * recSize)
		}
	}
	return nil
}

// addSorted adds the records of an empty writer at once: recs are whole
// records in strictly increasing key order (EncodeRun sorted and
// checked them), not compared again one by one.
func (rw *runWriter) addSorted(recs []byte) error {
	if rw.n > 0 || len(rw.buf) > 0 || len(recs)%recSize != 0 {
		return fmt.Errorf("digest index: %d bytes of sorted records for a writer of %d records", len(recs), rw.n)
	}
	n := len(recs) / recSize
	if n == 0 {
		return nil
	}
	for i := 0; i < n; i += pageRecs {
		rw.fences = append(rw.fences, prefix(recs[i*recSize:]))
	}
	rw.n = n
	copy(rw.last[:], recs[(n-1)*recSize:])
	if rw.direct {
		return rw.put(recs) // through the aligned buffer
	}
	rw.crc.Write(recs)
	_, err := rw.f.Write(recs)
	rw.off += int64(len(recs))
	return err
}

// put appends b to the buffer, writing the buffer each time it fills.
func (rw *runWriter) put(b []byte) error {
	for len(b) > 0 {
		n := copy(rw.buf[len(rw.buf):cap(rw.buf)], b)
		rw.buf = rw.buf[:len(rw.buf)+n]
		b = b[n:]
		if len(rw.buf) == cap(rw.buf) {
			if err := rw.flush(); err != nil {
				return err
			}
		}
	}
	return nil
}

// flush writes the buffer: whole, when direct (finish pads the last one).
func (rw *runWriter) flush() error {
	if !rw.sealed {
		rw.crc.Write(rw.buf)
	}
	out := rw.buf
	if rw.direct {
		out = out[:(len(out)+directAlign-1)/directAlign*directAlign]
		clear(out[len(rw.buf):])
	}
	_, err := rw.f.Write(out)
	if rw.direct && errors.Is(err, syscall.EINVAL) {
		// The file system took O_DIRECT at open but refuses these writes
		// (a larger block size, say): go on through the page cache.
		if err = rw.reopenBuffered(); err == nil {
			_, err = rw.f.Write(rw.buf)
		}
	}
	rw.off += int64(len(rw.buf))
	rw.buf = rw.buf[:0]
	return err
}

// reopenBuffered replaces a direct writer's file by the same file opened
// through the page cache, positioned after what was written.
func (rw *runWriter) reopenBuffered() error {
	f, err := os.OpenFile(rw.tmp, os.O_WRONLY, 0o600)
	if err != nil {
		return err
	}
	if _, err := f.Seek(rw.off, io.SeekStart); err != nil {
		_ = f.Close()
		return err
	}
	_ = rw.f.Close()
	rw.f, rw.direct = f, false
	return nil
}

// finish writes the footer, syncs (if sync) and renames the file, and
// returns the run open for reading.
func (rw *runWriter) finish(lo, hi int64, sync bool) (*run, error) {
	rw.crc.Write(rw.buf) // the records not yet written, before the footer
	rw.sealed = true
	footer := make([]byte, 0, footerSize)
	footer = append(footer, runMagic...)
	footer = binary.BigEndian.AppendUint64(footer, uint64(lo))
	footer = binary.BigEndian.AppendUint64(footer, uint64(hi))
	footer = binary.BigEndian.AppendUint64(footer, uint64(rw.n))
	footer = binary.BigEndian.AppendUint32(footer, rw.crc.Sum32())
	footer = binary.BigEndian.AppendUint32(footer, crc32.Checksum(footer, crcTable))
	if err := rw.put(footer); err != nil {
		return nil, rw.fail(err)
	}
	if err := rw.flush(); err != nil {
		return nil, rw.fail(err)
	}
	if rw.direct {
		// The last buffer was padded to directAlign.
		if err := rw.f.Truncate(rw.off); err != nil {
			return nil, rw.fail(err)
		}
	}
	if sync {
		if err := rw.f.Sync(); err != nil {
			return nil, rw.fail(err)
		}
	}
	if err := rw.f.Close(); err != nil {
		return nil, rw.fail(err)
	}
	path := filepath.Join(rw.dir, runName(lo, hi))
	if err := os.Rename(rw.tmp, path); err != nil {
		return nil, rw.fail(err)
	}
	if sync {
		if err := syncDir(rw.dir); err != nil {
			return nil, err
		}
	}
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	if rw.direct {
		// Lookups and merges read it back: the disk loads it into the page
		// cache, which costs the processor little, where a write through
		// the cache has the processor copy every byte. Read from the disk
		// one page at a time instead, the lookups of the digests the
		// filter passes would slow every block as the runs grow in number.
		willNeed(f)
	}
	return &run{lo: lo, hi: hi, n: rw.n, path: path, f: f, fences: rw.fences, synced: sync}, nil
}

// fail abandons the file.
func (rw *runWriter) fail(err error) error {
	_ = rw.f.Close()
	_ = os.Remove(rw.tmp)
	return err
}

func syncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return err
	}
	defer func() { _ = d.Close() }()
	return d.Sync()
}

// openRun opens a run file and checks it whole: footer, checksum and key
// order. Each key is passed to each (the digest filter is built this way).
func openRun(path string, lo, hi int64, each func(key []byte)) (*run, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	r, err := readRun(f, path, lo, hi, each)
	if err != nil {
		_ = f.Close()
		return nil, err
	}
	return r, nil
}

func readRun(f *os.File, path string, lo, hi int64, each func(key []byte)) (*run, error) {
	bad := func(format string, a ...any) error {
		return fmt.Errorf("digest index file %s is %w: %s", path, errDamaged, fmt.Sprintf(format, a...))
	}
	st, err := f.Stat()
	if err != nil {
		return nil, err
	}
	size := st.Size()
	if size < footerSize || (size-footerSize)%recSize != 0 {
		return nil, bad("size %d", size)
	}
	footer := make([]byte, footerSize)
	if _, err := f.ReadAt(footer, size-footerSize); err != nil {
		return nil, err
	}
	if !bytes.Equal(footer[:8], runMagic) || crc32.Checksum(footer[:footerSize-4], crcTable) != binary.BigEndian.Uint32(footer[footerSize-4:]) {
		return nil, bad("bad footer")
	}
	n := (size - footerSize) / recSize
	if int64(binary.BigEndian.Uint64(footer[8:])) != lo || int64(binary.BigEndian.Uint64(footer[16:])) != hi || int64(binary.BigEndian.Uint64(footer[24:])) != n {
		return nil, bad("footer does not match the name or size")
	}
	r := &run{lo: lo, hi: hi, n: int(n), path: path, f: f, fences: make([]uint64, 0, (n+pageRecs-1)/pageRecs)}
	crc := crc32.New(crcTable)
	br := bufio.NewReaderSize(io.NewSectionReader(f, 0, n*recSize), ioBufferLen)
	var rec, last [recSize]byte
	for i := 0; i < int(n); i++ {
		if _, err := io.ReadFull(br, rec[:]); err != nil {
			return nil, err
		}
		if i > 0 && bytes.Compare(rec[:recKeySize], last[:recKeySize]) <= 0 {
			return nil, bad("record %d out of order", i)
		}
		if h := int64(binary.BigEndian.Uint64(rec[recKeySize:])); h < lo || h > hi {
			return nil, bad("record %d has height %d", i, h)
		}
		if i%pageRecs == 0 {
			r.fences = append(r.fences, prefix(rec[:]))
		}
		crc.Write(rec[:])
		if each != nil {
			each(rec[:recKeySize])
		}
		last = rec
	}
	if crc.Sum32() != binary.BigEndian.Uint32(footer[32:]) {
		return nil, bad("checksum mismatch")
	}
	return r, nil
}

// find looks a key up: the page whose first key is the last not above it,
// and the pages before it while they start with the same 8 bytes.
func (r *run) find(key []byte) (ledger.Locator, bool, error) {
	if r.mem != nil {
		i := sort.Search(r.n, func(i int) bool { return bytes.Compare(r.mem[i*recSize:i*recSize+recKeySize], key) >= 0 })
		if i < r.n && bytes.Equal(r.mem[i*recSize:i*recSize+recKeySize], key) {
			return recordLocator(r.mem[i*recSize:]), true, nil
		}
		return ledger.Locator{}, false, nil
	}
	p := prefix(key)
	page := sort.Search(len(r.fences), func(i int) bool { return r.fences[i] > p }) - 1
	buf := pagePool.Get().(*[pageBytes]byte)
	defer pagePool.Put(buf)
	for ; page >= 0; page-- {
		first := page * pageRecs
		cnt := min(pageRecs, r.n-first)
		b := buf[:cnt*recSize]
		if _, err := r.f.ReadAt(b, int64(first)*recSize); err != nil {
			return ledger.Locator{}, false, fmt.Errorf("digest index: read %s: %w", r.path, err)
		}
		i := sort.Search(cnt, func(i int) bool { return bytes.Compare(b[i*recSize:i*recSize+recKeySize], key) >= 0 })
		if i < cnt && bytes.Equal(b[i*recSize:i*recSize+recKeySize], key) {
			return recordLocator(b[i*recSize:]), true, nil
		}
		if i > 0 || r.fences[page] != p {
			break
		}
	}
	return ledger.Locator{}, false, nil
}

// runReader reads a run's records in order, a buffer at a time (merges).
type runReader struct {
	f        *os.File
	off, end int64
	buf      []byte
	pos      int
}

func (r *run) records(bufBytes int) *runReader {
	return &runReader{f: r.f, end: int64(r.n) * recSize, buf: make([]byte, 0, max(1, bufBytes/recSize)*recSize)}
}

// next returns the next record, valid until the following call, or nil
// after the last.
func (rr *runReader) next() ([]byte, error) {
	if rr.pos == len(rr.buf) {
		if rr.off == rr.end {
			return nil, nil
		}
		rr.buf = rr.buf[:min(int64(cap(rr.buf)), rr.end-rr.off)]
		if _, err := rr.f.ReadAt(rr.buf, rr.off); err != nil {
			return nil, err
		}
		rr.off += int64(len(rr.buf))
		rr.pos = 0
	}
	rec := rr.buf[rr.pos : rr.pos+recSize : rr.pos+recSize]
	rr.pos += recSize
	return rec, nil
}
