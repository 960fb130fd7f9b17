package app

import (
	"bytes"
	"errors"
	"fmt"
	"reflect"
	"sort"
	"strings"

	"github.com/BurntSushi/toml"
)

// settingDoc documents one app.toml setting in the configuration
// reference (docs/config.md).
type settingDoc struct {
	// Meaning says what the setting does.
	Meaning string
	// Change says when an operator changes it from the default.
	Change string
}

// tableDocs introduce the tables of app.toml, by table name.
var tableDocs = map[string]string{
	"gateway": "The gRPC gateway (and its HTTP/JSON routes): the agencies' and " +
		"citizens' interface to the chain, with its limits (docs/operations.md, " +
		"\"Gateway limits: connections and rates\").",
	"public": "The public HTTP endpoint: live status of anchored digests and " +
		"verification codes, read-only, without a client certificate, and the web " +
		"verifier's page (docs/operations.md, \"Public endpoint\"). An app.toml " +
		"without a `[public]` table (one of an earlier release) keeps the endpoint off.",
	"log": "The evidence log's checkpoints: the witnesses this node submits " +
		"them to (docs/witness.md, docs/operations.md \"Witnesses\").",
	"snapshots": "State sync snapshots: the node takes one every `interval` " +
		"heights, off the consensus path, and serves them to nodes that join by " +
		"state sync (docs/operations.md, \"Joining by state sync\"; " +
		"docs/adr/0031-state-sync.md). An app.toml without a `[snapshots]` table " +
		"(one of an earlier release) takes none.",
	"retention": "What old data the node deletes (docs/operations.md, " +
		"\"Retention\"; docs/adr/0032-retention.md): the blocks and state versions " +
		"older than `keep_blocks` heights. Lookups and v2 receipts of every digest " +
		"stay; v1 receipts of anchors below the kept window, and block sync of old " +
		"heights to new nodes, need an archive node. An app.toml without a " +
		"`[retention]` table keeps everything.",
	"state": "The application state: caches, the digest filter and how blocks " +
		"are checked and executed.",
}

