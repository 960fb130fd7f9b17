package testnet

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/binary"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"golang.org/x/mod/sumdb/tlog"

	"github.com/gobtechlab/notary/abci"
	"github.com/gobtechlab/notary/abci/tlogtiles"
	"github.com/gobtechlab/notary/app"
	"github.com/gobtechlab/notary/app/identity"
	"github.com/gobtechlab/notary/ledger"
	notaryv1 "github.com/gobtechlab/notary/proto/notary/v1"
	"github.com/gobtechlab/notary/testnet/internal/harness"
)

// failpointExit is the exit status of a process stopped by a failpoint
// (failpoint.ExitCode, which only builds with the failpoints tag have).
const failpointExit = 99

// failpoints are the names of abci/internal/failpoint (an internal package
// of abci, not importable here), in the order a block passes them.
// TestCrashSweep checks that abci's sources hit exactly these.
var failpoints = []string{
	"finalize-before", "finalize-after",
	"commit-before-index", "commit-before-save", "commit-after-save", "commit-after",
	"log-tiles-written", "log-integrated",
}

// evidenceFailpoints are reached only by blocks that append to the
// evidence log: the sweep arms them for any height and reads the height
// from the log.
var evidenceFailpoints = []string{"log-tiles-written", "log-integrated"}

// failpointHit matches a failpoint in abci's sources.
var failpointHit = regexp.MustCompile(`failpoint\.Hit\("([a-z-]+)"`)

// checkFailpointList fails the test if abci's sources hit failpoints that
// are not in failpoints, or not all of them.
func checkFailpointList(t *testing.T) {
	t.Helper()
	files, err := filepath.Glob("../abci/*.go")
	if err != nil || len(files) == 0 {
		t.Fatalf("abci sources: %v", err)
	}
	var hit []string
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		for _, m := range failpointHit.FindAllStringSubmatch(string(b), -1) {
			if !slices.Contains(hit, m[1]) {
				hit = append(hit, m[1])
			}
		}
	}
	for _, name := range failpoints {
		if !slices.Contains(hit, name) {
			t.Fatalf("failpoint %q is not hit in abci's sources (they hit %v)", name, hit)
		}
	}
	for _, name := range hit {
		if !slices.Contains(failpoints, name) {
			t.Fatalf("abci hits failpoint %q, which the sweep does not cover: add it to failpoints", name)
		}
	}
}

