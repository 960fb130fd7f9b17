package snapshot

import (
	"bytes"
	"crypto/sha256"
	"encoding/binary"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"

	"github.com/cosmos/iavl"
)

// Format is the version of the format this package writes and reads: the
// ABCI snapshot format.
const Format uint32 = 1

// Kind is the kind of a section.
type Kind byte

// The kinds of sections.
const (
	// KindHeader opens the stream: what the abci package records of the
	// snapshot's height.
	KindHeader Kind = 1
	// KindNode is one node of the IAVL export (EncodeNode).
	KindNode Kind = 2
	// KindTx is one batch transaction.
	KindTx Kind = 3
	// KindLeaf is one leaf of the evidence log.
	KindLeaf Kind = 4
	// KindEnd ends the stream.
	KindEnd Kind = 5
)

// maxSection bounds a section's payload: far above a transaction's.
const maxSection = 64 << 20

// metaMagic opens the metadata.
const metaMagic = "NTRYSNP1"

// Metadata describes a snapshot: the ABCI snapshot's metadata.
type Metadata struct {
	Format      uint32
	Height      int64
	ChunkSize   uint32
	ChunkHashes [][32]byte
}

// Encode returns the metadata's bytes:
//
//	"NTRYSNP1" | format (4) | height (8) | chunk size (4) | chunks (4) | SHA-256 of each chunk (32 each)
func (m Metadata) Encode() []byte {
	b := make([]byte, 0, len(metaMagic)+20+32*len(m.ChunkHashes))
	b = append(b, metaMagic...)
	b = binary.BigEndian.AppendUint32(b, m.Format)
	b = binary.BigEndian.AppendUint64(b, uint64(m.Height))
	b = binary.BigEndian.AppendUint32(b, m.ChunkSize)
	b = binary.BigEndian.AppendUint32(b, uint32(len(m.ChunkHashes)))
	for _, h := range m.ChunkHashes {
		b = append(b, h[:]...)
	}
	return b
}

// Hash is the snapshot's hash: the SHA-256 of Encode's bytes.
func (m Metadata) Hash() []byte {
	h := sha256.Sum256(m.Encode())
	return h[:]
}

// DecodeMetadata decodes Encode's bytes.
func DecodeMetadata(b []byte) (Metadata, error) {
	var m Metadata
	const fixed = len(metaMagic) + 20
	if len(b) < fixed || string(b[:len(metaMagic)]) != metaMagic {
		return m, errors.New("snapshot: metadata: bad header")
	}
	m.Format = binary.BigEndian.Uint32(b[8:])
	m.Height = int64(binary.BigEndian.Uint64(b[12:]))
	m.ChunkSize = binary.BigEndian.Uint32(b[20:])
	n := binary.BigEndian.Uint32(b[24:])
	if uint64(len(b)-fixed) != uint64(n)*32 || n == 0 || m.Height <= 0 {
		return m, fmt.Errorf("snapshot: metadata: %d bytes for %d chunks at height %d", len(b), n, m.Height)
	}
	m.ChunkHashes = make([][32]byte, n)
	for i := range m.ChunkHashes {
		copy(m.ChunkHashes[i][:], b[fixed+32*i:])
	}
	return m, nil
}

// Store is a directory of snapshots.
type Store struct{ dir string }

// Open opens (or creates) the store in dir and removes what an
// interrupted Create left.
func Open(dir string) (*Store, error) {
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, fmt.Errorf("snapshot: %w", err)
	}
	ents, err := os.ReadDir(dir)
	if err != nil {
		return nil, fmt.Errorf("snapshot: %w", err)
	}
	for _, e := range ents {
		if strings.HasSuffix(e.Name(), ".tmp") {
			if err := os.RemoveAll(filepath.Join(dir, e.Name())); err != nil {
				return nil, fmt.Errorf("snapshot: %w", err)
			}
		}
	}
	return &Store{dir: dir}, nil
}

