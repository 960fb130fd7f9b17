package app

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"

	rpchttp "github.com/cometbft/cometbft/rpc/client/http"
)

// StateSyncSpec is how a new node joins by state sync (docs/operations.md,
// "Joining by state sync"): CometBFT's light client verifies the header of
// a snapshot's height from TrustHeight and TrustHash, a header the
// operator trusts, against the RPC servers.
type StateSyncSpec struct {
	// RPCServers are CometBFT RPC addresses (http://host:port) of two or
	// more nodes of the chain; the light client checks them against each
	// other.
	RPCServers []string
	// TrustHeight and TrustHash name a header the operator trusts; with
	// both empty, the latest one of the first RPC server is taken
	// (TrustFromNode), to be checked against another source.
	TrustHeight int64
	TrustHash   string
	// TrustPeriod is how long a validator set stays trusted: below the
	// chain's unbonding (removal) notice; 0 means CometBFT's 168h.
	TrustPeriod time.Duration
}

// StateSyncResult is what EnableStateSync wrote.
type StateSyncResult struct {
	Home        string   `json:"home"`
	RPCServers  []string `json:"rpc_servers"`
	TrustHeight int64    `json:"trust_height"`
	TrustHash   string   `json:"trust_hash"`
	TrustPeriod string   `json:"trust_period"`
	// FromNode is set when the trusted header was taken from the first RPC
	// server rather than given.
	FromNode bool `json:"trust_from_node"`
}

// TrustFromNode returns the height and block hash of the latest committed
// header of the node at rpcServer.
func TrustFromNode(ctx context.Context, rpcServer string) (int64, string, error) {
	c, err := rpchttp.New(rpcServer, "/websocket")
	if err != nil {
		return 0, "", fmt.Errorf("state sync: %s: %w", rpcServer, err)
	}
	res, err := c.Commit(ctx, nil)
	if err != nil {
		return 0, "", fmt.Errorf("state sync: %s: latest commit: %w", rpcServer, err)
	}
	return res.Height, strings.ToUpper(res.Commit.BlockID.Hash.String()), nil
}

// EnableStateSync turns on CometBFT's state sync in home's config.toml: at
// its first start, the node restores a peer's snapshot instead of
// replaying the chain. A home with committed state is refused: CometBFT
// state-syncs only an empty one.
func EnableStateSync(ctx context.Context, home string, spec StateSyncSpec) (*StateSyncResult, error) {
	cfg, err := LoadConfig(home)
	if err != nil {
		return nil, err
	}
	if _, err := os.Stat(filepath.Join(cfg.Comet.DBDir(), "app", "application.db")); err == nil {
		return nil, fmt.Errorf("state sync: %s already has state: a node joins by state sync from an empty data directory", cfg.Comet.DBDir())
	}
	if len(spec.RPCServers) < 2 {
		return nil, errors.New("state sync: give at least two RPC servers (the light client checks one against the other)")
	}
	res := &StateSyncResult{Home: cfg.Home, RPCServers: spec.RPCServers}
	if (spec.TrustHeight == 0) != (spec.TrustHash == "") {
		return nil, errors.New("state sync: give the trust height and hash together, or neither")
	}
	if spec.TrustHeight == 0 {
		spec.TrustHeight, spec.TrustHash, err = TrustFromNode(ctx, spec.RPCServers[0])
		if err != nil {
			return nil, err
		}
		res.FromNode = true
	}
	ss := cfg.Comet.StateSync
	ss.Enable = true
	ss.RPCServers = spec.RPCServers
	ss.TrustHeight, ss.TrustHash = spec.TrustHeight, strings.ToUpper(spec.TrustHash)
	if spec.TrustPeriod > 0 {
		ss.TrustPeriod = spec.TrustPeriod
	}
	if err := ss.ValidateBasic(); err != nil {
		return nil, fmt.Errorf("state sync: %w", err)
	}
	if err := SaveConfig(cfg); err != nil {
		return nil, err
	}
	res.TrustHeight, res.TrustHash, res.TrustPeriod = ss.TrustHeight, ss.TrustHash, ss.TrustPeriod.String()
	return res, nil
}
