package public_test

import (
	"bufio"
	"encoding/hex"
	"encoding/json"
	"io"
	"net"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"testing"
	"testing/fstest"
	"time"

	"google.golang.org/protobuf/encoding/protojson"

	"github.com/gobtechlab/notary/app"
	"github.com/gobtechlab/notary/app/public"
	"github.com/gobtechlab/notary/app/receipt/receipttest"
	notaryv1 "github.com/gobtechlab/notary/proto/notary/v1"
)

// checkError checks a JSON error answer: its status, its code, and a body
// of exactly {"error": <sentence>, "code": <code>}.
func checkError(t *testing.T, name string, r response, status int, code string) {
	t.Helper()
	if r.code != status {
		t.Errorf("%s: status %d, want %d (%s)", name, r.code, status, r.body)
		return
	}
	var body map[string]string
	if err := json.Unmarshal([]byte(r.body), &body); err != nil {
		t.Errorf("%s: body %q is not a JSON object of strings: %v", name, r.body, err)
		return
	}
	if len(body) != 2 || body["code"] != code || !strings.HasSuffix(body["error"], ".") || r.header.Get("Content-Type") != "application/json" {
		t.Errorf("%s: error %q (%s), want code %s", name, r.body, r.header.Get("Content-Type"), code)
	}
}

// TestBadInput: over real HTTP, every malformed or refused request gets the
// documented status and a JSON error.
func TestBadInput(t *testing.T) {
	c, d := syntheticChain(t)
	base := serve(t, app.PublicConfig{}, &chainBackend{Builder: c.Builder()}, public.Options{})
	hexD := hex.EncodeToString(d)
	cases := []struct {
		name, method, path string
		status             int
		code               string
	}{
		{"unknown algorithm", "GET", "/v1/status/md5/" + hexD, 400, "unknown_algorithm"},
		{"algorithm in capitals", "GET", "/v1/status/SHA2-256/" + hexD, 400, "unknown_algorithm"},
		{"not hex", "GET", "/v1/status/sha2-256/" + strings.Repeat("zz", 32), 400, "bad_digest"},
		{"hex in capitals", "GET", "/v1/status/sha2-256/" + strings.ToUpper(hexD), 400, "bad_digest"},
		{"short digest", "GET", "/v1/status/sha2-256/" + hexD[:63], 400, "bad_digest_length"},
		{"long digest", "GET", "/v1/status/sha2-256/" + hexD + "00", 400, "bad_digest_length"},
		{"unknown digest", "GET", "/v1/status/sha2-256/" + hex.EncodeToString(receipttest.Digest("unknown")), 404, "not_found"},
		{"other algorithm", "GET", "/v1/status/sha3-256/" + hexD, 404, "not_found"},
		{"extra segment", "GET", "/v1/status/sha2-256/" + hexD + "/x", 404, "unknown_path"},
		{"no digest", "GET", "/v1/status/sha2-256", 404, "unknown_path"},
		{"no page", "GET", "/", 404, "unknown_path"},
		{"unknown path", "GET", "/v1/batches", 404, "unknown_path"},
		{"post", "POST", "/v1/status/sha2-256/" + hexD, 405, "method_not_allowed"},
		{"delete", "DELETE", "/healthz", 405, "method_not_allowed"},
	}
	for _, tc := range cases {
		checkError(t, tc.name, get(t, tc.method, base+tc.path), tc.status, tc.code)
	}
	if r := get(t, "GET", base+"/healthz"); r.code != 200 || r.body != "ok\n" {
		t.Errorf("healthz: %d %q", r.code, r.body)
	}

	// A URL or headers beyond MaxHeaderBytes: 431, from net/http.
	if r := get(t, "GET", base+"/v1/status/sha2-256/"+strings.Repeat("a", 64<<10)); r.code != http.StatusRequestHeaderFieldsTooLarge {
		t.Errorf("huge URL: %d", r.code)
	}
	if r := get(t, "GET", base+"/healthz", "X-Filler: "+strings.Repeat("b", 64<<10)); r.code != http.StatusRequestHeaderFieldsTooLarge {
		t.Errorf("huge header: %d", r.code)
	}
}

