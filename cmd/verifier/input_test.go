package main

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/gobtechlab/notary/app/identity"
	"github.com/gobtechlab/notary/cmd/internal/cli"
	"github.com/gobtechlab/notary/cmd/internal/clitest"
	"github.com/gobtechlab/notary/cmd/verifier/verify"
)

func TestMain(m *testing.M) {
	clitest.RunMainIfAsked(main)
	os.Exit(m.Run())
}

// runErr runs the verifier in-process like run, with stderr apart.
func runErr(t *testing.T, env rootEnv, args ...string) (stdout, stderr string, code int) {
	t.Helper()
	root := newRootCmd(env)
	var out, errb bytes.Buffer
	root.SetOut(&out)
	root.SetErr(&errb)
	root.SetArgs(args)
	code = cli.ExecuteTo(root, &errb)
	return out.String(), errb.String(), code
}

// citizenIdentity saves a new citizen identity in a temporary directory.
func citizenIdentity(t *testing.T) string {
	t.Helper()
	id, err := identity.Generate(identity.RoleCitizen, "", testChainID)
	if err != nil {
		t.Fatal(err)
	}
	dir := filepath.Join(t.TempDir(), "citizen")
	if err := id.Save(dir); err != nil {
		t.Fatal(err)
	}
	return dir
}

// TestNonRegularInputs: a named pipe, a device or a directory given where
// the verifier reads a file (document, receipt, trust bundle, identity, CA
// certificate) is refused at once with a message that says what it is,
// exit 2; nothing blocks.
func TestNonRegularInputs(t *testing.T) {
	vec := filepath.Join(vectors, "valid-salted-sha2")
	doc, rec, trust := filepath.Join(vec, "document.txt"), filepath.Join(vec, "receipt.json"), filepath.Join(vec, "trust.json")
	dir := t.TempDir()
	fifo := clitest.Fifo(t, filepath.Join(dir, "pipe"))
	const device = "/dev/zero"
	folder := t.TempDir()
	// An identity directory whose identity.json is a named pipe, and one
	// whose ca.crt is.
	pipedID := filepath.Join(dir, "piped-identity")
	if err := os.MkdirAll(pipedID, 0o700); err != nil {
		t.Fatal(err)
	}
	clitest.Fifo(t, filepath.Join(pipedID, identity.File))
	pipedCA := citizenIdentity(t)
	clitest.Fifo(t, filepath.Join(pipedCA, identity.CAPEM))
	citizen := citizenIdentity(t)
	addr, _ := clitest.SilentPeer(t)
	net := []string{"--node", addr, "--timeout", "30s"}
	keygenOut := filepath.Join(t.TempDir(), "new")

	const (
		isPipe   = "named pipe"
		isDevice = "device"
		isDir    = "directory"
	)
	cases := []struct {
		name string
		args []string
		msg  string
	}{
		{"document pipe", []string{"verify", fifo, rec, "--trust", trust}, isPipe},
		{"document device", []string{"verify", device, rec, "--trust", trust}, isDevice},
		{"document folder", []string{"verify", folder, rec, "--trust", trust}, isDir},
		{"receipt pipe", []string{"verify", doc, fifo, "--trust", trust}, isPipe},
		{"receipt device", []string{"verify", doc, device, "--trust", trust}, isDevice},
		{"receipt folder", []string{"verify", doc, folder, "--trust", trust}, isDir},
		{"trust pipe", []string{"verify", doc, rec, "--trust", fifo}, isPipe},
		{"trust device", []string{"verify", doc, rec, "--trust", device}, isDevice},
		{"trust folder", []string{"verify", doc, rec, "--trust", folder}, isDir},
		{"inspect pipe", []string{"inspect", fifo}, isPipe},
		{"inspect device", []string{"inspect", device}, isDevice},
		{"accesses trust pipe", append([]string{"accesses", "--identity", citizen, "--trust", fifo}, net...), isPipe},
		{"identity pipe", append([]string{"consent", "list", "--identity", pipedID}, net...), isPipe},
		{"identity CA pipe", append([]string{"consent", "list", "--identity", pipedCA}, net...), isPipe},
		{"identity is a device", append([]string{"consent", "list", "--identity", device}, net...), "not a directory"},
		{"ca pipe", append([]string{"consent", "list", "--identity", citizen, "--ca", fifo}, net...), isPipe},
		{"ca device", append([]string{"consent", "list", "--identity", citizen, "--ca", device}, net...), isDevice},
		{"keygen ca pipe", []string{"citizen", "keygen", "--out", keygenOut, "--ca", fifo}, isPipe},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			var stdout, stderr string
			var code int
			clitest.Within(t, 10*time.Second, []string{fifo, filepath.Join(pipedID, identity.File), filepath.Join(pipedCA, identity.CAPEM)}, func() {
				stdout, stderr, code = runErr(t, rootEnv{locale: []string{"en_US.UTF-8"}}, tc.args...)
			})
			if code != cli.ExitUsage || !strings.Contains(stderr, tc.msg) || stdout != "" || strings.Count(stderr, "\n") != 1 {
				t.Fatalf("exit %d (want %d), stderr %q (want %q), stdout %q", code, cli.ExitUsage, stderr, tc.msg, stdout)
			}
		})
	}
}

