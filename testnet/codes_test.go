package testnet

import (
	"bytes"
	"crypto/rand"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/syndtr/goleveldb/leveldb"
	"github.com/syndtr/goleveldb/leveldb/opt"

	"github.com/gobtechlab/notary/cmd/verifier/verify/vcode"
	"github.com/gobtechlab/notary/ledger"
	notaryv1 "github.com/gobtechlab/notary/proto/notary/v1"
	"github.com/gobtechlab/notary/testnet/internal/harness"
)

// privacyDocs is how many documents TestVerificationCodes anchors under
// codes before it scans the node's home (1,000 in the long suite).
var privacyDocs = 100

// devNode is a `notaryd dev` process of a test.
type devNode struct {
	cmd     *exec.Cmd
	log     bytes.Buffer
	home    string
	gateway string
	rpc     int
	metrics int // Prometheus port
	public  int // public endpoint port
	stopped bool
}

// startDev starts `notaryd dev` in a new home, every port chosen, and waits
// for height 2; it is stopped when the test ends.
func startDev(t *testing.T) *devNode {
	t.Helper()
	ports := harness.FreePorts(t, 5)
	d := &devNode{home: filepath.Join(t.TempDir(), "dev"), gateway: "127.0.0.1:" + strconv.Itoa(ports[2]), rpc: ports[1], metrics: ports[3], public: ports[4]}
	d.cmd = exec.Command(harness.Binary(t), "dev", "--home", d.home, "--block-interval", "200ms", "--empty-blocks",
		"--p2p-port", strconv.Itoa(ports[0]), "--rpc-port", strconv.Itoa(ports[1]),
		"--gateway-port", strconv.Itoa(ports[2]), "--metrics-port", strconv.Itoa(ports[3]),
		"--public-port", strconv.Itoa(ports[4]), "--http-port", "0")
	d.cmd.Stdout, d.cmd.Stderr = &d.log, &d.log
	if err := d.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		d.stop(t)
		if t.Failed() {
			t.Logf("notaryd dev output:\n%s", tailString(d.log.String(), 4000))
		}
	})
	deadline := time.Now().Add(90 * time.Second)
	for {
		h, err := devHeight(d.rpc)
		if _, ierr := os.Stat(filepath.Join(d.agency(), "identity.json")); err == nil && ierr == nil && h >= 2 {
			return d
		}
		if time.Now().After(deadline) {
			t.Fatalf("the dev node did not start: %v", err)
		}
		time.Sleep(200 * time.Millisecond)
	}
}

func (d *devNode) agency() string { return filepath.Join(d.home, "identities", "dev-agency") }
func (d *devNode) trust() string  { return filepath.Join(d.home, "trust.json") }

// stop ends the node with SIGINT (SIGKILL after 20 s) and waits for it.
func (d *devNode) stop(t *testing.T) {
	if d.stopped {
		return
	}
	d.stopped = true
	_ = d.cmd.Process.Signal(os.Interrupt)
	done := make(chan struct{})
	go func() { _ = d.cmd.Wait(); close(done) }()
	select {
	case <-done:
	case <-time.After(20 * time.Second):
		t.Errorf("notaryd dev did not stop within 20 s of SIGINT")
		_ = d.cmd.Process.Kill()
		<-done
	}
}

// runCLI runs a command and returns its output and exit code.
func runCLI(t *testing.T, bin string, args ...string) (string, int) {
	t.Helper()
	out, err := exec.Command(bin, args...).CombinedOutput()
	var ee *exec.ExitError
	switch {
	case err == nil:
		return string(out), 0
	case errors.As(err, &ee):
		return string(out), ee.ExitCode()
	}
	t.Fatalf("%s %v: %v", filepath.Base(bin), args, err)
	return "", 0
}

