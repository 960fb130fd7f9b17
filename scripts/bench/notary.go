package main

import (
	"context"
	crand "crypto/rand"
	"crypto/sha256"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"runtime/pprof"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	cmttypes "github.com/cometbft/cometbft/types"
	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials"

	"github.com/gobtechlab/notary/app"
	"github.com/gobtechlab/notary/app/identity"
	"github.com/gobtechlab/notary/ledger"
	notaryv1 "github.com/gobtechlab/notary/proto/notary/v1"
	"github.com/gobtechlab/notary/proto/notary/v1/gatewayv1"
)

// The testnet's agencies, in the order notaryd testnet registers them.
var agencyIDs = []string{"aeat", "dgt", "sepe", "inss", "aemps", "tgss", "catastro", "policia", "ine", "boe", "sepie", "seguridad-juridica"}

// network.json, as notaryd testnet writes it (the fields used here).
type testnetManifest struct {
	ChainID     string `json:"chain_id"`
	TrustBundle string `json:"trust_bundle"`
	Nodes       []struct {
		ID      string `json:"id"`
		Home    string `json:"home"`
		Gateway string `json:"gateway"`
		RPC     string `json:"rpc"`
		NodeID  string `json:"node_id"`
		P2P     string `json:"p2p"`
	} `json:"nodes"`
	Agencies map[string]string `json:"agency_identities"`
}

// clientNode is the node agency client i submits to: an agency's clients
// (procs of them) on consecutive nodes, the agencies spread over the nodes.
func clientNode(i, procs, nodes int) int { return (i/procs + i%procs) % nodes }

// tuneNotary writes the throughput settings into a node's config.toml and
// app.toml (docs/performance.md explains each).
func tuneNotary(home string, o options, pprofAddr string) error {
	cfg, err := app.LoadConfig(home)
	if err != nil {
		return err
	}
	c := cfg.Comet
	c.Consensus.TimeoutCommit = o.commit
	applyCometTuning(c)
	if o.propose > 0 {
		c.Consensus.TimeoutPropose = o.propose
	}
	if o.mempool > 0 {
		c.Mempool.Size = o.mempool
	}
	c.LogLevel = o.logLevel
	c.Mempool.Broadcast = o.gossip
	if !o.gossip {
		// Without gossip a node gets each transaction once, from its gateway
		// or forwarded; CometBFT's cache of seen transactions would only hash
		// each one again, in CheckTx and at every block. A replay is refused
		// by its sequence number either way.
		c.Mempool.CacheSize = 0
	}
	c.RPC.PprofListenAddress = pprofAddr
	cfg.App.State.OptimisticExecution = !o.noOE
	g := &cfg.App.Gateway
	g.MaxInFlight = max(g.MaxInFlight, 4*o.inFlight)
	return app.SaveConfig(cfg)
}

// setBlockMaxBytes writes --block-max-bytes into a node's genesis, which
// every node of the chain gets alike (0 leaves it as notaryd testnet made it).
func setBlockMaxBytes(home string, n int64) error {
	if n == 0 {
		return nil
	}
	file := filepath.Join(home, "config", "genesis.json")
	doc, err := cmttypes.GenesisDocFromFile(file)
	if err != nil {
		return err
	}
	doc.ConsensusParams.Block.MaxBytes = n
	if err := doc.ValidateAndComplete(); err != nil {
		return err
	}
	return doc.SaveAs(file)
}

// docBytes is the synthetic document n of agency a; its SHA-256 is the
// digest anchored (bare, without a salt, so the bench can verify a receipt
// against the document). The kvstore baseline sends the same digests.
func docBytes(a, n uint64) []byte {
	return fmt.Appendf(nil, "notary-bench document %d/%d", a, n)
}

func digestOf(a, n uint64) [32]byte { return sha256.Sum256(docBytes(a, n)) }

// benchCodeKey is the code key of a document under --codes: the digest's
// first 16 bytes, complemented. Distinct for distinct digests, and as cheap
// for the client as no key: the bench measures the chain, to which any 16
// bytes are a key. The document's coded entry is the key and the digest's
// last 16 bytes as its code tag (benchEntry): the chain never computes a
// tag, and the agency's scrypt is not the chain's cost.
func benchCodeKey(d [32]byte) []byte {
	var k [ledger.CodeKeySize]byte
	for i := range k {
		k[i] = ^d[i]
	}
	return k[:]
}

