package witness

import (
	"bytes"
	"errors"
	"fmt"
	"strings"
	"sync"

	flog "github.com/transparency-dev/formats/log"
	"github.com/transparency-dev/merkle/proof"
	"github.com/transparency-dev/merkle/rfc6962"
	"golang.org/x/mod/sumdb/note"
)

// MaxProofLines is the largest consistency proof a request may carry
// (C2SP tlog-witness: a client sends at most 63 lines).
const MaxProofLines = 63

// Errors of AddCheckpoint; StatusOf maps them to the HTTP statuses of
// C2SP tlog-witness.
var (
	// ErrMalformed: the request or its checkpoint cannot be parsed (400).
	ErrMalformed = errors.New("malformed request")
	// ErrUnknownLog: no log of the checkpoint's origin is configured (404).
	ErrUnknownLog = errors.New("unknown log origin")
	// ErrSignatures: fewer than the log's threshold of its keys signed the
	// checkpoint, or a signature by one of its keys is invalid (403).
	ErrSignatures = errors.New("log signatures refused")
	// ErrOldSize: the old size is larger than the checkpoint's size (400).
	ErrOldSize = errors.New("old size larger than the checkpoint size")
	// ErrRootMismatch: the checkpoint has the size of the last cosigned one
	// but another root hash: a fork (409).
	ErrRootMismatch = errors.New("same size as the cosigned checkpoint, different root hash")
	// ErrProof: the consistency proof does not prove the checkpoint
	// extends the last cosigned one (422).
	ErrProof = errors.New("consistency proof does not verify")
)

// ConflictError is the refusal of a request whose old size is not the
// size of the last checkpoint cosigned for its origin (409); Size is that
// size, which the client sends as its old size next time.
type ConflictError struct {
	Size uint64
}

func (e *ConflictError) Error() string {
	return fmt.Sprintf("old size does not match the last cosigned size %d", e.Size)
}

// Log is the witness's policy for one log: a checkpoint of Origin is the
// log's when at least Threshold of Keys signed it.
type Log struct {
	// Origin is the checkpoint's first line.
	Origin string `json:"origin"`
	// Keys are the log's note verifier keys (name+hash+base64), one per
	// validator.
	Keys []string `json:"keys"`
	// Threshold is how many distinct Keys must have signed; 0 means all.
	Threshold int `json:"threshold,omitempty"`
}

// policy is a Log parsed.
type policy struct {
	origin    string
	verifiers note.Verifiers
	threshold int
}

func (l Log) parse() (*policy, error) {
	if l.Origin == "" || strings.ContainsAny(l.Origin, "\n") {
		return nil, errors.New("log without an origin")
	}
	if len(l.Keys) == 0 {
		return nil, fmt.Errorf("log %q: no keys", l.Origin)
	}
	vs := make([]note.Verifier, 0, len(l.Keys))
	seen := make(map[string]bool, len(l.Keys))
	for _, k := range l.Keys {
		v, err := note.NewVerifier(k)
		if err != nil {
			return nil, fmt.Errorf("log %q: key %q: %w", l.Origin, k, err)
		}
		id := keyID(v.Name(), v.KeyHash())
		if seen[id] {
			return nil, fmt.Errorf("log %q: key %s listed twice", l.Origin, id)
		}
		seen[id] = true
		vs = append(vs, v)
	}
	k := l.Threshold
	if k == 0 {
		k = len(vs)
	}
	if k < 0 || k > len(vs) {
		return nil, fmt.Errorf("log %q: threshold %d not in 1..%d", l.Origin, l.Threshold, len(vs))
	}
	return &policy{origin: l.Origin, verifiers: note.VerifierList(vs...), threshold: k}, nil
}

func keyID(name string, hash uint32) string { return fmt.Sprintf("%s+%08x", name, hash) }

// Witness cosigns the checkpoints of its logs that extend the ones it
// cosigned before. It is safe for concurrent use: requests for one witness
// are checked and saved one at a time.
type Witness struct {
	signer note.Signer
	logs   map[string]*policy

	mu    sync.Mutex
	state *State
	path  string
}

// New returns a witness that cosigns with signer (a cosignature/v1 signer,
// see LoadKey) the checkpoints of logs, keeping its state in the file at
// statePath (created on the first cosignature).
func New(signer note.Signer, logs []Log, statePath string) (*Witness, error) {
	if signer == nil {
		return nil, errors.New("no signer")
	}
	w := &Witness{signer: signer, logs: make(map[string]*policy, len(logs)), path: statePath}
	for _, l := range logs {
		p, err := l.parse()
		if err != nil {
			return nil, err
		}
		if w.logs[p.origin] != nil {
			return nil, fmt.Errorf("log %q configured twice", p.origin)
		}
		w.logs[p.origin] = p
	}
	st, err := LoadState(statePath)
	if err != nil {
		return nil, err
	}
	w.state = st
	return w, nil
}

