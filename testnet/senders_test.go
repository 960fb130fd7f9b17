package testnet

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gobtechlab/notary/testnet/internal/harness"
)

// TestManySendersOneAgency: eight `notaryctl anchor` processes of one
// agency, one key, over eight folders of 2,000 files each (100 with
// -short), started at once against a `notaryd dev` node process: every
// process exits 0 with every file newly anchored, and the gateway refused
// nothing (its submissions all counted OK). The processes sign unordered
// transactions, notaryctl's default; no coordination between them.
func TestManySendersOneAgency(t *testing.T) {
	const procs = 8
	files := 2000
	if testing.Short() {
		files = 100
	}
	bin := t.TempDir()
	notaryd, notaryctl := harness.Binary(t), cliBinary(t, bin, "notaryctl")
	home := filepath.Join(t.TempDir(), "dev")
	ports := harness.FreePorts(t, 5)
	// Every port chosen here (the public one too), the HTTP/JSON gateway
	// off: another run of the tests may hold the dev defaults.
	node := exec.Command(notaryd, "dev", "--home", home, "--block-interval", "200ms", "--empty-blocks",
		"--p2p-port", strconv.Itoa(ports[0]), "--rpc-port", strconv.Itoa(ports[1]),
		"--gateway-port", strconv.Itoa(ports[2]), "--metrics-port", strconv.Itoa(ports[3]),
		"--public-port", strconv.Itoa(ports[4]), "--http-port", "0")
	var nodeLog bytes.Buffer
	node.Stdout, node.Stderr = &nodeLog, &nodeLog
	if err := node.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		_ = node.Process.Signal(os.Interrupt)
		done := make(chan struct{})
		go func() { _ = node.Wait(); close(done) }()
		select {
		case <-done:
		case <-time.After(20 * time.Second):
			_ = node.Process.Kill()
			<-done
		}
		if t.Failed() {
			t.Logf("notaryd dev output:\n%s", tailString(nodeLog.String(), 4000))
		}
	})
	agency := filepath.Join(home, "identities", "dev-agency")
	deadline := time.Now().Add(90 * time.Second)
	for {
		h, err := devHeight(ports[1])
		if _, ierr := os.Stat(filepath.Join(agency, "identity.json")); err == nil && ierr == nil && h >= 2 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("the dev node did not start: %v", err)
		}
		time.Sleep(200 * time.Millisecond)
	}

	root := t.TempDir()
	for p := range procs {
		dir := filepath.Join(root, fmt.Sprintf("office-%d", p))
		if err := os.MkdirAll(dir, 0o755); err != nil {
			t.Fatal(err)
		}
		for f := range files {
			body := fmt.Sprintf("oficina %d, certificado %d\n", p, f)
			if err := os.WriteFile(filepath.Join(dir, fmt.Sprintf("cert-%04d.txt", f)), []byte(body), 0o644); err != nil {
				t.Fatal(err)
			}
		}
	}
	type result struct {
		out  []byte
		err  error
		took time.Duration
	}
	results := make([]result, procs)
	start := make(chan struct{})
	var wg sync.WaitGroup
	for p := range procs {
		wg.Go(func() {
			cmd := exec.Command(notaryctl, "anchor", filepath.Join(root, fmt.Sprintf("office-%d", p)),
				"--identity", agency, "--node", "127.0.0.1:"+strconv.Itoa(ports[2]), "--output", "json", "--timeout", "10m")
			<-start
			t0 := time.Now()
			out, err := cmd.Output()
			results[p] = result{out, err, time.Since(t0)}
		})
	}
	close(start)
	wg.Wait()
	for p, r := range results {
		if r.err != nil {
			var stderr []byte
			if ee, ok := r.err.(*exec.ExitError); ok {
				stderr = ee.Stderr
			}
			t.Errorf("process %d: %v: %s\n%s", p, r.err, failures(r.out), tailString(string(stderr), 2000))
			continue
		}
		var sum struct {
			Anchored        int `json:"anchored"`
			AlreadyAnchored int `json:"already_anchored"`
			Failed          int `json:"failed"`
		}
		if err := json.Unmarshal(r.out, &sum); err != nil {
			t.Errorf("process %d: output is not the JSON result: %v", p, err)
			continue
		}
		if sum.Anchored != files || sum.AlreadyAnchored != 0 || sum.Failed != 0 {
			t.Errorf("process %d: %d anchored, %d already anchored, %d failed; want %d anchored", p, sum.Anchored, sum.AlreadyAnchored, sum.Failed, files)
		}
		t.Logf("process %d: %d files in %s", p, sum.Anchored, r.took.Round(time.Millisecond))
	}
	// The gateway refused nothing: every submission is counted OK.
	codes, err := submissionCodes(ports[3])
	if err != nil {
		t.Fatal(err)
	}
	for code, n := range codes {
		if code != "OK" && n > 0 {
			t.Errorf("the gateway answered %v submissions %s", n, code)
		}
	}
	if codes["OK"] < procs {
		t.Errorf("%v submissions counted OK, want at least %d: %v", codes["OK"], procs, codes)
	}
}