// committedTx is one committed AnchorBatch as its client saw it.
type committedBatch struct {
	at      time.Time
	agency  int
	first   uint64 // first document number
	count   int
	latency time.Duration
	height  int64
}

// candidate is a digest sampled for receipt verification.
type candidate struct {
	at     time.Time
	agency int
	doc    uint64
	height int64
}

// loadStats collects what the agency clients observe.
type loadStats struct {
	mu         sync.Mutex
	committed  []committedBatch
	candidates []candidate
	errors     map[string]int
	digests    atomic.Int64 // committed digests, whole run
	rng        *rand.Rand
	sample     float64
	// notify, if set, receives every committed batch (measureSingle).
	notify chan<- committedBatch
}

func newLoadStats(sample float64) *loadStats {
	return &loadStats{errors: map[string]int{}, rng: rand.New(rand.NewPCG(1, 2)), sample: sample}
}

func (s *loadStats) commit(b committedBatch) {
	s.digests.Add(int64(b.count))
	s.mu.Lock()
	s.committed = append(s.committed, b)
	// Sample each digest with probability s.sample, rounding the count of a
	// batch's samples at random.
	k := int(float64(b.count)*s.sample + s.rng.Float64())
	for range k {
		s.candidates = append(s.candidates, candidate{at: b.at, agency: b.agency, doc: b.first + uint64(s.rng.IntN(b.count)), height: b.height})
	}
	s.mu.Unlock()
	if s.notify != nil {
		s.notify <- b
	}
}

// recent returns a candidate committed at least age ago, the newest such.
func (s *loadStats) recent(age time.Duration) (candidate, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	cut := time.Now().Add(-age)
	for i := len(s.candidates) - 1; i >= 0 && i >= len(s.candidates)-5000; i-- {
		if s.candidates[i].at.Before(cut) {
			return s.candidates[i], true
		}
	}
	return candidate{}, false
}

func (s *loadStats) fail(msg string) {
	s.mu.Lock()
	s.errors[msg]++
	s.mu.Unlock()
}

// batches returns the batches committed in [from, to).
func (s *loadStats) batches(from, to time.Time) []committedBatch {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []committedBatch
	for _, b := range s.committed {
		if !b.at.Before(from) && b.at.Before(to) {
			out = append(out, b)
		}
	}
	return out
}

// answeredSince counts the clients (by agency client index) that have had
// a transaction answered that they submitted at t or later.
func (s *loadStats) answeredSince(t time.Time) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	seen := map[int]bool{}
	for i := len(s.committed) - 1; i >= 0; i-- {
		b := s.committed[i]
		if b.at.Before(t) {
			break
		}
		if !b.at.Add(-b.latency).Before(t) {
			seen[b.agency] = true
		}
	}
	return len(seen)
}

// window sums the batches committed in [from, to).
func (s *loadStats) window(from, to time.Time) (digests int, txs int, lat []time.Duration) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, b := range s.committed {
		if !b.at.Before(from) && b.at.Before(to) {
			digests += b.count
			txs++
			lat = append(lat, b.latency)
		}
	}
	return digests, txs, lat
}

// agencyClient drives one agency, or one of the independent clients of an
// agency (--procs-per-agency): one SubmitStream to one gateway, batches of
// B digests, W in flight, signed with consecutive sequences or, unordered,
// with random nonces.
type agencyClient struct {
	idx       int // distinct per client: it seeds the client's documents
	unordered bool
	codes     bool         // each digest under a code key (--codes)
	height    atomic.Int64 // latest height known, for valid_until_height
	window    uint64       // the chain's max_unordered_window
	id        *identity.Identity
	node      string
	gw        gatewayv1.GatewayClient
	conn      *grpc.ClientConn
	batch     int
	inFlight  int
	nextDoc   uint64
	// rate limits the digests/s this client submits (0: unlimited).
	rate atomic.Int64
}

