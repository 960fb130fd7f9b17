package checkpoint

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"time"

	cmtlog "github.com/cometbft/cometbft/libs/log"
	rpchttp "github.com/cometbft/cometbft/rpc/client/http"
	flog "github.com/transparency-dev/formats/log"
	"golang.org/x/mod/sumdb/note"

	"github.com/gobtechlab/notary/abci"
	"github.com/gobtechlab/notary/app"
	"github.com/gobtechlab/notary/cmd/verifier/verify"
	"github.com/gobtechlab/notary/ledger"
	notaryv1 "github.com/gobtechlab/notary/proto/notary/v1"
)

// BundleSource says where ForBundle read the checkpoint from.
type BundleSource string

// Sources of ForBundle.
const (
	// FromNode: the running node, through its CometBFT RPC (abci_query
	// /store) and its public endpoint (/log/checkpoint).
	FromNode BundleSource = "running node"
	// FromState: the stored state of a stopped node.
	FromState BundleSource = "stored state"
)

// nodeTimeout bounds each question to a running node.
const nodeTimeout = 5 * time.Second

// ForBundle returns what a trust bundle of the home's chain carries of the
// evidence log (app.TrustExport.Log): the latest valid checkpoint, with the
// witnesses' cosignatures the node holds, its validator set, and the
// witness policy of the params. A running node (its CometBFT RPC answers)
// is asked, because it holds the state's database locked and the
// cosignatures in memory; a stopped node's stored state is read instead
// (it holds no cosignature). It returns nil when the chain keeps no
// evidence log or the home has no state yet. Without a checkpoint that
// carries witness_threshold registered witnesses' cosignatures, the
// answer has no checkpoint, and why is in BundleLog.Missing.
func ForBundle(ctx context.Context, cfg *app.Config, chainID string) (*app.BundleLog, BundleSource, error) {
	rpc, err := rpchttp.New("tcp://"+trimScheme(cfg.Comet.RPC.ListenAddress), "/websocket")
	if err != nil {
		return nil, "", fmt.Errorf("rpc %q: %w", cfg.Comet.RPC.ListenAddress, err)
	}
	sctx, cancel := context.WithTimeout(ctx, nodeTimeout)
	st, serr := rpc.Status(sctx)
	cancel()
	if serr == nil && st.NodeInfo.Network == chainID {
		l, err := fromNode(ctx, cfg, chainID, rpc)
		return l, FromNode, err
	}
	if serr == nil {
		serr = fmt.Errorf("a node of chain %q answers there", st.NodeInfo.Network)
	}
	l, err := fromState(cfg, chainID)
	if err != nil {
		return nil, "", fmt.Errorf("%w (the node's RPC at %s does not answer: %v)", err, cfg.Comet.RPC.ListenAddress, serr)
	}
	return l, FromState, nil
}

// trimScheme drops "tcp://" or "unix://" from a listen address.
func trimScheme(addr string) string {
	if _, rest, ok := strings.Cut(addr, "://"); ok {
		return rest
	}
	return addr
}

// reader reads keys of one committed state.
type reader func(key []byte) ([]byte, error)

func fromNode(ctx context.Context, cfg *app.Config, chainID string, rpc *rpchttp.HTTP) (*app.BundleLog, error) {
	var height int64
	get := func(key []byte) ([]byte, error) {
		qctx, cancel := context.WithTimeout(ctx, nodeTimeout)
		defer cancel()
		res, err := rpc.ABCIQuery(qctx, abci.QueryStore, key)
		if err == nil && res.Response.Code != 0 {
			err = fmt.Errorf("code %d: %s", res.Response.Code, res.Response.Log)
		}
		if err != nil {
			return nil, fmt.Errorf("abci_query %s %q: %w", abci.QueryStore, key, err)
		}
		if height == 0 {
			height = res.Response.Height
		} else if res.Response.Height != height {
			// The keys are read at one height: a later block may have
			// changed them.
			return nil, errHeightMoved
		}
		return res.Response.Value, nil
	}
	var last error
	for try := 0; try < 5; try++ {
		height = 0
		note, err := fetchCheckpoint(ctx, cfg.App.Public.Listen)
		if err != nil {
			return nil, err
		}
		l, err := bundleLog(chainID, get, note)
		if !errors.Is(err, errHeightMoved) {
			return l, err
		}
		last = err
	}
	return nil, last
}

