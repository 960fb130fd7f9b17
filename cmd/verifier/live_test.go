package main

import (
	"encoding/base64"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/gobtechlab/notary/cmd/internal/cli"
	"github.com/gobtechlab/notary/cmd/verifier/verify"
	notaryv1 "github.com/gobtechlab/notary/proto/notary/v1"
)

// liveBody is what a node serves for a receipt's digest at the receipt's
// status height: its status part and validator chain, as a LiveStatus.
func liveBody(t *testing.T, receiptPath string) []byte {
	t.Helper()
	b, err := os.ReadFile(receiptPath)
	if err != nil {
		t.Fatal(err)
	}
	r, err := verify.DecodeReceipt(b)
	if err != nil {
		t.Fatal(err)
	}
	body, err := verify.EncodeLiveStatus(&notaryv1.LiveStatus{Version: 1, ChainId: r.ChainId, HashAlgorithm: r.Document.HashAlgorithm,
		AnchoredDigest: r.Document.AnchoredDigest, AnchorHeight: r.Anchor.Height, Status: r.Status, ValidatorChain: r.ValidatorChain})
	if err != nil {
		t.Fatal(err)
	}
	return body
}

// node is a public endpoint on loopback that answers every status request
// with handler, and counts the requests.
func node(t *testing.T, handler func(w http.ResponseWriter, r *http.Request)) (string, *atomic.Int32) {
	t.Helper()
	var n atomic.Int32
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		n.Add(1)
		if !strings.HasPrefix(r.URL.Path, "/v1/status/sha2-256/") {
			http.Error(w, `{"error":"bad path","code":"bad_request"}`, http.StatusBadRequest)
			return
		}
		handler(w, r)
	}))
	t.Cleanup(srv.Close)
	return srv.URL, &n
}

func serve(body []byte) func(http.ResponseWriter, *http.Request) {
	return func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		_, _ = w.Write(body)
	}
}

