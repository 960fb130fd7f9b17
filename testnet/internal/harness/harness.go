package harness

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"sync"
	"syscall"
	"testing"
	"time"

	dbm "github.com/cometbft/cometbft-db"
	abcitypes "github.com/cometbft/cometbft/abci/types"
	rpchttp "github.com/cometbft/cometbft/rpc/client/http"
	"github.com/cometbft/cometbft/store"
	cmttypes "github.com/cometbft/cometbft/types"

	"github.com/gobtechlab/notary/abci"
	"github.com/gobtechlab/notary/app"
)

var (
	buildMu sync.Mutex
	builds  = map[string]*build{} // package and build tags -> the binary built
)

type build struct {
	once sync.Once
	path string
	err  error
}

// Binary builds cmd/notaryd once per test process and returns its path.
func Binary(t testing.TB) string {
	t.Helper()
	return TaggedBinary(t, "")
}

// TaggedBinary builds cmd/notaryd with the given build tags (comma
// separated, e.g. "failpoints") once per test process and tag set, and
// returns its path; "" is the normal build (Binary).
func TaggedBinary(t testing.TB, tags string) string {
	t.Helper()
	return buildOnce(t, "github.com/gobtechlab/notary/cmd/notaryd", tags)
}

// Tool builds the main package pkg (an import path, such as the test
// helpers under testnet/internal) once per test process and returns the
// binary's path.
func Tool(t testing.TB, pkg string) string {
	t.Helper()
	return buildOnce(t, pkg, "")
}

func buildOnce(t testing.TB, pkg, tags string) string {
	t.Helper()
	key := pkg + "|" + tags
	buildMu.Lock()
	b, ok := builds[key]
	if !ok {
		b = &build{}
		builds[key] = b
	}
	buildMu.Unlock()
	b.once.Do(func() {
		dir, err := os.MkdirTemp("", "notaryd-bin")
		if err != nil {
			b.err = err
			return
		}
		b.path = filepath.Join(dir, filepath.Base(pkg))
		args := []string{"build", "-o", b.path}
		if tags != "" {
			args = append(args, "-tags", tags)
		}
		out, err := exec.Command("go", append(args, pkg)...).CombinedOutput()
		if err != nil {
			b.err = fmt.Errorf("go build %s (tags %q): %v\n%s", pkg, tags, err, out)
		}
	})
	if b.err != nil {
		t.Fatal(b.err)
	}
	return b.path
}

// FreePorts returns n distinct free TCP ports on 127.0.0.1, consecutive
// and outside the kernel's ephemeral range (see FreePortBlock), so that a
// node killed and restarted finds its ports free again.
func FreePorts(t testing.TB, n int) []int {
	t.Helper()
	base := FreePortBlock(t, n)
	ports := make([]int, n)
	for i := range ports {
		ports[i] = base + i
	}
	return ports
}

// Proc is a notaryd process on a home.
type Proc struct {
	t       testing.TB
	Home    string
	RPCPort int
	Args    []string // extra arguments after "start --home H"
	LogPath string
	// Bin is the notaryd binary to run; empty for Binary's.
	Bin string
	// Env is added to the test's environment for the next Start (for
	// example NOTARY_FAILPOINT=commit-before-save@12).
	Env []string
	// RPCHost is the address of the node's CometBFT RPC ("" for
	// 127.0.0.1); NetNS the network namespace it runs in ("" for the
	// test's own), as a netlab host.
	RPCHost string
	NetNS   string

	mu     sync.Mutex
	cmd    *exec.Cmd
	done   chan struct{}
	log    *os.File
	exit   error // how the last process ended (nil: exit 0)
	paused bool
	starts int
	rpc    *rpchttp.HTTP
}

// NewProc prepares a node process; Start runs it.
func NewProc(t testing.TB, home string, rpcPort int) *Proc {
	return &Proc{t: t, Home: home, RPCPort: rpcPort, LogPath: filepath.Join(home, "node.log")}
}

