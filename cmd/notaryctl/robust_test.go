package main

import (
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/gobtechlab/notary/app/identity"
	"github.com/gobtechlab/notary/cmd/internal/cli"
	"github.com/gobtechlab/notary/cmd/internal/clitest"
)

func TestMain(m *testing.M) {
	clitest.RunMainIfAsked(main)
	os.Exit(m.Run())
}

// newIdentity saves a new identity (no certificate) in a temporary
// directory.
func newIdentity(t *testing.T, role, id string) string {
	t.Helper()
	i, err := identity.Generate(role, id, testChainID)
	if err != nil {
		t.Fatal(err)
	}
	dir := filepath.Join(t.TempDir(), "identity")
	if err := i.Save(dir); err != nil {
		t.Fatal(err)
	}
	return dir
}

// TestNonRegularInputs: a named pipe, a device or a directory given where
// notaryctl reads a file (document, receipt, identity and its TLS files)
// is refused at once with a message that says what it is, exit 2; nothing
// blocks.
func TestNonRegularInputs(t *testing.T) {
	dir := t.TempDir()
	fifo := clitest.Fifo(t, filepath.Join(dir, "pipe"))
	const device = "/dev/zero"
	doc := filepath.Join(dir, "doc.txt")
	if err := os.WriteFile(doc, []byte("x"), 0o644); err != nil {
		t.Fatal(err)
	}
	addr, _ := clitest.SilentPeer(t)
	agency := newIdentity(t, identity.RoleAgency, testAgency)
	release := []string{fifo}
	// Identity directories with one of their files a named pipe.
	piped := map[string]string{}
	for _, f := range []string{identity.File, identity.CAPEM, identity.CertPEM} {
		d := newIdentity(t, identity.RoleAgency, testAgency)
		if f == identity.File {
			_ = os.Remove(filepath.Join(d, f))
		}
		if f == identity.CertPEM {
			if err := os.WriteFile(filepath.Join(d, identity.KeyPEM), nil, 0o600); err != nil {
				t.Fatal(err)
			}
		}
		release = append(release, clitest.Fifo(t, filepath.Join(d, f)))
		piped[f] = d
	}
	citizen := newIdentity(t, identity.RoleCitizen, "")
	_ = os.Remove(filepath.Join(citizen, identity.File))
	release = append(release, clitest.Fifo(t, filepath.Join(citizen, identity.File)))

	const (
		isPipe   = "named pipe"
		isDevice = "device"
		isDir    = "directory"
	)
	node := []string{"--node", addr, "--timeout", "30s"}
	cases := []struct {
		name string
		args []string
		msg  string
	}{
		{"anchor pipe", []string{"anchor", fifo}, isPipe},
		{"anchor device", []string{"anchor", device}, isDevice},
		{"get pipe", []string{"get", fifo}, isPipe},
		{"get device", []string{"get", device}, isDevice},
		{"get folder", []string{"get", dir}, isDir},
		{"revoke pipe", []string{"revoke", fifo, "--reason-code", "fraud"}, isPipe},
		{"receipt pipe", []string{"receipt", doc, "--receipt", fifo}, isPipe},
		{"receipt device", []string{"receipt", doc, "--receipt", device}, isDevice},
		{"receipt folder", []string{"receipt", doc, "--receipt", dir}, isDir},
		{"identity pipe", []string{"status", "--identity", piped[identity.File]}, isPipe},
		{"identity CA pipe", []string{"status", "--identity", piped[identity.CAPEM]}, isPipe},
		{"identity certificate pipe", []string{"status", "--identity", piped[identity.CertPEM]}, isPipe},
		{"identity is a device", []string{"status", "--identity", device}, "not a directory"},
		{"subject identity pipe", []string{"consent", "check", "--subject", citizen, "--provider", "b", "--category", "tax", "--purpose", "statistics"}, isPipe},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			args := append(append([]string{}, tc.args...), node...)
			if !strings.Contains(strings.Join(tc.args, " "), "--identity") {
				args = append(args, "--identity", agency)
			}
			var r result
			clitest.Within(t, 10*time.Second, release, func() { r = run(t, args...) })
			if r.code != cli.ExitUsage || !strings.Contains(r.stderr, tc.msg) || r.stdout != "" || strings.Count(r.stderr, "\n") != 1 {
				t.Fatalf("exit %d (want %d), stderr %q (want %q), stdout %q", r.code, cli.ExitUsage, r.stderr, tc.msg, r.stdout)
			}
		})
	}
}

