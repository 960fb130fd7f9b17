package checkpoint

import (
	"bytes"
	"context"
	"encoding/base64"
	"errors"
	"fmt"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	cmtlog "github.com/cometbft/cometbft/libs/log"
	flog "github.com/transparency-dev/formats/log"
	tnote "github.com/transparency-dev/formats/note"
	"golang.org/x/mod/sumdb/note"
	"golang.org/x/mod/sumdb/tlog"

	"github.com/gobtechlab/notary/app"
	"github.com/gobtechlab/notary/app/witness"
	"github.com/gobtechlab/notary/ledger"
	notaryv1 "github.com/gobtechlab/notary/proto/notary/v1"
)

// WitnessInterval is how often Witnesses looks for a newer valid
// checkpoint; WitnessMaxBackoff bounds the wait after a witness's errors;
// WitnessHeld is how many checkpoints' cosignatures Witnesses holds of
// each witness (the latest ones).
const (
	WitnessInterval   = time.Second
	WitnessMaxBackoff = 5 * time.Minute
	WitnessHeld       = 16
	witnessTimeout    = 30 * time.Second
)

// Source is what Witnesses serves from: the checkpoint notes
// (*Notes).
type Source interface {
	Latest() ([]byte, bool, error)
	At(size uint64) ([]byte, bool, error)
}

// Witnesses submits the latest valid checkpoint (Notes.Latest) to the
// node's witnesses (app.toml [log] witnesses) and serves the checkpoint
// notes with the cosignatures they returned appended: the C2SP signed
// note of the validators' signatures and the witnesses' cosignatures. It
// runs in a goroutine of its own; a witness that errs is tried again after
// a wait that doubles up to WitnessMaxBackoff. The cosignatures are held in
// memory, those of the last WitnessHeld checkpoints each witness cosigned;
// after a restart each witness is asked again (it cosigns the checkpoint
// it cosigned last again). With a witness policy in force
// (params.witness_threshold k > 0, read through CheckRegistered), Latest
// serves the latest checkpoint held with cosignatures of k registered
// witnesses.
// Witnesses is a public.CheckpointSource and safe for concurrent use.
type Witnesses struct {
	notes    Source
	proofs   func() tlog.HashReader
	log      cmtlog.Logger
	interval time.Duration
	ws       []*submitted

	// params reads the params in force (nil: not checked); registered is
	// the witness list last checked against, touched by Start and the
	// submitting goroutine only.
	params     func() (*notaryv1.Params, error)
	registered string
	checked    bool

	loop loop
}

// submitted is one witness and what it cosigned.
type submitted struct {
	client   witness.Client
	verifier note.Verifier
	key      string

	// Touched by the submitting goroutine only.
	oldSize uint64        // the size the witness cosigned last, as far as known
	next    time.Time     // no submission before
	backoff time.Duration // the wait after the next error

	mu     sync.Mutex
	cosigs map[uint64][]byte // checkpoint size -> its verified cosignature lines
}

// hold keeps the cosignature lines of the checkpoint of size, dropping the
// smallest size held beyond WitnessHeld.
func (s *submitted) hold(size uint64, lines []byte) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.cosigs == nil {
		s.cosigs = map[uint64][]byte{}
	}
	s.cosigs[size] = lines
	for len(s.cosigs) > WitnessHeld {
		least := size
		for k := range s.cosigs {
			least = min(least, k)
		}
		delete(s.cosigs, least)
	}
}

// lines returns the cosignature lines held of the checkpoint of size.
func (s *submitted) lines(size uint64) ([]byte, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	b, ok := s.cosigs[size]
	return b, ok
}

