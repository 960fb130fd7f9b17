package main

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	cmtcfg "github.com/cometbft/cometbft/config"
	"github.com/cometbft/cometbft/p2p"
	"github.com/spf13/viper"
)

// applyCometTuning is the CometBFT tuning both chains get (the notary's and
// the kvstore baseline's): docs/performance.md explains each setting.
func applyCometTuning(c *cmtcfg.Config) {
	c.Mempool.Size = 50_000
	c.Mempool.MaxTxsBytes = 1 << 30
	c.Mempool.MaxTxBytes = 1 << 20
	c.P2P.SendRate = 200 << 20
	c.P2P.RecvRate = 200 << 20
	c.P2P.FlushThrottleTimeout = 10 * time.Millisecond
	c.P2P.MaxPacketMsgPayloadSize = 64 << 10
	c.TxIndex.Indexer = "null"
}

func loadCometConfig(home string) (*cmtcfg.Config, error) {
	c := cmtcfg.DefaultConfig()
	v := viper.New()
	v.SetConfigFile(filepath.Join(home, "config", "config.toml"))
	if err := v.ReadInConfig(); err != nil {
		return nil, err
	}
	if err := v.Unmarshal(c); err != nil {
		return nil, err
	}
	c.SetRoot(home)
	return c, nil
}

