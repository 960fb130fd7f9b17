package app

import (
	"bytes"
	"encoding/base64"
	"errors"
	"fmt"
	"net"
	"net/url"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/BurntSushi/toml"
	cmtcfg "github.com/cometbft/cometbft/config"
	"github.com/spf13/viper"
	tnote "github.com/transparency-dev/formats/note"

	"github.com/gobtechlab/notary/abci"
	"github.com/gobtechlab/notary/app/layout"
)

// Home layout. Everything a node needs is under its home directory:
//
//	config/config.toml        CometBFT's configuration
//	config/app.toml           the notary's own configuration (AppConfig)
//	config/genesis.json       the genesis document
//	config/node_key.json      the p2p key
//	config/priv_validator_key.json   the consensus key (validators only)
//	data/                     CometBFT's stores, application.db, digests/
//	tls/                      ca.crt, node.crt, node.key (the gateway's TLS)
//	identities/<name>/        keys and client certificates of participants
//	                          (a dev home keeps the dev agency's and citizen's)
//	trust.json                the trust bundle for verifiers
const (
	AppConfigFile = "config/app.toml"
	TrustFile     = layout.TrustFile // the names clients need are in package layout
	TLSDir        = layout.TLSDir
	IdentitiesDir = layout.IdentitiesDir
)

// DefaultSnapshotInterval is the default of snapshots.interval: a chain
// that makes blocks only for transactions reaches it in days to weeks.
const DefaultSnapshotInterval = 1000

// maxSnapshotChunkBytes bounds snapshots.chunk_bytes below CometBFT's
// state sync chunk message limit (16 MB).
const maxSnapshotChunkBytes = 15 << 20

// AppConfig is config/app.toml.
type AppConfig struct {
	Gateway   GatewayConfig   `toml:"gateway"`
	Public    PublicConfig    `toml:"public"`
	State     StateConfig     `toml:"state"`
	Snapshots SnapshotsConfig `toml:"snapshots"`
	Retention RetentionConfig `toml:"retention"`
	Log       LogConfig       `toml:"log"`
}

// RetentionConfig configures what old data the node deletes
// (docs/operations.md, "Retention"; docs/adr/0032-retention.md). An
// app.toml without a [retention] table keeps everything.
type RetentionConfig struct {
	// KeepBlocks is the number of recent heights whose blocks and state
	// versions the node keeps; 0 keeps every height (an archive node)
	// (abci.Options.RetainBlocks).
	KeepBlocks int64 `toml:"keep_blocks"`
}

// MinRetentionBlocks is the smallest retention.keep_blocks other than 0.
const MinRetentionBlocks = 10

// SnapshotsConfig configures the state sync snapshots this node takes and
// serves to nodes that join (docs/adr/0031-state-sync.md). An app.toml
// without a [snapshots] table (one of an earlier release) takes none.
type SnapshotsConfig struct {
	// Interval is the number of heights between snapshots; 0 takes none
	// (abci.Options.SnapshotInterval).
	Interval int64 `toml:"interval"`
	// KeepRecent is the number of snapshots kept; 0 means 2.
	KeepRecent int `toml:"keep_recent"`
	// ChunkBytes is the size of a snapshot's chunks; 0 means 10 MB. Nodes
	// with the same chunk size take byte-identical snapshots, which a
	// joining node then fetches from all of them at once.
	ChunkBytes int `toml:"chunk_bytes"`
}

// LogConfig configures what the node does with the evidence log's
// checkpoints: the witnesses it submits them to.
type LogConfig struct {
	// Witnesses cosign the log's checkpoints (C2SP tlog-witness); the node
	// submits each newer valid checkpoint to each and serves their
	// cosignatures with the checkpoint. Empty: none.
	Witnesses []WitnessConfig `toml:"witnesses"`
}

// WitnessConfig is one witness: where it takes checkpoints and the key its
// cosignatures verify with.
type WitnessConfig struct {
	// URL is the witness's submission prefix (http or https);
	// add-checkpoint is under it.
	URL string `toml:"url"`
	// Key is the witness's cosignature/v1 verifier key
	// (name+hash+base64), as `verifier witness init` prints it.
	Key string `toml:"key"`
}

// cosignatureKeyAlg is the algorithm byte of a cosignature/v1 verifier key
// (C2SP tlog-cosignature).
const cosignatureKeyAlg = 0x04

