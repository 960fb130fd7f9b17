package verify

import (
	"bytes"
	"fmt"

	ics23 "github.com/cosmos/ics23/go"
	"google.golang.org/protobuf/proto"

	"github.com/gobtechlab/notary/ledger"
	notaryv1 "github.com/gobtechlab/notary/proto/notary/v1"
)

// The form of a receipt: what can be checked without the trust bundle. Every
// embedded protobuf blob is decoded and must re-encode to the same bytes, so
// that no byte of the receipt goes unexamined (docs/receipt.md).

// Version is the version of receipts v1 and of live statuses.
const Version = 1

// VersionLog is the version of receipts v2, proven through the evidence log
// (docs/receipt.md, "Receipt v2").
const VersionLog = 2

// Bounds of a receipt v2's log inclusion.
const (
	// maxLogProof bounds the hashes of an inclusion proof (a log of up to
	// 2^64 leaves).
	maxLogProof = 64
	// leafKindBatch is the evidence log's leaf kind of a batch record.
	leafKindBatch = 1
	// batchKeySize is the size of a batch record's state key.
	batchKeySize = 18
)

type parsedReceipt struct {
	alg            ledger.HashAlgorithm
	documentDigest []byte // nil if not given
	salt           []byte // nil if not salted
	anchored       []byte
	codeKey        []byte // nil for a document anchored without a code
	leafIndex      uint32
	path           [][]byte
	batch          *notaryv1.Batch
	batchRaw       []byte
	batchProof     *ics23.CommitmentProof
	issuer         *notaryv1.Agency
	issuerRaw      []byte
	issuerProof    *ics23.CommitmentProof
	anchor         *parsedCheckpoint
	status         *parsedCheckpoint
	revocation     *notaryv1.Revocation // nil if not revoked
	revocationRaw  []byte
	statusProof    *ics23.CommitmentProof
	transitions    []*parsedTransition
	log            *parsedLog // receipts v2 only
}

// parsedLog is a receipt v2's log inclusion.
type parsedLog struct {
	leafIndex  uint64
	leaf       []byte
	batchKey   []byte
	proof      [][]byte
	checkpoint []byte
}

type parsedCheckpoint struct {
	height  int64 // state version; the header is at height+1
	header  *notaryv1.CometHeader
	hash    []byte
	commit  *notaryv1.LightCommit
	signers []*parsedRecord
}

type parsedTransition struct {
	header  *notaryv1.CometHeader
	hash    []byte
	commit  *notaryv1.LightCommit
	next    []Validator
	signers []*parsedRecord
}

// parsedRecord is a ministry record with its proof.
type parsedRecord struct {
	ministry *notaryv1.Ministry
	raw      []byte
	proof    *ics23.CommitmentProof
}

func parseReceipt(r *notaryv1.Receipt) (*parsedReceipt, error) {
	if r.Version != Version && r.Version != VersionLog {
		return nil, fmt.Errorf("version %d; this verifier reads versions %d and %d", r.Version, Version, VersionLog)
	}
	if r.ChainId == "" {
		return nil, fmt.Errorf("no chain_id")
	}
	p := &parsedReceipt{}
	if err := parseDocument(r.Document, p); err != nil {
		return nil, err
	}
	if r.Version == VersionLog {
		return p, parseReceiptV2(r, p)
	}
	if r.Log != nil {
		return nil, fmt.Errorf("a log inclusion in a receipt v1")
	}
	if err := parseV1(r, p); err != nil {
		return nil, err
	}
	return p, nil
}