// settingDocs document every app.toml setting, by "table.key". A setting
// added to AppConfig needs its entry here: ConfigReference fails without it.
var settingDocs = map[string]settingDoc{
	"gateway.listen_address": {
		Meaning: "host:port of the gRPC gateway; `\"\"` disables it.",
		Change:  "To serve agencies from other hosts: the host's address or `0.0.0.0` (`notaryd testnet --hosts` does), with TLS.",
	},
	"gateway.http_listen_address": {
		Meaning: "host:port of the gateway's HTTP/JSON routes (the same TLS files, client certificates, limits and handlers); `\"\"` serves none. Without `tls_cert` it must be a loopback address.",
		Change:  "To offer HTTP/JSON to clients without gRPC (docs/integration.md); `notaryd dev` and `--http-port` set it.",
	},
	"gateway.tls_cert": {
		Meaning: "PEM file of the gateway's server certificate, relative to the home; `\"\"` serves plaintext (loopback only).",
		Change:  "When the certificate is kept elsewhere, or renewed under another name.",
	},
	"gateway.tls_key": {
		Meaning: "PEM file of the key of `tls_cert`, relative to the home; set together with `tls_cert`.",
		Change:  "With `tls_cert`.",
	},
	"gateway.client_ca": {
		Meaning: "PEM file of the consortium CA, relative to the home: writes need a client certificate it issued; reads need none.",
		Change:  "When the consortium's CA certificate is kept elsewhere.",
	},
	"gateway.max_recv_msg_bytes": {
		Meaning: "The largest request message, in bytes (at least 1024); an HTTP/JSON body may be twice as large.",
		Change:  "Raise it with `max_digests_per_request` when agencies send larger batches.",
	},
	"gateway.max_send_msg_bytes": {
		Meaning: "The largest response message, in bytes (at least 1024).",
		Change:  "Raise it if clients ask for many receipts in one request and are refused.",
	},
	"gateway.max_digests_per_request": {
		Meaning: "The most digests one transaction or request carries.",
		Change:  "Lower it to bound the work of one request; raise it (with `max_recv_msg_bytes`) for larger batches.",
	},
	"gateway.rate_per_second": {
		Meaning: "Requests per second of each caller's token bucket: one per listed member (agency or ministry named by its client certificate), one per address (IPv4, IPv6 /64) for everyone else; 0 disables the limit.",
		Change:  "Raise it for an agency that anchors faster than the default allows; lower it on a gateway open to the public.",
	},
	"gateway.rate_burst": {
		Meaning: "The token bucket's size: requests a caller may send at once above `rate_per_second`; positive when `rate_per_second` is set.",
		Change:  "With `rate_per_second`, for bursty clients.",
	},
	"gateway.rate_table_size": {
		Meaning: "Address buckets kept; a new address replaces the least recently used one (which starts afresh if it comes back). Nobody is refused because the table is full.",
		Change:  "Raise it when many distinct addresses read at once and the metric `notary_gateway_rate_table_evictions_total` grows fast.",
	},
	"gateway.max_concurrent_streams": {
		Meaning: "HTTP/2 streams per connection.",
		Change:  "Rarely; raise it for clients that multiplex many calls on one connection.",
	},
	"gateway.max_connections": {
		Meaning: "Authenticated connections: a listed member's client certificate, or a request signed by a registered citizen. Past it, a member's connection is served as unauthenticated.",
		Change:  "Raise it (and the open-files limit) for a consortium with more client processes.",
	},
	"gateway.max_unauthenticated_connections": {
		Meaning: "All other connections, including every connection until its TLS handshake completes; when full, a new connection closes the oldest unauthenticated one.",
		Change:  "Raise it (and the open-files limit) on a gateway with many public readers.",
	},
	"gateway.max_connections_per_address": {
		Meaning: "Unauthenticated connections from one address (IPv4, IPv6 /64); one more is closed at once.",
		Change:  "Raise it when many readers share one NAT address.",
	},
	"gateway.tls_handshake_timeout": {
		Meaning: "Time allowed for a connection's TLS handshake, and then for its HTTP/2 preface.",
		Change:  "Raise it for clients on slow links.",
	},
	"gateway.unauthenticated_idle_timeout": {
		Meaning: "An unauthenticated connection with no request in progress for longer is closed (the client reconnects on its next call).",
		Change:  "Rarely; lower it under connection floods.",
	},
	"gateway.keepalive_min_time": {
		Meaning: "Clients that send HTTP/2 keepalive pings more often are disconnected.",
		Change:  "Lower it only for clients that must ping more often.",
	},
	"gateway.idle_timeout": {
		Meaning: "Authenticated connections idle for longer are closed.",
		Change:  "Raise it for clients that keep connections open between rare calls.",
	},
	"gateway.submit_timeout": {
		Meaning: "How long a submission waits for its transaction to be committed before the caller gets DeadlineExceeded (the transaction may still be committed); HTTP/JSON reads a request within it and writes the answer within twice it.",
		Change:  "Raise it on a chain with long block intervals.",
	},
	"gateway.max_in_flight": {
		Meaning: "Transactions one stream keeps waiting for commit, and the most transactions of one `SubmitBatch`.",
		Change:  "Raise it for agencies that pipeline more transactions on one stream.",
	},
	"gateway.citizen_tx_rate_per_second": {
		Meaning: "Citizens' transactions (consents: signed, no certificate) this node relays per second, all citizens together; 0 disables the limit.",
		Change:  "Raise it on the node an identity agency sends its citizens' consents to.",
	},
	"gateway.citizen_tx_burst": {
		Meaning: "The bucket size of `citizen_tx_rate_per_second`; positive when that is set.",
		Change:  "With `citizen_tx_rate_per_second`.",
	},
	"log.witnesses": {
		Meaning: "The witnesses this node submits each newer valid checkpoint to (C2SP tlog-witness), each as `{url = \"https://witness.example\", key = \"<name>+<hash>+<base64>\"}`: its submission prefix and its cosignature/v1 verifier key, as `verifier witness init` prints it. The node verifies each cosignature with the key and serves the cosignatures with the checkpoint at `/log/checkpoint`. Empty: none.",
		Change:  "When the consortium agrees on a witness: every node lists the same witnesses (docs/operations.md, \"Witnesses\").",
	},
	"public.listen": {
		Meaning: "host:port of the public endpoint; `\"\"` turns it off. `notaryd testnet` gives node k port base+10k+4; `notaryd init` and `dev` take `--public-port`.",
		Change:  "Keep it on 127.0.0.1 behind a reverse proxy with TLS; `\"\"` on a node that serves no verifiers.",
	},
	"public.cors_origins": {
		Meaning: "Origins (`https://sede.example.gob.es`, lower case, no path) whose web pages may read the answers; `\"*\"` allows any.",
		Change:  "List the sedes whose pages embed verification.",
	},
	"public.rate_per_second": {
		Meaning: "Requests per second of each client address's token bucket (IPv4, IPv6 /64; 65,536 addresses kept); 0 disables the limit.",
		Change:  "Behind a reverse proxy every request comes from the proxy: set 0 and limit per client at the proxy, or raise it.",
	},
	"public.burst": {
		Meaning: "The token bucket's size; positive when `rate_per_second` is set.",
		Change:  "With `rate_per_second`.",
	},
	"public.serve_web": {
		Meaning: "Serve the web verifier's page at `/` (with the home's trust bundle at `/trust.json`).",
		Change:  "Turn it off when the page is published elsewhere.",
	},
	"state.iavl_cache_size": {
		Meaning: "IAVL nodes of the state kept in memory.",
		Change:  "Raise it on a node with memory to spare and a large state, to read fewer nodes from disk.",
	},
	"state.tx_cache_size": {
		Meaning: "Decoded, signature-checked transactions remembered (also bounded by their bytes), so that a transaction is verified once although CheckTx, ProcessProposal and FinalizeBlock all see it.",
		Change:  "Rarely; raise it when the mempool holds more transactions than this.",
	},
	"state.digest_filter_mb": {
		Meaning: "Memory of the filter that answers most digest lookups without reading the digest index: four bytes per digest, 250,000 digests per MB; 0 disables it. Rebuilt at start.",
		Change:  "Size it for the digests the chain will hold until the next restart (docs/operations.md, \"Memory and disk for the digests\"); the node logs `digest filter is full` when it is too small.",
	},
	"state.tx_store_unnamed_retention": {
		Meaning: "Blocks after which the transaction store drops a transaction no block named (received from a client or a peer, never included); a named one is kept for ever. 0 keeps every transaction. The space is reclaimed when at least half of a segment file is dropped (docs/operations.md, \"The transaction store's disk\").",
		Change:  "Rarely. Lower it to bound the disk a flood of transactions that are never included can take; keep it above the blocks a transaction may wait in the mempool (a dropped one a block names later is fetched from peers). 0 keeps every transaction, as earlier releases did.",
	},
	"snapshots.interval": {
		Meaning: "Heights between state sync snapshots (a snapshot of height h when h is a multiple); 0 takes none. A snapshot holds the state, every batch transaction and the evidence log's leaves: about the size of the state plus 32 bytes per anchored digest.",
		Change:  "0 on a node that should serve none (a validator short of disk); lower on a busy chain so that a joining node replays fewer blocks after the snapshot.",
	},
	"snapshots.keep_recent": {
		Meaning: "Snapshots kept on disk (in data/app/snapshots); older ones are removed when a new one is complete.",
		Change:  "Rarely; 1 halves their disk, at the cost of a joining node that started on the previous snapshot having to start over.",
	},
	"snapshots.chunk_bytes": {
		Meaning: "Size of a snapshot's chunks, each fetched from one peer and checked against the snapshot's metadata; at most 15 MB. Nodes with the same value take byte-identical snapshots, so a joining node fetches chunks from all of them.",
		Change:  "Keep it the same on every node of the consortium; lower it on slow links.",
	},
	"retention.keep_blocks": {
		Meaning: "Recent heights whose blocks (CometBFT's block and state stores) and state versions the node keeps; older ones are deleted as blocks commit, never below the oldest snapshot kept. The headers, commits and validator sets stay whatever the value: CometBFT keeps those within the evidence age (consensus params `evidence`) when it prunes, and never goes back to them. 0 keeps every height: an archive node. At least 10 otherwise.",
		Change:  "On a node short of disk that need not serve v1 receipts of old anchors nor blocks to new nodes; keep at least two archive nodes in the consortium. Size it above the heights a v1 receipt is asked for after its anchor, and above the snapshot interval.",
	},
	"state.light_relayed_checks": {
		Meaning: "Check a transaction relayed by a peer in full except for the novelty of its digests, which the block decides; hold one whose sequence is ahead (docs/adr/0010-relayed-transactions.md).",
		Change:  "Rarely; turn it off to check relayed transactions as the node's own.",
	},
	"state.optimistic_execution": {
		Meaning: "Execute a proposed block while the validators vote on it, and keep the result if that block is decided (docs/adr/0009-optimistic-execution.md).",
		Change:  "Rarely; turn it off to execute only decided blocks.",
	},
}