// cosignatureKey checks that vkey is a cosignature/v1 verifier key:
// name+hash+base64(0x04 || ed25519 public key).
func cosignatureKey(vkey string) error {
	if _, err := tnote.NewVerifierForCosignatureV1(vkey); err != nil {
		return err
	}
	// name+hash+key: names hold no '+', the base64 key may.
	parts := strings.SplitN(vkey, "+", 3)
	if len(parts) != 3 {
		return errors.New("not a note verifier key (name+hash+key)")
	}
	raw, err := base64.StdEncoding.DecodeString(parts[2])
	if err != nil || len(raw) == 0 || raw[0] != cosignatureKeyAlg {
		return errors.New("not of algorithm 0x04 (a signed-note key, not a witness's?)")
	}
	return nil
}

// ValidateBasic rejects a [log] table a node must not start with.
func (l LogConfig) ValidateBasic() error {
	seen := map[string]bool{}
	for i, w := range l.Witnesses {
		u, err := url.Parse(w.URL)
		if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
			return fmt.Errorf("log.witnesses[%d]: url %q is not an http or https URL", i, w.URL)
		}
		if err := cosignatureKey(w.Key); err != nil {
			return fmt.Errorf("log.witnesses[%d]: key %q is not a cosignature/v1 verifier key: %w", i, w.Key, err)
		}
		if seen[w.URL] {
			return fmt.Errorf("log.witnesses[%d]: url %q listed twice", i, w.URL)
		}
		seen[w.URL] = true
	}
	return nil
}

// PublicConfig configures the public HTTP endpoint (app/public): the live
// status of anchored digests, read-only, without a client certificate, and
// the web verifier's page. An app.toml without a [public] table (one of an
// earlier release) leaves it off.
type PublicConfig struct {
	// Listen is host:port; "" disables the endpoint. The default listens on
	// 127.0.0.1 only: an operator opens it by listening on another address,
	// or behind a reverse proxy (docs/operations.md, "Public endpoint").
	Listen string `toml:"listen"`
	// CORSOrigins are the origins ("https://sede.example.gob.es") whose web
	// pages may read the endpoint's answers; "*" allows any.
	CORSOrigins []string `toml:"cors_origins"`
	// RatePerSecond and Burst limit each client address (an IPv4 address,
	// an IPv6 /64) with a token bucket; 0 disables the limit.
	RatePerSecond float64 `toml:"rate_per_second"`
	Burst         int     `toml:"burst"`
	// ServeWeb serves the web verifier's page at "/".
	ServeWeb bool `toml:"serve_web"`
}

// DefaultPublicListen is where the public endpoint listens by default.
const DefaultPublicListen = "127.0.0.1:26680"