// parseReceiptV2 parses what follows the document binding in a receipt v2:
// the inclusion's leaf index and Merkle path, and the log inclusion, with
// the leaf decoded (kind 1, a batch key, a Batch record); every part of a
// receipt v1 that v2 does not have must be absent.
func parseReceiptV2(r *notaryv1.Receipt, p *parsedReceipt) error {
	in := r.Inclusion
	if in == nil {
		return fmt.Errorf("no inclusion")
	}
	if len(in.Batch) > 0 || len(in.BatchProof) > 0 {
		return fmt.Errorf("inclusion.batch and inclusion.batch_proof must be empty in a receipt v2")
	}
	if r.Issuer != nil || r.Anchor != nil || r.Status != nil || len(r.ValidatorChain) > 0 {
		return fmt.Errorf("issuer, anchor, status and validator_chain must be empty in a receipt v2")
	}
	if err := parsePath(in, p); err != nil {
		return err
	}
	l := r.Log
	if l == nil {
		return fmt.Errorf("no log inclusion")
	}
	pl := &parsedLog{leafIndex: l.LeafIndex, leaf: l.Leaf, checkpoint: l.Checkpoint}
	if len(l.Proof) > maxLogProof {
		return fmt.Errorf("log.proof: %d hashes, at most %d", len(l.Proof), maxLogProof)
	}
	for i, h := range l.Proof {
		if len(h) != hashSize {
			return fmt.Errorf("log.proof[%d]: %d bytes, want %d", i, len(h), hashSize)
		}
		pl.proof = append(pl.proof, h)
	}
	if len(l.Checkpoint) == 0 {
		return fmt.Errorf("log.checkpoint: empty")
	}
	key, value, err := decodeLeaf(l.Leaf)
	if err != nil {
		return fmt.Errorf("log.leaf: %w", err)
	}
	pl.batchKey = key
	p.batch = &notaryv1.Batch{}
	if err := decodeRecord("log.leaf's batch record", value, p.batch); err != nil {
		return err
	}
	p.batchRaw = value
	p.log = pl
	return nil
}

// decodeLeaf decodes an evidence log leaf of kind 1 (a batch):
// kind || be16 len key || key || be16 len value || value, wholly consumed,
// with an 18-byte key starting with "batch/".
func decodeLeaf(leaf []byte) (key, value []byte, err error) {
	if len(leaf) < 1 {
		return nil, nil, fmt.Errorf("empty")
	}
	if leaf[0] != leafKindBatch {
		return nil, nil, fmt.Errorf("kind %d, want %d (a batch)", leaf[0], leafKindBatch)
	}
	rest := leaf[1:]
	field := func(what string) ([]byte, error) {
		if len(rest) < 2 {
			return nil, fmt.Errorf("%s: truncated length", what)
		}
		n := int(rest[0])<<8 | int(rest[1])
		if len(rest) < 2+n {
			return nil, fmt.Errorf("%s: %d bytes announced, %d left", what, n, len(rest)-2)
		}
		f := rest[2 : 2+n]
		rest = rest[2+n:]
		return f, nil
	}
	if key, err = field("key"); err != nil {
		return nil, nil, err
	}
	if value, err = field("value"); err != nil {
		return nil, nil, err
	}
	if len(rest) != 0 {
		return nil, nil, fmt.Errorf("%d bytes after the value", len(rest))
	}
	if len(key) != batchKeySize || !bytes.HasPrefix(key, []byte("batch/")) {
		return nil, nil, fmt.Errorf("key %q is not a batch key (\"batch/\", 8-byte height, 4-byte tx index)", key)
	}
	return key, value, nil
}

// parseDocument parses the document binding.
func parseDocument(d *notaryv1.DocumentBinding, p *parsedReceipt) error {
	if d == nil {
		return fmt.Errorf("no document binding")
	}
	alg, ok := ledger.ParseAlgorithm(d.HashAlgorithm)
	if !ok {
		return fmt.Errorf("document.hash_algorithm %q: want sha2-256 or sha3-256", d.HashAlgorithm)
	}
	p.alg = alg
	var err error
	if p.anchored, err = decodeHex(d.AnchoredDigest, ledger.DigestSize); err != nil {
		return fmt.Errorf("document.anchored_digest: %w", err)
	}
	if d.DocumentDigest != "" {
		if p.documentDigest, err = decodeHex(d.DocumentDigest, ledger.DigestSize); err != nil {
			return fmt.Errorf("document.document_digest: %w", err)
		}
	}
	if d.Salt != "" {
		if p.salt, err = decodeHex(d.Salt, ledger.DigestSize); err != nil {
			return fmt.Errorf("document.salt: %w", err)
		}
	}
	if d.CodeKey != "" {
		if p.codeKey, err = decodeHex(d.CodeKey, ledger.CodeKeySize); err != nil {
			return fmt.Errorf("document.code_key: %w", err)
		}
	}
	return nil
}

