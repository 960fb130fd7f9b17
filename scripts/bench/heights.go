package main

import (
	"context"
	"fmt"
	"slices"
	"strconv"
	"time"

	rpchttp "github.com/cometbft/cometbft/rpc/client/http"
	"github.com/cometbft/cometbft/types"
)

// heightWaits says where a window's transactions spent their latency, from
// the chain's own record: each height's decision time (the time of the
// precommit that completed its two thirds, from the signatures of its
// commit) and round.
//
// A transaction submitted at s is in block H. The first height decided
// after s is h*; H - h* is the number of heights it waited for: 0 when it
// reached the proposer of h* before that block was proposed, 1 when it
// arrived while h* was being decided, 2 or more when it missed a proposer
// it should have reached. Decided-to-answer is the time from H's decision
// to the client's answer (the gateway's node executes and commits H first).
type heightWaits struct {
	Heights  int     `json:"heights"`
	Rounds   int     `json:"rounds_above_zero"`
	HeightMs latency `json:"height_ms"`
	// Waited[k] counts the transactions that waited k heights (the last
	// entry: that many or more); Tail the same for the slowest 1 %.
	Waited     []int   `json:"heights_waited"`
	TailWaited []int   `json:"heights_waited_slowest_1pct"`
	AnswerMs   latency `json:"decided_to_answer_ms"`
	TailAnsMs  latency `json:"decided_to_answer_ms_slowest_1pct"`
	// TailHeightMs is the length of the heights that hold the slowest 1 %.
	TailHeightMs latency `json:"height_ms_of_slowest_1pct"`
	// Late lists (at most 50 of) the transactions that waited two heights
	// or more.
	Late []lateTx `json:"late,omitempty"`
}

// lateTx is a transaction that waited two heights or more: its agency
// client (which submits to node agency mod validators), submission time,
// the first height decided after it and its own height.
type lateTx struct {
	Agency    int       `json:"agency"`
	Submitted time.Time `json:"submitted"`
	First     int64     `json:"first_decided_after"`
	Height    int64     `json:"height"`
	LatencyMs float64   `json:"latency_ms"`
}

const maxWaited = 4

// quorumIndex is the index, among a commit's precommit times in order, of
// the one that completes two thirds of n validators of equal power: the
// third of four, the fifth of seven, the seventh of ten.
func quorumIndex(n int) int { return 2 * n / 3 }

// measureHeightWaits reads the commits of the window's heights from a
// node's CometBFT RPC (host:port) and places the window's transactions.
func measureHeightWaits(ctx context.Context, rpcAddr string, txs []committedBatch) (*heightWaits, error) {
	if len(txs) == 0 {
		return nil, nil
	}
	c, err := rpchttp.New("http://"+rpcAddr, "/websocket")
	if err != nil {
		return nil, fmt.Errorf("rpc client: %w", err)
	}
	lo, hi := txs[0].height, txs[0].height
	for _, t := range txs {
		lo, hi = min(lo, t.height), max(hi, t.height)
	}
	// The heights decided before the first submission are needed to find
	// h* of the window's first transactions.
	lo = max(lo-8, 1)
	// The node may be behind the gateways that answered.
	err = waitFor(ctx, "height "+strconv.FormatInt(hi, 10)+" at "+rpcAddr, time.Minute, 200*time.Millisecond, func() error {
		cctx, cancel := context.WithTimeout(ctx, 5*time.Second)
		defer cancel()
		s, err := c.Status(cctx)
		if err != nil {
			return err
		}
		if s.SyncInfo.LatestBlockHeight < hi {
			return fmt.Errorf("at height %d", s.SyncInfo.LatestBlockHeight)
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	decided := map[int64]time.Time{}
	var heightDur []time.Duration
	w := &heightWaits{}
	for h := lo; h <= hi; h++ {
		hh := h
		cctx, cancel := context.WithTimeout(ctx, 10*time.Second)
		res, err := c.Commit(cctx, &hh)
		cancel()
		if err != nil {
			return nil, fmt.Errorf("commit of height %d: %w", h, err)
		}
		var ts []time.Time
		for _, s := range res.Commit.Signatures {
			if s.BlockIDFlag == types.BlockIDFlagCommit {
				ts = append(ts, s.Timestamp)
			}
		}
		if len(ts) == 0 {
			return nil, fmt.Errorf("commit of height %d has no signatures for the block", h)
		}
		slices.SortFunc(ts, func(a, b time.Time) int { return a.Compare(b) })
		decided[h] = ts[min(len(ts)-1, quorumIndex(len(res.Commit.Signatures)))]
		if res.Commit.Round > 0 {
			w.Rounds++
		}
		if prev, ok := decided[h-1]; ok {
			heightDur = append(heightDur, decided[h].Sub(prev))
		}
	}
	w.Heights = int(hi - lo + 1)
	w.HeightMs = summarize(heightDur)
	// The slowest 1 %.
	lat := make([]time.Duration, len(txs))
	for i, t := range txs {
		lat[i] = t.latency
	}
	slices.Sort(lat)
	cut := lat[min(len(lat)-1, int(0.99*float64(len(lat))))]
	w.Waited = make([]int, maxWaited)
	w.TailWaited = make([]int, maxWaited)
	var ans, tailAns, tailH []time.Duration
	for _, t := range txs {
		s := t.at.Add(-t.latency)
		first := int64(0)
		for h := lo; h <= t.height; h++ {
			if decided[h].After(s) {
				first = h
				break
			}
		}
		if first == 0 {
			continue
		}
		k := min(int(t.height-first), maxWaited-1)
		a := t.at.Sub(decided[t.height])
		w.Waited[k]++
		if k >= 2 && len(w.Late) < 50 {
			w.Late = append(w.Late, lateTx{Agency: t.agency, Submitted: s, First: first, Height: t.height, LatencyMs: float64(t.latency) / float64(time.Millisecond)})
		}
		ans = append(ans, a)
		if t.latency >= cut {
			w.TailWaited[k]++
			tailAns = append(tailAns, a)
			if p, ok := decided[t.height-1]; ok {
				tailH = append(tailH, decided[t.height].Sub(p))
			}
		}
	}
	w.AnswerMs, w.TailAnsMs, w.TailHeightMs = summarize(ans), summarize(tailAns), summarize(tailH)
	return w, nil
}

// fmtWaited formats counts of heights waited: "0: 812, 1: 301, 2: 4, 3+: 0".
func fmtWaited(v []int) string {
	s := ""
	for k, n := range v {
		if k > 0 {
			s += ", "
		}
		if k == len(v)-1 {
			s += fmt.Sprintf("%d+: %d", k, n)
		} else {
			s += fmt.Sprintf("%d: %d", k, n)
		}
	}
	return s
}