// GatewayConfig configures the gRPC gateway.
type GatewayConfig struct {
	// ListenAddress is host:port; "" disables the gateway.
	ListenAddress string `toml:"listen_address"`
	// HTTPListenAddress is host:port of the HTTP/JSON routes of the same
	// gateway (HTTP/1.1 and HTTP/2, the same TLS files, client
	// certificates, limits and handlers); "" serves none.
	HTTPListenAddress string `toml:"http_listen_address"`
	// TLSCert, TLSKey and ClientCA are PEM files relative to the home. With
	// TLS the gateway requires a client certificate from ClientCA for writes;
	// reads need none. Empty TLSCert serves plaintext (never outside 127.0.0.1).
	TLSCert  string `toml:"tls_cert"`
	TLSKey   string `toml:"tls_key"`
	ClientCA string `toml:"client_ca"`
	// MaxRecvMsgBytes bounds a request message.
	MaxRecvMsgBytes int `toml:"max_recv_msg_bytes"`
	// MaxSendMsgBytes bounds a response message.
	MaxSendMsgBytes int `toml:"max_send_msg_bytes"`
	// MaxDigestsPerRequest bounds the digests of one transaction or request.
	MaxDigestsPerRequest int `toml:"max_digests_per_request"`
	// RatePerSecond and RateBurst limit each caller: a member of the
	// consortium the chain lists (an active agency or ministry named by the
	// verified client certificate) has its own token bucket, which no other
	// traffic touches; any other caller shares one with its address (an IPv4
	// address, an IPv6 /64). 0 disables the limit.
	RatePerSecond float64 `toml:"rate_per_second"`
	RateBurst     int     `toml:"rate_burst"`
	// RateTableSize bounds the addresses whose token buckets are kept: a new
	// address replaces the one used least recently (which starts with a
	// full bucket if it comes back); a caller is never refused because the
	// table is full.
	RateTableSize int `toml:"rate_table_size"`
	// MaxConcurrentStreams bounds streams per connection.
	MaxConcurrentStreams uint32 `toml:"max_concurrent_streams"`
	// MaxConnections bounds the authenticated connections: those whose
	// verified client certificate names a member the chain lists, or that
	// carried a request signed by a registered citizen. Only they use this
	// capacity; once it is full, further ones count as unauthenticated.
	MaxConnections int `toml:"max_connections"`
	// MaxUnauthenticatedConnections bounds the other connections, including
	// every connection until its TLS handshake completes. When it is full, a
	// new connection closes the oldest unauthenticated one: a flood of
	// connections churns itself and never keeps a new client out.
	MaxUnauthenticatedConnections int `toml:"max_unauthenticated_connections"`
	// MaxConnectionsPerAddress bounds the unauthenticated connections from
	// one address (an IPv4 address, an IPv6 /64); a connection over it is
	// closed at once.
	MaxConnectionsPerAddress int `toml:"max_connections_per_address"`
	// TLSHandshakeTimeout bounds a connection's TLS handshake, and then its
	// HTTP/2 preface; a connection that takes longer is closed.
	TLSHandshakeTimeout Duration `toml:"tls_handshake_timeout"`
	// UnauthenticatedIdleTimeout closes an unauthenticated connection that
	// has no request in progress for longer.
	UnauthenticatedIdleTimeout Duration `toml:"unauthenticated_idle_timeout"`
	// KeepaliveMinTime: clients pinging more often are disconnected.
	KeepaliveMinTime Duration `toml:"keepalive_min_time"`
	// IdleTimeout closes authenticated connections idle for longer.
	IdleTimeout Duration `toml:"idle_timeout"`
	// SubmitTimeout bounds the wait for a transaction to be committed.
	SubmitTimeout Duration `toml:"submit_timeout"`
	// MaxInFlight bounds the transactions one stream keeps in flight.
	MaxInFlight int `toml:"max_in_flight"`
	// CitizenTxRatePerSecond and CitizenTxBurst bound the citizens'
	// transactions (GrantConsent, WithdrawConsent: signed, no certificate)
	// this node relays, all citizens together; 0 disables the limit.
	CitizenTxRatePerSecond float64 `toml:"citizen_tx_rate_per_second"`
	CitizenTxBurst         int     `toml:"citizen_tx_burst"`
}

// StateConfig tunes the application state.
type StateConfig struct {
	// IAVLCacheSize is the number of IAVL nodes kept in memory.
	IAVLCacheSize int `toml:"iavl_cache_size"`
	// TxCacheSize is the number of decoded transactions remembered.
	TxCacheSize int `toml:"tx_cache_size"`
	// DigestFilterMB sizes the in-memory filter that answers most digest
	// lookups without reading the digest index: four bytes per digest the
	// node will hold, 250,000 digests per MB (a fuller filter lets more
	// lookups through to the index's files, slower, never wrong; the node
	// logs when it is full); 0 disables it.
	DigestFilterMB int `toml:"digest_filter_mb"`
	// TxStoreUnnamedRetention is the number of blocks after which the
	// transaction store drops a transaction no block named (one received
	// but never included); 0 keeps them all (abci.Options.
	// UnnamedTxRetention).
	TxStoreUnnamedRetention int64 `toml:"tx_store_unnamed_retention"`
	// LightRelayedChecks: a transaction relayed by a peer's mempool is
	// checked in full except for the novelty of each digest, which the node
	// that received it from the agency checked and the block decides, and
	// one whose sequence is ahead is held until the one before it is
	// proposed (abci.Options.LightRelayedChecks;
	// docs/adr/0010-relayed-transactions.md).
	LightRelayedChecks bool `toml:"light_relayed_checks"`
	// OptimisticExecution executes a proposed block while the validators
	// vote on it, and uses the result when that block is decided
	// (abci.Options.OptimisticExecution;
	// docs/adr/0009-optimistic-execution.md).
	OptimisticExecution bool `toml:"optimistic_execution"`
}

