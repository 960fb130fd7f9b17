package app

import (
	"crypto/rand"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	cmtcfg "github.com/cometbft/cometbft/config"
	tnote "github.com/transparency-dev/formats/note"
	"golang.org/x/mod/sumdb/note"
)

// TestLoadConfigRemovedSettings: an app.toml of an earlier release, with
// settings since removed, loads when they say what the node now always
// does, and is refused with the reason when they do not; an unknown
// setting is still refused.
func TestLoadConfigRemovedSettings(t *testing.T) {
	const oe = "optimistic_execution = true"
	cases := []struct {
		name    string
		setting string // replaces the optimistic_execution line, in [state]
		tail    string // appended to app.toml
		wantErr string
	}{
		{name: "batch references on", setting: oe + "\nbatch_references = true"},
		{name: "part hold", setting: oe, tail: "\n[p2p]\nblock_part_hold = \"200ms\"\n"},
		{name: "part hold off", setting: oe, tail: "\n[p2p]\nblock_part_hold = \"0s\"\n"},
		{name: "both", setting: oe + "\nbatch_references = true", tail: "\n[p2p]\nblock_part_hold = \"200ms\"\n"},
		{name: "batch references off", setting: oe + "\nbatch_references = false", wantErr: "state.batch_references = false is no longer supported"},
		{name: "unknown", setting: oe + "\nbatch_refs = true", wantErr: `unknown setting "state.batch_refs"`},
		{name: "unknown in p2p", setting: oe, tail: "\n[p2p]\nblock_part_hold = \"0s\"\nsend_rate = 5\n", wantErr: `unknown setting "p2p`},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			c, err := loadWithSetting(t, oe, tc.setting+tc.tail)
			if tc.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
					t.Fatalf("LoadConfig error = %v, want one with %q", err, tc.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if !c.App.State.OptimisticExecution || c.App.Gateway.MaxInFlight != DefaultAppConfig().Gateway.MaxInFlight {
				t.Fatalf("settings lost: %+v", c.App)
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

// TestValidateGatewayLimits: each connection and rate-table limit must be
// positive; the error names the setting.
func TestValidateGatewayLimits(t *testing.T) {
	cases := []struct {
		setting string
		set     func(*GatewayConfig)
	}{
		{"gateway.max_connections", func(g *GatewayConfig) { g.MaxConnections = 0 }},
		{"gateway.max_unauthenticated_connections", func(g *GatewayConfig) { g.MaxUnauthenticatedConnections = 0 }},
		{"gateway.max_connections_per_address", func(g *GatewayConfig) { g.MaxConnectionsPerAddress = -1 }},
		{"gateway.tls_handshake_timeout", func(g *GatewayConfig) { g.TLSHandshakeTimeout = Duration{} }},
		{"gateway.unauthenticated_idle_timeout", func(g *GatewayConfig) { g.UnauthenticatedIdleTimeout = Duration{-time.Second} }},
		{"gateway.rate_table_size", func(g *GatewayConfig) { g.RateTableSize = 0 }},
	}
	if err := DefaultAppConfig().ValidateBasic(); err != nil {
		t.Fatalf("defaults: %v", err)
	}
	for _, tc := range cases {
		t.Run(tc.setting, func(t *testing.T) {
			c := DefaultAppConfig()
			tc.set(&c.Gateway)
			if err := c.ValidateBasic(); err == nil || !strings.Contains(err.Error(), tc.setting) {
				t.Fatalf("ValidateBasic = %v, want an error naming %s", err, tc.setting)
			}
		})
	}
	// Without a rate limit the table size does not matter.
	c := DefaultAppConfig()
	c.Gateway.RatePerSecond, c.Gateway.RateTableSize = 0, 0
	if err := c.ValidateBasic(); err != nil {
		t.Fatal(err)
	}
}

// TestLoadConfigCitizenTxRate: gateway.citizen_tx_rate_per_second and
// citizen_tx_burst are written with their defaults, default when absent
// (an app.toml of an older release), can be turned off, and are refused
// when negative or with a rate but no burst.
func TestLoadConfigCitizenTxRate(t *testing.T) {
	const rate, burst = "citizen_tx_rate_per_second = 50.0", "citizen_tx_burst = 100"
	cases := []struct {
		name           string
		saved, setting string // the saved line, and what replaces it ("" removes it)
		wantRate       float64
		wantBurst      int
		wantErr        string
	}{
		{name: "default", saved: rate, setting: rate, wantRate: 50, wantBurst: 100},
		{name: "absent", saved: rate, setting: "", wantRate: 50, wantBurst: 100},
		{name: "off", saved: rate, setting: "citizen_tx_rate_per_second = 0.0", wantRate: 0, wantBurst: 100},
		{name: "negative", saved: rate, setting: "citizen_tx_rate_per_second = -1.0", wantErr: "must not be negative"},
		{name: "no burst", saved: burst, setting: "citizen_tx_burst = 0", wantErr: "citizen_tx_burst must be positive"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			c, err := loadWithSetting(t, tc.saved, tc.setting)
			if tc.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
					t.Fatalf("LoadConfig error = %v, want one with %q", err, tc.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if g := c.App.Gateway; g.CitizenTxRatePerSecond != tc.wantRate || g.CitizenTxBurst != tc.wantBurst {
				t.Fatalf("citizen rate %g burst %d, want %g and %d", g.CitizenTxRatePerSecond, g.CitizenTxBurst, tc.wantRate, tc.wantBurst)
			}
		})
	}
}

// TestLoadConfigPublic: [public] is written with its defaults (the
// endpoint on 127.0.0.1), is off in an app.toml without the table (one of
// an earlier release), and its settings are checked.
func TestLoadConfigPublic(t *testing.T) {
	const listen = `listen = "127.0.0.1:26680"`
	cases := []struct {
		name           string
		saved, setting string // the saved text, and what replaces it
		want           PublicConfig
		wantErr        string
	}{
		{name: "default", saved: listen, setting: listen,
			want: PublicConfig{Listen: DefaultPublicListen, CORSOrigins: []string{}, RatePerSecond: 20, Burst: 40, ServeWeb: true}},
		{name: "no table", saved: "[public]\n  " + listen, setting: "[publicx]\n  " + listen, wantErr: `unknown setting "publicx`},
		{name: "opened with origins", saved: listen + "\n  cors_origins = []",
			setting: `listen = "0.0.0.0:8443"` + "\n  cors_origins = [\"https://sede.example.gob.es\", \"http://localhost:8080\"]",
			want:    PublicConfig{Listen: "0.0.0.0:8443", CORSOrigins: []string{"https://sede.example.gob.es", "http://localhost:8080"}, RatePerSecond: 20, Burst: 40, ServeWeb: true}},
		{name: "any origin, no limit, no page", saved: "cors_origins = []\n  rate_per_second = 20.0\n  burst = 40\n  serve_web = true",
			setting: "cors_origins = [\"*\"]\n  rate_per_second = 0.0\n  burst = 0\n  serve_web = false",
			want:    PublicConfig{Listen: DefaultPublicListen, CORSOrigins: []string{"*"}}},
		{name: "off", saved: listen, setting: `listen = ""`,
			want: PublicConfig{CORSOrigins: []string{}, RatePerSecond: 20, Burst: 40, ServeWeb: true}},
		{name: "bad listen", saved: listen, setting: `listen = "26680"`, wantErr: "public.listen"},
		{name: "bad port", saved: listen, setting: `listen = "127.0.0.1:http-alt"`, wantErr: "public.listen"},
		{name: "negative rate", saved: "rate_per_second = 20.0", setting: "rate_per_second = -1.0", wantErr: "must not be negative"},
		{name: "rate without burst", saved: "\n  burst = 40", setting: "\n  burst = 0", wantErr: "public.burst must be positive"},
		{name: "origin with a path", saved: "cors_origins = []", setting: `cors_origins = ["https://sede.example/verify"]`, wantErr: "public.cors_origins"},
		{name: "origin with a slash", saved: "cors_origins = []", setting: `cors_origins = ["https://sede.example/"]`, wantErr: "public.cors_origins"},
		{name: "origin without scheme", saved: "cors_origins = []", setting: `cors_origins = ["sede.example"]`, wantErr: "public.cors_origins"},
		{name: "origin in capitals", saved: "cors_origins = []", setting: `cors_origins = ["https://Sede.example"]`, wantErr: "lower case"},
		{name: "ftp origin", saved: "cors_origins = []", setting: `cors_origins = ["ftp://sede.example"]`, wantErr: "public.cors_origins"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			c, err := loadWithSetting(t, tc.saved, tc.setting)
			if tc.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
					t.Fatalf("LoadConfig error = %v, want one with %q", err, tc.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(c.App.Public, tc.want) {
				t.Fatalf("public = %+v, want %+v", c.App.Public, tc.want)
			}
		})
	}
	t.Run("table absent", func(t *testing.T) {
		home := t.TempDir()
		if err := SaveConfig(&Config{Home: home, Comet: cmtcfg.DefaultConfig(), App: DefaultAppConfig()}); err != nil {
			t.Fatal(err)
		}
		path := filepath.Join(home, AppConfigFile)
		b, err := os.ReadFile(path)
		if err != nil {
			t.Fatal(err)
		}
		s := string(b)
		i := strings.Index(s, "[public]")
		j := strings.Index(s, "[state]")
		if i < 0 || j < i {
			t.Fatalf("app.toml:\n%s", s)
		}
		if err := os.WriteFile(path, []byte(s[:i]+s[j:]), 0o600); err != nil {
			t.Fatal(err)
		}
		c, err := LoadConfig(home)
		if err != nil {
			t.Fatal(err)
		}
		if c.App.Public.Listen != "" {
			t.Fatalf("an app.toml without [public] opened the endpoint on %q", c.App.Public.Listen)
		}
	})
}

// TestLoadConfigWitnesses: [log] witnesses loads a list of URL and
// cosignature/v1 key, and refuses a URL that is not http(s), a key of
// another kind and a URL listed twice.
func TestLoadConfigWitnesses(t *testing.T) {
	_, plain, err := note.GenerateKey(rand.Reader, "witness.audit.example/w1")
	if err != nil {
		t.Fatal(err)
	}
	vkey, err := tnote.VKeyToCosignatureV1(plain)
	if err != nil {
		t.Fatal(err)
	}
	const saved = "witnesses = []"
	entry := func(url, key string) string { return `{url = "` + url + `", key = "` + key + `"}` }
	cases := []struct {
		name, setting string
		want          []WitnessConfig
		wantErr       string
	}{
		{name: "default", setting: saved, want: []WitnessConfig{}},
		{name: "two", setting: "witnesses = [" + entry("https://witness.audit.example", vkey) + ", " + entry("http://127.0.0.1:7380/w", vkey) + "]",
			want: []WitnessConfig{{URL: "https://witness.audit.example", Key: vkey}, {URL: "http://127.0.0.1:7380/w", Key: vkey}}},
		{name: "no scheme", setting: "witnesses = [" + entry("witness.audit.example", vkey) + "]", wantErr: "log.witnesses[0]: url"},
		{name: "plain note key", setting: "witnesses = [" + entry("https://witness.audit.example", plain) + "]", wantErr: "not a cosignature/v1 verifier key"},
		{name: "twice", setting: "witnesses = [" + entry("https://w.example", vkey) + ", " + entry("https://w.example", vkey) + "]", wantErr: "log.witnesses[1]: url \"https://w.example\" listed twice"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			c, err := loadWithSetting(t, saved, tc.setting)
			if tc.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
					t.Fatalf("LoadConfig error = %v, want one with %q", err, tc.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(c.App.Log.Witnesses, tc.want) {
				t.Fatalf("witnesses = %+v, want %+v", c.App.Log.Witnesses, tc.want)
			}
		})
	}
}

// TestValidateRetention: retention.keep_blocks is 0 (an archive node) or
// at least MinRetentionBlocks; the error names the setting.
func TestValidateRetention(t *testing.T) {
	for _, tc := range []struct {
		keep int64
		ok   bool
	}{{0, true}, {MinRetentionBlocks, true}, {100_000, true}, {-1, false}, {1, false}, {MinRetentionBlocks - 1, false}} {
		c := DefaultAppConfig()
		c.Retention.KeepBlocks = tc.keep
		err := c.ValidateBasic()
		if (err == nil) != tc.ok || (err != nil && !strings.Contains(err.Error(), "retention.keep_blocks")) {
			t.Errorf("keep_blocks %d: %v", tc.keep, err)
		}
	}
}