// TestInterrupt: SIGINT or SIGTERM ends notaryctl at once with exit 130,
// whether it waits for a node that never answers or hashes a huge file.
func TestInterrupt(t *testing.T) {
	if testing.Short() {
		t.Skip("runs notaryctl as processes")
	}
	home := t.TempDir()
	agency := newIdentity(t, identity.RoleAgency, testAgency)
	addr, accepted := clitest.SilentPeer(t)
	dir := t.TempDir()
	doc := filepath.Join(dir, "doc.txt")
	if err := os.WriteFile(doc, []byte("x"), 0o644); err != nil {
		t.Fatal(err)
	}
	huge := clitest.SparseFile(t, filepath.Join(dir, "huge.bin"), 1<<40)
	node := []string{"--identity", agency, "--node", addr, "--timeout", "5m"}
	cases := []struct {
		name string
		sig  syscall.Signal
		args []string
		wait func(t *testing.T, p *clitest.Process)
	}{
		{"status, SIGINT", syscall.SIGINT, append([]string{"status"}, node...), func(*testing.T, *clitest.Process) { <-accepted }},
		{"anchor, SIGTERM", syscall.SIGTERM, append([]string{"anchor", doc}, node...), func(*testing.T, *clitest.Process) { <-accepted }},
		{"anchor a huge file, SIGINT", syscall.SIGINT, append([]string{"anchor", huge}, node...), func(t *testing.T, p *clitest.Process) { p.WaitOpen(t, huge, time.Minute) }},
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

// TestTimeoutBoundsCommand: --timeout bounds the whole command, anchor
// included, against a node that accepts connections and never answers.
func TestTimeoutBoundsCommand(t *testing.T) {
	agency := newIdentity(t, identity.RoleAgency, testAgency)
	addr, _ := clitest.SilentPeer(t)
	doc := filepath.Join(t.TempDir(), "doc.txt")
	if err := os.WriteFile(doc, []byte("x"), 0o644); err != nil {
		t.Fatal(err)
	}
	const timeout = 2 * time.Second
	for _, args := range [][]string{{"status"}, {"anchor", doc}, {"get", doc}} {
		t.Run(args[0], func(t *testing.T) {
			start := time.Now()
			r := run(t, append(args, "--identity", agency, "--node", addr, "--timeout", timeout.String())...)
			took := time.Since(start)
			if r.code != cli.ExitUnavail || took > timeout+2*time.Second {
				t.Fatalf("exit %d after %s (want %d within %s + 2s)\nstdout:\n%s\nstderr:\n%s", r.code, took, cli.ExitUnavail, timeout, r.stdout, r.stderr)
			}
		})
	}
}

// TestReceiptPathsChecked: anchor checks, before anchoring anything, that
// every receipt can be written: --out naming a file, or a folder where a
// receipt goes, stops it (exit 2) with nothing anchored. receipt checks
// its receipt path before asking the node.
func TestReceiptPathsChecked(t *testing.T) {
	e := startNode(t)
	doc := e.file(t, "informe.txt", "informe\n")
	notAFolder := e.file(t, "not-a-folder", "")
	r := e.agency(t, "anchor", doc, "--out", notAFolder).want(t, cli.ExitUsage)
	if !strings.Contains(r.stderr, notAFolder) || !strings.Contains(r.stderr, "nothing was anchored") {
		t.Fatalf("--out a file: %q", r.stderr)
	}
	r = e.agency(t, "anchor", doc, "--out", filepath.Join(notAFolder, "sub")).want(t, cli.ExitUsage)
	if !strings.Contains(r.stderr, "nothing was anchored") {
		t.Fatalf("--out under a file: %q", r.stderr)
	}
	// A folder where the receipt beside the file would go.
	if err := os.Mkdir(doc+receiptSuffix, 0o755); err != nil {
		t.Fatal(err)
	}
	r = e.agency(t, "anchor", doc).want(t, cli.ExitUsage)
	if !strings.Contains(r.stderr, doc+receiptSuffix+" is a directory") {
		t.Fatalf("receipt path a folder: %q", r.stderr)
	}
	e.agency(t, "get", doc).want(t, cli.ExitFailure) // not anchored
	e.agency(t, "receipt", doc, "--receipt", filepath.Join(notAFolder, "r.json")).want(t, cli.ExitUsage)

	// Once the way is clear, it anchors and writes the receipts.
	out := filepath.Join(e.dir, "recibos")
	e.agency(t, "anchor", doc, "--out", out).want(t, cli.ExitOK)
	if _, err := os.Stat(filepath.Join(out, "informe.txt"+receiptSuffix)); err != nil {
		t.Fatal(err)
	}
	if ents, err := os.ReadDir(out); err != nil || len(ents) != 1 {
		t.Fatalf("--out holds %v (%v), want the receipt alone", ents, err)
	}
}

// TestControlCharactersEscaped: a file name with a newline, a carriage
// return and an ANSI escape cannot forge a line of the text output (it is
// shown quoted, escaped); JSON keeps the name exact; an error naming such
// a file stays on one line.
func TestControlCharactersEscaped(t *testing.T) {
	e := startNode(t)
	const forged = "x\nanchored  /srv/forged.pdf  height 1, ok\r\x1b[2K.txt"
	dir := filepath.Join(e.dir, "carpeta")
	e.file(t, filepath.Join("carpeta", "normal.txt"), "normal\n")
	bad := e.file(t, filepath.Join("carpeta", forged), "forged\n")
	check := func(what, out string, lines int) {
		t.Helper()
		if strings.ContainsAny(out, "\r\x1b") || strings.Count(out, "\n") != lines || strings.Contains(out, "\nanchored  /srv") ||
			!strings.Contains(out, `x\nanchored  /srv/forged.pdf  height 1, ok\r\x1b[2K.txt`) {
			t.Fatalf("%s: the name reaches the text unescaped:\n%s", what, out)
		}
	}
	r := e.agency(t, "anchor", dir).want(t, cli.ExitOK)
	check("anchor", r.stdout, 3)
	r = e.agency(t, "anchor", dir, "-o", "json").want(t, exitAlreadyAnchored)
	a := decode[anchorResult](t, r)
	found := false
	for _, f := range a.Files {
		found = found || f.Path == bad
	}
	if !found {
		t.Fatalf("JSON paths %+v, want %q among them", a.Files, bad)
	}
	r = e.agency(t, "get", bad).want(t, cli.ExitOK)
	check("get", r.stdout, 8)
	r = e.agency(t, "receipt", bad).want(t, cli.ExitOK)
	check("receipt", r.stdout, 4)
	r = e.agency(t, "revoke", bad, "--reason-code", "other").want(t, cli.ExitOK)
	check("revoke", r.stdout, 2)
	r = e.agency(t, "get", bad+".missing").want(t, cli.ExitUsage)
	if strings.Count(r.stderr, "\n") != 1 || strings.ContainsAny(r.stderr, "\r\x1b") {
		t.Fatalf("error naming the file: %q", r.stderr)
	}
}