func dialGateway(addr string, id *identity.Identity) (*grpc.ClientConn, error) {
	tc, err := id.ClientTLS()
	if err != nil {
		return nil, err
	}
	return grpc.NewClient(addr, grpc.WithTransportCredentials(credentials.NewTLS(tc)),
		grpc.WithDefaultCallOptions(grpc.MaxCallRecvMsgSize(64<<20)),
		grpc.WithInitialWindowSize(4<<20), grpc.WithInitialConnWindowSize(16<<20))
}

// run submits until ctx ends. A refused transaction makes the ones in flight
// behind it fail with a sequence gap: the client drains the stream, reads its
// account's next sequence and goes on. An unordered client reads the height
// and the window instead.
func (a *agencyClient) run(ctx context.Context, st *loadStats) {
	for ctx.Err() == nil && a.unordered {
		actx, cancel := context.WithTimeout(ctx, 10*time.Second)
		s, err := a.gw.GetStatus(actx, &notaryv1.GetStatusRequest{})
		var p *notaryv1.GetParamsResponse
		if err == nil {
			p, err = a.gw.GetParams(actx, &notaryv1.GetParamsRequest{})
		}
		cancel()
		if err == nil && p.GetParams().GetMaxUnorderedWindow() == 0 {
			err = errors.New("the chain refuses unordered transactions (max_unordered_window 0)")
		}
		if err != nil {
			if ctx.Err() == nil {
				st.fail("unordered setup: " + err.Error())
				sleepCtx(ctx, 500*time.Millisecond)
			}
			continue
		}
		a.height.Store(max(a.height.Load(), s.LatestHeight))
		a.window = p.GetParams().GetMaxUnorderedWindow()
		if err := a.stream(ctx, 0, st); err != nil && ctx.Err() == nil {
			st.fail(err.Error())
			sleepCtx(ctx, 200*time.Millisecond)
		}
	}
	for ctx.Err() == nil {
		actx, cancel := context.WithTimeout(ctx, 10*time.Second)
		acct, err := a.gw.GetAccount(actx, &notaryv1.GetAccountRequest{PubKey: a.id.Public()})
		cancel()
		if err != nil {
			if ctx.Err() == nil {
				st.fail("GetAccount: " + err.Error())
				sleepCtx(ctx, 500*time.Millisecond)
			}
			continue
		}
		if err := a.stream(ctx, acct.GetAccount().GetNextSequence(), st); err != nil && ctx.Err() == nil {
			st.fail(err.Error())
			sleepCtx(ctx, 200*time.Millisecond)
		}
	}
}

type sentTx struct {
	at    time.Time
	first uint64
	count int
}

func (a *agencyClient) stream(ctx context.Context, seq uint64, st *loadStats) error {
	// The stream outlives ctx by a grace period so that transactions in
	// flight when the load stops are still answered.
	sctx, cancel := context.WithCancel(context.WithoutCancel(ctx))
	defer cancel()
	stream, err := a.gw.SubmitStream(sctx)
	if err != nil {
		return fmt.Errorf("SubmitStream: %w", err)
	}
	slots := make(chan struct{}, a.inFlight)
	var mu sync.Mutex
	sent := map[string]sentTx{}
	var failed atomic.Bool
	recvDone := make(chan error, 1)
	go func() {
		for {
			resp, err := stream.Recv()
			if err != nil {
				recvDone <- err
				return
			}
			now := time.Now()
			mu.Lock()
			s, ok := sent[resp.RequestId]
			delete(sent, resp.RequestId)
			mu.Unlock()
			<-slots
			if !ok {
				continue
			}
			if resp.GrpcCode != 0 {
				if !failed.Swap(true) {
					st.fail(fmt.Sprintf("submit refused (grpc code %d): %s", resp.GrpcCode, truncate(resp.Log, 160)))
				}
				continue
			}
			if h := resp.Height; h > a.height.Load() {
				a.height.Store(h)
			}
			st.commit(committedBatch{at: now, agency: a.idx, first: s.first, count: s.count, latency: now.Sub(s.at), height: resp.Height})
		}
	}()
	digests := make([]byte, 0, a.batch*ledger.DigestSize)
	var sendErr error
	next := time.Now()
send:
	for !failed.Load() {
		select {
		case slots <- struct{}{}:
		case <-ctx.Done():
			break send
		case err := <-recvDone:
			return fmt.Errorf("stream: %w", err)
		}
		if r := a.rate.Load(); r > 0 {
			wait := time.Until(next)
			if wait > 0 && !sleepCtx(ctx, wait) {
				<-slots
				break send
			}
			if floor := time.Now().Add(-time.Second); next.Before(floor) {
				next = floor
			}
			next = next.Add(time.Duration(float64(a.batch) / float64(r) * float64(time.Second)))
		}
		first := a.nextDoc
		var raw []byte
		var err error
		raw, digests, err = a.nextTx(seq, digests)
		if err != nil {
			return err
		}
		rid := strconv.FormatUint(seq, 10)
		mu.Lock()
		sent[rid] = sentTx{at: time.Now(), first: first, count: a.batch}
		mu.Unlock()
		if err := stream.Send(&notaryv1.SubmitRequest{Tx: raw, RequestId: rid}); err != nil {
			sendErr = err
			break
		}
		seq++
	}
	_ = stream.CloseSend()
	// Drain: the answers of the transactions in flight.
	select {
	case err := <-recvDone:
		if sendErr != nil {
			return fmt.Errorf("send: %w", sendErr)
		}
		if failed.Load() || errors.Is(err, context.Canceled) {
			return nil
		}
		if err != nil && !errors.Is(err, io.EOF) {
			return fmt.Errorf("stream: %w", err)
		}
		return nil
	case <-time.After(45 * time.Second):
		return errors.New("stream: answers still missing 45 s after the last send")
	}
}