// Start launches the process, appending to its log.
func (p *Proc) Start() {
	p.t.Helper()
	p.mu.Lock()
	defer p.mu.Unlock()
	f, err := os.OpenFile(p.LogPath, os.O_CREATE|os.O_APPEND|os.O_WRONLY, 0o644)
	if err != nil {
		p.t.Fatal(err)
	}
	bin := p.Bin
	if bin == "" {
		bin = Binary(p.t)
	}
	args := append([]string{"start", "--home", p.Home}, p.Args...)
	cmd := exec.Command(bin, args...)
	if p.NetNS != "" {
		// ip execs notaryd in the namespace: the process is notaryd's.
		cmd = exec.Command("ip", append([]string{"netns", "exec", p.NetNS, bin}, args...)...)
		cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
	}
	cmd.Env = append(os.Environ(), p.Env...)
	cmd.Stdout, cmd.Stderr = f, f
	if err := cmd.Start(); err != nil {
		_ = f.Close()
		p.t.Fatal(err)
	}
	done := make(chan struct{})
	go func() {
		err := cmd.Wait()
		_ = f.Close()
		p.mu.Lock()
		p.exit = err
		p.mu.Unlock()
		close(done)
	}()
	p.cmd, p.done, p.log, p.paused, p.rpc = cmd, done, f, false, nil
	p.starts++
	p.t.Cleanup(func() { p.Kill() })
}

// Starts counts the processes started on this home.
func (p *Proc) Starts() int {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.starts
}

// ExitErr is how the last process ended: nil for exit status 0.
func (p *Proc) ExitErr() error {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.exit
}

// Pid is the process id of the running process (0 if none).
func (p *Proc) Pid() int {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.cmd == nil || p.cmd.Process == nil {
		return 0
	}
	return p.cmd.Process.Pid
}

// Pause freezes the process with SIGSTOP; Resume continues it with SIGCONT.
func (p *Proc) Pause() error { return p.freeze(syscall.SIGSTOP, true) }

// Resume continues a paused process (SIGCONT).
func (p *Proc) Resume() error { return p.freeze(syscall.SIGCONT, false) }

// Paused reports whether the process is frozen by Pause.
func (p *Proc) Paused() bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.paused
}

func (p *Proc) freeze(sig syscall.Signal, paused bool) error {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.cmd == nil || p.cmd.Process == nil {
		return fmt.Errorf("node %s is not running", p.Home)
	}
	if err := p.cmd.Process.Signal(sig); err != nil {
		return fmt.Errorf("node %s: %v: %w", p.Home, sig, err)
	}
	p.paused = paused
	return nil
}

// Kill sends SIGKILL and waits for the process to exit.
func (p *Proc) Kill() { p.signal(syscall.SIGKILL) }

// Stop sends SIGTERM and waits for a clean exit.
func (p *Proc) Stop() { p.signal(syscall.SIGTERM) }

func (p *Proc) signal(sig syscall.Signal) {
	p.mu.Lock()
	cmd, done := p.cmd, p.done
	p.mu.Unlock()
	if cmd == nil || cmd.Process == nil {
		return
	}
	select {
	case <-done:
		return
	default:
	}
	_ = cmd.Process.Signal(sig)
	if sig != syscall.SIGKILL {
		// A frozen process only handles SIGTERM once it runs again.
		_ = cmd.Process.Signal(syscall.SIGCONT)
	}
	select {
	case <-done:
	case <-time.After(30 * time.Second):
		_ = cmd.Process.Kill()
		<-done
	}
}

// Running reports whether the process is alive.
func (p *Proc) Running() bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.done == nil {
		return false
	}
	select {
	case <-p.done:
		return false
	default:
		return true
	}
}

// RPC returns a CometBFT RPC client of the node, one per process started
// (so that no connection outlives the process it was made to).
func (p *Proc) RPC() *rpchttp.HTTP {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.rpc != nil {
		return p.rpc
	}
	hc := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 32, IdleConnTimeout: 5 * time.Second}}
	host := p.RPCHost
	if host == "" {
		host = "127.0.0.1"
	}
	c, err := rpchttp.NewWithClient(fmt.Sprintf("tcp://%s:%d", host, p.RPCPort), "/websocket", hc)
	if err != nil {
		p.t.Fatal(err)
	}
	p.rpc = c
	return c
}