// WitnessesFactory builds the witness submitter of a node from app.toml
// [log] witnesses; with none configured it only serves the checkpoint
// notes. Its Witnesses is the node's checkpoint source (public.Options).
func WitnessesFactory(n *app.Node) (*Witnesses, error) {
	notes := NewNotes(n.Chain().ChainID(), func() (State, error) { return n.App.StateAt(0) })
	var proofs func() tlog.HashReader
	if n.App.LogTiles() != nil {
		proofs = n.App.LiveLogTiles().HashReader
	}
	w, err := NewWitnesses(notes, proofs, n.Config.App.Log.Witnesses, n.Logger.With("module", "witnesses"), WitnessInterval)
	if err != nil {
		return nil, err
	}
	w.CheckRegistered(func() (*notaryv1.Params, error) {
		st, err := n.App.StateAt(0)
		if err != nil {
			return nil, err
		}
		return ledger.LoadParams(st)
	})
	return w, nil
}

// CheckRegistered makes w compare its witnesses with those governance
// registered (params.witnesses, read with params) when it starts and
// whenever they change: a configured witness whose key is not registered
// is logged as a warning. It is still submitted to, and its cosignatures
// served: they are extra, not counted by a trust bundle's witness policy.
// Call it before Start.
func (w *Witnesses) CheckRegistered(params func() (*notaryv1.Params, error)) {
	w.params = params
}

// checkRegistered logs, once per registered list, the configured
// witnesses governance did not register.
func (w *Witnesses) checkRegistered() {
	if w.params == nil || len(w.ws) == 0 {
		return
	}
	p, err := w.params()
	if errors.Is(err, ledger.ErrHeightUnavailable) {
		return // no committed state yet
	}
	if err != nil {
		w.log.Error("witnesses: read the params", "err", err)
		return
	}
	reg := map[string]string{}
	var keys []string
	for _, r := range p.GetWitnesses() {
		reg[witnessKeyID(r.Key)] = r.Name
		keys = append(keys, r.Key)
	}
	fp := strings.Join(keys, "\n") + "\n" + strconv.FormatUint(uint64(p.GetWitnessThreshold()), 10)
	if w.checked && fp == w.registered {
		return
	}
	w.checked, w.registered = true, fp
	for _, s := range w.ws {
		if name, ok := reg[witnessKeyID(s.key)]; ok {
			w.log.Info("witness registered by governance", "witness", s.client.URL, "name", name)
			continue
		}
		w.log.Error("witness not registered by governance: its cosignatures are served but no trust bundle's policy counts them (see docs/witness.md)",
			"witness", s.client.URL, "key", s.key, "registered", len(p.GetWitnesses()), "threshold", p.GetWitnessThreshold())
	}
}

// witnessKeyID is a witness key's name and public key, the same for the
// same key however it is written; the key itself if it does not parse.
func witnessKeyID(vkey string) string {
	name, pub, err := ledger.ParseWitnessKey(strings.TrimSpace(vkey))
	if err != nil {
		return vkey
	}
	return name + "+" + string(pub)
}

// NewWitnesses returns a submitter of notes' latest checkpoint to ws,
// proving consistency with the hashes proofs returns (the log's tiles), and
// looking for a newer checkpoint every interval.
func NewWitnesses(notes Source, proofs func() tlog.HashReader, ws []app.WitnessConfig, logger cmtlog.Logger, interval time.Duration) (*Witnesses, error) {
	w := &Witnesses{notes: notes, proofs: proofs, log: logger, interval: interval}
	for _, c := range ws {
		v, err := tnote.NewVerifierForCosignatureV1(c.Key)
		if err != nil {
			return nil, fmt.Errorf("witness %s: key %q: %w", c.URL, c.Key, err)
		}
		w.ws = append(w.ws, &submitted{
			client:   witness.Client{URL: c.URL, HTTP: &http.Client{Timeout: witnessTimeout}},
			verifier: v, key: c.Key,
		})
	}
	return w, nil
}

// Start starts submitting; without witnesses it does nothing.
func (w *Witnesses) Start() error {
	if len(w.ws) == 0 {
		return nil
	}
	if w.proofs == nil {
		return errors.New("witnesses: the node keeps no log tiles to prove consistency from")
	}
	w.checkRegistered()
	w.loop.start(w.interval, w.Step)
	return nil
}