// Dir returns the store's directory.
func (s *Store) Dir() string { return s.dir }

func (s *Store) path(height int64) string {
	return filepath.Join(s.dir, strconv.FormatInt(height, 10))
}

// Has reports whether the store holds the snapshot of height.
func (s *Store) Has(height int64) bool {
	_, err := os.Stat(filepath.Join(s.path(height), "metadata"))
	return err == nil
}

// List returns the metadata of the snapshots held, highest first.
func (s *Store) List() ([]Metadata, error) {
	heights, err := s.heights()
	if err != nil {
		return nil, err
	}
	var out []Metadata
	for _, h := range slices.Backward(heights) {
		b, err := os.ReadFile(filepath.Join(s.path(h), "metadata"))
		if err != nil {
			return nil, fmt.Errorf("snapshot: %w", err)
		}
		m, err := DecodeMetadata(b)
		if err != nil {
			return nil, fmt.Errorf("snapshot %d: %w", h, err)
		}
		out = append(out, m)
	}
	return out, nil
}

// heights returns the heights of the snapshots held, in ascending order.
func (s *Store) heights() ([]int64, error) {
	ents, err := os.ReadDir(s.dir)
	if err != nil {
		return nil, fmt.Errorf("snapshot: %w", err)
	}
	var hs []int64
	for _, e := range ents {
		h, err := strconv.ParseInt(e.Name(), 10, 64)
		if err != nil || !e.IsDir() || h <= 0 {
			continue
		}
		hs = append(hs, h)
	}
	slices.Sort(hs)
	return hs, nil
}

// LoadChunk returns the bytes of chunk index of the snapshot of height, as
// they are on disk: the node that receives them checks them.
func (s *Store) LoadChunk(height int64, index uint32) ([]byte, error) {
	b, err := os.ReadFile(filepath.Join(s.path(height), strconv.FormatUint(uint64(index), 10)))
	if err != nil {
		return nil, fmt.Errorf("snapshot: %w", err)
	}
	return b, nil
}

// Prune keeps the keep most recent snapshots and removes the others.
func (s *Store) Prune(keep int) error {
	hs, err := s.heights()
	if err != nil {
		return err
	}
	for len(hs) > max(keep, 0) {
		if err := os.RemoveAll(s.path(hs[0])); err != nil {
			return fmt.Errorf("snapshot: %w", err)
		}
		hs = hs[1:]
	}
	return nil
}

// Writer writes a snapshot's sections into chunk files.
type Writer struct {
	s         *Store
	height    int64
	tmp       string
	chunkSize int
	buf       []byte
	hashes    [][32]byte
	ended     bool
}

// Create starts the snapshot of height, in chunks of chunkSize bytes. A
// snapshot of that height already held is replaced when the new one is
// closed.
func (s *Store) Create(height int64, chunkSize int) (*Writer, error) {
	if height <= 0 || chunkSize <= 0 {
		return nil, fmt.Errorf("snapshot: height %d, chunk size %d", height, chunkSize)
	}
	tmp := s.path(height) + ".tmp"
	if err := os.RemoveAll(tmp); err != nil {
		return nil, fmt.Errorf("snapshot: %w", err)
	}
	if err := os.Mkdir(tmp, 0o700); err != nil {
		return nil, fmt.Errorf("snapshot: %w", err)
	}
	return &Writer{s: s, height: height, tmp: tmp, chunkSize: chunkSize, buf: make([]byte, 0, chunkSize)}, nil
}

// Add appends a section.
func (w *Writer) Add(kind Kind, payload []byte) error {
	if w.ended {
		return errors.New("snapshot: section after the end")
	}
	if len(payload) > maxSection {
		return fmt.Errorf("snapshot: section of %d bytes", len(payload))
	}
	var hdr [1 + binary.MaxVarintLen64]byte
	hdr[0] = byte(kind)
	n := binary.PutUvarint(hdr[1:], uint64(len(payload)))
	if err := w.write(hdr[:1+n]); err != nil {
		return err
	}
	if kind == KindEnd {
		w.ended = true
	}
	return w.write(payload)
}

