package main

import (
	"context"
	"crypto/rand"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	flog "github.com/transparency-dev/formats/log"
	fnote "github.com/transparency-dev/formats/note"
	"github.com/transparency-dev/merkle/rfc6962"
	"golang.org/x/mod/sumdb/note"

	"github.com/gobtechlab/notary/app/witness"
	"github.com/gobtechlab/notary/cmd/internal/cli"
	"github.com/gobtechlab/notary/cmd/internal/clitest"
)

// TestWitnessInit: init makes a private key and prints its verifier key;
// it never replaces a key; --name is required.
func TestWitnessInit(t *testing.T) {
	home := filepath.Join(t.TempDir(), "w")
	out, code := run(t, rootEnv{}, "witness", "init", "--home", home, "--name", "witness.audit.test/notary", "-o", "json")
	if code != cli.ExitOK {
		t.Fatalf("init: exit %d\n%s", code, out)
	}
	var res witnessInitResult
	if err := json.Unmarshal([]byte(out), &res); err != nil {
		t.Fatalf("%v\n%s", err, out)
	}
	if _, err := fnote.NewVerifierForCosignatureV1(res.VerifierKey); err != nil || !strings.HasPrefix(res.VerifierKey, "witness.audit.test/notary+") {
		t.Errorf("verifier key %q: %v", res.VerifierKey, err)
	}
	fi, err := os.Stat(filepath.Join(home, witnessKeyFile))
	if err != nil || fi.Mode().Perm() != 0o600 {
		t.Fatalf("key file: %v %v", fi, err)
	}
	if _, vkey, err := witness.LoadKey(filepath.Join(home, witnessKeyFile)); err != nil || vkey != res.VerifierKey {
		t.Errorf("key file holds %q (%v), init printed %q", vkey, err, res.VerifierKey)
	}
	text, code := run(t, rootEnv{}, "witness", "init", "--home", t.TempDir(), "--name", "w.test/1")
	if code != cli.ExitOK || !strings.Contains(text, "verifier key  w.test/1+") {
		t.Errorf("text output, exit %d:\n%s", code, text)
	}

	for _, tc := range []struct {
		name string
		args []string
		want string
	}{
		{"again", []string{"--home", home, "--name", "other.test/w"}, "never replaced"},
		{"no name", []string{"--home", t.TempDir()}, "--name is required"},
		{"bad name", []string{"--home", t.TempDir(), "--name", "a+b"}, "without spaces or '+'"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, stderr, code := runErr(t, rootEnv{}, append([]string{"witness", "init"}, tc.args...)...)
			if code != cli.ExitUsage || !strings.Contains(stderr, tc.want) {
				t.Fatalf("exit %d, stderr %q; want %d with %q", code, stderr, cli.ExitUsage, tc.want)
			}
		})
	}
}

// TestWitnessServeUsage: serve refuses a bad configuration, before it
// listens, with exit 2; an address in use is exit 1.
func TestWitnessServeUsage(t *testing.T) {
	home := t.TempDir()
	if _, code := run(t, rootEnv{}, "witness", "init", "--home", home, "--name", "w.test/1"); code != cli.ExitOK {
		t.Fatal("init")
	}
	_, vkey, err := note.GenerateKey(rand.Reader, "validator-1")
	if err != nil {
		t.Fatal(err)
	}
	badConfig := filepath.Join(t.TempDir(), "config.json")
	if err := os.WriteFile(badConfig, []byte(`{"logs": [{"origin": "x.test/log", "keys": []}]}`), 0o600); err != nil {
		t.Fatal(err)
	}
	busy, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = busy.Close() }()
	for _, tc := range []struct {
		name string
		args []string
		code int
		want string
	}{
		{"no config", []string{"--home", home}, cli.ExitUsage, "config.json"},
		{"bad config", []string{"--home", home, "--config", badConfig}, cli.ExitUsage, "no keys"},
		{"config and origin", []string{"--home", home, "--config", badConfig, "--origin", "x.test/log"}, cli.ExitUsage, "exclude each other"},
		{"origin without keys", []string{"--home", home, "--origin", "x.test/log"}, cli.ExitUsage, "no keys"},
		{"bad log key", []string{"--home", home, "--origin", "x.test/log", "--log-key", "nope"}, cli.ExitUsage, "key \"nope\""},
		{"threshold above the keys", []string{"--home", home, "--origin", "x.test/log", "--log-key", vkey, "--threshold", "2"}, cli.ExitUsage, "threshold 2"},
		{"no witness key", []string{"--home", t.TempDir(), "--origin", "x.test/log", "--log-key", vkey}, cli.ExitUsage, "witness init"},
		{"address in use", []string{"--home", home, "--origin", "x.test/log", "--log-key", vkey, "--listen", busy.Addr().String()}, cli.ExitFailure, "listen"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, stderr, code := runErr(t, rootEnv{}, append([]string{"witness", "serve"}, tc.args...)...)
			if code != tc.code || !strings.Contains(stderr, tc.want) {
				t.Fatalf("exit %d, stderr %q; want %d with %q", code, stderr, tc.code, tc.want)
			}
		})
	}
}

