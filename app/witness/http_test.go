package witness_test

import (
	"bytes"
	"context"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/gobtechlab/notary/app/witness"
)

// TestHTTPWire sends raw requests to a witness over loopback: the status,
// type and body of each answer, malformed input included, as C2SP
// tlog-witness prescribes.
func TestHTTPWire(t *testing.T) {
	vals := newValidators(t, 2)
	skey, vkey, err := witness.GenerateKey("witness.audit.test/w1")
	if err != nil {
		t.Fatal(err)
	}
	tw := startWitness(t, skey, []witness.Log{{Origin: testOrigin, Keys: vals.vkeys, Threshold: 1}}, filepath.Join(t.TempDir(), "state.json"))
	lg := newTestLog(t, testOrigin)
	lg.append("a", 3)
	cp3 := lg.checkpoint(vals.signers...)
	lg.append("b", 2)
	hash := strings.Repeat("A", 43) + "=\n"

	tests := []struct {
		name   string
		method string
		path   string
		body   []byte
		status int
		ctype  string
		want   string
	}{
		{"first checkpoint", "POST", "/add-checkpoint", append([]byte("old 0\n\n"), cp3...), 200, "text/plain", "— witness.audit.test/w1 "},
		{"stale old size", "POST", "/add-checkpoint", append([]byte("old 0\n\n"), cp3...), 409, "text/x.tlog.size", "3\n"},
		{"no newline at all", "POST", "/add-checkpoint", []byte("old 0"), 400, "text/plain", "no old size line"},
		{"not an old line", "POST", "/add-checkpoint", []byte("new 0\n\n"), 400, "text/plain", "not \"old <size>\""},
		{"leading zero", "POST", "/add-checkpoint", append([]byte("old 03\n\n"), cp3...), 400, "text/plain", "canonical decimal"},
		{"negative size", "POST", "/add-checkpoint", append([]byte("old -1\n\n"), cp3...), 400, "text/plain", "canonical decimal"},
		{"proof line not base64", "POST", "/add-checkpoint", append([]byte("old 3\n!!!\n\n"), cp3...), 400, "text/plain", "proof line 1"},
		{"proof hash of 31 bytes", "POST", "/add-checkpoint", append([]byte("old 3\n"+strings.Repeat("A", 40)+"==\n\n"), cp3...), 400, "text/plain", "proof line 1"},
		{"64 proof lines", "POST", "/add-checkpoint", append([]byte("old 3\n"+strings.Repeat(hash, 64)+"\n"), cp3...), 400, "text/plain", "more than 63"},
		{"no empty line", "POST", "/add-checkpoint", []byte("old 3\n" + hash), 400, "text/plain", "no empty line"},
		{"no checkpoint", "POST", "/add-checkpoint", []byte("old 3\n\n"), 400, "text/plain", "no checkpoint"},
		{"checkpoint of two lines", "POST", "/add-checkpoint", []byte("old 3\n\n" + testOrigin + "\n5\n"), 400, "text/plain", "malformed request"},
		{"root of 16 bytes", "POST", "/add-checkpoint", []byte("old 3\n\n" + testOrigin + "\n5\n" + strings.Repeat("A", 22) + "==\n\n— x AAAA\n"), 400, "text/plain", "root hash of 16 bytes"},
		{"body too large", "POST", "/add-checkpoint", bytes.Repeat([]byte("x"), witness.MaxRequestBytes+1), 413, "text/plain", "larger than"},
		{"GET add-checkpoint", "GET", "/add-checkpoint", nil, 405, "text/plain", ""},
		{"unknown path", "POST", "/sign-subtree", nil, 404, "text/plain", ""},
		{"witness key", "GET", "/", nil, 200, "text/plain", vkey},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			req, err := http.NewRequest(tc.method, tw.srv.URL+tc.path, bytes.NewReader(tc.body))
			if err != nil {
				t.Fatal(err)
			}
			resp, err := tw.srv.Client().Do(req)
			if err != nil {
				t.Fatal(err)
			}
			defer func() { _ = resp.Body.Close() }()
			b, err := io.ReadAll(resp.Body)
			if err != nil {
				t.Fatal(err)
			}
			if resp.StatusCode != tc.status {
				t.Fatalf("status %d (%s), want %d", resp.StatusCode, b, tc.status)
			}
			if ct := resp.Header.Get("Content-Type"); !strings.HasPrefix(ct, tc.ctype) {
				t.Errorf("content type %q, want %q", ct, tc.ctype)
			}
			if !strings.Contains(string(b), tc.want) {
				t.Errorf("body %q, want it to hold %q", b, tc.want)
			}
		})
	}
}