// Stop stops submitting.
func (w *Witnesses) Stop() error {
	w.loop.stop()
	return nil
}

// Step submits the latest valid checkpoint to each witness that has not
// cosigned it and whose wait after an error is over.
func (w *Witnesses) Step(ctx context.Context) {
	w.checkRegistered()
	b, ok, err := w.notes.Latest()
	if err != nil {
		w.log.Error("witnesses: read the latest checkpoint", "err", err)
		return
	}
	if !ok {
		return
	}
	var cp flog.Checkpoint
	if _, err := cp.Unmarshal(b); err != nil {
		w.log.Error("witnesses: parse the latest checkpoint", "err", err)
		return
	}
	now := time.Now()
	for _, s := range w.ws {
		if s.cosigned(cp.Size) || now.Before(s.next) {
			continue
		}
		if err := w.submit(ctx, s, b, cp.Size); err != nil {
			if ctx.Err() != nil {
				return
			}
			s.backoff = min(max(2*s.backoff, w.interval), WitnessMaxBackoff)
			s.next = time.Now().Add(s.backoff)
			w.log.Error("witnesses: checkpoint not cosigned", "witness", s.client.URL, "size", cp.Size, "retry_in", s.backoff, "err", err)
			continue
		}
		s.backoff, s.next = 0, time.Time{}
		w.log.Info("checkpoint cosigned", "witness", s.client.URL, "size", cp.Size)
	}
}

// cosigned reports whether s holds a cosignature of the checkpoint of size.
func (s *submitted) cosigned(size uint64) bool {
	_, ok := s.lines(size)
	return ok
}

// submit sends the checkpoint of size (note b) to s, from the size s
// cosigned last; a conflict teaches that size, and the checkpoint is sent
// again once from it.
func (w *Witnesses) submit(ctx context.Context, s *submitted, b []byte, size uint64) error {
	for try := 0; ; try++ {
		if s.oldSize > size {
			return fmt.Errorf("the witness cosigned a checkpoint of size %d, larger than %d: it waits for a newer checkpoint", s.oldSize, size)
		}
		proof, err := w.consistency(s.oldSize, size)
		if err != nil {
			return err
		}
		rctx, cancel := context.WithTimeout(ctx, witnessTimeout)
		cosigs, err := s.client.AddCheckpoint(rctx, s.oldSize, proof, b)
		cancel()
		var conflict *witness.ConflictError
		if errors.As(err, &conflict) && try == 0 && conflict.Size != s.oldSize {
			s.oldSize = conflict.Size
			continue
		}
		if err != nil {
			return err
		}
		lines, err := verifiedLines(b, cosigs, s.verifier)
		if err != nil {
			return fmt.Errorf("cosignature of the witness does not verify with key %s: %w", s.key, err)
		}
		s.oldSize = size
		s.hold(size, lines)
		return nil
	}
}

// consistency is the proof that the log of size n extends the one of
// size old, from the tiles: empty when old is 0 or n.
func (w *Witnesses) consistency(old, n uint64) ([][]byte, error) {
	if old == 0 || old == n {
		return nil, nil
	}
	p, err := tlog.ProveTree(int64(n), int64(old), w.proofs())
	if err != nil {
		return nil, fmt.Errorf("consistency proof from %d to %d: %w", old, n, err)
	}
	out := make([][]byte, len(p))
	for i, h := range p {
		out[i] = bytes.Clone(h[:])
	}
	return out, nil
}