// Duration is a time.Duration written as a string ("5s") in TOML.
type Duration struct{ time.Duration }

// MarshalText implements encoding.TextMarshaler.
func (d Duration) MarshalText() ([]byte, error) { return []byte(d.String()), nil }

// UnmarshalText implements encoding.TextUnmarshaler.
func (d *Duration) UnmarshalText(b []byte) error {
	v, err := time.ParseDuration(string(b))
	if err != nil {
		return err
	}
	d.Duration = v
	return nil
}

// DefaultAppConfig returns the defaults, with the gateway on 127.0.0.1:9090
// and the public endpoint on 127.0.0.1:26680.
func DefaultAppConfig() *AppConfig {
	return &AppConfig{
		Gateway: GatewayConfig{
			ListenAddress:        "127.0.0.1:9090",
			TLSCert:              filepath.Join(TLSDir, "node.crt"),
			TLSKey:               filepath.Join(TLSDir, "node.key"),
			ClientCA:             filepath.Join(TLSDir, "ca.crt"),
			MaxRecvMsgBytes:      2 << 20,
			MaxSendMsgBytes:      16 << 20,
			MaxDigestsPerRequest: 10_000,
			RatePerSecond:        200,
			RateBurst:            400,
			RateTableSize:        65_536,
			MaxConcurrentStreams: 64,
			MaxConnections:       1000,
			KeepaliveMinTime:     Duration{10 * time.Second},
			IdleTimeout:          Duration{5 * time.Minute},
			SubmitTimeout:        Duration{30 * time.Second},
			MaxInFlight:          256,

			MaxUnauthenticatedConnections: 512,
			MaxConnectionsPerAddress:      16,
			TLSHandshakeTimeout:           Duration{5 * time.Second},
			UnauthenticatedIdleTimeout:    Duration{20 * time.Second},
			// Citizens' transactions this node relays, all citizens together.
			CitizenTxRatePerSecond: 50,
			CitizenTxBurst:         100,
		},
		Public: PublicConfig{
			Listen:        DefaultPublicListen,
			CORSOrigins:   []string{},
			RatePerSecond: 20,
			Burst:         40,
			ServeWeb:      true,
		},
		Log:       LogConfig{Witnesses: []WitnessConfig{}},
		Snapshots: SnapshotsConfig{Interval: DefaultSnapshotInterval, KeepRecent: abci.DefaultSnapshotKeepRecent, ChunkBytes: abci.DefaultSnapshotChunkBytes},
		State:     StateConfig{IAVLCacheSize: 200_000, TxCacheSize: 50_000, DigestFilterMB: 512, TxStoreUnnamedRetention: 10_000, LightRelayedChecks: true, OptimisticExecution: true},
	}
}