// TestStatusAnswer: a status answer is the canonical JSON of a LiveStatus
// with the caching headers; the same height gives 304 to If-None-Match; a
// chain that stops (halted) keeps being answered with the same height, and
// Last-Modified says how old it is; HEAD answers the headers.
func TestStatusAnswer(t *testing.T) {
	c, d := syntheticChain(t)
	b := &chainBackend{Builder: c.Builder()}
	base := serve(t, app.PublicConfig{}, b, public.Options{})
	url := base + "/v1/status/sha2-256/" + hex.EncodeToString(d)
	r := get(t, "GET", url)
	if r.code != 200 || r.header.Get("Content-Type") != "application/json" || r.header.Get("Cache-Control") != "public, max-age=2" {
		t.Fatalf("status: %d %v %s", r.code, r.header, r.body)
	}
	live := &notaryv1.LiveStatus{}
	if err := protojson.Unmarshal([]byte(r.body), live); err != nil {
		t.Fatal(err)
	}
	height := live.Status.Checkpoint.Height
	if live.AnchoredDigest != hex.EncodeToString(d) || height != c.Height()-1 || r.header.Get("ETag") != `"`+strconv.FormatInt(height, 10)+`"` {
		t.Fatalf("live status at %d, ETag %s", height, r.header.Get("ETag"))
	}
	canon, err := protojson.MarshalOptions{UseProtoNames: true}.Marshal(live)
	if err != nil {
		t.Fatal(err)
	}
	if strings.ContainsAny(r.body, " \n") || len(r.body) > len(canon) {
		t.Fatalf("body is not compact canonical JSON: %s", r.body)
	}
	signed := receipttest.DefaultGenesisTime.Add(time.Duration(height+1) * time.Second)
	if got := r.header.Get("Last-Modified"); got != signed.Format(http.TimeFormat) {
		t.Fatalf("Last-Modified %q, want the signing header's time %s", got, signed.Format(http.TimeFormat))
	}
	// The chain halted: the same answer again, and 304 for its ETag.
	if again := get(t, "GET", url); again.body != r.body || again.header.Get("ETag") != r.header.Get("ETag") {
		t.Fatal("a halted chain's answer changed")
	}
	if nm := get(t, "GET", url, "If-None-Match: "+r.header.Get("ETag")); nm.code != http.StatusNotModified || nm.body != "" {
		t.Fatalf("If-None-Match: %d %q", nm.code, nm.body)
	}
	if head := get(t, "HEAD", url); head.code != 200 || head.body != "" || head.header.Get("ETag") == "" {
		t.Fatalf("HEAD: %d %q", head.code, head.body)
	}
	// A new block: a new height, and If-None-Match of the old one gets 200.
	c.Empty(1)
	if nm := get(t, "GET", url, "If-None-Match: "+r.header.Get("ETag")); nm.code != 200 || nm.header.Get("ETag") == r.header.Get("ETag") {
		t.Fatalf("after a block: %d %s", nm.code, nm.header.Get("ETag"))
	}

	// A digest anchored in the newest block: no signed state yet.
	fresh := receipttest.Digest("fresh")
	c.Anchor(sha2, "", fresh)
	r = get(t, "GET", base+"/v1/status/sha2-256/"+hex.EncodeToString(fresh))
	checkError(t, "anchored in the newest block", r, 503, "not_yet_signed")
	if r.header.Get("Retry-After") == "" {
		t.Error("503 without Retry-After")
	}
	// Catching up: 503, never a stale answer.
	b.catchingUp.Store(true)
	r = get(t, "GET", url)
	checkError(t, "catching up", r, 503, "catching_up")
	if r.header.Get("Retry-After") == "" {
		t.Error("503 without Retry-After")
	}
}

// TestRateLimit: a client address over its bucket gets 429 with
// Retry-After (and the CORS headers, so that a page can read it).
func TestRateLimit(t *testing.T) {
	c, d := syntheticChain(t)
	base := serve(t, app.PublicConfig{RatePerSecond: 1, Burst: 3, CORSOrigins: []string{"https://sede.example.gob.es"}}, &chainBackend{Builder: c.Builder()}, public.Options{})
	url := base + "/v1/status/sha2-256/" + hex.EncodeToString(d)
	for i := range 3 {
		if r := get(t, "GET", url); r.code != 200 {
			t.Fatalf("request %d: %d %s", i, r.code, r.body)
		}
	}
	r := get(t, "GET", url, "Origin: https://sede.example.gob.es")
	checkError(t, "over the rate", r, http.StatusTooManyRequests, "rate_limited")
	if s, err := strconv.Atoi(r.header.Get("Retry-After")); err != nil || s < 1 || s > 2 {
		t.Errorf("Retry-After %q", r.header.Get("Retry-After"))
	}
	if r.header.Get("Access-Control-Allow-Origin") != "https://sede.example.gob.es" {
		t.Errorf("429 without CORS headers: %v", r.header)
	}
	time.Sleep(1100 * time.Millisecond)
	if r := get(t, "GET", url); r.code != 200 {
		t.Fatalf("after a second: %d", r.code)
	}
}