// TestWitnessServe runs `verifier witness serve` as a process: it cosigns a
// checkpoint signed by 2 of 3 validator keys (cosignature verified with the
// key init printed), refuses one signed by 1, stops on SIGTERM with exit
// 130, and, started again from a configuration file, remembers the size it
// cosigned.
func TestWitnessServe(t *testing.T) {
	if testing.Short() {
		t.Skip("runs the verifier as processes")
	}
	home := t.TempDir()
	out, code := run(t, rootEnv{}, "witness", "init", "--home", home, "--name", "witness.audit.test/notary", "-o", "json")
	if code != cli.ExitOK {
		t.Fatalf("init: %s", out)
	}
	var res witnessInitResult
	if err := json.Unmarshal([]byte(out), &res); err != nil {
		t.Fatal(err)
	}
	const origin = "notary.test/log"
	var signers []note.Signer
	var vkeys []string
	for i := range 3 {
		skey, vkey, err := note.GenerateKey(rand.Reader, fmt.Sprintf("validator-%d", i+1))
		if err != nil {
			t.Fatal(err)
		}
		s, err := note.NewSigner(skey)
		if err != nil {
			t.Fatal(err)
		}
		signers, vkeys = append(signers, s), append(vkeys, vkey)
	}
	// A log of one leaf: its root is the leaf's hash.
	leaf := rfc6962.DefaultHasher.HashLeaf([]byte("batch 0"))
	cp, err := note.Sign(&note.Note{Text: string(flog.Checkpoint{Origin: origin, Size: 1, Hash: leaf}.Marshal())}, signers[:2]...)
	if err != nil {
		t.Fatal(err)
	}
	one, err := note.Sign(&note.Note{Text: string(flog.Checkpoint{Origin: origin, Size: 1, Hash: leaf}.Marshal())}, signers[2])
	if err != nil {
		t.Fatal(err)
	}

	addr := freeLoopback(t)
	args := []string{"witness", "serve", "--home", home, "--listen", addr, "--origin", origin, "--threshold", "2"}
	for _, k := range vkeys {
		args = append(args, "--log-key", k)
	}
	p := clitest.Start(t, t.TempDir(), args...)
	waitDial(t, p, addr)
	client := &witness.Client{URL: "http://" + addr, HTTP: &http.Client{Timeout: 10 * time.Second}}
	ctx := context.Background()
	if _, err := client.AddCheckpoint(ctx, 0, nil, one); err == nil || !strings.Contains(err.Error(), "403") {
		t.Errorf("one signature of three, two needed: %v", err)
	}
	cosig, err := client.AddCheckpoint(ctx, 0, nil, cp)
	if err != nil {
		t.Fatal(err)
	}
	v, err := fnote.NewVerifierForCosignatureV1(res.VerifierKey)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := witness.VerifyCosignatures(cp, cosig, note.VerifierList(v)); err != nil {
		t.Fatalf("cosignature: %v", err)
	}
	p.Signal(t, syscall.SIGTERM)
	if code := p.Wait(t, 30*time.Second); code != cli.ExitInterrupted {
		t.Fatalf("exit %d after SIGTERM\n%s\n%s", code, p.Stdout(), p.Stderr())
	}
	if !strings.Contains(p.Stdout(), "serving 1 log(s) on "+addr) || !strings.Contains(p.Stdout(), res.VerifierKey) {
		t.Errorf("stdout %q", p.Stdout())
	}

	cfg, err := json.Marshal(witness.Config{Logs: []witness.Log{{Origin: origin, Keys: vkeys, Threshold: 2}}})
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(home, witnessConfigFile), cfg, 0o600); err != nil {
		t.Fatal(err)
	}
	p = clitest.Start(t, t.TempDir(), "witness", "serve", "--home", home, "--listen", addr)
	waitDial(t, p, addr)
	_, err = client.AddCheckpoint(ctx, 0, nil, cp)
	var ce *witness.ConflictError
	if !errors.As(err, &ce) || ce.Size != 1 {
		t.Errorf("after restart: %v, want a conflict at size 1", err)
	}
	p.Signal(t, syscall.SIGINT)
	if code := p.Wait(t, 30*time.Second); code != cli.ExitInterrupted {
		t.Fatalf("exit %d after SIGINT\n%s", code, p.Stderr())
	}
}

// freeLoopback is a loopback address whose port was free a moment ago.
func freeLoopback(t *testing.T) string {
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

// waitDial waits until addr accepts connections, failing if p ends first.
func waitDial(t *testing.T, p *clitest.Process, addr string) {
	t.Helper()
	deadline := time.Now().Add(time.Minute)
	for {
		c, err := net.DialTimeout("tcp", addr, time.Second)
		if err == nil {
			_ = c.Close()
			return
		}
		if p.Exited() {
			t.Fatalf("serve ended: %s", p.Stderr())
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s not listening: %v", addr, err)
		}
		time.Sleep(50 * time.Millisecond)
	}
}