// nextTx returns the signed AnchorBatch of the client's next a.batch
// documents, with sequence seq (or a nonce, unordered), building its
// digests (or coded entries) in the buffer given (returned for reuse).
func (a *agencyClient) nextTx(seq uint64, digests []byte) (raw, ds []byte, err error) {
	digests = digests[:0]
	for i := 0; i < a.batch; i++ {
		d := digestOf(uint64(a.idx), a.nextDoc)
		a.nextDoc++
		if a.codes {
			digests = append(append(digests, benchCodeKey(d)...), d[ledger.CodeKeySize:]...)
		} else {
			digests = append(digests, d[:]...)
		}
	}
	body := &notaryv1.TxBody{Sequence: seq, Msg: &notaryv1.TxBody_AnchorBatch{AnchorBatch: &notaryv1.AnchorBatch{
		AgencyId: a.id.ID, HashAlgorithm: notaryv1.HashAlgorithm_HASH_ALGORITHM_SHA2_256, Digests: digests, Coded: a.codes}}}
	if a.unordered {
		body.Sequence = 0
		body.Nonce = make([]byte, ledger.MinNonceBytes)
		if _, err := crand.Read(body.Nonce); err != nil {
			return nil, digests, err
		}
		body.ValidUntilHeight = a.height.Load() + int64(max(a.window/2, 1))
	}
	return a.id.SignTx(body), digests, nil
}

func sleepCtx(ctx context.Context, d time.Duration) bool {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return false
	case <-t.C:
		return true
	}
}

func truncate(s string, n int) string {
	if len(s) > n {
		return s[:n] + "..."
	}
	return s
}