// TestCORS: listed origins are echoed, others are not; preflights are
// answered for listed origins and refused for others; "*" allows any.
func TestCORS(t *testing.T) {
	c, d := syntheticChain(t)
	const sede = "https://sede.example.gob.es"
	base := serve(t, app.PublicConfig{CORSOrigins: []string{sede, "http://localhost:8080"}}, &chainBackend{Builder: c.Builder()}, public.Options{})
	url := base + "/v1/status/sha2-256/" + hex.EncodeToString(d)

	r := get(t, "GET", url, "Origin: "+sede)
	if r.code != 200 || r.header.Get("Access-Control-Allow-Origin") != sede || !strings.Contains(r.header.Get("Vary"), "Origin") ||
		!strings.Contains(r.header.Get("Access-Control-Expose-Headers"), "ETag") {
		t.Fatalf("listed origin: %d %v", r.code, r.header)
	}
	r = get(t, "GET", url, "Origin: https://evil.example")
	if r.code != 200 || r.header.Get("Access-Control-Allow-Origin") != "" {
		t.Fatalf("other origin: %d %v", r.code, r.header)
	}
	r = get(t, "OPTIONS", url, "Origin: "+sede, "Access-Control-Request-Method: GET", "Access-Control-Request-Headers: if-none-match")
	if r.code != http.StatusNoContent || r.header.Get("Access-Control-Allow-Origin") != sede ||
		!strings.Contains(r.header.Get("Access-Control-Allow-Methods"), "GET") || r.header.Get("Access-Control-Max-Age") == "" {
		t.Fatalf("preflight: %d %v", r.code, r.header)
	}
	r = get(t, "OPTIONS", url, "Origin: https://evil.example", "Access-Control-Request-Method: GET")
	checkError(t, "preflight of another origin", r, http.StatusForbidden, "origin_not_allowed")
	if r.header.Get("Access-Control-Allow-Origin") != "" {
		t.Errorf("denied preflight allows: %v", r.header)
	}
	checkError(t, "preflight for POST", get(t, "OPTIONS", url, "Origin: "+sede, "Access-Control-Request-Method: POST"), http.StatusForbidden, "method_not_allowed")
	checkError(t, "preflight with a cookie header", get(t, "OPTIONS", url, "Origin: "+sede, "Access-Control-Request-Method: GET", "Access-Control-Request-Headers: authorization"), http.StatusForbidden, "header_not_allowed")
	if r := get(t, "OPTIONS", url); r.code != http.StatusNoContent || !strings.Contains(r.header.Get("Allow"), "GET") {
		t.Fatalf("plain OPTIONS: %d %v", r.code, r.header)
	}

	anyBase := serve(t, app.PublicConfig{CORSOrigins: []string{"*"}}, &chainBackend{Builder: c.Builder()}, public.Options{})
	r = get(t, "GET", anyBase+"/v1/status/sha2-256/"+hex.EncodeToString(d), "Origin: https://anywhere.example")
	if r.header.Get("Access-Control-Allow-Origin") != "*" {
		t.Fatalf("any origin: %v", r.header)
	}
}

// TestSlowClient: a client that never finishes its headers (slowloris) is
// disconnected after the read-header timeout; others are still served.
func TestSlowClient(t *testing.T) {
	c, _ := syntheticChain(t)
	base := serve(t, app.PublicConfig{}, &chainBackend{Builder: c.Builder()}, public.Options{Timeouts: public.Timeouts{
		ReadHeader: 300 * time.Millisecond, Read: time.Second, Write: 2 * time.Second, Idle: time.Second,
	}})
	addr := strings.TrimPrefix(base, "http://")
	var conns []net.Conn
	for range 20 {
		conn, err := net.Dial("tcp", addr)
		if err != nil {
			t.Fatal(err)
		}
		defer func() { _ = conn.Close() }()
		if _, err := io.WriteString(conn, "GET /healthz HTTP/1.1\r\nHost: x\r\nX-Slow: "); err != nil {
			t.Fatal(err)
		}
		conns = append(conns, conn)
	}
	if r := get(t, "GET", base+"/healthz"); r.code != 200 {
		t.Fatalf("healthz beside slow clients: %d", r.code)
	}
	start := time.Now()
	for i, conn := range conns {
		_ = conn.SetReadDeadline(time.Now().Add(5 * time.Second))
		if _, err := io.ReadAll(bufio.NewReader(conn)); err != nil {
			t.Fatalf("slow client %d still connected after %s: %v", i, time.Since(start), err)
		}
	}
	if e := time.Since(start); e > 3*time.Second {
		t.Fatalf("slow clients disconnected after %s", e)
	}
}