// Name is the witness's name (its key's).
func (w *Witness) Name() string { return w.signer.Name() }

// Latest returns the size and root hash of the last checkpoint cosigned for
// origin; ok is false if there is none.
func (w *Witness) Latest(origin string) (size uint64, root []byte, ok bool) {
	w.mu.Lock()
	defer w.mu.Unlock()
	r, ok := w.state.Logs[origin]
	if !ok {
		return 0, nil, false
	}
	return r.Size, bytes.Clone(r.Root), true
}

// AddCheckpoint checks checkpoint (a signed note) against the policy of its
// log and the last checkpoint cosigned for it, as C2SP tlog-witness
// specifies, saves it as the latest, and returns the witness's cosignature
// lines ("— name base64\n"). It returns one of the package's errors, or a
// *ConflictError, when it refuses; any other error is the witness's own
// (its state could not be saved) and nothing was cosigned.
func (w *Witness) AddCheckpoint(oldSize uint64, consistency [][]byte, checkpoint []byte) ([]byte, error) {
	if len(consistency) > MaxProofLines {
		return nil, fmt.Errorf("%w: %d proof lines, at most %d", ErrMalformed, len(consistency), MaxProofLines)
	}
	var cp flog.Checkpoint
	if _, err := cp.Unmarshal(checkpoint); err != nil {
		return nil, fmt.Errorf("%w: %w", ErrMalformed, err)
	}
	if len(cp.Hash) != rfc6962.DefaultHasher.Size() {
		return nil, fmt.Errorf("%w: root hash of %d bytes", ErrMalformed, len(cp.Hash))
	}
	p := w.logs[cp.Origin]
	if p == nil {
		return nil, fmt.Errorf("%w: %q", ErrUnknownLog, cp.Origin)
	}
	n, err := note.Open(checkpoint, p.verifiers)
	if err != nil {
		var unverified *note.UnverifiedNoteError
		if errors.As(err, &unverified) {
			return nil, fmt.Errorf("%w: none is by a key of the log, %d needed", ErrSignatures, p.threshold)
		}
		var invalid *note.InvalidSignatureError
		if errors.As(err, &invalid) {
			return nil, fmt.Errorf("%w: %w", ErrSignatures, err)
		}
		return nil, fmt.Errorf("%w: %w", ErrMalformed, err)
	}
	signers := make(map[string]bool, len(n.Sigs))
	for _, s := range n.Sigs {
		signers[keyID(s.Name, s.Hash)] = true
	}
	if len(signers) < p.threshold {
		return nil, fmt.Errorf("%w: %d of its keys signed, %d needed", ErrSignatures, len(signers), p.threshold)
	}
	if oldSize > cp.Size {
		return nil, fmt.Errorf("%w: old %d, checkpoint %d", ErrOldSize, oldSize, cp.Size)
	}
	if cp.Size == 0 && !bytes.Equal(cp.Hash, rfc6962.DefaultHasher.EmptyRoot()) {
		return nil, fmt.Errorf("%w: a tree of size 0 has the empty root", ErrProof)
	}

	w.mu.Lock()
	defer w.mu.Unlock()
	last, ok := w.state.Logs[cp.Origin]
	if oldSize != last.Size {
		return nil, &ConflictError{Size: last.Size}
	}
	switch {
	case ok && oldSize == cp.Size:
		if !bytes.Equal(last.Root, cp.Hash) {
			return nil, fmt.Errorf("%w: size %d", ErrRootMismatch, cp.Size)
		}
		if len(consistency) != 0 {
			return nil, fmt.Errorf("%w: a proof between equal sizes must be empty", ErrProof)
		}
	case oldSize == 0:
		if len(consistency) != 0 {
			return nil, fmt.Errorf("%w: a proof from size 0 must be empty", ErrProof)
		}
	default:
		if err := proof.VerifyConsistency(rfc6962.DefaultHasher, oldSize, cp.Size, consistency, last.Root, cp.Hash); err != nil {
			return nil, fmt.Errorf("%w: %w", ErrProof, err)
		}
	}

	signed, err := note.Sign(&note.Note{Text: n.Text}, w.signer)
	if err != nil {
		return nil, fmt.Errorf("cosign: %w", err)
	}
	cosig := signed[len(n.Text)+1:]

	next := w.state.clone()
	next.Logs[cp.Origin] = Record{Size: cp.Size, Root: bytes.Clone(cp.Hash), Checkpoint: string(n.Text)}
	if err := next.Save(w.path); err != nil {
		return nil, fmt.Errorf("save witness state: %w", err)
	}
	w.state = next
	return cosig, nil
}