// TestVerifyLive: verify asks the trust bundle's endpoints and --node ones
// for the current status, verifies each answer, and says what it found; a
// revocation after the receipt was taken exits 3; a slow, failing or lying
// node never makes a verdict valid that is not, nor hangs.
func TestVerifyLive(t *testing.T) {
	dir := filepath.Join(vectors, "valid-salted-sha2")
	doc, rec, trustPath := filepath.Join(dir, "document.txt"), filepath.Join(dir, "receipt.json"), filepath.Join(dir, "trust.json")
	revoked := liveBody(t, filepath.Join(vectors, "revoked", "receipt.json"))
	same := liveBody(t, rec)
	other := liveBody(t, filepath.Join(vectors, "valid-bare-sha3", "receipt.json"))
	block := make(chan struct{})
	t.Cleanup(func() { close(block) })

	revokedNode, _ := node(t, serve(revoked))
	sameNode, _ := node(t, serve(same))
	otherNode, _ := node(t, serve(other))
	garbageNode, _ := node(t, serve([]byte("<html>not a status</html>")))
	hugeNode, _ := node(t, serve([]byte(strings.Repeat(" ", 2<<20)+"{}")))
	missingNode, _ := node(t, func(w http.ResponseWriter, _ *http.Request) {
		http.Error(w, `{"error":"not anchored","code":"not_found"}`, http.StatusNotFound)
	})
	slowNode, _ := node(t, func(w http.ResponseWriter, r *http.Request) {
		select {
		case <-block:
		case <-r.Context().Done():
		}
	})
	dripNode, _ := node(t, func(w http.ResponseWriter, r *http.Request) {
		w.WriteHeader(http.StatusOK)
		for i := 0; ; i++ {
			if _, err := w.Write([]byte(" ")); err != nil {
				return
			}
			w.(http.Flusher).Flush()
			select {
			case <-block:
				return
			case <-r.Context().Done():
				return
			case <-time.After(50 * time.Millisecond):
			}
		}
	})
	closed := httptest.NewServer(http.NotFoundHandler())
	closedNode := closed.URL
	closed.Close()

	// A trust bundle that lists a public endpoint.
	tb, err := verify.DecodeTrustBundle(mustRead(t, trustPath))
	if err != nil {
		t.Fatal(err)
	}
	tb.PublicEndpoints = []string{revokedNode}
	listed, err := verify.EncodeTrustBundle(tb)
	if err != nil {
		t.Fatal(err)
	}
	listedPath := filepath.Join(t.TempDir(), "trust.json")
	if err := os.WriteFile(listedPath, listed, 0o644); err != nil {
		t.Fatal(err)
	}

	env := rootEnv{locale: []string{"en_US.UTF-8"}, location: time.UTC, timeout: time.Second, configDir: t.TempDir()}
	base := []string{"verify", doc, rec, "--trust", trustPath}
	cases := []struct {
		name  string
		args  []string
		exit  int
		want  []string
		avoid []string
	}{
		{"no node", base, cli.ExitOK, []string{"VALID.", "could not be checked"}, nil},
		{"revoked since", append(base, "--node", revokedNode), cli.ExitRevoked,
			[]string{"REVOKED.", "It was revoked on 1 March 2025", "Status checked live with 1 of 1 nodes."}, nil},
		{"revoked, endpoint from the bundle", []string{"verify", doc, rec, "--trust", listedPath}, cli.ExitRevoked, []string{"REVOKED.", "1 of 1 nodes"}, nil},
		{"offline", []string{"verify", doc, rec, "--trust", listedPath, "--offline"}, cli.ExitOK, []string{"VALID.", "could not be checked"}, []string{"nodes"}},
		{"not revoked", append(base, "--node", sameNode), cli.ExitOK, []string{"VALID.", "Status checked live with 1 of 1 nodes."}, nil},
		{"another digest", append(base, "--node", otherNode), cli.ExitOK,
			[]string{"could not be checked", "sent the status of another document or network"}, nil},
		{"garbage", append(base, "--node", garbageNode), cli.ExitOK, []string{"did not send a status in the expected form"}, nil},
		{"too large", append(base, "--node", hugeNode), cli.ExitOK, []string{"sent more than 1 MB"}, nil},
		{"not found", append(base, "--node", missingNode), cli.ExitOK, []string{"says it does not know this document"}, nil},
		{"slow", append(base, "--node", slowNode), cli.ExitOK, []string{"did not answer within 1 s"}, nil},
		{"dripping", append(base, "--node", dripNode), cli.ExitOK, []string{"did not answer within 1 s"}, nil},
		{"closed", append(base, "--node", closedNode), cli.ExitOK, []string{"could not be reached"}, nil},
		{"one of three", append(base, "--node", sameNode, "--node", slowNode, "--node", garbageNode), cli.ExitOK,
			[]string{"Status checked live with 1 of 3 nodes.", "No valid answer from: " + slowNode + " (did not answer within 1 s); " + garbageNode}, nil},
		{"revoked wins", append(base, "--node", sameNode, "--node", revokedNode), cli.ExitRevoked, []string{"REVOKED.", "2 of 2 nodes"}, nil},
		{"not valid stays not valid", []string{"verify", filepath.Join(vectors, "not-valid-signature", "document.txt"), filepath.Join(vectors, "not-valid-signature", "receipt.json"),
			"--trust", trustPath, "--node", sameNode}, cli.ExitFailure, []string{"NOT VALID."}, []string{"nodes"}},
		{"spanish", append(base, "--node", revokedNode, "--lang", "es"), cli.ExitRevoked, []string{"REVOCADO.", "Estado comprobado en vivo con 1 de 1 nodos."}, nil},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			start := time.Now()
			out, code := run(t, env, tc.args...)
			if d := time.Since(start); d > 10*time.Second {
				t.Errorf("took %s", d)
			}
			if code != tc.exit {
				t.Errorf("exit %d, want %d\n%s", code, tc.exit, out)
			}
			for _, w := range tc.want {
				if !strings.Contains(out, w) {
					t.Errorf("%q not in\n%s", w, out)
				}
			}
			for _, w := range tc.avoid {
				if strings.Contains(out, w) {
					t.Errorf("%q in\n%s", w, out)
				}
			}
			if strings.Count(out, "\n") != 1 {
				t.Errorf("not one paragraph:\n%s", out)
			}
		})
	}
}

// TestVerifyOfflineAsksNoNode: --offline makes no request, and cannot be
// combined with --node.
func TestVerifyOfflineAsksNoNode(t *testing.T) {
	dir := filepath.Join(vectors, "valid-salted-sha2")
	url, n := node(t, serve(liveBody(t, filepath.Join(dir, "receipt.json"))))
	tb, err := verify.DecodeTrustBundle(mustRead(t, filepath.Join(dir, "trust.json")))
	if err != nil {
		t.Fatal(err)
	}
	tb.PublicEndpoints = []string{url}
	b, err := verify.EncodeTrustBundle(tb)
	if err != nil {
		t.Fatal(err)
	}
	trust := filepath.Join(t.TempDir(), "trust.json")
	if err := os.WriteFile(trust, b, 0o644); err != nil {
		t.Fatal(err)
	}
	env := rootEnv{locale: []string{"en"}, location: time.UTC}
	if out, code := run(t, env, "verify", filepath.Join(dir, "document.txt"), filepath.Join(dir, "receipt.json"), "--trust", trust, "--offline"); code != cli.ExitOK || n.Load() != 0 {
		t.Fatalf("exit %d, %d requests\n%s", code, n.Load(), out)
	}
	if out, code := run(t, env, "verify", filepath.Join(dir, "document.txt"), filepath.Join(dir, "receipt.json"), "--trust", trust, "--offline", "--node", url); code != cli.ExitUsage {
		t.Fatalf("--offline --node: exit %d\n%s", code, out)
	}
}