// runNotary generates, tunes and starts the localnet of --validators
// validators (each on a host of bnet under --net), loads it at the peak rate
// and then at half of it, and measures; under --single-window it then
// submits one document a second.
func runNotary(ctx context.Context, o options, bnet *benchNet, bins *binaries, dir string, ps *procs) (*notaryResult, error) {
	res := &notaryResult{}
	nv := o.validators
	base, err := freeBase(27100, 10*nv+5)
	if err != nil {
		return nil, err
	}
	args := []string{"testnet", "--validators", strconv.Itoa(nv), "--agencies", strconv.Itoa(o.agencies),
		"--out", dir, "--base-port", strconv.Itoa(base), "--chain-id", "notary-bench", "--block-interval", o.commit.String(),
		// A block every interval, as the runs before idle chains stopped
		// making them, and as the kvstore chain does.
		"--empty-blocks"}
	args = append(args, bnet.hostsFlag()...)
	out, err := exec.CommandContext(ctx, bins.notaryd, args...).CombinedOutput()
	if err != nil {
		return nil, fmt.Errorf("notaryd testnet: %w\n%s", err, out)
	}
	var man testnetManifest
	if b, err := os.ReadFile(filepath.Join(dir, "network.json")); err != nil {
		return nil, err
	} else if err := json.Unmarshal(b, &man); err != nil {
		return nil, fmt.Errorf("network.json: %w", err)
	}
	if len(man.Nodes) != nv {
		return nil, fmt.Errorf("network.json lists %d nodes, want %d", len(man.Nodes), nv)
	}
	pprofAddr, pprofListen := "", ""
	if o.pprofOut != "" {
		pprofAddr = fmt.Sprintf("127.0.0.1:%d", base+10*nv)
		pprofListen = pprofAddr
	}
	if bnet != nil {
		if err := wireNotary(bnet, &man); err != nil {
			return nil, err
		}
		if pprofAddr != "" {
			pprofListen = bnet.listen(base + 10*nv)
			if pprofAddr, err = bnet.reach(0, pprofListen); err != nil {
				return nil, err
			}
		}
	}
	for i, n := range man.Nodes {
		pa := ""
		// The first node is profiled; on hosts of their own every node
		// serves pprof at the same port of its host's address, for a look
		// at any of them during the run.
		if i == 0 || bnet != nil && bnet.lab.Namespaces() {
			pa = pprofListen
		}
		if err := tuneNotary(n.Home, o, pa); err != nil {
			return nil, fmt.Errorf("tune %s: %w", n.ID, err)
		}
		if err := setBlockMaxBytes(n.Home, o.blockMax); err != nil {
			return nil, fmt.Errorf("tune %s: %w", n.ID, err)
		}
	}
	var nodes []*proc
	for i, n := range man.Nodes {
		cmd := exec.Command(bins.notaryd, "start", "--home", n.Home)
		if bnet != nil {
			cmd = bnet.lab.Command(i, bins.notaryd, "start", "--home", n.Home)
		}
		if o.memLimit != "" {
			cmd.Env = append(os.Environ(), "GOMEMLIMIT="+o.memLimit, "GOGC=off")
		}
		var env []string
		if o.nodeProcs > 0 {
			env = append(env, "GOMAXPROCS="+strconv.Itoa(o.nodeProcs))
		}
		if env = append(env, o.nodeEnv...); len(env) > 0 {
			if cmd.Env == nil {
				cmd.Env = os.Environ()
			}
			cmd.Env = append(cmd.Env, env...)
		}
		p, err := ps.start("notaryd "+n.ID, cmd, filepath.Join(n.Home, "notaryd.log"))
		if err != nil {
			return nil, err
		}
		nodes = append(nodes, p)
	}
	defer ps.stopGroup(nodes, 20*time.Second)
	logf("notary: %d validators started (ports %d..%d), waiting for blocks", nv, base, base+10*(nv-1)+3)

	// Agency clients (--procs-per-agency of each agency), spread over the
	// nodes.
	var clients []*agencyClient
	for i := 0; i < o.agencies*o.procs; i++ {
		idDir, ok := man.Agencies[agencyIDs[i/o.procs]]
		if !ok {
			return nil, fmt.Errorf("network.json has no identity for agency %s", agencyIDs[i])
		}
		id, err := identity.Load(idDir)
		if err != nil {
			return nil, err
		}
		node := man.Nodes[clientNode(i, o.procs, len(man.Nodes))]
		conn, err := dialGateway(node.Gateway, id)
		if err != nil {
			return nil, err
		}
		defer func() { _ = conn.Close() }()
		clients = append(clients, &agencyClient{idx: i, unordered: o.procs > 1, codes: o.codes, id: id, node: node.ID, gw: gatewayv1.NewGatewayClient(conn), conn: conn, batch: o.batch, inFlight: o.inFlight})
	}
	for i, n := range man.Nodes {
		gw := clients[i%len(clients)].gw
		err := waitFor(ctx, "gateway of "+n.ID, 60*time.Second, 200*time.Millisecond, func() error {
			if nodes[i].exited() {
				return fmt.Errorf("notaryd %s exited: %s", n.ID, tail(filepath.Join(n.Home, "notaryd.log"), 5))
			}
			if i >= len(clients) {
				return nil
			}
			sctx, cancel := context.WithTimeout(ctx, time.Second)
			defer cancel()
			s, err := gw.GetStatus(sctx, &notaryv1.GetStatusRequest{})
			if err != nil {
				return err
			}
			if s.LatestHeight < 2 || s.CatchingUp {
				return fmt.Errorf("height %d, catching up %v", s.LatestHeight, s.CatchingUp)
			}
			return nil
		})
		if err != nil {
			return nil, err
		}
	}
	tbRaw, err := os.ReadFile(man.TrustBundle)
	if err != nil {
		return nil, err
	}

	st := newLoadStats(o.sample)
	loadCtx, stopLoad := context.WithCancel(ctx)
	defer stopLoad()
	var wg sync.WaitGroup
	for _, c := range clients {
		wg.Add(1)
		go func() { defer wg.Done(); c.run(loadCtx, st) }()
	}
	rv, err := newReceiptVerifier(tbRaw, clients)
	if err != nil {
		return nil, err
	}
	// During the windows one fetcher takes receipts of fresh digests, to
	// measure the fetch latency under load.
	var fwg sync.WaitGroup
	fwg.Add(1)
	go func() { defer fwg.Done(); rv.live(loadCtx, st, 10) }()

	logf("notary: %d agencies x %d clients x %d in flight x %d digests; warming up %s", o.agencies, o.procs, o.inFlight, o.batch, o.warmup)
	if !sleepCtx(ctx, o.warmup) {
		return nil, ctx.Err()
	}
	peak, err := measureWindow(ctx, "peak", o, st, nodes, pprofAddr, clients[0].gw)
	if err != nil {
		return nil, err
	}
	res.Peak = *peak
	if o.half > 0 && peak.DigestsPerSec > 0 {
		per := int64(peak.DigestsPerSec / 2 / float64(len(clients)))
		for _, c := range clients {
			c.rate.Store(max(per, 1))
		}
		// The window starts once the transient of the peak has passed: at
		// least the window's own length after the rate changed, and not
		// before every client has had a transaction answered that it
		// submitted at the half rate (a stream answers in commit order: the
		// peak's transactions are then committed; at most a minute). On ten
		// validators the heights stay long for some seconds after the
		// clients' backlog is answered (docs/performance.md). (A quick run
		// settles for a few seconds only.)
		halfAt := time.Now()
		logf("notary: half rate (%.0f digests/s), settling", peak.DigestsPerSec/2)
		settle, limit := max(o.half, 2*time.Second), time.Minute
		if o.quick {
			settle, limit = 3*time.Second, 3*time.Second
		}
		drainCtx, cancelDrain := context.WithTimeout(ctx, limit)
		for st.answeredSince(halfAt) < len(clients) {
			if !sleepCtx(drainCtx, 100*time.Millisecond) {
				break
			}
		}
		cancelDrain()
		drained := time.Since(halfAt)
		if !sleepCtx(ctx, time.Until(halfAt.Add(settle))) {
			return nil, ctx.Err()
		}
		logf("notary: settled %s (the clients' backlog answered in %s)", time.Since(halfAt).Round(100*time.Millisecond), drained.Round(100*time.Millisecond))
		half, err := measureWindow(ctx, "half", o, st, nodes, "", clients[0].gw)
		if err != nil {
			return nil, err
		}
		half.TargetPerSec = peak.DigestsPerSec / 2
		res.Half = half
	}
	stopLoad()
	wg.Wait()
	fwg.Wait()
	// Where the windows' transactions waited, from node 0's commits, read
	// once the load is over: a node behind at a window's end lacks the
	// window's last heights until it catches up.
	for _, w := range []*windowResult{&res.Peak, res.Half} {
		if w == nil {
			continue
		}
		if hw, err := measureHeightWaits(ctx, man.Nodes[0].RPC, st.batches(w.from, w.to)); err != nil {
			logf("notary: %s heights waited: %v", w.Name, err)
		} else {
			w.Waits = hw
		}
	}

	res.Errors = st.errors
	res.TotalDigests = st.digests.Load()
	// Disk: every node's data directory, and the application state alone.
	var data, appData int64
	for _, n := range man.Nodes {
		d, err := diskBytes(filepath.Join(n.Home, "data"))
		if err != nil {
			return nil, err
		}
		a, err := diskBytes(filepath.Join(n.Home, "data", "app"))
		if err != nil {
			return nil, err
		}
		data += d
		appData += a
	}
	if res.TotalDigests > 0 {
		res.DataBytesPerDigest = float64(data) / float64(nv) / float64(res.TotalDigests)
		res.StateBytesPerDigest = float64(appData) / float64(nv) / float64(res.TotalDigests)
	}
	// Receipts: finish the sample after the load.
	want := min(o.receipts, int(float64(res.TotalDigests)*o.sample))
	res.Receipts = rv.finish(ctx, st, want)
	res.Receipts.SampleOf = res.TotalDigests
	if o.single > 0 && ctx.Err() == nil {
		res.Single = measureSingle(ctx, o, clients[0], nodes)
	}
	for i, n := range nodes {
		if n.exited() {
			return nil, fmt.Errorf("notaryd %s exited during the run: %s", man.Nodes[i].ID, tail(filepath.Join(man.Nodes[i].Home, "notaryd.log"), 5))
		}
	}
	return res, nil
}