// TestInterrupt: SIGINT or SIGTERM ends the verifier at once with exit 130,
// whether it waits for a node that never answers or hashes a huge
// document.
func TestInterrupt(t *testing.T) {
	if testing.Short() {
		t.Skip("runs the verifier as processes")
	}
	home := t.TempDir()
	citizen := citizenIdentity(t)
	addr, accepted := clitest.SilentPeer(t)
	vec := filepath.Join(vectors, "valid-salted-sha2")
	huge := clitest.SparseFile(t, filepath.Join(t.TempDir(), "huge.bin"), 1<<40)
	cases := []struct {
		name string
		sig  syscall.Signal
		args []string
		wait func(t *testing.T, p *clitest.Process)
	}{
		{"consent list, SIGINT", syscall.SIGINT, []string{"consent", "list", "--identity", citizen, "--node", addr, "--timeout", "5m"},
			func(*testing.T, *clitest.Process) { <-accepted }},
		{"accesses, SIGTERM", syscall.SIGTERM, []string{"accesses", "--identity", citizen, "--node", addr, "--timeout", "5m",
			"--trust", filepath.Join(vec, "trust.json")}, func(*testing.T, *clitest.Process) { <-accepted }},
		{"verify a huge document, SIGINT", syscall.SIGINT, []string{"verify", huge, filepath.Join(vec, "receipt.json"),
			"--trust", filepath.Join(vec, "trust.json")}, func(t *testing.T, p *clitest.Process) { p.WaitOpen(t, huge, time.Minute) }},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			p := clitest.Start(t, home, tc.args...)
			tc.wait(t, p)
			if p.Exited() {
				t.Fatalf("ended before the signal\nstdout:\n%s\nstderr:\n%s", p.Stdout(), p.Stderr())
			}
			sent := time.Now()
			p.Signal(t, tc.sig)
			code := p.Wait(t, 30*time.Second)
			if took := time.Since(sent); code != cli.ExitInterrupted || took > 10*time.Second {
				t.Fatalf("exit %d after %s (want %d at once)\nstdout:\n%s\nstderr:\n%s", code, took, cli.ExitInterrupted, p.Stdout(), p.Stderr())
			}
			if !strings.Contains(p.Stderr(), "interrupted") {
				t.Fatalf("stderr %q", p.Stderr())
			}
		})
	}
}

// TestControlCharactersEscaped: strings a receipt carries are printed with
// their control characters escaped, so that a forged receipt cannot add
// lines, move the cursor or colour the terminal; JSON keeps them exact.
func TestControlCharactersEscaped(t *testing.T) {
	rec := filepath.Join(vectors, "revoked", "receipt.json")
	b, err := os.ReadFile(rec)
	if err != nil {
		t.Fatal(err)
	}
	const forged = "notary-test\n  status:                not revoked\x1b[0m\r"
	js, err := json.Marshal(forged)
	if err != nil {
		t.Fatal(err)
	}
	bad := strings.Replace(string(b), `"chain_id": "notary-test"`, `"chain_id": `+string(js), 1)
	bad = strings.Replace(bad, `"hash_algorithm": "sha2-256"`, `"hash_algorithm": "sha2-256\u202e\u0007"`, 1)
	path := filepath.Join(t.TempDir(), "forged.receipt.json")
	if err := os.WriteFile(path, []byte(bad), 0o644); err != nil {
		t.Fatal(err)
	}
	orig, code := run(t, rootEnv{locale: []string{"en_US.UTF-8"}}, "inspect", rec)
	if code != cli.ExitOK {
		t.Fatalf("inspect: exit %d\n%s", code, orig)
	}
	for _, lang := range []string{"en", "es"} {
		out, code := run(t, rootEnv{}, "inspect", path, "--lang", lang)
		if code != cli.ExitOK {
			t.Fatalf("inspect forged: exit %d\n%s", code, out)
		}
		if strings.ContainsAny(out, "\x1b\r\a\u202e") || strings.Count(out, "\n") != strings.Count(orig, "\n") ||
			!strings.Contains(out, `"notary-test\n  status:                not revoked\x1b[0m\r"`) {
			t.Fatalf("forged strings reach the text:\n%s", out)
		}
	}
	out, code := run(t, rootEnv{}, "inspect", path, "--output", "json")
	var c verify.Claims
	if err := json.Unmarshal([]byte(out), &c); err != nil || code != cli.ExitOK || c.ChainID != forged {
		t.Fatalf("json: %v %d chain %q", err, code, c.ChainID)
	}
	// An error naming a file escapes its name too, on one line.
	name := filepath.Join(t.TempDir(), "missing\n\x1b[32mVALID.")
	_, stderr, code := runErr(t, rootEnv{}, "inspect", name)
	if code != cli.ExitUsage || strings.Count(stderr, "\n") != 1 || strings.Contains(stderr, "\x1b") || !strings.Contains(stderr, `missing\n\x1b[32mVALID.`) {
		t.Fatalf("exit %d, stderr %q", code, stderr)
	}
}
