package main

import (
	"crypto/sha256"
	"encoding/hex"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	cmtlog "github.com/cometbft/cometbft/libs/log"
	"google.golang.org/protobuf/encoding/protojson"

	"github.com/gobtechlab/notary/app"
	"github.com/gobtechlab/notary/app/public"
	"github.com/gobtechlab/notary/app/receipt"
	"github.com/gobtechlab/notary/app/receipt/receipttest"
	"github.com/gobtechlab/notary/cmd/verifier/verify"
	"github.com/gobtechlab/notary/cmd/verifier/verify/vcode/vcodetest"
	"github.com/gobtechlab/notary/ledger"
	notaryv1 "github.com/gobtechlab/notary/proto/notary/v1"
)

// builderBackend is a public endpoint's backend over a synthetic chain's
// builder (a synthetic chain never catches up).
type builderBackend struct{ *receipt.Builder }

func (builderBackend) CatchingUp() bool { return false }

// TestCodeV2: `verifier code` under a trust bundle that carries a log
// checkpoint asks a real public endpoint for the code's receipt v2 and
// the live status of its node, and finds the document valid, with the
// document and the receipt v2 saved; under the genesis bundle it asks
// for a receipt v1. Only the code's key is sent.
func TestCodeV2(t *testing.T) {
	c := receipttest.New(t, receipttest.Options{EvidenceLog: true})
	code := vcodetest.Code("CLI-V2")
	sec := code.Derive()
	doc := []byte("a document registered under a code, verified by a receipt v2")
	sum := sha256.Sum256(doc)
	sha2 := notaryv1.HashAlgorithm_HASH_ALGORITHM_SHA2_256
	c.AnchorCoded(sha2, "", [][]byte{sec.Key[:]}, [][]byte{ledger.SaltedDigest(sha2, sec.Salt[:], sum[:])})
	c.Empty(1)
	if err := c.App.FlushLog(); err != nil {
		t.Fatal(err)
	}
	c.SignCheckpoint(1, "hacienda", "interior", "justicia")
	b := c.Builder()
	b.Log = c.LogSource()
	s, err := public.NewServer(app.PublicConfig{Listen: "127.0.0.1:0", RatePerSecond: 1e6, Burst: 1e6}, builderBackend{b}, cmtlog.NewNopLogger(), public.Options{})
	if err != nil {
		t.Fatal(err)
	}
	var mu sync.Mutex
	var asked []string
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		asked = append(asked, r.URL.RequestURI())
		mu.Unlock()
		s.Handler().ServeHTTP(w, r)
	}))
	defer srv.Close()

	dir := t.TempDir()
	writeTrust := func(name string, tb *notaryv1.TrustBundle) string {
		t.Helper()
		raw, err := verify.EncodeTrustBundle(tb)
		if err != nil {
			t.Fatal(err)
		}
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, raw, 0o644); err != nil {
			t.Fatal(err)
		}
		return p
	}
	docPath := filepath.Join(dir, "document.txt")
	if err := os.WriteFile(docPath, doc, 0o644); err != nil {
		t.Fatal(err)
	}
	key := hex.EncodeToString(sec.Key[:])
	env := rootEnv{configDir: t.TempDir(), timeout: 5 * time.Second}
	for _, tc := range []struct {
		name    string
		trust   *notaryv1.TrustBundle
		path    string
		version uint32
	}{
		{"a bundle with a log checkpoint", c.LogTrustBundle(), "/v1/code/" + key + "?version=2", 2},
		{"the genesis bundle", c.TrustBundle(), "/v1/code/" + key, 1},
	} {
		mu.Lock()
		asked = nil
		mu.Unlock()
		saved := filepath.Join(dir, "receipt.json")
		out, exit := run(t, env, "code", code.String(), "--trust", writeTrust("trust.json", tc.trust), "--node", srv.URL, "--lang", "en", "--file", docPath, "--save-receipt", saved)
		if exit != 0 || !strings.HasPrefix(out, "VALID") {
			t.Fatalf("%s: exit %d\n%s", tc.name, exit, out)
		}
		mu.Lock()
		got := append([]string(nil), asked...)
		mu.Unlock()
		want := []string{tc.path, "/v1/status/code/" + key}
		if tc.version != 2 {
			want = want[:1]
		}
		if strings.Join(got, " ") != strings.Join(want, " ") {
			t.Errorf("%s: asked %v, want %v", tc.name, got, want)
		}
		raw, err := os.ReadFile(saved)
		if err != nil {
			t.Fatal(err)
		}
		r := &notaryv1.Receipt{}
		if err := protojson.Unmarshal(raw, r); err != nil {
			t.Fatalf("%s: saved receipt: %v", tc.name, err)
		}
		if r.Version != tc.version || r.Document.DocumentDigest != hex.EncodeToString(sum[:]) {
			t.Fatalf("%s: saved receipt: version %d, document %v", tc.name, r.Version, r.Document)
		}
		if out, exit := run(t, env, "verify", docPath, saved, "--trust", writeTrust("trust.json", tc.trust), "--lang", "en"); exit != 0 {
			t.Fatalf("%s: verify the saved receipt: exit %d\n%s", tc.name, exit, out)
		}
	}
}