// parsePath parses the inclusion's leaf index and Merkle path.
func parsePath(in *notaryv1.BatchInclusion, p *parsedReceipt) error {
	p.leafIndex = in.LeafIndex
	for i, s := range in.MerklePath {
		h, err := decodeHex(s, hashSize)
		if err != nil {
			return fmt.Errorf("inclusion.merkle_path[%d]: %w", i, err)
		}
		p.path = append(p.path, h)
	}
	return nil
}

// parseV1 parses what follows the document binding in a receipt v1.
func parseV1(r *notaryv1.Receipt, p *parsedReceipt) error {
	var err error
	in := r.Inclusion
	if in == nil {
		return fmt.Errorf("no inclusion")
	}
	if err := parsePath(in, p); err != nil {
		return err
	}
	p.batch = &notaryv1.Batch{}
	if err := decodeRecord("inclusion.batch", in.Batch, p.batch); err != nil {
		return err
	}
	p.batchRaw = in.Batch
	if p.batchProof, err = decodeProof("inclusion.batch_proof", in.BatchProof, true); err != nil {
		return err
	}

	if r.Issuer == nil {
		return fmt.Errorf("no issuer")
	}
	p.issuer = &notaryv1.Agency{}
	if err := decodeRecord("issuer.record", r.Issuer.Record, p.issuer); err != nil {
		return err
	}
	p.issuerRaw = r.Issuer.Record
	if p.issuerProof, err = decodeProof("issuer.proof", r.Issuer.Proof, true); err != nil {
		return err
	}

	if p.anchor, err = parseCheckpoint("anchor", r.Anchor); err != nil {
		return err
	}
	st := r.Status
	if st == nil {
		return fmt.Errorf("no status")
	}
	if p.status, err = parseCheckpoint("status.checkpoint", st.Checkpoint); err != nil {
		return err
	}
	if len(st.Revocation) > 0 {
		p.revocation = &notaryv1.Revocation{}
		if err := decodeRecord("status.revocation", st.Revocation, p.revocation); err != nil {
			return err
		}
		p.revocationRaw = st.Revocation
	}
	if p.statusProof, err = decodeProof("status.proof", st.Proof, p.revocation != nil); err != nil {
		return err
	}

	for i, t := range r.ValidatorChain {
		pt, err := parseTransition(fmt.Sprintf("validator_chain[%d]", i), t)
		if err != nil {
			return err
		}
		p.transitions = append(p.transitions, pt)
	}
	return nil
}

func parseCheckpoint(what string, c *notaryv1.Checkpoint) (*parsedCheckpoint, error) {
	if c == nil {
		return nil, fmt.Errorf("no %s", what)
	}
	if c.Height < 1 {
		return nil, fmt.Errorf("%s.height %d, want at least 1", what, c.Height)
	}
	h, err := decodeReceiptHeader(c.Header)
	if err != nil {
		return nil, fmt.Errorf("%s.%w", what, err)
	}
	if err := checkCommitForm(what+".commit", c.Commit); err != nil {
		return nil, err
	}
	signers, err := parseSigners(what+".signers", c.Signers)
	if err != nil {
		return nil, err
	}
	return &parsedCheckpoint{height: c.Height, header: h, hash: HeaderHash(h), commit: c.Commit, signers: signers}, nil
}