// TestDecodeRequest checks that EncodeRequest and DecodeRequest agree.
func TestDecodeRequest(t *testing.T) {
	vals := newValidators(t, 1)
	lg := newTestLog(t, testOrigin)
	lg.append("a", 9)
	root := lg.root()
	lg.append("b", 30)
	p := lg.consistency(9, root)
	cp := lg.checkpoint(vals.signers...)
	old, gotProof, gotCP, err := witness.DecodeRequest(witness.EncodeRequest(9, p, cp))
	if err != nil {
		t.Fatal(err)
	}
	if old != 9 || len(gotProof) != len(p) || !bytes.Equal(gotCP, cp) {
		t.Fatalf("decoded %d, %d hashes, %q", old, len(gotProof), gotCP)
	}
	for i := range p {
		if !bytes.Equal(p[i], gotProof[i]) {
			t.Errorf("hash %d differs", i)
		}
	}
}

// TestDecodeCosignatures checks the parsing of a witness's answer.
func TestDecodeCosignatures(t *testing.T) {
	tests := []struct {
		name string
		body string
		n    int
	}{
		{"one line", "— w.test/1 AAAAAQAAAAAAAAAA\n", 1},
		{"two lines", "— w.test/1 AAAAAQAAAAAAAAAA\n— w.test/2 AAAAAgAAAAAAAAAA\n", 2},
		{"empty", "", 0},
		{"no final newline", "— w.test/1 AAAAAQAAAAAAAAAA", 0},
		{"not a signature line", "w.test/1 AAAAAQAAAAAAAAAA\n", 0},
		{"no signature", "— w.test/1\n", 0},
		{"signature too short", "— w.test/1 AAAA\n", 0},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			sigs, err := witness.DecodeCosignatures([]byte(tc.body))
			if tc.n == 0 {
				if err == nil {
					t.Fatalf("accepted %q", tc.body)
				}
				return
			}
			if err != nil || len(sigs) != tc.n {
				t.Fatalf("%d signatures, %v; want %d", len(sigs), err, tc.n)
			}
			if sigs[0].Name != "w.test/1" || sigs[0].Hash != 1 {
				t.Errorf("first signature %+v", sigs[0])
			}
		})
	}
}

// TestClientAnswers checks how the client reads a witness's answers:
// cosignature lines, a conflict with its size, other refusals, and an
// answer of 200 that is not signature lines.
func TestClientAnswers(t *testing.T) {
	tests := []struct {
		name   string
		status int
		ctype  string
		body   string
		check  func(error) bool
	}{
		{"cosignature", 200, "text/plain", "— w.test/1 AAAAAQAAAAAAAAAA\n", func(err error) bool { return err == nil }},
		{"conflict", 409, witness.ContentTypeSize, "42\n", func(err error) bool {
			var ce *witness.ConflictError
			return errors.As(err, &ce) && ce.Size == 42
		}},
		{"conflict with a bad size", 409, witness.ContentTypeSize, "x\n", func(err error) bool {
			return err != nil && strings.Contains(err.Error(), "malformed size")
		}},
		{"fork", 409, "text/plain", "different root", func(err error) bool {
			var se *witness.StatusError
			return errors.As(err, &se) && se.Status == 409 && se.Message == "different root"
		}},
		{"200 without signatures", 200, "text/html", "<html>", func(err error) bool {
			return err != nil && strings.Contains(err.Error(), "cosignatures")
		}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				if r.Method != http.MethodPost || r.URL.Path != witness.PathAddCheckpoint {
					http.Error(w, "wrong request", http.StatusTeapot)
					return
				}
				w.Header().Set("Content-Type", tc.ctype)
				w.WriteHeader(tc.status)
				_, _ = io.WriteString(w, tc.body)
			}))
			defer srv.Close()
			c := &witness.Client{URL: srv.URL + "/", HTTP: srv.Client()}
			_, err := c.AddCheckpoint(context.Background(), 1, nil, []byte("x\n"))
			if !tc.check(err) {
				t.Fatalf("unexpected result: %v", err)
			}
		})
	}
}