// TestTrustDiscovery: --trust, then NOTARY_TRUST (which sets --trust), then
// the user's configuration folder, then the bundle built in at release;
// the verdict names the fingerprint of the bundle used.
func TestTrustDiscovery(t *testing.T) {
	dir := filepath.Join(vectors, "valid-salted-sha2")
	doc, rec := filepath.Join(dir, "document.txt"), filepath.Join(dir, "receipt.json")
	trust := mustRead(t, filepath.Join(dir, "trust.json"))
	fp := verify.TrustFingerprint(trust)
	config := t.TempDir()
	if err := os.MkdirAll(filepath.Join(config, "notary"), 0o755); err != nil {
		t.Fatal(err)
	}
	empty := ""
	built := base64.StdEncoding.EncodeToString(trust)
	garbage := base64.StdEncoding.EncodeToString([]byte("garbage"))
	cases := []struct {
		name    string
		env     rootEnv
		args    []string
		inFile  []byte // the configuration folder's trust.json
		setEnv  string // NOTARY_TRUST
		exit    int
		message string
	}{
		{"flag", rootEnv{configDir: t.TempDir(), releaseTrust: &empty}, []string{"--trust", filepath.Join(dir, "trust.json")}, nil, "", cli.ExitOK, fp},
		{"NOTARY_TRUST", rootEnv{configDir: t.TempDir(), releaseTrust: &empty}, nil, nil, filepath.Join(dir, "trust.json"), cli.ExitOK, fp},
		{"configuration folder", rootEnv{configDir: config, releaseTrust: &empty}, nil, trust, "", cli.ExitOK, fp},
		{"configuration folder, garbage", rootEnv{configDir: config, releaseTrust: &empty}, nil, []byte("garbage"), "", cli.ExitUsage, "is not valid"},
		{"built in", rootEnv{configDir: t.TempDir(), releaseTrust: &built}, nil, nil, "", cli.ExitOK, fp},
		{"built in, garbage", rootEnv{configDir: t.TempDir(), releaseTrust: &garbage}, nil, nil, "", cli.ExitUsage, "(release) is not valid"},
		{"none", rootEnv{configDir: t.TempDir(), releaseTrust: &empty}, nil, nil, "", cli.ExitUsage, "No trust bundle found"},
		{"garbage flag", rootEnv{configDir: t.TempDir(), releaseTrust: &empty}, []string{"--trust", doc}, nil, "", cli.ExitUsage, "is not valid: trust bundle: not JSON"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			if tc.inFile != nil {
				if err := os.WriteFile(filepath.Join(config, "notary", "trust.json"), tc.inFile, 0o644); err != nil {
					t.Fatal(err)
				}
			}
			t.Setenv("NOTARY_TRUST", tc.setEnv)
			if tc.setEnv == "" {
				if err := os.Unsetenv("NOTARY_TRUST"); err != nil {
					t.Fatal(err)
				}
			}
			tc.env.locale, tc.env.location = []string{"en"}, time.UTC
			stdout, stderr, code := runErr(t, tc.env, append([]string{"verify", doc, rec}, tc.args...)...)
			if code != tc.exit || !strings.Contains(stdout+stderr, tc.message) {
				t.Fatalf("exit %d, want %d; want %q in\n%s%s", code, tc.exit, tc.message, stdout, stderr)
			}
			if code != cli.ExitOK && strings.Count(stderr, "\n") != 1 {
				t.Errorf("not one sentence: %q", stderr)
			}
		})
	}
}