var errHeightMoved = errors.New("the node committed a block while its state was read")

// logCheckpointPath is public.LogCheckpointPath (app/public imports this
// package).
const logCheckpointPath = "/log/checkpoint"

// fetchCheckpoint asks a node's public endpoint (listening on listen) for
// /log/checkpoint; nil if it has none yet.
func fetchCheckpoint(ctx context.Context, listen string) ([]byte, error) {
	if listen == "" {
		return nil, errors.New("the node serves no public endpoint ([public] listen), where its checkpoints and their cosignatures are: export with --no-checkpoint, or stop the node to export from its stored state")
	}
	host, port, err := net.SplitHostPort(listen)
	if err != nil {
		return nil, fmt.Errorf("public endpoint %q: %w", listen, err)
	}
	if ip := net.ParseIP(host); host == "" || ip != nil && ip.IsUnspecified() {
		host = "127.0.0.1"
	}
	url := "http://" + net.JoinHostPort(host, port) + logCheckpointPath
	rctx, cancel := context.WithTimeout(ctx, nodeTimeout)
	defer cancel()
	req, err := http.NewRequestWithContext(rctx, http.MethodGet, url, nil)
	if err != nil {
		return nil, err
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return nil, fmt.Errorf("public endpoint: %w", err)
	}
	defer func() { _ = resp.Body.Close() }()
	b, err := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	if err != nil {
		return nil, fmt.Errorf("public endpoint: %s: %w", url, err)
	}
	switch resp.StatusCode {
	case http.StatusOK:
		return b, nil
	case http.StatusNotFound:
		return nil, nil
	}
	return nil, fmt.Errorf("public endpoint: %s: %s", url, resp.Status)
}

func fromState(cfg *app.Config, chainID string) (*app.BundleLog, error) {
	dir := filepath.Join(cfg.Comet.DBDir(), "app")
	if _, err := os.Stat(filepath.Join(dir, "application.db")); errors.Is(err, os.ErrNotExist) {
		return nil, nil // the node never ran: no state, no checkpoint
	}
	opts := abci.DefaultOptions(dir, chainID)
	opts.Logger = cmtlog.NewNopLogger()
	a, err := abci.NewApplication(opts)
	if err != nil {
		return nil, fmt.Errorf("open the stored state: %w", err)
	}
	defer func() { _ = a.Close() }()
	st, err := a.StateAt(0)
	if err != nil {
		return nil, fmt.Errorf("open the stored state: %w", err)
	}
	if st.Height() == 0 {
		return nil, nil
	}
	b, ok, err := NewNotes(chainID, func() (State, error) { return st, nil }).Latest()
	if err != nil {
		return nil, err
	}
	if !ok {
		b = nil
	}
	return bundleLog(chainID, st.Get, b)
}