// ConfigSetting is one app.toml setting as the configuration reference
// lists it.
type ConfigSetting struct {
	// Table and Key name it: Key in [Table].
	Table, Key string
	// Default is its value in DefaultAppConfig, as TOML.
	Default string
	// Meaning and Change are its documentation.
	Meaning, Change string
}

// ConfigSettings lists every app.toml setting in the order of AppConfig,
// with its default and documentation. It fails if a setting has no
// documentation, or documentation names no setting.
func ConfigSettings() ([]ConfigSetting, error) {
	def := reflect.ValueOf(DefaultAppConfig()).Elem()
	seen := map[string]bool{}
	var out []ConfigSetting
	var missing []string
	for i := range def.NumField() {
		table := tomlName(def.Type().Field(i))
		if table == "" {
			continue
		}
		tv := def.Field(i)
		if tv.Kind() != reflect.Struct {
			return nil, fmt.Errorf("app.toml setting %s is outside a table: the reference lists tables of settings", table)
		}
		if _, ok := tableDocs[table]; !ok {
			missing = append(missing, "["+table+"]")
		}
		for j := range tv.NumField() {
			key := tomlName(tv.Type().Field(j))
			if key == "" {
				continue
			}
			name := table + "." + key
			seen[name] = true
			d, ok := settingDocs[name]
			if !ok || d.Meaning == "" || d.Change == "" {
				missing = append(missing, name)
				continue
			}
			v, err := tomlValue(tv.Field(j).Interface())
			if err != nil {
				return nil, fmt.Errorf("default of %s: %w", name, err)
			}
			out = append(out, ConfigSetting{Table: table, Key: key, Default: v, Meaning: d.Meaning, Change: d.Change})
		}
	}
	var errs []error
	if len(missing) > 0 {
		errs = append(errs, fmt.Errorf("app.toml settings without documentation (app/configref.go, settingDocs): %s", strings.Join(missing, ", ")))
	}
	var stale []string
	for name := range settingDocs {
		if !seen[name] {
			stale = append(stale, name)
		}
	}
	if len(stale) > 0 {
		sort.Strings(stale)
		errs = append(errs, fmt.Errorf("documentation of settings app.toml does not have: %s", strings.Join(stale, ", ")))
	}
	if err := errors.Join(errs...); err != nil {
		return nil, err
	}
	return out, nil
}

