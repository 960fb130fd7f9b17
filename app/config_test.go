package app

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	cmtcfg "github.com/cometbft/cometbft/config"
)

func TestLoadConfigBlockPartHold(t *testing.T) {
	cases := []struct {
		name    string
		setting string // replaces the saved block_part_hold line; "" removes it
		want    time.Duration
		wantErr string
	}{
		{name: "default", setting: `block_part_hold = "200ms"`, want: 200 * time.Millisecond},
		{name: "absent", setting: "", want: 200 * time.Millisecond},
		{name: "off", setting: `block_part_hold = "0s"`, want: 0},
		{name: "negative", setting: `block_part_hold = "-1s"`, wantErr: "p2p.block_part_hold must not be negative"},
		{name: "not a duration", setting: `block_part_hold = "soon"`, wantErr: "invalid duration"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			c, err := loadWithSetting(t, `block_part_hold = "200ms"`, tc.setting)
			if tc.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
					t.Fatalf("LoadConfig error = %v, want one with %q", err, tc.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if got := c.App.P2P.BlockPartHold.Duration; got != tc.want {
				t.Fatalf("block_part_hold = %v, want %v", got, tc.want)
			}
		})
	}
}

// TestLoadConfigOptimisticExecution: state.optimistic_execution is written
// on, stays on when absent (an app.toml of an older release), and can be
// turned off.
func TestLoadConfigOptimisticExecution(t *testing.T) {
	cases := []struct {
		name    string
		setting string // replaces the saved line; "" removes it
		want    bool
	}{
		{name: "default", setting: "optimistic_execution = true", want: true},
		{name: "absent", setting: "", want: true},
		{name: "off", setting: "optimistic_execution = false", want: false},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			c, err := loadWithSetting(t, "optimistic_execution = true", tc.setting)
			if err != nil {
				t.Fatal(err)
			}
			if got := c.App.State.OptimisticExecution; got != tc.want {
				t.Fatalf("optimistic_execution = %v, want %v", got, tc.want)
			}
		})
	}
}

// loadWithSetting saves the default configuration into a new home, checks
// that app.toml holds the line saved, replaces it with setting ("" removes
// it) and loads the configuration again.
func loadWithSetting(t *testing.T, saved, setting string) (*Config, error) {
	t.Helper()
	home := t.TempDir()
	if err := SaveConfig(&Config{Home: home, Comet: cmtcfg.DefaultConfig(), App: DefaultAppConfig()}); err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(home, AppConfigFile)
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(b), saved) {
		t.Fatalf("app.toml lacks %s:\n%s", saved, b)
	}
	if err := os.WriteFile(path, []byte(strings.Replace(string(b), saved, setting, 1)), 0o600); err != nil {
		t.Fatal(err)
	}
	return LoadConfig(home)
}
