package app_test

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/cometbft/cometbft/inspect"

	"github.com/gobtechlab/notary/abci"
	"github.com/gobtechlab/notary/app"
	"github.com/gobtechlab/notary/app/apptest"
	"github.com/gobtechlab/notary/app/client"
)

// TestInspectHome: CometBFT's own inspector (cometbft inspect) serves a
// stopped node's blocks, commits and validators from its home: the node
// keeps CometBFT's block store and state store as CometBFT lays them out.
func TestInspectHome(t *testing.T) {
	if testing.Short() {
		t.Skip("starts a node")
	}
	n := apptest.Start(t, apptest.Options{})
	c, err := client.Dial(n.Addr, n.Identity(t, n.Agency), client.WithBareDigests())
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = c.Close(context.Background()) }()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	digests := make([][]byte, 40) // over 1 kB: the block names it by hash
	for i := range digests {
		d := make([]byte, 32)
		d[0], d[1] = byte(i), 0xa5
		digests[i] = d
	}
	res, err := c.AnchorAll(ctx, digests)
	if err != nil {
		t.Fatal(err)
	}
	height := res[0].Height
	n.WaitHeight(t, height+1)
	if err := n.Stop(); err != nil {
		t.Fatal(err)
	}

	cfg, err := app.LoadConfig(n.Home)
	if err != nil {
		t.Fatal(err)
	}
	ins, err := inspect.NewFromConfig(cfg.Comet)
	if err != nil {
		t.Fatalf("inspect: %v", err)
	}
	ictx, stop := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- ins.Run(ictx) }()
	defer func() {
		stop()
		if err := <-done; err != nil {
			t.Errorf("inspector: %v", err)
		}
	}()
	rpc := "http://" + strings.TrimPrefix(cfg.Comet.RPC.ListenAddress, "tcp://")

	var blk struct {
		Result struct {
			Block struct {
				Header struct {
					ChainID string `json:"chain_id"`
					Height  string `json:"height"`
				} `json:"header"`
				Data struct {
					Txs []string `json:"txs"`
				} `json:"data"`
			} `json:"block"`
		} `json:"result"`
	}
	get(t, fmt.Sprintf("%s/block?height=%d", rpc, height), &blk)
	b := blk.Result.Block
	if b.Header.ChainID != apptest.ChainID || b.Header.Height != fmt.Sprint(height) || len(b.Data.Txs) != 1 {
		t.Fatalf("inspect's block %d: %+v", height, b)
	}
	if raw, err := base64.StdEncoding.DecodeString(b.Data.Txs[0]); err != nil {
		t.Fatal(err)
	} else if _, ok := abci.DecodeTxRef(raw); !ok {
		t.Fatalf("block %d carries %d bytes, not a reference", height, len(raw))
	}
	var commit struct {
		Result struct {
			SignedHeader struct {
				Commit struct {
					Signatures []json.RawMessage `json:"signatures"`
				} `json:"commit"`
			} `json:"signed_header"`
		} `json:"result"`
	}
	get(t, fmt.Sprintf("%s/commit?height=%d", rpc, height), &commit)
	if len(commit.Result.SignedHeader.Commit.Signatures) != 1 {
		t.Fatalf("inspect's commit of %d: %+v", height, commit)
	}
	var vals struct {
		Result struct {
			Total string `json:"total"`
		} `json:"result"`
	}
	get(t, fmt.Sprintf("%s/validators?height=%d", rpc, height), &vals)
	if vals.Result.Total != "1" {
		t.Fatalf("inspect's validators of %d: %+v", height, vals)
	}
}

// get fetches url as JSON into v, retrying while the inspector starts.
func get(t *testing.T, url string, v any) {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for {
		resp, err := http.Get(url)
		if err == nil {
			body, _ := io.ReadAll(resp.Body)
			_ = resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				if err := json.Unmarshal(body, v); err != nil {
					t.Fatalf("%s: %v: %s", url, err, body)
				}
				return
			}
			err = fmt.Errorf("%s: %s", resp.Status, body)
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s: %v", url, err)
		}
		time.Sleep(100 * time.Millisecond)
	}
}