func (w *Writer) write(b []byte) error {
	for len(b) > 0 {
		n := min(len(b), w.chunkSize-len(w.buf))
		w.buf = append(w.buf, b[:n]...)
		b = b[n:]
		if len(w.buf) == w.chunkSize {
			if err := w.flush(); err != nil {
				return err
			}
		}
	}
	return nil
}

func (w *Writer) flush() error {
	name := filepath.Join(w.tmp, strconv.Itoa(len(w.hashes)))
	if err := writeFileSync(name, w.buf); err != nil {
		return err
	}
	w.hashes = append(w.hashes, sha256.Sum256(w.buf))
	w.buf = w.buf[:0]
	return nil
}

// Close ends the stream (KindEnd), writes the last chunk and the metadata,
// and makes the snapshot visible; it returns its metadata.
func (w *Writer) Close() (Metadata, error) {
	if !w.ended {
		if err := w.Add(KindEnd, nil); err != nil {
			w.Abort()
			return Metadata{}, err
		}
	}
	if len(w.buf) > 0 {
		if err := w.flush(); err != nil {
			w.Abort()
			return Metadata{}, err
		}
	}
	m := Metadata{Format: Format, Height: w.height, ChunkSize: uint32(w.chunkSize), ChunkHashes: w.hashes}
	if err := writeFileSync(filepath.Join(w.tmp, "metadata"), m.Encode()); err != nil {
		w.Abort()
		return Metadata{}, err
	}
	if err := syncDir(w.tmp); err != nil {
		w.Abort()
		return Metadata{}, err
	}
	final := w.s.path(w.height)
	if err := os.RemoveAll(final); err != nil {
		w.Abort()
		return Metadata{}, fmt.Errorf("snapshot: %w", err)
	}
	if err := os.Rename(w.tmp, final); err != nil {
		w.Abort()
		return Metadata{}, fmt.Errorf("snapshot: %w", err)
	}
	if err := syncDir(w.s.dir); err != nil {
		return Metadata{}, err
	}
	return m, nil
}

// Abort removes what the writer wrote.
func (w *Writer) Abort() { _ = os.RemoveAll(w.tmp) }

func writeFileSync(name string, b []byte) error {
	f, err := os.OpenFile(name, os.O_CREATE|os.O_TRUNC|os.O_WRONLY, 0o600)
	if err != nil {
		return fmt.Errorf("snapshot: %w", err)
	}
	if _, err := f.Write(b); err != nil {
		_ = f.Close()
		return fmt.Errorf("snapshot: %w", err)
	}
	if err := f.Sync(); err != nil {
		_ = f.Close()
		return fmt.Errorf("snapshot: %w", err)
	}
	if err := f.Close(); err != nil {
		return fmt.Errorf("snapshot: %w", err)
	}
	return nil
}

func syncDir(dir string) error {
	f, err := os.Open(dir)
	if err != nil {
		return fmt.Errorf("snapshot: %w", err)
	}
	defer func() { _ = f.Close() }()
	if err := f.Sync(); err != nil {
		return fmt.Errorf("snapshot: sync %s: %w", dir, err)
	}
	return nil
}

// Section is one decoded section.
type Section struct {
	Kind    Kind
	Payload []byte
}

// ErrChunkHash is returned by Decoder.Chunk for a chunk whose bytes do not
// hash to the metadata's hash of that chunk: the peer that sent it is to be
// refused and the chunk fetched from another.
var ErrChunkHash = errors.New("snapshot: chunk does not match its hash")

// Decoder checks a snapshot's chunks, in order, and decodes their
// sections.
type Decoder struct {
	meta  Metadata
	next  uint32
	buf   []byte
	ended bool
}