// bundleLog builds the bundle's log part from the state get reads and the
// latest valid checkpoint's note b (nil: none).
func bundleLog(chainID string, get reader, b []byte) (*app.BundleLog, error) {
	pb, err := get(ledger.ParamsKey())
	if err != nil {
		return nil, err
	}
	if pb == nil {
		return nil, nil // no state yet
	}
	p := &notaryv1.Params{}
	if err := ledger.DecodeCanonical(pb, p); err != nil {
		return nil, fmt.Errorf("params: %w", err)
	}
	if !p.EvidenceLog {
		return nil, nil
	}
	l := &app.BundleLog{Witnesses: p.Witnesses, WitnessThreshold: p.WitnessThreshold}
	if b == nil {
		l.Missing = "the chain has no valid checkpoint yet"
		return l, nil
	}
	var cp flog.Checkpoint
	if _, err := cp.Unmarshal(b); err != nil {
		return nil, fmt.Errorf("checkpoint: %w", err)
	}
	cb, err := get(ledger.CheckpointKey(cp.Size))
	if err != nil {
		return nil, err
	}
	if cb == nil {
		return nil, fmt.Errorf("checkpoint of size %d: no record in the state", cp.Size)
	}
	rec := &notaryv1.LogCheckpoint{}
	if err := ledger.DecodeCanonical(cb, rec); err != nil {
		return nil, fmt.Errorf("checkpoint of size %d: %w", cp.Size, err)
	}
	vals := make([]verify.LogValidator, 0, len(rec.Validators))
	tvs := make([]*notaryv1.TrustedValidator, 0, len(rec.Validators))
	for _, v := range rec.Validators {
		mb, err := get(ledger.MinistryKey(v.MinistryId))
		if err != nil {
			return nil, err
		}
		m := &notaryv1.Ministry{}
		if mb == nil {
			return nil, fmt.Errorf("checkpoint of size %d: ministry %q not in the state", cp.Size, v.MinistryId)
		}
		if err := ledger.DecodeCanonical(mb, m); err != nil {
			return nil, fmt.Errorf("ministry %q: %w", v.MinistryId, err)
		}
		vals = append(vals, verify.LogValidator{MinistryID: v.MinistryId, PubKey: v.PubKey, Power: v.Power})
		tvs = append(tvs, &notaryv1.TrustedValidator{MinistryId: v.MinistryId, Name: m.Name, PubKey: v.PubKey, Power: v.Power})
	}
	sort.Slice(tvs, func(i, j int) bool { return tvs[i].MinistryId < tvs[j].MinistryId })
	v, err := verify.VerifyLogCheckpoint(chainID, b, vals)
	if err != nil {
		return nil, fmt.Errorf("checkpoint of size %d: %w", cp.Size, err)
	}
	cosigners, err := Cosigners(b, p.Witnesses)
	if err != nil {
		return nil, err
	}
	if uint32(len(cosigners)) < p.WitnessThreshold {
		l.Missing = fmt.Sprintf("the checkpoint of size %d carries cosignatures of %d of the %d registered witnesses the policy requires (the node holds those of its configured witnesses, once they cosigned)",
			cp.Size, len(cosigners), p.WitnessThreshold)
		return l, nil
	}
	l.Checkpoint, l.Validators, l.Size, l.Signers, l.Cosigners = b, tvs, v.Size, v.Signers, cosigners
	return l, nil
}

// Cosigners returns the names of the registered witnesses whose
// cosignature of note b verifies, in the order of ws, read as a verifier
// reads them: the keys parsed by verify.ParseWitnessKey and the note
// opened once with all of them, so that a registered witness's line that
// does not verify refuses the note, as verify.CheckTrustBundle and
// verify.VerifyReceipt refuse it.
func Cosigners(b []byte, ws []*notaryv1.Witness) ([]string, error) {
	if len(ws) == 0 {
		return nil, nil
	}
	byID := map[string]int{} // note key name + key hash -> index in ws
	var vs []note.Verifier
	for i, w := range ws {
		v, err := verify.ParseWitnessKey(w.Key)
		if err != nil {
			return nil, fmt.Errorf("witness %q: key: %w", w.Name, err)
		}
		id := fmt.Sprintf("%s+%08x", v.Name(), v.KeyHash())
		if _, dup := byID[id]; dup {
			continue
		}
		byID[id] = i
		vs = append(vs, v)
	}
	n, err := note.Open(b, note.VerifierList(vs...))
	var unverified *note.UnverifiedNoteError
	switch {
	case errors.As(err, &unverified):
		return nil, nil
	case err != nil:
		return nil, fmt.Errorf("checkpoint cosignatures: %w", err)
	}
	seen := map[int]bool{}
	for _, s := range n.Sigs {
		if i, ok := byID[fmt.Sprintf("%s+%08x", s.Name, s.Hash)]; ok {
			seen[i] = true
		}
	}
	var out []string
	for i, w := range ws {
		if seen[i] {
			out = append(out, w.Name)
		}
	}
	return out, nil
}