// ValidateBasic rejects values a node must not start with.
func (c *AppConfig) ValidateBasic() error {
	g := c.Gateway
	switch {
	case g.MaxRecvMsgBytes < 1024:
		return errors.New("gateway.max_recv_msg_bytes must be at least 1024")
	case g.MaxSendMsgBytes < 1024:
		return errors.New("gateway.max_send_msg_bytes must be at least 1024")
	case g.MaxDigestsPerRequest < 1:
		return errors.New("gateway.max_digests_per_request must be positive")
	case g.RatePerSecond < 0 || g.RateBurst < 0:
		return errors.New("gateway.rate_per_second and rate_burst must not be negative")
	case g.RatePerSecond > 0 && g.RateBurst < 1:
		return errors.New("gateway.rate_burst must be positive when rate_per_second is set")
	case g.MaxConcurrentStreams < 1:
		return errors.New("gateway.max_concurrent_streams must be positive")
	case g.RatePerSecond > 0 && g.RateTableSize < 1:
		return errors.New("gateway.rate_table_size must be positive when rate_per_second is set")
	case g.MaxConnections < 1:
		return errors.New("gateway.max_connections must be positive")
	case g.MaxUnauthenticatedConnections < 1:
		return errors.New("gateway.max_unauthenticated_connections must be positive")
	case g.MaxConnectionsPerAddress < 1:
		return errors.New("gateway.max_connections_per_address must be positive")
	case g.TLSHandshakeTimeout.Duration <= 0:
		return errors.New("gateway.tls_handshake_timeout must be positive")
	case g.UnauthenticatedIdleTimeout.Duration <= 0:
		return errors.New("gateway.unauthenticated_idle_timeout must be positive")
	case g.SubmitTimeout.Duration <= 0:
		return errors.New("gateway.submit_timeout must be positive")
	case g.MaxInFlight < 1:
		return errors.New("gateway.max_in_flight must be positive")
	case g.CitizenTxRatePerSecond < 0 || g.CitizenTxBurst < 0:
		return errors.New("gateway.citizen_tx_rate_per_second and citizen_tx_burst must not be negative")
	case g.CitizenTxRatePerSecond > 0 && g.CitizenTxBurst < 1:
		return errors.New("gateway.citizen_tx_burst must be positive when citizen_tx_rate_per_second is set")
	case (g.TLSCert == "") != (g.TLSKey == ""):
		return errors.New("gateway.tls_cert and tls_key go together")
	case c.State.IAVLCacheSize < 0 || c.State.TxCacheSize < 0 || c.State.DigestFilterMB < 0:
		return errors.New("state cache sizes must not be negative")
	case c.State.TxStoreUnnamedRetention < 0:
		return errors.New("state.tx_store_unnamed_retention must not be negative")
	case c.Snapshots.Interval < 0 || c.Snapshots.KeepRecent < 0 || c.Snapshots.ChunkBytes < 0:
		return errors.New("snapshots.interval, keep_recent and chunk_bytes must not be negative")
	case c.Retention.KeepBlocks < 0 || (c.Retention.KeepBlocks > 0 && c.Retention.KeepBlocks < MinRetentionBlocks):
		return fmt.Errorf("retention.keep_blocks is %d: use 0 to keep every height (an archive node), or at least %d", c.Retention.KeepBlocks, MinRetentionBlocks)
	case c.Snapshots.ChunkBytes > maxSnapshotChunkBytes:
		return fmt.Errorf("snapshots.chunk_bytes must be at most %d (CometBFT's p2p message limit)", maxSnapshotChunkBytes)
	}
	if err := c.Public.ValidateBasic(); err != nil {
		return err
	}
	return c.Log.ValidateBasic()
}

// ValidateBasic rejects a [public] table a node must not start with.
func (p PublicConfig) ValidateBasic() error {
	if p.Listen != "" {
		host, port, err := net.SplitHostPort(p.Listen)
		if err != nil {
			return fmt.Errorf("public.listen %q: want host:port: %w", p.Listen, err)
		}
		if n, err := strconv.Atoi(port); err != nil || n < 0 || n > 65535 {
			return fmt.Errorf("public.listen %q: port %q is not a number in 0..65535", p.Listen, port)
		}
		if strings.ContainsAny(host, "/ ") {
			return fmt.Errorf("public.listen %q: host %q is not a host name or address", p.Listen, host)
		}
	}
	switch {
	case p.RatePerSecond < 0 || p.Burst < 0:
		return errors.New("public.rate_per_second and burst must not be negative")
	case p.RatePerSecond > 0 && p.Burst < 1:
		return errors.New("public.burst must be positive when rate_per_second is set")
	}
	for _, o := range p.CORSOrigins {
		if err := ValidOrigin(o); err != nil {
			return fmt.Errorf("public.cors_origins: %w", err)
		}
	}
	return nil
}