// wireNotary routes the p2p links of the testnet's nodes through bnet's
// proxies (node i on host i) and points the manifest's RPC addresses where
// the bench reaches them (the gateways are already at the hosts' addresses).
func wireNotary(bnet *benchNet, man *testnetManifest) error {
	ports := make([]int, len(man.Nodes))
	ids := make([]string, len(man.Nodes))
	for i, n := range man.Nodes {
		_, port, err := net.SplitHostPort(n.P2P)
		if err != nil {
			return fmt.Errorf("network.json: p2p %q: %w", n.P2P, err)
		}
		if ports[i], err = strconv.Atoi(port); err != nil {
			return fmt.Errorf("network.json: p2p %q: %w", n.P2P, err)
		}
		ids[i] = n.NodeID
	}
	if err := bnet.connect(ports); err != nil {
		return err
	}
	for i := range man.Nodes {
		n := &man.Nodes[i]
		if err := bnet.lab.WireHome(n.Home, i, ids); err != nil {
			return err
		}
		rpc, err := bnet.reach(i, n.RPC)
		if err != nil {
			return fmt.Errorf("network.json: rpc %q: %w", n.RPC, err)
		}
		n.RPC = rpc
	}
	return nil
}

// measureWindow measures one steady window: committed digests/s, latency,
// CPU and RSS of the node processes, sampled over time.
func measureWindow(ctx context.Context, name string, o options, st *loadStats, nodes []*proc, pprofAddr string, gw gatewayv1.GatewayClient) (*windowResult, error) {
	d := o.duration
	if name == "half" {
		d = o.half
	}
	w := &windowResult{Name: name, Seconds: d.Seconds()}
	h0 := chainHeight(ctx, gw)
	cpu0, err := sumCPU(nodes)
	if err != nil {
		return nil, err
	}
	self0 := selfCPU()
	rss0 := rssAll(nodes)
	read0, written0 := sumIO(nodes)
	t0 := time.Now()
	logf("notary: %s window of %s", name, d)
	var prof, self chan error
	if pprofAddr != "" {
		prof = make(chan error, 1)
		secs := int(min(d, 30*time.Second).Seconds())
		go func() { prof <- fetchProfile(ctx, pprofAddr, secs, o.pprofOut) }()
	}
	if o.selfProf != "" && name == "peak" {
		self = make(chan error, 1)
		go func() { self <- profileSelf(ctx, min(d, 30*time.Second), o.selfProf) }()
	}
	// Sample throughput and RSS every interval.
	interval := 10 * time.Second
	if d < 2*time.Minute {
		interval = max(d/5, time.Second)
	}
	end := t0.Add(d)
	last := t0
	lastRead, lastWritten := read0, written0
	maxRSS := make([]float64, len(nodes))
	copy(maxRSS, rss0)
	for time.Now().Before(end) {
		if !sleepCtx(ctx, min(interval, time.Until(end))) {
			return nil, ctx.Err()
		}
		now := time.Now()
		dg, _, _ := st.window(last, now)
		rss := rssAll(nodes)
		for i := range rss {
			maxRSS[i] = max(maxRSS[i], rss[i])
		}
		read, written := sumIO(nodes)
		el := now.Sub(last).Seconds()
		p := seriesPoint{T: now.Sub(t0).Seconds(), DigestsPerSec: float64(dg) / el, RSSMiB: rss,
			ReadMBps: float64(read-lastRead) / el / 1e6, WrittenMBps: float64(written-lastWritten) / el / 1e6}
		w.Series = append(w.Series, p)
		logf("notary: %s %5.0fs  %8.0f digests/s  rss %s MiB  disk read %.0f, written %.0f MB/s", name, p.T, p.DigestsPerSec, fmtList(rss), p.ReadMBps, p.WrittenMBps)
		last, lastRead, lastWritten = now, read, written
	}
	t1 := time.Now()
	cpu1, err := sumCPU(nodes)
	if err != nil {
		return nil, err
	}
	self1 := selfCPU()
	h1 := chainHeight(ctx, gw)
	digests, txs, lat := st.window(t0, t1)
	secs := t1.Sub(t0).Seconds()
	w.Seconds = secs
	w.Digests = digests
	w.Txs = txs
	w.DigestsPerSec = float64(digests) / secs
	w.Blocks = h1 - h0
	if w.Blocks > 0 {
		w.BlockSeconds = secs / float64(w.Blocks)
		w.DigestsPerBlock = float64(digests) / float64(w.Blocks)
	}
	w.LatencyMs = summarize(lat)
	w.NodeCPUSeconds = cpu1 - cpu0
	w.ClientCPUSeconds = self1 - self0
	if digests > 0 {
		w.CPUSecPer1k = w.NodeCPUSeconds / (float64(digests) / 1000)
	}
	w.CPUUtilisation = w.NodeCPUSeconds / secs
	if read1, written1 := sumIO(nodes); digests > 0 {
		per := float64(digests) * float64(len(nodes))
		w.DiskReadPer, w.DiskWrittenPer = float64(read1-read0)/per, float64(written1-written0)/per
	}
	w.RSSStartMiB, w.RSSEndMiB, w.RSSMaxMiB = rss0, rssAll(nodes), maxRSS
	w.from, w.to = t0, t1
	if prof != nil {
		if err := <-prof; err != nil {
			logf("notary: pprof: %v", err)
		} else {
			w.Profile = o.pprofOut
		}
	}
	if self != nil {
		if err := <-self; err != nil {
			logf("notary: bench pprof: %v", err)
		}
	}
	return w, nil
}

