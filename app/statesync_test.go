package app

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	cmtcfg "github.com/cometbft/cometbft/config"
)

// TestEnableStateSync: the command's settings land in config.toml and read
// back; one RPC server, a height without its hash, and a home with state
// are refused. testnet TestStateSyncJoin takes the trusted header from a
// running node.
func TestEnableStateSync(t *testing.T) {
	servers := []string{"http://127.0.0.1:1", "http://127.0.0.1:2"}
	hash := strings.Repeat("ab", 32)
	tests := []struct {
		name  string
		spec  StateSyncSpec
		state bool
		err   string
	}{
		{"enabled", StateSyncSpec{RPCServers: servers, TrustHeight: 40, TrustHash: hash, TrustPeriod: 48 * time.Hour}, false, ""},
		{"one server", StateSyncSpec{RPCServers: servers[:1], TrustHeight: 40, TrustHash: hash}, false, "two RPC servers"},
		{"height without hash", StateSyncSpec{RPCServers: servers, TrustHeight: 40}, false, "together"},
		{"home with state", StateSyncSpec{RPCServers: servers, TrustHeight: 40, TrustHash: hash}, true, "already has state"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			home := t.TempDir()
			if err := SaveConfig(&Config{Home: home, Comet: cmtcfg.DefaultConfig(), App: DefaultAppConfig()}); err != nil {
				t.Fatal(err)
			}
			if tt.state {
				if err := os.MkdirAll(filepath.Join(home, "data", "app", "application.db"), 0o700); err != nil {
					t.Fatal(err)
				}
			}
			res, err := EnableStateSync(context.Background(), home, tt.spec)
			if tt.err != "" {
				if err == nil || !strings.Contains(err.Error(), tt.err) {
					t.Fatalf("err %v, want %q", err, tt.err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			cfg, err := LoadConfig(home)
			if err != nil {
				t.Fatal(err)
			}
			ss := cfg.Comet.StateSync
			if !ss.Enable || len(ss.RPCServers) != 2 || ss.TrustHeight != 40 || ss.TrustHash != strings.ToUpper(hash) ||
				ss.TrustPeriod != 48*time.Hour || res.FromNode {
				t.Fatalf("state sync config %+v, result %+v", ss, res)
			}
		})
	}
}