// TestCrashSweep crashes a real notaryd process, built with the failpoints
// tag, at every persistence boundary in turn (before and
// after FinalizeBlock, inside Commit before the index, before and after
// SaveVersion, after Commit; every failpoint.Hit in abci), each at a height a few blocks ahead, while an
// agency anchors batches through CometBFT's RPC. The process exits there
// (status 99, no cleanup); it is restarted without the failpoint and must
// start, replay and commit new blocks. At the end:
//
//   - an independent replay of the node's blocks through a fresh application
//     that never crashed gives, at every height, the app hash the next header
//     carries and the hash of the node's own saved state version;
//   - every acknowledged batch is in the node's state and digest index, and
//     in the replay's, where it was acknowledged;
//   - no log has a panic or a consensus failure.
func TestCrashSweep(t *testing.T) {
	if testing.Short() {
		t.Skip("builds notaryd with failpoints and runs it")
	}
	checkFailpointList(t)
	bin := harness.TaggedBinary(t, "failpoints")
	home := filepath.Join(t.TempDir(), "node")
	ports := harness.FreePorts(t, 4)
	net, err := app.GenerateNetwork(app.NetworkSpec{
		ChainID:    "crash-sweep",
		Ministries: []app.MinistrySpec{{ID: "hacienda", Name: "Ministerio de Hacienda", Power: 10}},
		Nodes:      []app.NodeSpec{{Home: home, Host: "127.0.0.1", P2PPort: ports[0], RPCPort: ports[1], GatewayPort: ports[2], MetricsPort: ports[3]}},
		Agencies: []app.AgencySpec{
			{ID: "aeat", Name: "Agencia Tributaria", Permissions: []notaryv1.Permission{notaryv1.Permission_PERMISSION_ANCHOR}},
			{ID: "dgt", Name: "Dirección General de Tráfico", Permissions: []notaryv1.Permission{notaryv1.Permission_PERMISSION_ANCHOR}},
			{ID: "sepe", Name: "Servicio Público de Empleo Estatal", Permissions: []notaryv1.Permission{notaryv1.Permission_PERMISSION_ANCHOR}},
		},
		TimeoutCommit: 100 * time.Millisecond,
		EmptyBlocks:   true,
	})
	if err != nil {
		t.Fatal(err)
	}
	var agencies []*identity.Identity
	for _, id := range []string{"aeat", "dgt", "sepe"} {
		a, err := identity.Load(net.Agencies[id])
		if err != nil {
			t.Fatal(err)
		}
		agencies = append(agencies, a)
	}
	p := harness.NewProc(t, home, ports[1])
	p.Bin = bin
	ctx := context.Background()
	p.Start()
	if err := p.WaitHeight(ctx, 2, 60*time.Second); err != nil {
		t.Fatal(err)
	}
	load := startCrashLoad(p, agencies)
	defer load.stop()

	type crash struct {
		name           string
		height         int64
		acksBefore     int
		recoveredAfter time.Duration
		txs            int // transactions in the block the node crashed in
	}
	var crashes []crash
	for _, name := range failpoints {
		// Let some anchorings land on the running node first.
		load.waitAcks(t, load.count()+2, 30*time.Second)
		h, err := p.Height(ctx)
		if err != nil {
			t.Fatal(err)
		}
		at := h + 3
		p.Stop()
		if err := p.ExitErr(); err != nil {
			t.Fatalf("before %s: the node did not stop cleanly: %v", name, err)
		}
		env := fmt.Sprintf("NOTARY_FAILPOINT=%s@%d", name, at)
		anyHeight := slices.Contains(evidenceFailpoints, name)
		if anyHeight {
			env = "NOTARY_FAILPOINT=" + name
		}
		p.Env = []string{env}
		p.Start()
		if err := waitExit(p, 60*time.Second); err != nil {
			t.Fatalf("%s@%d: %v", name, at, err)
		}
		var ee *exec.ExitError
		if err := p.ExitErr(); !errors.As(err, &ee) || ee.ExitCode() != failpointExit {
			t.Fatalf("%s@%d: the node ended with %v, want exit status %d", name, at, err, failpointExit)
		}
		logb, _ := os.ReadFile(p.LogPath)
		if anyHeight {
			m := regexp.MustCompile(`failpoint `+name+` reached at height (\d+)`).FindAllSubmatch(logb, -1)
			if len(m) == 0 {
				t.Fatalf("%s: the log does not show the failpoint", name)
			}
			at, _ = strconv.ParseInt(string(m[len(m)-1][1]), 10, 64)
		} else if !strings.Contains(string(logb), fmt.Sprintf("failpoint %s reached at height %d", name, at)) {
			t.Fatalf("%s@%d: the log does not show the failpoint", name, at)
		}
		acks := load.count()
		p.Env = nil
		t0 := time.Now()
		p.Start()
		if err := p.WaitHeight(ctx, at+2, 60*time.Second); err != nil {
			t.Fatalf("restart after %s@%d: %v", name, at, err)
		}
		crashes = append(crashes, crash{name: name, height: at, acksBefore: acks, recoveredAfter: time.Since(t0)})
	}
	load.waitAcks(t, load.count()+2, 30*time.Second)
	load.stop()
	p.Stop()
	if err := p.ExitErr(); err != nil {
		t.Fatalf("the node did not stop cleanly at the end: %v", err)
	}

	bs, closeBS, err := harness.BlockStore(home)
	if err != nil {
		t.Fatal(err)
	}
	withTxs := 0
	for i := range crashes {
		if b := bs.LoadBlock(crashes[i].height); b != nil {
			crashes[i].txs = len(b.Txs)
		}
		if crashes[i].txs > 0 {
			withTxs++
		}
	}
	closeBS()

	// The reference: the same blocks (same transactions, same times)
	// through a fresh application that never crashed; Replay checks the
	// hash of every height against the header of the next.
	replay := harness.Replay(t, home, t.TempDir())
	nodeApp, err := abci.NewApplication(abci.DefaultOptions(filepath.Join(home, "data", "app"), net.ChainID))
	if err != nil {
		t.Fatalf("reopen the node's state: %v", err)
	}
	defer closeApp(t, nodeApp)
	last, _, _ := nodeApp.LastCommit()
	if last < replay.Height-1 || last > replay.Height {
		t.Fatalf("node state at height %d, block store at %d", last, replay.Height)
	}
	for h := int64(1); h <= last; h++ {
		view, err := nodeApp.StateAt(h)
		if err != nil {
			t.Fatalf("node state version %d: %v", h, err)
		}
		if got, want := view.Hash(), replay.Hashes[h]; string(got) != string(want) {
			t.Fatalf("height %d: the node's saved state has app hash %X, the uncrashed replay %X", h, got, want)
		}
	}
	checkLogTiles(t, nodeApp)
	acks := load.all()
	digests := 0
	for _, a := range acks {
		for i := 0; i < len(a.digests)/ledger.DigestSize; i++ {
			d := a.digests[i*ledger.DigestSize : (i+1)*ledger.DigestSize]
			for name, x := range map[string]*abci.Application{"node": nodeApp, "replay": replay.App} {
				loc, ok, err := x.LookupDigest(notaryv1.HashAlgorithm_HASH_ALGORITHM_SHA2_256, d)
				if err != nil || !ok || loc.Height != a.loc.Height || loc.TxIndex != a.loc.TxIndex || loc.Leaf != uint32(i) {
					t.Fatalf("%s: acknowledged digest %x: %v %v %v, acknowledged at %v", name, d, loc, ok, err, a.loc)
				}
			}
			digests++
		}
		view, err := nodeApp.StateAt(last)
		if err != nil {
			t.Fatal(err)
		}
		if v, err := view.Get(ledger.BatchKey(a.loc.Height, a.loc.TxIndex)); err != nil || v == nil {
			t.Fatalf("acknowledged batch %s is not in the node's state: %v", a.loc.BatchID(), err)
		}
	}
	logb, _ := os.ReadFile(p.LogPath)
	for _, bad := range []string{"panic:", "CONSENSUS FAILURE"} {
		if strings.Contains(string(logb), bad) {
			t.Fatalf("node log contains %q", bad)
		}
	}
	for _, c := range crashes {
		t.Logf("crashed at %-20s height %-4d (a block of %d anchorings; %d acknowledged before), back at the tip %v after restart",
			c.name, c.height, c.txs, c.acksBefore, c.recoveredAfter.Round(10*time.Millisecond))
	}
	t.Logf("%d crash points swept (%d in blocks with transactions); %d batches (%d digests) acknowledged, all found; %d blocks replayed, app hash equal at every height",
		len(crashes), withTxs, len(acks), digests, replay.Height)
}

