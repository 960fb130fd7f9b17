package testnet

import (
	"bufio"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"
)

// observabilityDir holds the Grafana dashboard and the Prometheus alert
// rules (docs/operations.md, "Monitoring").
const observabilityDir = "../scripts/observability"

// metricName matches the names of the notary's and CometBFT's metrics in
// the dashboard's queries and the rules' expressions (and their text).
var metricName = regexp.MustCompile(`\b(?:notary|cometbft)_[a-z0-9_]*[a-z0-9]\b`)

// absentOnDev are metrics the dashboard or the rules name that a
// single-validator dev node never sets, with the reason.
var absentOnDev = map[string]string{
	"cometbft_p2p_peers":         "set when a peer connects or leaves; a dev node has no peers",
	"cometbft_blocksync_syncing": "set when block sync starts; a lone validator starts in consensus",
}

// referencedMetrics returns the metric names the dashboard and the rules
// name.
func referencedMetrics(t *testing.T) []string {
	t.Helper()
	seen := map[string]bool{}
	for _, f := range []string{"dashboard.json", "alerts.yml"} {
		b, err := os.ReadFile(filepath.Join(observabilityDir, f))
		if err != nil {
			t.Fatal(err)
		}
		for _, m := range metricName.FindAllString(string(b), -1) {
			seen[m] = true
		}
	}
	var names []string
	for n := range seen {
		names = append(names, n)
	}
	slices.Sort(names)
	return names
}

// scrape returns the names of the samples a metrics endpoint serves.
func scrape(t *testing.T, url string) map[string]bool {
	t.Helper()
	resp, err := http.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = resp.Body.Close() }()
	if resp.StatusCode != http.StatusOK {
		b, _ := io.ReadAll(resp.Body)
		t.Fatalf("%s: %s\n%s", url, resp.Status, b)
	}
	names := map[string]bool{}
	sc := bufio.NewScanner(resp.Body)
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	for sc.Scan() {
		line := sc.Text()
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		if i := strings.IndexAny(line, "{ "); i > 0 {
			names[line[:i]] = true
		}
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	return names
}

// TestObservabilityMetricsExported: every metric the Grafana dashboard and
// the alert rules name is served by a real dev node's metrics endpoint
// once it has anchored a document and answered a request (histograms by
// their _bucket, _sum and _count samples), but for the few a lone
// validator never sets (absentOnDev).
func TestObservabilityMetricsExported(t *testing.T) {
	if testing.Short() {
		t.Skip("runs notaryd dev")
	}
	names := referencedMetrics(t)
	if len(names) < 20 {
		t.Fatalf("the dashboard and the rules name %d metrics: %v", len(names), names)
	}
	d := startDev(t)
	notaryctl := goBuild(t, "cmd/notaryctl")
	doc := filepath.Join(t.TempDir(), "acta.txt")
	if err := os.WriteFile(doc, []byte("acta de la reunión del consorcio\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if out, code := runCLI(t, notaryctl, "anchor", doc, "--identity", d.agency(), "--node", d.gateway); code != 0 {
		t.Fatalf("anchor: exit %d\n%s", code, out)
	}
	if resp, err := http.Get(fmt.Sprintf("http://127.0.0.1:%d/healthz", d.public)); err == nil {
		_ = resp.Body.Close()
	}
	url := fmt.Sprintf("http://127.0.0.1:%d/metrics", d.metrics)
	var missing []string
	deadline := time.Now().Add(30 * time.Second)
	for {
		served := scrape(t, url)
		missing = missing[:0]
		for _, n := range names {
			if !served[n] && absentOnDev[n] == "" {
				missing = append(missing, n)
			}
		}
		if len(missing) == 0 || time.Now().After(deadline) {
			break
		}
		time.Sleep(time.Second)
	}
	if len(missing) > 0 {
		t.Fatalf("the dashboard or the rules name metrics the node does not serve: %v", missing)
	}
	for n := range absentOnDev {
		if !slices.Contains(names, n) {
			t.Errorf("absentOnDev lists %s, which neither the dashboard nor the rules name", n)
		}
	}
}
