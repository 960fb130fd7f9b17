package witness_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/gobtechlab/notary/app/witness"
)

// EnvOmniwitness names the transparency-dev omniwitness binary the interop
// test runs (scripts/witness-interop.sh builds it); unset: the test is
// skipped.
const EnvOmniwitness = "NOTARY_OMNIWITNESS"

// TestInteropOmniwitness asks transparency-dev's own witness for
// cosignatures with this package's client, on checkpoints of a real RFC
// 6962 log signed by several validator keys, its key made by GenerateKey
// and saved by SaveKey: it cosigns the first and a consistent checkpoint
// (cosignatures verified here), and refuses a stale old size (409 with its
// size), a larger fork (422), a fork at the cosigned size, an unknown
// origin and a checkpoint without its log's signature; then it still
// cosigns the log's next consistent checkpoint. For the last three, C2SP
// tlog-witness prescribes 409, 404 and 403, and the version built by the
// script answers 422, 500 and 500: the test requires a refusal, and this
// package's witness answers as the specification says. omniwitness takes
// one key per log, so it is configured with one validator's key; the
// k-of-n policy is this package's.
func TestInteropOmniwitness(t *testing.T) {
	bin := os.Getenv(EnvOmniwitness)
	if bin == "" {
		t.Skip(EnvOmniwitness + " not set: scripts/witness-interop.sh builds omniwitness and runs this test")
	}
	dir := t.TempDir()
	vals := newValidators(t, 4)
	skey, vkey, err := witness.GenerateKey("witness.interop.test/omni")
	if err != nil {
		t.Fatal(err)
	}
	keyPath := filepath.Join(dir, "witness.key")
	if err := witness.SaveKey(keyPath, skey); err != nil {
		t.Fatal(err)
	}
	logs := fmt.Sprintf("Logs:\n  - Origin: %s\n    PublicKey: %s\n    URL: http://127.0.0.1:1/\n", testOrigin, vals.vkeys[0])
	logsPath := filepath.Join(dir, "logs.yaml")
	if err := os.WriteFile(logsPath, []byte(logs), 0o600); err != nil {
		t.Fatal(err)
	}
	addr, metrics := freeAddr(t), freeAddr(t)
	cmd := exec.Command(bin, "--listen", addr, "--metrics_listen", metrics,
		"--db_file", filepath.Join(dir, "witness.db"), "--private_key_path", keyPath,
		"--additional_logs", logsPath, "--logtostderr")
	logFile, err := os.Create(filepath.Join(dir, "omniwitness.log"))
	if err != nil {
		t.Fatal(err)
	}
	cmd.Stdout, cmd.Stderr = logFile, logFile
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		_ = cmd.Process.Kill()
		_ = cmd.Wait()
		if t.Failed() {
			b, _ := os.ReadFile(logFile.Name())
			t.Logf("omniwitness log:\n%s", b)
		}
	})
	client := &witness.Client{URL: "http://" + addr, HTTP: &http.Client{Timeout: 10 * time.Second}}
	waitListening(t, addr)

	ctx := context.Background()
	lg := newTestLog(t, testOrigin)
	fork := newTestLog(t, testOrigin)
	lg.append("a", 5)
	fork.append("a", 5)
	cp := lg.checkpoint(vals.signers...)
	cosig, err := client.AddCheckpoint(ctx, 0, nil, cp)
	if err != nil {
		t.Fatalf("first checkpoint: %v", err)
	}
	checkCosignature(t, vkey, cp, cosig)
	root5 := lg.root()
	lg.append("b", 9)
	cp = lg.checkpoint(vals.signers[:3]...)
	cosig, err = client.AddCheckpoint(ctx, 5, lg.consistency(5, root5), cp)
	if err != nil {
		t.Fatalf("consistent checkpoint: %v", err)
	}
	checkCosignature(t, vkey, cp, cosig)
	root14 := lg.root()

	_, err = client.AddCheckpoint(ctx, 5, lg.consistency(5, root5), cp)
	var ce *witness.ConflictError
	if !errors.As(err, &ce) || ce.Size != 14 {
		t.Errorf("stale old size: %v, want a conflict at 14", err)
	}
	fork.append("forged", 9)
	if _, err := client.AddCheckpoint(ctx, 14, nil, fork.checkpoint(vals.signers...)); !refused(err) {
		t.Errorf("fork at the cosigned size: %v, want a refusal", err)
	}
	forkRoot14 := fork.root()
	fork.append("forged", 6)
	if _, err := client.AddCheckpoint(ctx, 14, fork.consistency(14, forkRoot14), fork.checkpoint(vals.signers...)); statusOf(err) != http.StatusUnprocessableEntity {
		t.Errorf("larger fork: %v, want 422", err)
	}
	other := newTestLog(t, "other.test/log")
	other.append("o", 1)
	if _, err := client.AddCheckpoint(ctx, 0, nil, other.checkpoint(vals.signers...)); !refused(err) {
		t.Errorf("unknown origin: %v, want a refusal", err)
	}
	lg.append("c", 1)
	if _, err := client.AddCheckpoint(ctx, 14, lg.consistency(14, root14), lg.checkpoint(vals.signers[1:]...)); !refused(err) {
		t.Errorf("without the configured key: %v, want a refusal", err)
	}
	cp = lg.checkpoint(vals.signers...)
	cosig, err = client.AddCheckpoint(ctx, 14, lg.consistency(14, root14), cp)
	if err != nil {
		t.Fatalf("consistent checkpoint after the refusals: %v", err)
	}
	checkCosignature(t, vkey, cp, cosig)
}