// NewDecoder returns a decoder of the chunks of the snapshot meta
// describes.
func NewDecoder(meta Metadata) *Decoder { return &Decoder{meta: meta} }

// Next is the index of the chunk the decoder expects.
func (d *Decoder) Next() uint32 { return d.next }

// Done reports whether every chunk was decoded.
func (d *Decoder) Done() bool { return int(d.next) == len(d.meta.ChunkHashes) }

// Chunk checks chunk index against its hash (ErrChunkHash) and returns the
// sections it completes. The last chunk must end with the end section,
// and nothing may follow it.
func (d *Decoder) Chunk(index uint32, data []byte) ([]Section, error) {
	if index != d.next || d.Done() {
		return nil, fmt.Errorf("snapshot: chunk %d, expected %d of %d", index, d.next, len(d.meta.ChunkHashes))
	}
	if sha256.Sum256(data) != d.meta.ChunkHashes[index] {
		return nil, fmt.Errorf("%w: chunk %d", ErrChunkHash, index)
	}
	d.next++
	d.buf = append(d.buf, data...)
	var out []Section
	for len(d.buf) > 0 {
		if d.ended {
			return nil, errors.New("snapshot: bytes after the end section")
		}
		if len(d.buf) < 2 {
			break
		}
		n, k := binary.Uvarint(d.buf[1:])
		if k == 0 {
			break // the length continues in the next chunk
		}
		if k < 0 || n > maxSection {
			return nil, fmt.Errorf("snapshot: chunk %d: bad section length", index)
		}
		end := 1 + k + int(n)
		if len(d.buf) < end {
			break
		}
		s := Section{Kind: Kind(d.buf[0]), Payload: bytes.Clone(d.buf[1+k : end])}
		if s.Kind < KindHeader || s.Kind > KindEnd {
			return nil, fmt.Errorf("snapshot: chunk %d: section of kind %d", index, s.Kind)
		}
		out = append(out, s)
		d.ended = s.Kind == KindEnd
		d.buf = d.buf[end:]
	}
	if d.Done() && (!d.ended || len(d.buf) > 0) {
		return nil, errors.New("snapshot: the last chunk does not end the stream")
	}
	// The bytes kept are copied: data is the caller's.
	d.buf = bytes.Clone(d.buf)
	return out, nil
}

// EncodeNode returns the bytes of an IAVL export node:
//
//	height (1) | version (uvarint) | key length (uvarint) | key | has value (1) | value
func EncodeNode(n *iavl.ExportNode) []byte {
	b := make([]byte, 0, 2+2*binary.MaxVarintLen64+len(n.Key)+len(n.Value))
	b = append(b, byte(n.Height))
	b = binary.AppendUvarint(b, uint64(n.Version))
	b = binary.AppendUvarint(b, uint64(len(n.Key)))
	b = append(b, n.Key...)
	if n.Value == nil {
		return append(b, 0)
	}
	b = append(b, 1)
	return append(b, n.Value...)
}

// DecodeNode decodes EncodeNode's bytes.
func DecodeNode(b []byte) (*iavl.ExportNode, error) {
	bad := errors.New("snapshot: bad IAVL node")
	if len(b) < 1 {
		return nil, bad
	}
	n := &iavl.ExportNode{Height: int8(b[0])}
	b = b[1:]
	v, k := binary.Uvarint(b)
	if k <= 0 || v > 1<<62 {
		return nil, bad
	}
	n.Version = int64(v)
	b = b[k:]
	l, k := binary.Uvarint(b)
	if k <= 0 || l > uint64(len(b)-k) {
		return nil, bad
	}
	b = b[k:]
	n.Key = b[:l:l]
	b = b[l:]
	switch {
	case len(b) == 1 && b[0] == 0:
	case len(b) >= 1 && b[0] == 1:
		n.Value = b[1:]
		if n.Value == nil {
			n.Value = []byte{}
		}
	default:
		return nil, bad
	}
	return n, nil
}