// TestKeys checks that a saved key loads back with the same verifier key,
// that a key file is private and never overwritten.
func TestKeys(t *testing.T) {
	skey, vkey, err := witness.GenerateKey("witness.audit.test/w1")
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), "witness.key")
	if err := witness.SaveKey(path, skey); err != nil {
		t.Fatal(err)
	}
	if err := witness.SaveKey(path, skey); err == nil {
		t.Error("SaveKey replaced an existing key")
	}
	fi, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	if fi.Mode().Perm() != 0o600 {
		t.Errorf("key file mode %v", fi.Mode().Perm())
	}
	s, got, err := witness.LoadKey(path)
	if err != nil {
		t.Fatal(err)
	}
	if got != vkey || s.Name() != "witness.audit.test/w1" {
		t.Errorf("loaded %s %q, want %q", s.Name(), got, vkey)
	}
	for _, name := range []string{"", "a+b", "a b", "a\nb", "testigo-\u00f1", "a\x7fb"} {
		if _, _, err := witness.GenerateKey(name); err == nil {
			t.Errorf("GenerateKey accepted the name %q", name)
		}
	}
	if _, _, err := witness.NewSigner("PRIVATE+KEY+x+00000000+AAAA"); err == nil {
		t.Error("accepted a malformed key")
	}
}

// TestConfig checks the refusals of a configuration.
func TestConfig(t *testing.T) {
	vals := newValidators(t, 3)
	tests := []struct {
		name string
		json string
		err  string
	}{
		{"valid", `{"logs":[{"origin":"a.test/log","keys":["` + vals.vkeys[0] + `","` + vals.vkeys[1] + `"],"threshold":2}]}`, ""},
		{"threshold 0 means all", `{"logs":[{"origin":"a.test/log","keys":["` + vals.vkeys[0] + `"]}]}`, ""},
		{"no logs", `{"logs":[]}`, "no logs"},
		{"no origin", `{"logs":[{"keys":["` + vals.vkeys[0] + `"]}]}`, "without an origin"},
		{"no keys", `{"logs":[{"origin":"a.test/log"}]}`, "no keys"},
		{"bad key", `{"logs":[{"origin":"a.test/log","keys":["nope"]}]}`, "key \"nope\""},
		{"key twice", `{"logs":[{"origin":"a.test/log","keys":["` + vals.vkeys[0] + `","` + vals.vkeys[0] + `"]}]}`, "listed twice"},
		{"threshold too high", `{"logs":[{"origin":"a.test/log","keys":["` + vals.vkeys[0] + `"],"threshold":2}]}`, "threshold 2 not in 1..1"},
		{"negative threshold", `{"logs":[{"origin":"a.test/log","keys":["` + vals.vkeys[0] + `"],"threshold":-1}]}`, "threshold -1"},
		{"origin twice", `{"logs":[{"origin":"a.test/log","keys":["` + vals.vkeys[0] + `"]},{"origin":"a.test/log","keys":["` + vals.vkeys[1] + `"]}]}`, "configured twice"},
		{"not JSON", `logs:`, "decode witness config"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "config.json")
			if err := os.WriteFile(path, []byte(tc.json), 0o600); err != nil {
				t.Fatal(err)
			}
			_, err := witness.LoadConfig(path)
			if tc.err == "" {
				if err != nil {
					t.Fatal(err)
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), tc.err) {
				t.Fatalf("%v, want an error with %q", err, tc.err)
			}
		})
	}
}

// TestStateRefusals checks that a witness does not start on a state it
// cannot read, rather than start afresh and cosign a fork.
func TestStateRefusals(t *testing.T) {
	skey, _, err := witness.GenerateKey("witness.audit.test/w1")
	if err != nil {
		t.Fatal(err)
	}
	signer, _, err := witness.NewSigner(skey)
	if err != nil {
		t.Fatal(err)
	}
	vals := newValidators(t, 1)
	logs := []witness.Log{{Origin: testOrigin, Keys: vals.vkeys}}
	for name, content := range map[string]string{
		"torn":          `{"version": 1, "logs": {`,
		"other version": `{"version": 2, "logs": {}}`,
	} {
		t.Run(name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "state.json")
			if err := os.WriteFile(path, []byte(content), 0o600); err != nil {
				t.Fatal(err)
			}
			if _, err := witness.New(signer, logs, path); err == nil {
				t.Fatal("started on an unreadable state")
			}
		})
	}
	t.Run("unwritable", func(t *testing.T) {
		w, err := witness.New(signer, logs, filepath.Join(t.TempDir(), "missing", "state.json"))
		if err != nil {
			t.Fatal(err)
		}
		lg := newTestLog(t, testOrigin)
		lg.append("a", 1)
		_, err = w.AddCheckpoint(0, nil, lg.checkpoint(vals.signers...))
		if err == nil || witness.StatusOf(err) != http.StatusInternalServerError {
			t.Fatalf("%v, want an internal error", err)
		}
		if _, _, ok := w.Latest(testOrigin); ok {
			t.Error("a checkpoint not saved is remembered")
		}
	})
}