// runKVStore runs CometBFT's kvstore example application on --validators
// validators on 127.0.0.1 (under --net each on its host of bnet, on the
// same profile) with the same consensus, mempool and p2p settings, and
// loads it with one digest per transaction (hex digest = 1) through batched
// broadcast_tx_sync JSON-RPC calls to every node.
func runKVStore(ctx context.Context, o options, bnet *benchNet, bins *binaries, dir string, ps *procs) (*kvResult, error) {
	nv := o.validators
	base, err := freeBase(28100, 10*nv+5)
	if err != nil {
		return nil, err
	}
	if out, err := exec.CommandContext(ctx, bins.cometbft, "testnet", "--v", strconv.Itoa(nv), "--o", dir,
		"--populate-persistent-peers=false", "--starting-ip-address", "127.0.0.1").CombinedOutput(); err != nil {
		return nil, fmt.Errorf("cometbft testnet: %w\n%s", err, out)
	}
	homes := make([]string, nv)
	ids := make([]string, nv)
	for i := range homes {
		homes[i] = filepath.Join(dir, fmt.Sprintf("node%d", i))
		nk, err := p2p.LoadNodeKey(filepath.Join(homes[i], "config", "node_key.json"))
		if err != nil {
			return nil, err
		}
		ids[i] = string(nk.ID())
	}
	p2pPort := func(i int) int { return base + 10*i }
	rpcAddr := func(i int) string { return fmt.Sprintf("127.0.0.1:%d", base+10*i+1) }
	rpcListen := rpcAddr
	if bnet != nil {
		ports := make([]int, nv)
		for i := range ports {
			ports[i] = p2pPort(i)
		}
		if err := bnet.connect(ports); err != nil {
			return nil, err
		}
		rpcAddr = func(i int) string { return fmt.Sprintf("%s:%d", bnet.lab.Addr(i), base+10*i+1) }
		rpcListen = func(i int) string { return bnet.listen(base + 10*i + 1) }
	}
	for i, h := range homes {
		c, err := loadCometConfig(h)
		if err != nil {
			return nil, err
		}
		var peers []string
		for j := range homes {
			if j != i {
				peers = append(peers, fmt.Sprintf("%s@127.0.0.1:%d", ids[j], p2pPort(j)))
			}
		}
		c.Moniker = fmt.Sprintf("kv%d", i)
		c.P2P.ListenAddress = fmt.Sprintf("tcp://127.0.0.1:%d", p2pPort(i))
		c.P2P.PersistentPeers = strings.Join(peers, ",")
		if bnet != nil {
			if c.P2P.PersistentPeers, err = bnet.lab.RewritePeers(i, c.P2P.PersistentPeers, ids); err != nil {
				return nil, err
			}
			c.P2P.ListenAddress = "tcp://" + bnet.listen(p2pPort(i))
		}
		c.P2P.AddrBookStrict = false
		c.P2P.AllowDuplicateIP = true
		c.P2P.PexReactor = false
		c.RPC.ListenAddress = "tcp://" + rpcListen(i)
		c.RPC.MaxRequestBatchSize = 1000
		c.RPC.MaxBodyBytes = 16 << 20
		c.RPC.MaxOpenConnections = 2000
		c.Consensus.TimeoutCommit = o.commit
		c.Consensus.TimeoutPropose = 3 * time.Second
		if o.propose > 0 {
			c.Consensus.TimeoutPropose = o.propose
		}
		applyCometTuning(c)
		// Blocks of tens of thousands of transactions stall the kvstore
		// chain (a block of 50,000 took several seconds here); 10,000 a
		// node keeps its blocks flowing.
		c.Mempool.Size = 10_000
		c.LogLevel = "error"
		c.Instrumentation.Prometheus = false
		c.ProxyApp = "kvstore"
		cmtcfg.WriteConfigFile(filepath.Join(h, "config", "config.toml"), c)
	}
	var nodes []*proc
	for i, h := range homes {
		cmd := exec.Command(bins.cometbft, "start", "--home", h, "--proxy_app=kvstore")
		if bnet != nil {
			cmd = bnet.lab.Command(i, bins.cometbft, "start", "--home", h, "--proxy_app=kvstore")
		}
		p, err := ps.start(fmt.Sprintf("cometbft kv%d", i), cmd, filepath.Join(h, "cometbft.log"))
		if err != nil {
			return nil, err
		}
		nodes = append(nodes, p)
	}
	defer ps.stopGroup(nodes, 10*time.Second)
	hc := &http.Client{Timeout: 30 * time.Second, Transport: &http.Transport{MaxIdleConnsPerHost: 64}}
	for i := range homes {
		err := waitFor(ctx, fmt.Sprintf("kvstore node %d", i), 60*time.Second, 200*time.Millisecond, func() error {
			if nodes[i].exited() {
				return fmt.Errorf("exited: %s", tail(filepath.Join(homes[i], "cometbft.log"), 5))
			}
			h, err := kvHeight(ctx, hc, rpcAddr(i))
			if err != nil {
				return err
			}
			if h < 1 {
				return fmt.Errorf("height %d", h)
			}
			return nil
		})
		if err != nil {
			return nil, err
		}
	}
	logf("kvstore: %d validators up (ports %d..%d); loading with 1 digest per tx", nv, base, base+10*(nv-1)+1)

	loadCtx, stop := context.WithCancel(ctx)
	defer stop()
	var accepted, refused atomic.Int64
	var firstErr atomic.Value
	var wg sync.WaitGroup
	const senders, perCall = 8, 500
	for g := 0; g < senders; g++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			url := "http://" + rpcAddr(g%nv)
			var n uint64
			for loadCtx.Err() == nil {
				body, next := kvBatch(uint64(g), n, perCall)
				n = next
				ok, bad, err := kvSend(loadCtx, hc, url, body)
				accepted.Add(int64(ok))
				refused.Add(int64(bad))
				if err != nil && loadCtx.Err() == nil {
					firstErr.CompareAndSwap(nil, err.Error())
				}
				if bad > 0 || err != nil {
					sleepCtx(loadCtx, 50*time.Millisecond)
				}
			}
		}()
	}
	if !sleepCtx(ctx, baselineWarmup(o)) {
		return nil, ctx.Err()
	}
	logf("kvstore: window of %s", o.baseWin)
	h0, err := kvHeight(ctx, hc, rpcAddr(0))
	if err != nil {
		return nil, err
	}
	cpu0, err := sumCPU(nodes)
	if err != nil {
		return nil, err
	}
	t0 := time.Now()
	if !sleepCtx(ctx, o.baseWin) {
		return nil, ctx.Err()
	}
	h1, err := kvHeight(ctx, hc, rpcAddr(0))
	if err != nil {
		return nil, err
	}
	cpu1, err := sumCPU(nodes)
	if err != nil {
		return nil, err
	}
	secs := time.Since(t0).Seconds()
	stop()
	wg.Wait()
	if h1 <= h0 {
		return nil, fmt.Errorf("no block committed in the %s window (height %d)", o.baseWin, h0)
	}
	// The rate over whole blocks: their transactions over the time between
	// the headers before the first and of the last.
	txs, span, err := kvTxCount(ctx, hc, rpcAddr(0), h0+1, h1)
	if err != nil {
		return nil, err
	}
	if span <= 0 {
		span = time.Duration(secs * float64(time.Second))
	}
	r := &kvResult{Seconds: span.Seconds(), Blocks: h1 - h0, Txs: txs, TxsPerSec: float64(txs) / span.Seconds(), Accepted: accepted.Load(), Refused: refused.Load(), NodeCPUSeconds: cpu1 - cpu0}
	if txs > 0 {
		// CPU over the wall window, against the window's share of the txs.
		r.CPUSecPer1k = r.NodeCPUSeconds / (float64(txs) / r.Seconds * secs / 1000)
	}
	if e, ok := firstErr.Load().(string); ok {
		r.FirstError = e
	}
	logf("kvstore: %.0f tx/s (%d txs in %d blocks)", r.TxsPerSec, txs, r.Blocks)
	return r, nil
}