// waitExit waits until the node's process has exited.
func waitExit(p *harness.Proc, timeout time.Duration) error {
	deadline := time.Now().Add(timeout)
	for p.Running() {
		if time.Now().After(deadline) {
			return fmt.Errorf("still running after %v (log: %s)", timeout, p.LogPath)
		}
		time.Sleep(20 * time.Millisecond)
	}
	return nil
}

// crashLoad anchors batches of five deterministic digests (the n-th digest
// of an agency is SHA-256 of "crash/", the agency id, "/" and n), one
// worker per agency, each batch after the previous one's commit, through
// the node's RPC, and keeps those the chain acknowledged.
type crashLoad struct {
	quit chan struct{}
	done chan struct{}
	once sync.Once

	mu   sync.Mutex
	acks []ack
}

func startCrashLoad(p *harness.Proc, agencies []*identity.Identity) *crashLoad {
	l := &crashLoad{quit: make(chan struct{}), done: make(chan struct{})}
	var wg sync.WaitGroup
	for _, agency := range agencies {
		wg.Add(1)
		go func() {
			defer wg.Done()
			l.worker(p, agency)
		}()
	}
	go func() {
		wg.Wait()
		close(l.done)
	}()
	return l
}

func (l *crashLoad) worker(p *harness.Proc, agency *identity.Identity) {
	var n uint64
	for {
		select {
		case <-l.quit:
			return
		default:
		}
		ds := make([]byte, 0, 5*ledger.DigestSize)
		for i := 0; i < 5; i++ {
			n++
			d := sha256.Sum256(binary.BigEndian.AppendUint64([]byte("crash/"+agency.ID+"/"), n))
			ds = append(ds, d[:]...)
		}
		if !p.Running() {
			time.Sleep(50 * time.Millisecond)
			continue
		}
		if a, ok := anchorOnce(p.RPC(), agency, ds); ok {
			l.mu.Lock()
			l.acks = append(l.acks, a)
			l.mu.Unlock()
		} else {
			time.Sleep(50 * time.Millisecond)
		}
	}
}