// pdf is a minimal valid one-page PDF whose page shows text.
func pdf(text string) []byte {
	content := fmt.Sprintf("BT /F1 14 Tf 72 720 Td (%s) Tj ET", text)
	objs := []string{
		"<< /Type /Catalog /Pages 2 0 R >>",
		"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
		"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Contents 4 0 R /Resources << /Font << /F1 5 0 R >> >> >>",
		fmt.Sprintf("<< /Length %d >>\nstream\n%s\nendstream", len(content), content),
		"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>",
	}
	var b bytes.Buffer
	b.WriteString("%PDF-1.4\n")
	offsets := make([]int, len(objs))
	for i, o := range objs {
		offsets[i] = b.Len()
		fmt.Fprintf(&b, "%d 0 obj\n%s\nendobj\n", i+1, o)
	}
	xref := b.Len()
	fmt.Fprintf(&b, "xref\n0 %d\n0000000000 65535 f \n", len(objs)+1)
	for _, off := range offsets {
		fmt.Fprintf(&b, "%010d 00000 n \n", off)
	}
	fmt.Fprintf(&b, "trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n", len(objs)+1, xref)
	return b.Bytes()
}

// TestVerificationCodes is the acceptance of verification codes over real
// processes: on a dev chain, `notaryctl code new` draws a code, a PDF with
// the code printed on it is anchored under it (`notaryctl anchor --code`),
// and `verifier code CODE` shows the agency, the date and valid; with the
// PDF it matches, with another file it does not (and a mistyped code is
// refused); after `notaryctl revoke --code` it says revoked, with the date.
// Then documents anchored from a manifest of codes, the node stopped, and
// its whole home scanned (every goleveldb database iterated, every other
// file read raw): no code, salt or document digest is in it, while every
// anchored commitment is.
func TestVerificationCodes(t *testing.T) {
	bin := t.TempDir()
	notaryctl, verifier := cliBinary(t, bin, "notaryctl"), cliBinary(t, bin, "verifier")
	d := startDev(t)
	ctl := func(args ...string) (string, int) {
		return runCLI(t, notaryctl, append(args, "--identity", d.agency(), "--node", d.gateway)...)
	}
	check := func(args ...string) (string, int) {
		return runCLI(t, verifier, append(args, "--trust", d.trust(), "--lang", "en")...)
	}
	want := func(what, out string, code, wantCode int, parts ...string) {
		t.Helper()
		if code != wantCode {
			t.Fatalf("%s: exit %d, want %d\n%s", what, code, wantCode, out)
		}
		for _, p := range parts {
			if !strings.Contains(out, p) {
				t.Fatalf("%s: no %q in\n%s", what, p, out)
			}
		}
		t.Logf("%s: %s", what, strings.TrimSpace(out))
	}

	// The code and its QR image; the link's base is the dev chain's public
	// endpoint (no verifier_url in a dev trust bundle).
	dir := t.TempDir()
	out, code := ctl("code", "new", "--qr", filepath.Join(dir, "qr.png"), "--output", "json")
	want("code new", out, code, 0)
	var drawn struct {
		Codes []struct{ Code, Link, QR string }
	}
	if err := json.Unmarshal([]byte(out), &drawn); err != nil || len(drawn.Codes) != 1 {
		t.Fatalf("code new: %v\n%s", err, out)
	}
	c, err := vcode.Parse(drawn.Codes[0].Code)
	if err != nil {
		t.Fatal(err)
	}
	if back, err := vcode.ParseLink(drawn.Codes[0].Link); err != nil || back != c || !strings.HasPrefix(drawn.Codes[0].Link, "http://127.0.0.1:") {
		t.Fatalf("link %q: %v", drawn.Codes[0].Link, err)
	}
	if st, err := os.Stat(filepath.Join(dir, "qr.png")); err != nil || st.Size() == 0 {
		t.Fatalf("qr image: %v", err)
	}

	doc := filepath.Join(dir, "certificado.pdf")
	if err := os.WriteFile(doc, pdf("Certificado de empadronamiento. CSV: "+c.String()), 0o644); err != nil {
		t.Fatal(err)
	}
	other := filepath.Join(dir, "otro.pdf")
	if err := os.WriteFile(other, pdf("Certificado de empadronamiento (copia alterada). CSV: "+c.String()), 0o644); err != nil {
		t.Fatal(err)
	}
	out, code = ctl("anchor", "--code", c.String(), doc)
	want("anchor --code", out, code, 0, "anchored")

	out, code = check("code", c.String())
	want("verifier code", out, code, 0, "VALID.", "registered by", time.Now().UTC().Format("2006"), "not revoked", "without the document")
	out, code = check("code", strings.ToLower(c.Canonical()), "--file", doc, "--save-receipt", filepath.Join(dir, "saved.receipt.json"))
	want("verifier code --file (the registered file)", out, code, 0, "VALID.", "registered by", "Receipt saved")
	out, code = check("verify", doc, filepath.Join(dir, "saved.receipt.json"), "--offline")
	want("verifier verify of the saved receipt", out, code, 0, "VALID.")
	out, code = check("code", c.String(), "--file", other)
	want("verifier code --file (another file)", out, code, 1, "NOT VALID.", "does not match")

	// A mistyped code (two symbols swapped) is refused before any lookup.
	s := []byte(c.Canonical())
	i := 0
	for s[i] == s[i+1] {
		i++
	}
	s[i], s[i+1] = s[i+1], s[i]
	out, code = check("code", string(s))
	want("verifier code (mistyped)", out, code, 2, "mistyped")
	// A well-formed code under which nothing is registered.
	absent, err := vcode.New(bytes.NewReader(bytes.Repeat([]byte{7, 9, 13}, 20)))
	if err != nil {
		t.Fatal(err)
	}
	out, code = check("code", absent.String())
	want("verifier code (no such document)", out, code, 5, "NOT FOUND.")

	out, code = ctl("revoke", "--code", c.String(), "--reason-code", "issued-in-error", "--reason", "prueba")
	want("revoke --code", out, code, 0, "revoked")
	// A node answers with the newest state it can prove: the block that
	// signs the revocation's state follows it.
	for deadline := time.Now().Add(15 * time.Second); ; time.Sleep(300 * time.Millisecond) {
		out, code = check("code", c.String())
		if code != 0 || time.Now().After(deadline) {
			break
		}
	}
	want("verifier code (revoked)", out, code, 3, "REVOKED.", "It was revoked on", time.Now().UTC().Format("2006"))

	scanPrivacy(t, d, ctl, privacyDocs)
}