// TestBadInput: a receipt of 50 MB, a deeply nested one, and a document of
// several GB each give one clear sentence in the user's language and never
// a valid verdict.
func TestBadInput(t *testing.T) {
	dir := filepath.Join(vectors, "valid-salted-sha2")
	doc, rec, trust := filepath.Join(dir, "document.txt"), filepath.Join(dir, "receipt.json"), filepath.Join(dir, "trust.json")
	tmp := t.TempDir()
	big := filepath.Join(tmp, "big.receipt.json")
	f, err := os.Create(big)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := f.Write(append([]byte(`{"version":1,"chain_id":"`), []byte(strings.Repeat("x", 50<<20))...)); err != nil {
		t.Fatal(err)
	}
	if err := f.Close(); err != nil {
		t.Fatal(err)
	}
	nested := filepath.Join(tmp, "nested.receipt.json")
	if err := os.WriteFile(nested, []byte(strings.Repeat(`{"document":`, 1<<20)), 0o644); err != nil {
		t.Fatal(err)
	}
	cases := []struct {
		name string
		args []string
		exit int
		want string
	}{
		{"50 MB receipt", []string{"verify", doc, big, "--trust", trust}, cli.ExitFailure, "NO VÁLIDO. El archivo del recibo está dañado"},
		{"nested receipt", []string{"verify", doc, nested, "--trust", trust}, cli.ExitFailure, "NO VÁLIDO. El archivo del recibo está dañado"},
		{"garbage trust bundle", []string{"verify", doc, rec, "--trust", doc}, cli.ExitUsage, "El paquete de confianza"},
		{"bad language", []string{"verify", doc, rec, "--trust", trust, "--lang", "fr"}, cli.ExitUsage, "Idioma fr desconocido"},
		{"bad node", []string{"verify", doc, rec, "--trust", trust, "--node", "ftp://x"}, cli.ExitUsage, "no es una dirección"},
		{"one argument", []string{"verify", doc, "--trust", trust}, cli.ExitUsage, "Indique el documento y su recibo"},
	}
	if !testing.Short() {
		huge := filepath.Join(tmp, "huge.pdf")
		hf, err := os.Create(huge)
		if err != nil {
			t.Fatal(err)
		}
		if err := hf.Truncate(3 << 30); err != nil { // sparse: 3 GiB read, none stored
			t.Fatal(err)
		}
		if err := hf.Close(); err != nil {
			t.Fatal(err)
		}
		cases = append(cases, struct {
			name string
			args []string
			exit int
			want string
		}{"3 GiB document", []string{"verify", huge, rec, "--trust", trust}, cli.ExitFailure, "NO VÁLIDO. El documento no coincide con el recibo"})
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			stdout, stderr, code := runErr(t, rootEnv{locale: []string{"es_ES.UTF-8"}, location: time.UTC, configDir: tmp}, tc.args...)
			out := stdout + stderr
			if code != tc.exit || !strings.Contains(out, tc.want) || strings.Count(out, "\n") != 1 {
				t.Fatalf("exit %d, want %d; want %q in\n%s", code, tc.exit, tc.want, out)
			}
		})
	}
}

func mustRead(t *testing.T, path string) []byte {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// TestVerifyLiveCoded: for a receipt of a document anchored under a
// verification code, verify asks a node for the status by the code key
// (/v1/status/code/<key>) and checks that the answer names the key.
func TestVerifyLiveCoded(t *testing.T) {
	dir := filepath.Join(vectors, "valid-coded-sha2")
	doc, rec, trustPath := filepath.Join(dir, "document.txt"), filepath.Join(dir, "receipt.json"), filepath.Join(dir, "trust.json")
	r, err := verify.DecodeReceipt(mustRead(t, rec))
	if err != nil {
		t.Fatal(err)
	}
	live := &notaryv1.LiveStatus{Version: 1, ChainId: r.ChainId, HashAlgorithm: r.Document.HashAlgorithm, AnchoredDigest: r.Document.AnchoredDigest,
		CodeKey: r.Document.CodeKey, AnchorHeight: r.Anchor.Height, Status: r.Status, ValidatorChain: r.ValidatorChain}
	body, err := verify.EncodeLiveStatus(live)
	if err != nil {
		t.Fatal(err)
	}
	live.CodeKey = ""
	noKey, err := verify.EncodeLiveStatus(live)
	if err != nil {
		t.Fatal(err)
	}
	byKey := func(b []byte) func(http.ResponseWriter, *http.Request) {
		return func(w http.ResponseWriter, req *http.Request) {
			if req.URL.Path != "/v1/status/code/"+r.Document.CodeKey {
				http.Error(w, `{"error":"not anchored","code":"not_found"}`, http.StatusNotFound)
				return
			}
			w.Header().Set("Content-Type", "application/json")
			_, _ = w.Write(b)
		}
	}
	keyNode := httptest.NewServer(http.HandlerFunc(byKey(body)))
	t.Cleanup(keyNode.Close)
	noKeyNode := httptest.NewServer(http.HandlerFunc(byKey(noKey)))
	t.Cleanup(noKeyNode.Close)
	env := rootEnv{locale: []string{"en_US.UTF-8"}, location: time.UTC, timeout: time.Second, configDir: t.TempDir()}
	base := []string{"verify", doc, rec, "--trust", trustPath}
	if out, code := run(t, env, append(base, "--node", keyNode.URL)...); code != cli.ExitOK || !strings.Contains(out, "Status checked live with 1 of 1 nodes.") {
		t.Fatalf("by key: exit %d\n%s", code, out)
	}
	if out, code := run(t, env, append(base, "--node", noKeyNode.URL)...); code != cli.ExitOK || !strings.Contains(out, "sent the status of another document or network") {
		t.Fatalf("an answer without the key: exit %d\n%s", code, out)
	}
}