// ValidOrigin checks a CORS origin as a browser sends it: "*", or
// scheme://host[:port] with scheme http or https, in lower case, without a
// path, query or trailing slash.
func ValidOrigin(o string) error {
	if o == "*" {
		return nil
	}
	u, err := url.Parse(o)
	if err != nil {
		return fmt.Errorf("origin %q: %w", o, err)
	}
	if (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" || u.Opaque != "" || u.User != nil ||
		u.Path != "" || u.RawQuery != "" || u.Fragment != "" || strings.HasSuffix(o, "?") || strings.HasSuffix(o, "#") {
		return fmt.Errorf("origin %q: want scheme://host[:port] (http or https), nothing after the host, or \"*\"", o)
	}
	if o != strings.ToLower(o) {
		return fmt.Errorf("origin %q: write it in lower case, as browsers send it", o)
	}
	return nil
}

// Config is a node's whole configuration.
type Config struct {
	Home  string
	Comet *cmtcfg.Config
	App   *AppConfig
}

// Path resolves a path relative to the home.
func (c *Config) Path(p string) string {
	if p == "" || filepath.IsAbs(p) {
		return p
	}
	return filepath.Join(c.Home, p)
}

// LoadConfig reads config/config.toml and config/app.toml of home.
func LoadConfig(home string) (*Config, error) {
	home, err := filepath.Abs(home)
	if err != nil {
		return nil, err
	}
	comet := cmtcfg.DefaultConfig()
	v := viper.New()
	v.SetConfigFile(filepath.Join(home, "config", "config.toml"))
	if err := v.ReadInConfig(); err != nil {
		return nil, fmt.Errorf("read %s: %w (run 'notaryd init' first)", v.ConfigFileUsed(), err)
	}
	if err := v.Unmarshal(comet); err != nil {
		return nil, fmt.Errorf("parse %s: %w", v.ConfigFileUsed(), err)
	}
	comet.SetRoot(home)
	if err := comet.ValidateBasic(); err != nil {
		return nil, fmt.Errorf("config.toml: %w", err)
	}
	appCfg, err := loadAppConfig(filepath.Join(home, AppConfigFile))
	if err != nil {
		return nil, err
	}
	if err := appCfg.ValidateBasic(); err != nil {
		return nil, fmt.Errorf("%s: %w", filepath.Join(home, AppConfigFile), err)
	}
	return &Config{Home: home, Comet: comet, App: appCfg}, nil
}

// removedSettings are app.toml settings of earlier releases that a node
// still accepts, and ignores, with the value that meant what the node now
// always does; another value is refused with the reason.
var removedSettings = map[string]struct {
	same any
	why  string
}{
	"state.batch_references": {true, "blocks always name transactions of 1 kB or more by hash (docs/DESIGN.md, \"Batch references\"); remove the setting"},
	"p2p.block_part_hold":    {nil, "blocks are a few hundred bytes and their parts are relayed as CometBFT does; remove the setting"},
}

// loadAppConfig reads app.toml over the defaults. Unknown settings are
// refused; settings of earlier releases are ignored (removedSettings).
func loadAppConfig(path string) (*AppConfig, error) {
	var raw map[string]any
	if _, err := toml.DecodeFile(path, &raw); err != nil {
		return nil, fmt.Errorf("read %s: %w", path, err)
	}
	for key, r := range removedSettings {
		table, name, _ := strings.Cut(key, ".")
		t, ok := raw[table].(map[string]any)
		if !ok {
			continue
		}
		v, ok := t[name]
		if !ok {
			continue
		}
		if r.same != nil && v != r.same {
			return nil, fmt.Errorf("%s: %s = %v is no longer supported: %s", path, key, v, r.why)
		}
		delete(t, name)
		if len(t) == 0 {
			delete(raw, table)
		}
	}
	var buf bytes.Buffer
	if err := toml.NewEncoder(&buf).Encode(raw); err != nil {
		return nil, fmt.Errorf("read %s: %w", path, err)
	}
	cfg := DefaultAppConfig()
	if _, ok := raw["public"]; !ok {
		cfg.Public.Listen = "" // an app.toml of an earlier release: the endpoint stays off
	}
	md, err := toml.NewDecoder(&buf).Decode(cfg)
	if err != nil {
		return nil, fmt.Errorf("read %s: %w", path, err)
	}
	if und := md.Undecoded(); len(und) > 0 {
		return nil, fmt.Errorf("%s: unknown setting %q", path, und[0].String())
	}
	return cfg, nil
}

// SaveConfig writes both configuration files of c.Home.
func SaveConfig(c *Config) error {
	if err := os.MkdirAll(filepath.Join(c.Home, "config"), 0o700); err != nil {
		return err
	}
	c.Comet.SetRoot(c.Home)
	cmtcfg.WriteConfigFile(filepath.Join(c.Home, "config", "config.toml"), c.Comet)
	f, err := os.OpenFile(filepath.Join(c.Home, AppConfigFile), os.O_CREATE|os.O_TRUNC|os.O_WRONLY, 0o600)
	if err != nil {
		return err
	}
	_, err = f.WriteString("# GobTechLab Notary: application settings (see docs/operations.md).\n\n")
	if err == nil {
		err = toml.NewEncoder(f).Encode(c.App)
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	return err
}