// baselineWarmup is the load before a baseline's window.
func baselineWarmup(o options) time.Duration {
	if o.quick {
		return 2 * time.Second
	}
	return min(o.warmup, 10*time.Second)
}

// kvBatch builds a JSON-RPC batch of broadcast_tx_sync calls carrying the
// digests n.. of sender g, each as the kvstore transaction "<hex>=1".
func kvBatch(g, n uint64, count int) ([]byte, uint64) {
	var b bytes.Buffer
	b.WriteByte('[')
	for i := 0; i < count; i++ {
		if i > 0 {
			b.WriteByte(',')
		}
		d := digestOf(g, n)
		tx := hex.EncodeToString(d[:]) + "=1"
		fmt.Fprintf(&b, `{"jsonrpc":"2.0","id":%d,"method":"broadcast_tx_sync","params":{"tx":"%s"}}`, i, base64.StdEncoding.EncodeToString([]byte(tx)))
		n++
	}
	b.WriteByte(']')
	return b.Bytes(), n
}

type rpcResponse struct {
	Result *struct {
		Code json.Number `json:"code"`
		Log  string      `json:"log"`
	} `json:"result"`
	Error *struct {
		Message string `json:"message"`
		Data    string `json:"data"`
	} `json:"error"`
}

func kvSend(ctx context.Context, hc *http.Client, url string, body []byte) (ok, bad int, err error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, url, bytes.NewReader(body))
	if err != nil {
		return 0, 0, err
	}
	req.Header.Set("Content-Type", "application/json")
	resp, err := hc.Do(req)
	if err != nil {
		return 0, 0, err
	}
	defer func() { _ = resp.Body.Close() }()
	raw, err := io.ReadAll(resp.Body)
	if err != nil {
		return 0, 0, err
	}
	var rs []rpcResponse
	if err := json.Unmarshal(raw, &rs); err != nil {
		return 0, 0, fmt.Errorf("broadcast_tx_sync batch: %w: %s", err, truncate(string(raw), 200))
	}
	for _, r := range rs {
		switch {
		case r.Error != nil:
			bad++
			if err == nil {
				err = fmt.Errorf("broadcast_tx_sync: %s %s", r.Error.Message, r.Error.Data)
			}
		case r.Result != nil && r.Result.Code.String() == "0":
			ok++
		default:
			bad++
		}
	}
	return ok, bad, err
}

func kvGet(ctx context.Context, hc *http.Client, url string, into any) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return err
	}
	resp, err := hc.Do(req)
	if err != nil {
		return err
	}
	defer func() { _ = resp.Body.Close() }()
	return json.NewDecoder(resp.Body).Decode(into)
}

func kvHeight(ctx context.Context, hc *http.Client, addr string) (int64, error) {
	var s struct {
		Result struct {
			SyncInfo struct {
				Height string `json:"latest_block_height"`
			} `json:"sync_info"`
		} `json:"result"`
	}
	if err := kvGet(ctx, hc, "http://"+addr+"/status", &s); err != nil {
		return 0, err
	}
	return strconv.ParseInt(s.Result.SyncInfo.Height, 10, 64)
}

// kvTxCount sums the transactions of blocks from..to and returns the time
// between the headers of blocks from-1 and to.
func kvTxCount(ctx context.Context, hc *http.Client, addr string, from, to int64) (int64, time.Duration, error) {
	var total int64
	var first, last time.Time
	for lo := from - 1; lo <= to; lo += 20 {
		hi := min(lo+19, to)
		var r struct {
			Result struct {
				Metas []struct {
					NumTxs string `json:"num_txs"`
					Header struct {
						Height string    `json:"height"`
						Time   time.Time `json:"time"`
					} `json:"header"`
				} `json:"block_metas"`
			} `json:"result"`
		}
		if err := kvGet(ctx, hc, fmt.Sprintf("http://%s/blockchain?minHeight=%d&maxHeight=%d", addr, lo, hi), &r); err != nil {
			return 0, 0, err
		}
		if len(r.Result.Metas) != int(hi-lo+1) {
			return 0, 0, fmt.Errorf("blockchain %d..%d: %d block metas", lo, hi, len(r.Result.Metas))
		}
		for _, m := range r.Result.Metas {
			h, err1 := strconv.ParseInt(m.Header.Height, 10, 64)
			n, err2 := strconv.ParseInt(m.NumTxs, 10, 64)
			if err1 != nil || err2 != nil {
				return 0, 0, fmt.Errorf("blockchain %d..%d: bad block meta", lo, hi)
			}
			switch {
			case h == from-1:
				first = m.Header.Time
			case h >= from:
				total += n
			}
			if h == to {
				last = m.Header.Time
			}
		}
	}
	return total, last.Sub(first), nil
}