// profileSelf writes a CPU profile of d of the bench process to path.
func profileSelf(ctx context.Context, d time.Duration, path string) error {
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	if err := pprof.StartCPUProfile(f); err != nil {
		_ = f.Close()
		return err
	}
	sleepCtx(ctx, d)
	pprof.StopCPUProfile()
	return f.Close()
}

func rssAll(nodes []*proc) []float64 {
	out := make([]float64, len(nodes))
	for i, n := range nodes {
		r, err := rssMiB(n.pid())
		if err == nil {
			out[i] = r
		}
	}
	return out
}

func chainHeight(ctx context.Context, gw gatewayv1.GatewayClient) int64 {
	sctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	s, err := gw.GetStatus(sctx, &notaryv1.GetStatusRequest{})
	if err != nil {
		return 0
	}
	return s.LatestHeight
}

func fmtList(v []float64) string {
	s := ""
	for i, x := range v {
		if i > 0 {
			s += " "
		}
		s += strconv.FormatFloat(x, 'f', 0, 64)
	}
	return s
}

// fetchProfile takes a CPU profile of secs seconds from a node's pprof
// server (config.toml rpc.pprof_laddr) and writes it to path.
func fetchProfile(ctx context.Context, addr string, secs int, path string) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, fmt.Sprintf("http://%s/debug/pprof/profile?seconds=%d", addr, secs), nil)
	if err != nil {
		return err
	}
	resp, err := (&http.Client{Timeout: time.Duration(secs+30) * time.Second}).Do(req)
	if err != nil {
		return err
	}
	defer func() { _ = resp.Body.Close() }()
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("pprof: %s", resp.Status)
	}
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		return err
	}
	return os.WriteFile(path, b, 0o644)
}