// TestBusy: more status requests at once than MaxInFlight: the extra ones
// are answered 503 at once, the others in full.
func TestBusy(t *testing.T) {
	if testing.Short() {
		t.Skip("holds a hundred requests for a second")
	}
	c, d := syntheticChain(t)
	b := slowBackend{Backend: &chainBackend{Builder: c.Builder()}, delay: time.Second}
	base := serve(t, app.PublicConfig{}, b, public.Options{})
	url := base + "/v1/status/sha2-256/" + hex.EncodeToString(d)
	n := public.MaxInFlight + 20
	codes := make([]int, n)
	var wg sync.WaitGroup
	tr := &http.Transport{MaxConnsPerHost: 0, MaxIdleConnsPerHost: n}
	defer tr.CloseIdleConnections()
	hc := &http.Client{Transport: tr, Timeout: 20 * time.Second}
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			resp, err := hc.Get(url)
			if err != nil {
				codes[i] = -1
				return
			}
			_, _ = io.Copy(io.Discard, resp.Body)
			_ = resp.Body.Close()
			codes[i] = resp.StatusCode
		}()
	}
	wg.Wait()
	count := map[int]int{}
	for _, c := range codes {
		count[c]++
	}
	if count[200] < public.MaxInFlight/2 || count[503] == 0 || count[200]+count[503] != n {
		t.Fatalf("answers %v", count)
	}
}

// TestWebFiles: with serve_web and Options.Web the page is served at "/"
// with its types and an ETag; without serve_web it is not.
func TestWebFiles(t *testing.T) {
	c, _ := syntheticChain(t)
	web := fstest.MapFS{
		"index.html":        {Data: []byte("<!doctype html><title>Verificar</title>")},
		"verify.wasm":       {Data: []byte("\x00asm\x01\x00\x00\x00")},
		"static/styles.css": {Data: []byte("body{}")},
	}
	base := serve(t, app.PublicConfig{ServeWeb: true}, &chainBackend{Builder: c.Builder()}, public.Options{Web: web})
	for path, ctype := range map[string]string{"/": "text/html", "/index.html": "text/html", "/verify.wasm": "application/wasm", "/static/styles.css": "text/css"} {
		r := get(t, "GET", base+path)
		if r.code != 200 || !strings.HasPrefix(r.header.Get("Content-Type"), ctype) || r.header.Get("ETag") == "" {
			t.Errorf("%s: %d %s %s", path, r.code, r.header.Get("Content-Type"), r.header.Get("ETag"))
			continue
		}
		if nm := get(t, "GET", base+path, "If-None-Match: "+r.header.Get("ETag")); nm.code != http.StatusNotModified {
			t.Errorf("%s with its ETag: %d", path, nm.code)
		}
	}
	for _, p := range []string{"/missing.js", "/static/", "/../index.html", "/static/../../etc/passwd"} {
		if r := get(t, "GET", base+p); r.code != 404 && !(r.code == 200 && strings.Contains(r.body, "Verificar")) {
			t.Errorf("%s: %d %s", p, r.code, r.body)
		}
	}
	off := serve(t, app.PublicConfig{ServeWeb: false}, &chainBackend{Builder: c.Builder()}, public.Options{Web: web})
	checkError(t, "serve_web off", get(t, "GET", off+"/"), 404, "unknown_path")
}

// TestNewServerRefusesBadConfig: a configuration ValidateBasic refuses is
// refused.
func TestNewServerRefusesBadConfig(t *testing.T) {
	c, _ := syntheticChain(t)
	for _, cfg := range []app.PublicConfig{
		{Listen: "127.0.0.1:0", RatePerSecond: 1},
		{Listen: "127.0.0.1:0", CORSOrigins: []string{"https://x/"}},
		{Listen: "nowhere"},
	} {
		if _, err := public.NewServer(cfg, &chainBackend{Builder: c.Builder()}, nil, public.Options{}); err == nil {
			t.Errorf("%+v: no error", cfg)
		}
	}
}