// Height returns the node's latest height, or an error if it does not answer.
func (p *Proc) Height(ctx context.Context) (int64, error) {
	st, err := p.RPC().Status(ctx)
	if err != nil {
		return 0, err
	}
	return st.SyncInfo.LatestBlockHeight, nil
}

// WaitHeight waits until the node reports at least height.
func (p *Proc) WaitHeight(ctx context.Context, height int64, timeout time.Duration) error {
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	for {
		h, err := p.Height(ctx)
		if err == nil && h >= height {
			return nil
		}
		if !p.Running() {
			return fmt.Errorf("node %s exited (log: %s)", p.Home, p.LogPath)
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("node %s: height %d not reached (at %d, %v)", p.Home, height, h, err)
		case <-time.After(100 * time.Millisecond):
		}
	}
}

// BlockStore opens a stopped node's block store (read it, then Close).
func BlockStore(home string) (*store.BlockStore, func(), error) {
	db, err := app.OpenBlockStore(dbm.GoLevelDBBackend, filepath.Join(home, "data"))
	if err != nil {
		return nil, nil, err
	}
	return store.NewBlockStore(db), func() { _ = db.Close() }, nil
}

// ReplayResult is what an independent replay of a node's blocks computed.
type ReplayResult struct {
	Height int64
	Hashes map[int64][]byte // state version -> app hash
	App    *abci.Application
}

// Replay executes every block of a stopped node's block store through a fresh
// application in dir and checks, at every height h below the last, that the
// app hash equals the one in the header of h+1 (what the node agreed to).
func Replay(t testing.TB, home, dir string) *ReplayResult {
	t.Helper()
	bs, closeBS, err := BlockStore(home)
	if err != nil {
		t.Fatal(err)
	}
	defer closeBS()
	gen, err := cmttypes.GenesisDocFromFile(filepath.Join(home, "config", "genesis.json"))
	if err != nil {
		t.Fatal(err)
	}
	// The blocks name large transactions by hash: their bytes come from
	// the node's transaction store, copied.
	if err := os.CopyFS(filepath.Join(dir, "txs"), os.DirFS(filepath.Join(home, "data", "app", "txs"))); err != nil {
		t.Fatal(err)
	}
	app, err := abci.NewApplication(abci.DefaultOptions(dir, gen.ChainID))
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	if _, err := app.InitChain(ctx, &abcitypes.RequestInitChain{ChainId: gen.ChainID, InitialHeight: gen.InitialHeight, AppStateBytes: gen.AppState, Time: gen.GenesisTime}); err != nil {
		t.Fatal(err)
	}
	res := &ReplayResult{Hashes: map[int64][]byte{}, App: app}
	last := bs.Height()
	for h := bs.Base(); h <= last; h++ {
		blk := bs.LoadBlock(h)
		if blk == nil {
			t.Fatalf("block %d missing", h)
		}
		txs := make([][]byte, len(blk.Txs))
		for i, tx := range blk.Txs {
			txs[i] = tx
		}
		fin, err := app.FinalizeBlock(ctx, &abcitypes.RequestFinalizeBlock{
			Txs: txs, Height: h, Time: blk.Time, Hash: blk.Hash(), ProposerAddress: blk.ProposerAddress,
		})
		if err != nil {
			t.Fatalf("replay FinalizeBlock %d: %v", h, err)
		}
		if _, err := app.Commit(ctx, &abcitypes.RequestCommit{}); err != nil {
			t.Fatalf("replay Commit %d: %v", h, err)
		}
		res.Hashes[h] = fin.AppHash
		if next := bs.LoadBlockMeta(h + 1); next != nil && string(next.Header.AppHash) != string(fin.AppHash) {
			t.Fatalf("height %d: replayed app hash %X, header %d says %X", h, fin.AppHash, h+1, next.Header.AppHash)
		}
		res.Height = h
	}
	t.Cleanup(func() {
		if err := app.Close(); err != nil {
			t.Errorf("close the replayed state: %v", err)
		}
	})
	return res
}

// ErrStopped is returned by load generators when the test ends.
var ErrStopped = errors.New("stopped")