// failures sums up the errors of the files an anchor command's JSON result
// reports failed.
func failures(out []byte) string {
	var res struct {
		Files []struct {
			Error string `json:"error"`
		} `json:"files"`
		Anchored int `json:"anchored"`
		Failed   int `json:"failed"`
	}
	if err := json.Unmarshal(out, &res); err != nil {
		return tailString(string(out), 2000)
	}
	errs := map[string]int{}
	for _, f := range res.Files {
		if f.Error != "" {
			errs[f.Error]++
		}
	}
	return fmt.Sprintf("%d anchored, %d failed: %v", res.Anchored, res.Failed, errs)
}

// devHeight reads the latest height from the node's CometBFT RPC.
func devHeight(port int) (int64, error) {
	c := &http.Client{Transport: &http.Transport{DisableKeepAlives: true}, Timeout: 5 * time.Second}
	resp, err := c.Get(fmt.Sprintf("http://127.0.0.1:%d/status", port))
	if err != nil {
		return 0, err
	}
	defer func() { _ = resp.Body.Close() }()
	var st struct {
		Result struct {
			SyncInfo struct {
				LatestBlockHeight string `json:"latest_block_height"`
			} `json:"sync_info"`
		} `json:"result"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&st); err != nil {
		return 0, err
	}
	return strconv.ParseInt(st.Result.SyncInfo.LatestBlockHeight, 10, 64)
}

// submissionCodes reads notary_gateway_submissions_total by code from the
// node's metrics.
func submissionCodes(port int) (map[string]float64, error) {
	resp, err := http.Get(fmt.Sprintf("http://127.0.0.1:%d/metrics", port))
	if err != nil {
		return nil, err
	}
	defer func() { _ = resp.Body.Close() }()
	out := map[string]float64{}
	sc := bufio.NewScanner(resp.Body)
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	for sc.Scan() {
		line := sc.Text()
		if !strings.HasPrefix(line, "notary_gateway_submissions_total{") {
			continue
		}
		i := strings.Index(line, `code="`)
		if i < 0 {
			continue
		}
		rest := line[i+len(`code="`):]
		code := rest[:strings.IndexByte(rest, '"')]
		v, err := strconv.ParseFloat(strings.TrimSpace(line[strings.LastIndexByte(line, ' '):]), 64)
		if err != nil {
			return nil, fmt.Errorf("metrics line %q: %w", line, err)
		}
		out[code] += v
	}
	if err := sc.Err(); err != nil {
		return nil, err
	}
	if len(out) == 0 {
		return nil, fmt.Errorf("no notary_gateway_submissions_total in the node's metrics")
	}
	return out, nil
}

func tailString(s string, n int) string {
	if len(s) > n {
		return s[len(s)-n:]
	}
	return s
}