// ConfigReference is the reference of app.toml in Markdown: a section per
// table, a row per setting with its default, meaning and when to change it.
// docs/config.md holds it between generated-section markers.
func ConfigReference() (string, error) {
	settings, err := ConfigSettings()
	if err != nil {
		return "", err
	}
	var b strings.Builder
	table := ""
	for _, s := range settings {
		if s.Table != table {
			table = s.Table
			fmt.Fprintf(&b, "\n### `[%s]`\n\n%s\n\n", table, tableDocs[table])
			b.WriteString("| setting | default | meaning | when to change it |\n| --- | --- | --- | --- |\n")
		}
		fmt.Fprintf(&b, "| `%s` | `%s` | %s | %s |\n", s.Key, s.Default, cell(s.Meaning), cell(s.Change))
	}
	b.WriteString("\n### Removed settings\n\nSettings of earlier releases that a node still reads and ignores when they hold a value it accepts; another value is refused at start with the reason:\n\n")
	b.WriteString("| setting | accepted | reason |\n| --- | --- | --- |\n")
	names := make([]string, 0, len(removedSettings))
	for name := range removedSettings {
		names = append(names, name)
	}
	sort.Strings(names)
	for _, name := range names {
		r := removedSettings[name]
		accepted := "any value"
		if r.same != nil {
			v, err := tomlValue(r.same)
			if err != nil {
				return "", fmt.Errorf("removed setting %s: %w", name, err)
			}
			accepted = "`" + v + "` only"
		}
		fmt.Fprintf(&b, "| `%s` | %s | %s |\n", name, accepted, cell(r.why))
	}
	return b.String()[1:], nil
}

// tomlName is the TOML key of a struct field, "" if it has none.
func tomlName(f reflect.StructField) string {
	name, _, _ := strings.Cut(f.Tag.Get("toml"), ",")
	if name == "-" {
		return ""
	}
	return name
}

// tomlValue writes v as the value of a TOML key, as app.toml holds it.
func tomlValue(v any) (string, error) {
	var buf bytes.Buffer
	if err := toml.NewEncoder(&buf).Encode(map[string]any{"k": v}); err != nil {
		return "", err
	}
	s, ok := strings.CutPrefix(strings.TrimSpace(buf.String()), "k = ")
	if !ok {
		return "", fmt.Errorf("%T is not a TOML value", v)
	}
	return s, nil
}

// cell escapes text for a Markdown table cell.
func cell(s string) string { return strings.ReplaceAll(s, "|", `\|`) }