func parseTransition(what string, t *notaryv1.ValidatorTransition) (*parsedTransition, error) {
	h, err := decodeReceiptHeader(t.Header)
	if err != nil {
		return nil, fmt.Errorf("%s.%w", what, err)
	}
	if err := checkCommitForm(what+".commit", t.Commit); err != nil {
		return nil, err
	}
	pt := &parsedTransition{header: h, hash: HeaderHash(h), commit: t.Commit}
	for i, v := range t.NextValidators {
		if v == nil {
			return nil, fmt.Errorf("%s.next_validators[%d]: empty", what, i)
		}
		pt.next = append(pt.next, Validator{PubKey: v.PubKey, Power: v.Power})
	}
	if pt.signers, err = parseSigners(what+".signers", t.Signers); err != nil {
		return nil, err
	}
	return pt, nil
}

// decodeReceiptHeader decodes a header of a receipt: in CometBFT's
// encoding (DecodeHeader), with the fields CometBFT's light client accepts
// (CheckHeaderFields).
func decodeReceiptHeader(b []byte) (*notaryv1.CometHeader, error) {
	h, err := DecodeHeader(b)
	if err != nil {
		return nil, err
	}
	if err := CheckHeaderFields(h); err != nil {
		return nil, err
	}
	return h, nil
}

// checkCommitForm checks the parts of a commit that CometBFT always has, so
// that a commit has one JSON form: a block id with a part set header, and a
// timestamp on every signature.
func checkCommitForm(what string, c *notaryv1.LightCommit) error {
	if c == nil {
		return fmt.Errorf("no %s", what)
	}
	if c.BlockId == nil || c.BlockId.PartSetHeader == nil {
		return fmt.Errorf("%s: no block_id with a part_set_header", what)
	}
	for i, s := range c.Signatures {
		if s == nil || s.Timestamp == nil {
			return fmt.Errorf("%s.signatures[%d]: no timestamp", what, i)
		}
		if err := s.Timestamp.CheckValid(); err != nil {
			return fmt.Errorf("%s.signatures[%d]: timestamp: %v", what, i, err)
		}
	}
	return nil
}

func parseSigners(what string, signers []*notaryv1.StateProof) ([]*parsedRecord, error) {
	var out []*parsedRecord
	for i, s := range signers {
		w := fmt.Sprintf("%s[%d]", what, i)
		if s == nil {
			return nil, fmt.Errorf("%s: empty", w)
		}
		m := &notaryv1.Ministry{}
		if err := decodeRecord(w+".record", s.Record, m); err != nil {
			return nil, err
		}
		proof, err := decodeProof(w+".proof", s.Proof, true)
		if err != nil {
			return nil, err
		}
		out = append(out, &parsedRecord{ministry: m, raw: s.Record, proof: proof})
	}
	return out, nil
}

// decodeRecord decodes a state record in its canonical encoding.
func decodeRecord(what string, b []byte, m proto.Message) error {
	if len(b) == 0 {
		return fmt.Errorf("%s: empty", what)
	}
	if err := ledger.DecodeCanonical(b, m); err != nil {
		return fmt.Errorf("%s: %v", what, err)
	}
	return nil
}

// decodeProof decodes an ICS23 CommitmentProof that must re-encode to the
// same bytes and be a single existence proof (exist) or a single
// non-existence proof.
func decodeProof(what string, b []byte, exist bool) (p *ics23.CommitmentProof, err error) {
	defer func() {
		if r := recover(); r != nil {
			p, err = nil, fmt.Errorf("%s: malformed ICS23 proof (%v)", what, r)
		}
	}()
	if len(b) == 0 {
		return nil, fmt.Errorf("%s: empty", what)
	}
	p = &ics23.CommitmentProof{}
	if err := p.Unmarshal(b); err != nil {
		return nil, fmt.Errorf("%s: %v", what, err)
	}
	re, err := p.Marshal()
	if err != nil {
		return nil, fmt.Errorf("%s: %v", what, err)
	}
	if !bytes.Equal(re, b) {
		return nil, fmt.Errorf("%s: ICS23 proof not in its canonical encoding", what)
	}
	if exist && p.GetExist() == nil {
		return nil, fmt.Errorf("%s: want an ICS23 existence proof", what)
	}
	if !exist && p.GetNonexist() == nil {
		return nil, fmt.Errorf("%s: want an ICS23 non-existence proof", what)
	}
	return p, nil
}