// verifiedLines returns the signature lines of cosigs that verify with v
// on checkpoint b.
func verifiedLines(b, cosigs []byte, v note.Verifier) ([]byte, error) {
	n, err := witness.VerifyCosignatures(b, cosigs, note.VerifierList(v))
	if err != nil {
		return nil, err
	}
	var out bytes.Buffer
	for _, sig := range n.Sigs {
		if sig.Name == v.Name() && sig.Hash == v.KeyHash() {
			// Served in canonical base64, once: verifiers refuse a key on
			// two lines and base64 that does not re-encode to itself.
			raw, err := base64.StdEncoding.DecodeString(sig.Base64)
			if err != nil {
				return nil, fmt.Errorf("cosignature: %w", err)
			}
			fmt.Fprintf(&out, "\u2014 %s %s\n", sig.Name, base64.StdEncoding.EncodeToString(raw))
			break
		}
	}
	if out.Len() == 0 {
		return nil, errors.New("no cosignature by the witness's key")
	}
	return out.Bytes(), nil
}

// Latest returns the latest valid checkpoint's note (Notes.Latest) with
// the cosignatures of it held. With a witness policy in force (k > 0
// registered witnesses' cosignatures required) and that note short of
// them, it returns instead the latest checkpoint held with k such
// cosignatures, if any: a receipt or a trust bundle built from it
// satisfies the policy.
func (w *Witnesses) Latest() ([]byte, bool, error) {
	b, ok, err := w.notes.Latest()
	if err != nil || !ok {
		return b, ok, err
	}
	b = w.appendCosignatures(b)
	reg, k := w.policy()
	if k == 0 || cosigned(b, reg) >= k {
		return b, true, nil
	}
	if old, ok, err := w.latestCosigned(reg, k); err != nil || ok {
		return old, ok, err
	}
	return b, true, nil
}

// policy returns the registered witnesses and the threshold in force; no
// threshold without configured witnesses or params to read.
func (w *Witnesses) policy() ([]*notaryv1.Witness, int) {
	if w.params == nil || len(w.ws) == 0 {
		return nil, 0
	}
	p, err := w.params()
	if err != nil {
		return nil, 0
	}
	return p.GetWitnesses(), int(p.GetWitnessThreshold())
}

// cosigned counts the registered witnesses ws whose cosignature of note b
// verifies.
func cosigned(b []byte, ws []*notaryv1.Witness) int {
	names, err := Cosigners(b, ws)
	if err != nil {
		return 0
	}
	return len(names)
}

// latestCosigned returns the note of the latest checkpoint whose held
// cosignatures include k of the registered witnesses ws.
func (w *Witnesses) latestCosigned(ws []*notaryv1.Witness, k int) ([]byte, bool, error) {
	seen := map[uint64]bool{}
	var sizes []uint64
	for _, s := range w.ws {
		s.mu.Lock()
		for size := range s.cosigs {
			if !seen[size] {
				seen[size] = true
				sizes = append(sizes, size)
			}
		}
		s.mu.Unlock()
	}
	slices.Sort(sizes)
	for i := len(sizes) - 1; i >= 0; i-- {
		b, ok, err := w.At(sizes[i])
		if err != nil {
			return nil, false, err
		}
		if ok && cosigned(b, ws) >= k {
			return b, true, nil
		}
	}
	return nil, false, nil
}

// At returns the note of the checkpoint of size (Notes.At) with the
// cosignatures of it held.
func (w *Witnesses) At(size uint64) ([]byte, bool, error) {
	b, ok, err := w.notes.At(size)
	if err != nil || !ok {
		return b, ok, err
	}
	return w.appendCosignatures(b), true, nil
}

// appendCosignatures appends to note b the cosignature lines held of its
// checkpoint, in the order of the configured witnesses.
func (w *Witnesses) appendCosignatures(b []byte) []byte {
	if len(w.ws) == 0 {
		return b
	}
	var cp flog.Checkpoint
	if _, err := cp.Unmarshal(b); err != nil {
		return b
	}
	out := b
	for _, s := range w.ws {
		if lines, ok := s.lines(cp.Size); ok {
			out = append(bytes.Clone(out), lines...)
		}
	}
	return out
}