// refused reports whether a witness answered with an HTTP error status.
func refused(err error) bool {
	s := statusOf(err)
	return s >= 400 && s < 600
}

// freeAddr is a loopback address with a port free a moment ago.
func freeAddr(t *testing.T) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	if err := l.Close(); err != nil {
		t.Fatal(err)
	}
	return addr
}

// waitListening waits until addr accepts connections.
func waitListening(t *testing.T, addr string) {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for {
		c, err := net.DialTimeout("tcp", addr, time.Second)
		if err == nil {
			_ = c.Close()
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s not listening: %v", addr, err)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// EnvWitnessClient names a program built from
// scripts/witness-interop/client.go around transparency-dev's witness
// client; unset: TestInteropWitnessClient is skipped.
const EnvWitnessClient = "NOTARY_WITNESS_CLIENT"

// TestInteropWitnessClient has transparency-dev's witness client
// (client/http) talk to this package's witness over loopback: it gets
// cosignatures that verify, and reads every refusal as the error the
// specification's status means to it.
func TestInteropWitnessClient(t *testing.T) {
	bin := os.Getenv(EnvWitnessClient)
	if bin == "" {
		t.Skip(EnvWitnessClient + " not set: scripts/witness-interop.sh builds the client and runs this test")
	}
	vals := newValidators(t, 4)
	skey, _, err := witness.GenerateKey("witness.audit.test/w1")
	if err != nil {
		t.Fatal(err)
	}
	tw := startWitness(t, skey, []witness.Log{{Origin: testOrigin, Keys: vals.vkeys, Threshold: 3}}, filepath.Join(t.TempDir(), "state.json"))
	submit := func(old uint64, p [][]byte, cp []byte) string {
		t.Helper()
		cmd := exec.Command(bin, tw.srv.URL)
		cmd.Stdin = bytes.NewReader(witness.EncodeRequest(old, p, cp))
		out, err := cmd.Output()
		if err != nil {
			t.Fatalf("client: %v", err)
		}
		return string(out)
	}
	lg := newTestLog(t, testOrigin)
	fork := newTestLog(t, testOrigin)
	lg.append("a", 4)
	fork.append("elsewhere", 4)
	forkRoot4 := fork.root()
	cp := lg.checkpoint(vals.signers...)
	out := submit(0, nil, cp)
	cosig, ok := strings.CutPrefix(out, "ok\n")
	if !ok {
		t.Fatalf("first checkpoint: %q", out)
	}
	checkCosignature(t, tw.vkey, cp, []byte(cosig))
	root4 := lg.root()
	lg.append("b", 5)
	fork.append("elsewhere", 5)
	other := newTestLog(t, "other.test/log")
	other.append("o", 1)
	for _, tc := range []struct {
		name string
		old  uint64
		p    [][]byte
		cp   []byte
		want string
	}{
		{"stale old size", 2, nil, lg.checkpoint(vals.signers...), "refused ErrCheckpointStale 4\n"},
		{"fork at the cosigned size", 4, nil, forkAt(t, vals, 4), "refused ErrRootMismatch 0\n"},
		{"larger fork", 4, fork.consistency(4, forkRoot4), fork.checkpoint(vals.signers...), "refused ErrInvalidProof 0\n"},
		{"unknown origin", 0, nil, other.checkpoint(vals.signers...), "refused ErrUnknownLog 0\n"},
		{"two of four keys", 4, lg.consistency(4, root4), lg.checkpoint(vals.signers[:2]...), "refused ErrNoValidSignature 0\n"},
		{"old size above", 10, nil, lg.checkpoint(vals.signers...), "refused ErrOldSizeInvalid 0\n"},
	} {
		if got := submit(tc.old, tc.p, tc.cp); got != tc.want {
			t.Errorf("%s: %q, want %q", tc.name, got, tc.want)
		}
	}
	cp = lg.checkpoint(vals.signers[1:]...)
	out = submit(4, lg.consistency(4, root4), cp)
	if cosig, ok = strings.CutPrefix(out, "ok\n"); !ok {
		t.Fatalf("consistent checkpoint: %q", out)
	}
	checkCosignature(t, tw.vkey, cp, []byte(cosig))
}

// forkAt is a checkpoint of a log of size leaves other than the test log's.
func forkAt(t *testing.T, vals validators, size int) []byte {
	t.Helper()
	f := newTestLog(t, testOrigin)
	f.append("elsewhere", size)
	return f.checkpoint(vals.signers...)
}