// scanPrivacy anchors n documents from a manifest of codes, stops the node
// and scans its home for every code (canonical and grouped), salt and
// document digest (raw and hex): none may be found; every anchored
// commitment must be (the control that the scan sees the chain's data).
func scanPrivacy(t *testing.T, d *devNode, ctl func(...string) (string, int), n int) {
	dir := t.TempDir()
	var manifest strings.Builder
	manifest.WriteString("# file,code\n")
	var secrets, controls [][]byte
	for i := range n {
		c, err := vcode.New(rand.Reader)
		if err != nil {
			t.Fatal(err)
		}
		body := fmt.Appendf(nil, "documento %d, %d\n", i, time.Now().UnixNano())
		name := fmt.Sprintf("doc-%04d.txt", i)
		if err := os.WriteFile(filepath.Join(dir, name), body, 0o644); err != nil {
			t.Fatal(err)
		}
		fmt.Fprintf(&manifest, "%s,%s\n", name, c)
		if i%10 == 0 {
			manifest.WriteString("\n")
		}
		sec := c.Derive()
		digest := sha256.Sum256(body)
		secrets = append(secrets, []byte(c.Canonical()), []byte(c.String()), sec.Salt[:], []byte(hex.EncodeToString(sec.Salt[:])),
			digest[:], []byte(hex.EncodeToString(digest[:])))
		// The chain holds the coded entry (the key and the code tag) and
		// nothing else of the document: not even the salted commitment
		// batches with code_keys anchored.
		salted := ledger.SaltedDigest(notaryv1.HashAlgorithm_HASH_ALGORITHM_SHA2_256, sec.Salt[:], digest[:])
		secrets = append(secrets, salted, []byte(hex.EncodeToString(salted)))
		controls = append(controls, ledger.CodedEntry(sec.Key[:], sec.Salt[:], digest[:]))
	}
	mf := filepath.Join(dir, "manifest.csv")
	if err := os.WriteFile(mf, []byte(manifest.String()), 0o644); err != nil {
		t.Fatal(err)
	}
	start := time.Now()
	out, code := ctl("anchor", "--codes", mf, "--output", "json", "--timeout", "10m")
	if code != 0 {
		t.Fatalf("anchor --codes: exit %d\n%s", code, tailString(out, 3000))
	}
	t.Logf("anchored %d documents under codes in %s", n, time.Since(start).Round(time.Millisecond))
	d.stop(t)

	secretIdx, controlIdx := newNeedles(secrets), newNeedles(controls)
	found := map[int]bool{}
	var leaks []string
	scan := func(where string, b []byte) {
		for _, i := range secretIdx.find(b) {
			leaks = append(leaks, fmt.Sprintf("%s holds secret %d (%q)", where, i, secrets[i]))
		}
		for _, i := range controlIdx.find(b) {
			found[i] = true
		}
	}
	var dbs, files int
	var bytesRead int64
	err := filepath.WalkDir(d.home, func(path string, e fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if e.IsDir() {
			if _, err := os.Stat(filepath.Join(path, "CURRENT")); err == nil {
				db, err := leveldb.OpenFile(path, &opt.Options{ReadOnly: true, ErrorIfMissing: true})
				if err != nil {
					return fmt.Errorf("goleveldb %s: %w", path, err)
				}
				it := db.NewIterator(nil, nil)
				for it.Next() {
					scan(path+" key", it.Key())
					scan(path+" value", it.Value())
				}
				it.Release()
				if err := it.Error(); err != nil {
					return err
				}
				if err := db.Close(); err != nil {
					return err
				}
				dbs++
			}
			return nil
		}
		if !e.Type().IsRegular() {
			return nil
		}
		b, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		files++
		bytesRead += int64(len(b))
		scan(path, b)
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if dbs < 3 {
		t.Errorf("%d goleveldb databases in the home, want the state, blocks and indexes", dbs)
	}
	for _, l := range leaks[:min(len(leaks), 20)] {
		t.Error(l)
	}
	if len(found) != len(controls) {
		t.Errorf("%d of %d anchored commitments found: the scan does not see the chain's data", len(found), len(controls))
	}
	t.Logf("scanned %d goleveldb databases and %d files (%d MB) for %d secrets: %d found; %d of %d commitments found",
		dbs, files, bytesRead>>20, len(secrets), len(leaks), len(found), len(controls))
}

// needles finds many byte strings (each at least 8 bytes) in a text at
// once: by their first 8 bytes, then in full.
type needles struct {
	all    [][]byte
	byHead map[uint64][]int
}

func newNeedles(all [][]byte) *needles {
	n := &needles{all: all, byHead: map[uint64][]int{}}
	for i, s := range all {
		h := binary.LittleEndian.Uint64(s[:8])
		n.byHead[h] = append(n.byHead[h], i)
	}
	return n
}

// find returns the needles that occur in b.
func (n *needles) find(b []byte) []int {
	var out []int
	for i := 0; i+8 <= len(b); i++ {
		ids, ok := n.byHead[binary.LittleEndian.Uint64(b[i:])]
		if !ok {
			continue
		}
		for _, id := range ids {
			if bytes.HasPrefix(b[i:], n.all[id]) {
				out = append(out, id)
			}
		}
	}
	return out
}