func (l *crashLoad) stop() {
	l.once.Do(func() { close(l.quit) })
	<-l.done
}

func (l *crashLoad) count() int {
	l.mu.Lock()
	defer l.mu.Unlock()
	return len(l.acks)
}

func (l *crashLoad) all() []ack {
	l.mu.Lock()
	defer l.mu.Unlock()
	return append([]ack(nil), l.acks...)
}

func (l *crashLoad) waitAcks(t *testing.T, n int, timeout time.Duration) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for l.count() < n {
		if time.Now().After(deadline) {
			t.Fatalf("%d anchorings acknowledged in %v, want %d", l.count(), timeout, n)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// checkLogTiles checks that a node's evidence log tiles hold the log of its
// latest state, and that an inclusion proof of every leaf built from them
// verifies against the state's root (golang.org/x/mod/sumdb/tlog).
func checkLogTiles(t *testing.T, a *abci.Application) {
	t.Helper()
	want, err := a.EvidenceLog(0)
	if err != nil {
		t.Fatal(err)
	}
	tiles := a.LogTiles()
	tree := tiles.Tree()
	if tree.Size != want.Size || !bytes.Equal(tree.Root[:], want.Root) || want.Size == 0 {
		t.Fatalf("evidence log tiles: %d leaves, root %x; the state's log: %d leaves, root %x", tree.Size, tree.Root[:], want.Size, want.Root)
	}
	hr := tiles.HashReader()
	n := int64(want.Size)
	for i := int64(0); i < n; i++ {
		p, err := tlog.ProveRecord(n, i, hr)
		if err != nil {
			t.Fatalf("leaf %d: %v", i, err)
		}
		b, err := tiles.Read(tlogtiles.Tile{Level: tlogtiles.EntriesLevel, Index: uint64(i / 256), Width: int(min(256, n-i/256*256))})
		if err != nil {
			t.Fatal(err)
		}
		for j := int64(0); j < i%256; j++ {
			b = b[2+int(binary.BigEndian.Uint16(b)):]
		}
		leaf := b[2 : 2+int(binary.BigEndian.Uint16(b))]
		if err := tlog.CheckRecord(p, n, tlog.Hash(want.Root), i, tlog.RecordHash(leaf)); err != nil {
			t.Fatalf("leaf %d: %v", i, err)
		}
	}
	t.Logf("evidence log: %d leaves, tiles equal to the state's log, every leaf proven", n)
}
