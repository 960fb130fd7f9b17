package main

import (
	"bytes"
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/binary"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"time"
)

// noteKeys returns a signed-note ed25519 key pair in the text forms Tessera
// reads (golang.org/x/mod/sumdb/note): "PRIVATE+KEY+<name>+<hash>+<key>" and
// "<name>+<hash>+<key>", where hash is the first 4 bytes of
// SHA-256(name || "\n" || 0x01 || public key) and key is base64 of the
// algorithm byte 0x01 and the seed or public key.
func noteKeys(name string) (signer, verifier string, err error) {
	pub, priv, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		return "", "", err
	}
	h := sha256.New()
	h.Write([]byte(name + "\n"))
	h.Write([]byte{1})
	h.Write(pub)
	sum := h.Sum(nil)
	hash := fmt.Sprintf("%08x", binary.BigEndian.Uint32(sum[:4]))
	enc := func(b []byte) string { return base64.StdEncoding.EncodeToString(append([]byte{1}, b...)) }
	return "PRIVATE+KEY+" + name + "+" + hash + "+" + enc(priv.Seed()), name + "+" + hash + "+" + enc(pub), nil
}

// treeSize reads the size line of the log's checkpoint file.
func treeSize(storage string) (int64, error) {
	b, err := os.ReadFile(filepath.Join(storage, "checkpoint"))
	if err != nil {
		return 0, err
	}
	lines := bytes.SplitN(b, []byte("\n"), 3)
	if len(lines) < 2 {
		return 0, fmt.Errorf("checkpoint: unexpected format")
	}
	return strconv.ParseInt(string(lines[1]), 10, 64)
}

// runTessera runs Tessera's POSIX conformance log and its hammer (writers
// only, no readers), and measures integrated leaves/s from the growth of the
// published checkpoint over the window.
func runTessera(ctx context.Context, o options, bins *binaries, dir string, ps *procs) (*tesseraResult, error) {
	storage := filepath.Join(dir, "log")
	if err := os.MkdirAll(storage, 0o755); err != nil {
		return nil, err
	}
	signer, verifier, err := noteKeys("notary-bench/tessera")
	if err != nil {
		return nil, err
	}
	keyFile := filepath.Join(dir, "log.key")
	if err := os.WriteFile(keyFile, []byte(signer), 0o600); err != nil {
		return nil, err
	}
	port, err := freeBase(29100, 1)
	if err != nil {
		return nil, err
	}
	addr := fmt.Sprintf("127.0.0.1:%d", port)
	logPath := filepath.Join(dir, "posix.log")
	srv, err := ps.start("tessera posix", exec.Command(bins.posix, "--storage_dir", storage, "--listen", addr, "--private_key", keyFile), logPath)
	if err != nil {
		return nil, err
	}
	defer ps.stopGroup([]*proc{srv}, 10*time.Second)
	hc := &http.Client{Timeout: 2 * time.Second}
	err = waitFor(ctx, "tessera posix", 30*time.Second, 100*time.Millisecond, func() error {
		if srv.exited() {
			return fmt.Errorf("exited: %s", tail(logPath, 5))
		}
		resp, err := hc.Get("http://" + addr + "/checkpoint")
		if err != nil {
			return err
		}
		_ = resp.Body.Close()
		if resp.StatusCode != http.StatusOK {
			return fmt.Errorf("GET /checkpoint: %s", resp.Status)
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	const writers = 1024
	hammerLog := filepath.Join(dir, "hammer.log")
	ham, err := ps.start("tessera hammer", exec.Command(bins.hammer,
		"--log_url", "http://"+addr+"/", "--log_public_key", verifier,
		"--max_read_ops", "0", "--num_readers_random", "0", "--num_readers_full", "0",
		"--num_writers", strconv.Itoa(writers), "--max_write_ops", "1000000",
		"--leaf_min_size", "64", "--dup_chance", "0", "--show_ui=false"), hammerLog)
	if err != nil {
		return nil, err
	}
	defer ps.stopGroup([]*proc{ham}, 5*time.Second)
	logf("tessera: posix log on %s, hammer with %d writers; warming up", addr, writers)
	if !sleepCtx(ctx, baselineWarmup(o)) {
		return nil, ctx.Err()
	}
	if ham.exited() {
		return nil, fmt.Errorf("hammer exited: %s", tail(hammerLog, 5))
	}
	s0, err := treeSize(storage)
	if err != nil {
		return nil, err
	}
	both := []*proc{srv, ham}
	cpu0, err := sumCPU(both)
	if err != nil {
		return nil, err
	}
	srvCPU0, _ := cpuSeconds(srv.pid())
	logf("tessera: window of %s", o.baseWin)
	t0 := time.Now()
	if !sleepCtx(ctx, o.baseWin) {
		return nil, ctx.Err()
	}
	s1, err := treeSize(storage)
	if err != nil {
		return nil, err
	}
	cpu1, err := sumCPU(both)
	if err != nil {
		return nil, err
	}
	srvCPU1, _ := cpuSeconds(srv.pid())
	secs := time.Since(t0).Seconds()
	r := &tesseraResult{Seconds: secs, Leaves: s1 - s0, LeavesPerSec: float64(s1-s0) / secs, Writers: writers,
		CPUSeconds: cpu1 - cpu0, LogCPUSeconds: srvCPU1 - srvCPU0, TreeSize: s1}
	if r.Leaves > 0 {
		r.LogCPUSecPer1k = r.LogCPUSeconds / (float64(r.Leaves) / 1000)
	}
	if ham.exited() {
		return nil, fmt.Errorf("hammer exited during the window: %s", tail(hammerLog, 5))
	}
	data, err := diskBytes(storage)
	if err == nil && s1 > 0 {
		r.BytesPerLeaf = float64(data) / float64(s1)
	}
	logf("tessera: %.0f leaves/s (tree %d -> %d)", r.LeavesPerSec, s0, s1)
	return r, nil
}
