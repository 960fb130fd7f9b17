package public

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"io"
	"io/fs"
	"net/http"
	"path"
	"strconv"
	"strings"
	"time"

	cmtproto "github.com/cometbft/cometbft/proto/tendermint/types"

	"github.com/gobtechlab/notary/abci"
	"github.com/gobtechlab/notary/app/internal/ratelimit"
	"github.com/gobtechlab/notary/app/receipt"
	"github.com/gobtechlab/notary/cmd/verifier/verify"
	"github.com/gobtechlab/notary/ledger"
	notaryv1 "github.com/gobtechlab/notary/proto/notary/v1"
)

// Routes (the label of notary_public_requests_total).
const (
	routeStatus  = "status"
	routeCode    = "code"
	routeHealth  = "healthz"
	routeWeb     = "web"
	routeLog     = "log"
	routeUnknown = "other"
)

// StatusPrefix is the path of the status route, before the algorithm.
const StatusPrefix = "/v1/status/"

// StatusCodeName is the path segment after StatusPrefix under which the
// status route answers a coded document by its code key:
// /v1/status/code/{code_key}.
const StatusCodeName = "code"

// CodePrefix is the path of the code route, before the code key.
const CodePrefix = "/v1/code/"

// Handler returns the endpoint's HTTP handler.
func (s *Server) Handler() http.Handler { return http.HandlerFunc(s.serve) }

// recorder remembers the status code written.
type recorder struct {
	http.ResponseWriter
	code int
}

func (r *recorder) WriteHeader(code int) {
	if r.code == 0 {
		r.code = code
	}
	r.ResponseWriter.WriteHeader(code)
}

func (r *recorder) Write(b []byte) (int, error) {
	if r.code == 0 {
		r.code = http.StatusOK
	}
	return r.ResponseWriter.Write(b)
}

func (s *Server) serve(w http.ResponseWriter, r *http.Request) {
	start := time.Now()
	route := s.route(r.URL.Path)
	rec := &recorder{ResponseWriter: w}
	defer func() {
		code := rec.code
		if code == 0 {
			code = http.StatusOK
		}
		s.m.requests.WithLabelValues(route, strconv.Itoa(code)).Inc()
		s.m.latency.WithLabelValues(route).Observe(time.Since(start).Seconds())
	}()
	h := rec.Header()
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("Referrer-Policy", "no-referrer")
	allowed := s.cors(rec, r)
	if ok, retry := s.limiter.Allow(ratelimit.HostPortPrefix(r.RemoteAddr)); !ok {
		secs := int(retry.Seconds() + 0.999)
		h.Set("Retry-After", strconv.Itoa(max(secs, 1)))
		writeError(rec, http.StatusTooManyRequests, "rate_limited", "Too many requests from this address; retry after the time in Retry-After.")
		return
	}
	if r.Method == http.MethodOptions {
		s.preflight(rec, r, allowed)
		return
	}
	if r.Method != http.MethodGet && r.Method != http.MethodHead {
		h.Set("Allow", "GET, HEAD, OPTIONS")
		writeError(rec, http.StatusMethodNotAllowed, "method_not_allowed", "Only GET, HEAD and OPTIONS are served.")
		return
	}
	switch route {
	case routeStatus:
		s.status(rec, r)
	case routeCode:
		s.code(rec, r)
	case routeHealth:
		h.Set("Content-Type", "text/plain; charset=utf-8")
		h.Set("Cache-Control", "no-store")
		_, _ = io.WriteString(rec, "ok\n")
	case routeLog:
		s.serveLog(rec, r)
	case routeWeb:
		s.serveWeb(rec, r)
	default:
		writeError(rec, http.StatusNotFound, "unknown_path", "There is nothing at this path; the status of a document is at /v1/status/<hash_algorithm>/<anchored_digest>, its receipt by verification code at /v1/code/<code_key>, the evidence log's tiles under /log/tile/.")
	}
}

func (s *Server) route(p string) string {
	switch {
	case strings.HasPrefix(p, StatusPrefix):
		return routeStatus
	case strings.HasPrefix(p, CodePrefix):
		return routeCode
	case p == "/healthz":
		return routeHealth
	case strings.HasPrefix(p, LogPrefix):
		return routeLog
	case s.web != nil && strings.HasPrefix(p, "/") && !strings.HasPrefix(p, "/v1/"):
		return routeWeb
	}
	return routeUnknown
}

// cors sets the CORS headers of an answer to r and reports whether r's
// origin is allowed.
func (s *Server) cors(w http.ResponseWriter, r *http.Request) bool {
	h := w.Header()
	origin := r.Header.Get("Origin")
	if !s.anyOrig {
		h.Add("Vary", "Origin")
	}
	if origin == "" {
		return false
	}
	switch {
	case s.anyOrig:
		h.Set("Access-Control-Allow-Origin", "*")
	case s.origins[origin]:
		h.Set("Access-Control-Allow-Origin", origin)
	default:
		return false
	}
	h.Set("Access-Control-Expose-Headers", "ETag, Retry-After, Last-Modified")
	return true
}

// allowedRequestHeaders are the request headers a page may send.
var allowedRequestHeaders = map[string]bool{"if-none-match": true, "accept": true, "accept-language": true, "content-language": true, "cache-control": true}

// preflight answers OPTIONS: a CORS preflight from an allowed origin for
// GET or HEAD gets 204 with what it may send; from another origin, 403.
func (s *Server) preflight(w http.ResponseWriter, r *http.Request, allowed bool) {
	h := w.Header()
	method := r.Header.Get("Access-Control-Request-Method")
	if r.Header.Get("Origin") == "" || method == "" {
		h.Set("Allow", "GET, HEAD, OPTIONS")
		w.WriteHeader(http.StatusNoContent)
		return
	}
	if !allowed {
		writeError(w, http.StatusForbidden, "origin_not_allowed", "This node does not serve pages of this origin; its operator lists the allowed ones.")
		return
	}
	if method != http.MethodGet && method != http.MethodHead {
		writeError(w, http.StatusForbidden, "method_not_allowed", "Only GET and HEAD are served.")
		return
	}
	for _, f := range strings.Split(r.Header.Get("Access-Control-Request-Headers"), ",") {
		if f = strings.ToLower(strings.TrimSpace(f)); f != "" && !allowedRequestHeaders[f] {
			writeError(w, http.StatusForbidden, "header_not_allowed", "The request asks to send a header this endpoint does not accept.")
			return
		}
	}
	h.Set("Access-Control-Allow-Methods", "GET, HEAD")
	h.Set("Access-Control-Allow-Headers", "If-None-Match, Accept, Accept-Language, Content-Language, Cache-Control")
	h.Set("Access-Control-Max-Age", "600")
	w.WriteHeader(http.StatusNoContent)
}

// status answers GET /v1/status/{hash_algorithm}/{anchored_digest}, and
// GET /v1/status/code/{code_key} (codeStatus).
func (s *Server) status(w http.ResponseWriter, r *http.Request) {
	rest := strings.TrimPrefix(r.URL.Path, StatusPrefix)
	name, hexDigest, ok := strings.Cut(rest, "/")
	if !ok || strings.Contains(hexDigest, "/") {
		writeError(w, http.StatusNotFound, "unknown_path", "The status of a document is at /v1/status/<hash_algorithm>/<anchored_digest>, of a document registered under a verification code at /v1/status/code/<code_key>.")
		return
	}
	if name == StatusCodeName {
		s.codeStatus(w, r, hexDigest)
		return
	}
	alg, ok := ledger.ParseAlgorithm(name)
	if !ok || ledger.AlgorithmName(alg) != name {
		writeError(w, http.StatusBadRequest, "unknown_algorithm", "The hash algorithm must be sha2-256 or sha3-256.")
		return
	}
	if len(hexDigest) != 2*ledger.DigestSize {
		writeError(w, http.StatusBadRequest, "bad_digest_length", "The anchored digest must be 64 hexadecimal characters.")
		return
	}
	digest, err := hex.DecodeString(hexDigest)
	if err != nil || hex.EncodeToString(digest) != hexDigest {
		writeError(w, http.StatusBadRequest, "bad_digest", "The anchored digest must be written in lowercase hexadecimal.")
		return
	}
	s.prove(w, r, "live status", errorTexts{
		notFound:     "This digest is not anchored on the chain.",
		badRequest:   "The hash algorithm or the anchored digest is not valid.",
		notYetSigned: "This node holds no signed block at or after the digest's anchoring yet; retry in a moment.",
	}, func(ctx context.Context) ([]byte, caching, error) {
		live, err := s.backend.LiveStatus(ctx, alg, digest)
		if err != nil {
			return nil, caching{}, err
		}
		body, err := verify.EncodeLiveStatus(live)
		return body, statusCaching(live.GetStatus().GetCheckpoint()), err
	})
}

// codeStatus answers GET /v1/status/code/{code_key}: the live status of
// the document registered under a verification code, by the code's key
// (the only name a node finds a coded document by).
func (s *Server) codeStatus(w http.ResponseWriter, r *http.Request, hexKey string) {
	key, ok := parseCodeKey(hexKey)
	if !ok {
		writeError(w, http.StatusBadRequest, "bad_code_key", codeKeyHelp)
		return
	}
	s.prove(w, r, "live status", errorTexts{
		notFound:     "No document is registered under this code.",
		badRequest:   codeKeyHelp,
		notYetSigned: "This node holds no signed block at or after the document's registration yet; retry in a moment.",
	}, func(ctx context.Context) ([]byte, caching, error) {
		live, err := s.backend.LiveStatusByCode(ctx, key)
		if err != nil {
			return nil, caching{}, err
		}
		body, err := verify.EncodeLiveStatus(live)
		return body, statusCaching(live.GetStatus().GetCheckpoint()), err
	})
}

// parseCodeKey reads a code key written as 32 lowercase hex characters.
func parseCodeKey(hexKey string) ([]byte, bool) {
	key, err := hex.DecodeString(hexKey)
	if err != nil || len(key) != ledger.CodeKeySize || hex.EncodeToString(key) != hexKey {
		return nil, false
	}
	return key, true
}

// codeKeyHelp says what a code key is, for a malformed one.
const codeKeyHelp = "A code key is 32 lowercase hexadecimal characters: the 16-byte key derived from a verification code (docs/receipt.md, \"Verification codes\"), computed where the code is typed (the code itself is never sent)."

// CodeVersionParam is the query parameter of the code route that asks for
// a receipt v2: /v1/code/{code_key}?version=2 (CodeVersionV2); "1", or no
// parameter, asks for a receipt v1.
const CodeVersionParam = "version"

// Receipt versions of the code route.
const (
	CodeVersionV1 = "1"
	CodeVersionV2 = "2"
)

// code answers GET /v1/code/{code_key}: the receipt of the document
// registered under a verification code, by the code's key, with its status
// at the newest state the node can prove; with ?version=2 its receipt v2,
// proven up to the latest valid checkpoint of the evidence log. Every key
// under which no document is registered gets the same answer.
func (s *Server) code(w http.ResponseWriter, r *http.Request) {
	hexKey := strings.TrimPrefix(r.URL.Path, CodePrefix)
	if strings.Contains(hexKey, "/") {
		writeError(w, http.StatusNotFound, "unknown_path", "The receipt of a document by verification code is at /v1/code/<code_key>, its receipt v2 at /v1/code/<code_key>?version=2.")
		return
	}
	key, ok := parseCodeKey(hexKey)
	if !ok {
		writeError(w, http.StatusBadRequest, "bad_code_key", codeKeyHelp)
		return
	}
	texts := errorTexts{
		notFound:     "No document is registered under this code.",
		badRequest:   codeKeyHelp,
		notYetSigned: "This node holds no signed block at or after the document's registration yet; retry in a moment.",
	}
	q := r.URL.Query()
	switch v := q[CodeVersionParam]; {
	case len(v) == 0 || len(v) == 1 && v[0] == CodeVersionV1:
		s.prove(w, r, "code receipt", texts, func(ctx context.Context) ([]byte, caching, error) {
			rc, err := s.backend.CodeReceipt(ctx, key)
			if err != nil {
				return nil, caching{}, err
			}
			body, err := verify.EncodeReceipt(rc)
			return body, statusCaching(rc.GetStatus().GetCheckpoint()), err
		})
	case len(v) == 1 && v[0] == CodeVersionV2:
		s.prove(w, r, "code receipt v2", texts, func(ctx context.Context) ([]byte, caching, error) {
			rc, err := s.backend.ReceiptV2ByCode(ctx, key)
			if err != nil {
				return nil, caching{}, err
			}
			body, err := verify.EncodeReceipt(rc)
			return body, contentCaching(body), err
		})
	default:
		writeError(w, http.StatusBadRequest, "bad_version", "The receipt version is asked with ?version=1 (the default) or ?version=2, once.")
	}
}

// caching is how an answer may be cached: its ETag, its Cache-Control
// and, if known, the time of the state it proves.
type caching struct {
	etag     string
	control  string
	modified time.Time
}

// statusCaching is the caching of an answer proven at a status checkpoint:
// the status height as the ETag, the time of the header that signs it as
// Last-Modified.
func statusCaching(cp *notaryv1.Checkpoint) caching {
	c := caching{etag: `"` + strconv.FormatInt(cp.GetHeight(), 10) + `"`, control: "public, max-age=2"}
	if t, ok := headerTime(cp.GetHeader()); ok {
		c.modified = t
	}
	return c
}

// contentCaching is the caching of a receipt v2: its content's hash as the
// ETag (a newer checkpoint, or more cosignatures of the same one, change
// it), the Cache-Control of a checkpoint, no Last-Modified (a checkpoint
// carries no time).
func contentCaching(body []byte) caching {
	sum := sha256.Sum256(body)
	return caching{etag: `"` + hex.EncodeToString(sum[:12]) + `"`, control: cacheCheckpoint}
}

// errorTexts are a route's sentences for the backend's refusals.
type errorTexts struct {
	notFound, badRequest, notYetSigned string
}

// prove answers a route whose answer is a proof built from committed state
// (what answer builds: the canonical JSON body and its caching): it
// refuses while the node catches up or is busy, bounds the time the answer
// takes, and sets the caching headers (If-None-Match naming the ETag gives
// 304).
func (s *Server) prove(w http.ResponseWriter, r *http.Request, what string, texts errorTexts, answer func(context.Context) ([]byte, caching, error)) {
	h := w.Header()
	if s.backend.CatchingUp() {
		h.Set("Retry-After", "10")
		writeError(w, http.StatusServiceUnavailable, "catching_up", "This node is catching up with the chain; ask another node or retry later.")
		return
	}
	select {
	case s.inFlight <- struct{}{}:
		defer func() { <-s.inFlight }()
	default:
		h.Set("Retry-After", "1")
		writeError(w, http.StatusServiceUnavailable, "busy", "This node is answering too many requests; retry in a moment.")
		return
	}
	ctx, cancel := context.WithTimeout(r.Context(), StatusTimeout)
	defer cancel()
	body, c, err := answer(ctx)
	if err != nil {
		s.answerError(w, r, what, texts, err)
		return
	}
	h.Set("ETag", c.etag)
	h.Set("Cache-Control", c.control)
	if !c.modified.IsZero() {
		h.Set("Last-Modified", c.modified.UTC().Format(http.TimeFormat))
	}
	if etagMatch(r.Header.Get("If-None-Match"), c.etag) {
		w.WriteHeader(http.StatusNotModified)
		return
	}
	h.Set("Content-Type", "application/json")
	h.Set("Content-Length", strconv.Itoa(len(body)))
	w.WriteHeader(http.StatusOK)
	_, _ = w.Write(body)
}

// answerError answers a backend's error.
func (s *Server) answerError(w http.ResponseWriter, r *http.Request, what string, texts errorTexts, err error) {
	h := w.Header()
	switch {
	case errors.Is(err, ledger.ErrNotFound):
		writeError(w, http.StatusNotFound, "not_found", texts.notFound)
	case errors.Is(err, ledger.ErrInvalidField), errors.Is(err, ledger.ErrBadDigestLength):
		writeError(w, http.StatusBadRequest, "bad_request", texts.badRequest)
	case errors.As(err, new(*abci.EarliestStateError)):
		// A state this node never held (joined by state sync) or pruned:
		// no retry here succeeds.
		writeError(w, http.StatusGone, "state_not_held", "This node does not hold the state of the document's registration (it prunes old heights, or joined the chain later): ask for its receipt v2 (?version=2), or ask an archive node.")
	case errors.Is(err, ledger.ErrHeightUnavailable):
		h.Set("Retry-After", "1")
		writeError(w, http.StatusServiceUnavailable, "not_yet_signed", texts.notYetSigned)
	case errors.Is(err, receipt.ErrV2NotYet):
		h.Set("Retry-After", strconv.Itoa(RetryV2Seconds))
		writeError(w, http.StatusServiceUnavailable, "no_checkpoint_yet", "No checkpoint of the evidence log signed by the validators covers this document's batch yet, so its receipt v2 cannot be built yet; retry after the time in Retry-After, or ask for its receipt v1.")
	case errors.Is(err, receipt.ErrNoEvidenceLog):
		writeError(w, http.StatusNotImplemented, "no_evidence_log", "This node (or its chain) keeps no evidence log: it builds receipts v1 only; ask another node, or for the receipt v1.")
	case errors.Is(err, context.DeadlineExceeded), errors.Is(err, context.Canceled):
		h.Set("Retry-After", "1")
		if r.Context().Err() == nil {
			s.log.Error("public: "+what+" timed out", "err", err)
		}
		writeError(w, http.StatusServiceUnavailable, "timeout", "This node took too long to answer; retry or ask another node.")
	default:
		s.log.Error("public: "+what, "err", err)
		writeError(w, http.StatusInternalServerError, "internal", "The node could not build the answer.")
	}
}

// etagMatch reports whether an If-None-Match header names etag (weak
// comparison, as RFC 9110 asks for If-None-Match).
func etagMatch(header, etag string) bool {
	if header == "" {
		return false
	}
	for _, t := range strings.Split(header, ",") {
		t = strings.TrimPrefix(strings.TrimSpace(t), "W/")
		if t == "*" || t == etag {
			return true
		}
	}
	return false
}

// headerTime is the time of a checkpoint's header bytes.
func headerTime(b []byte) (time.Time, bool) {
	var h cmtproto.Header
	if err := h.Unmarshal(b); err != nil || h.Time.IsZero() {
		return time.Time{}, false
	}
	return h.Time, true
}

// errorBody is every error's body.
type errorBody struct {
	Error string `json:"error"`
	Code  string `json:"code"`
}

// writeError writes a JSON error; msg is one English sentence.
func writeError(w http.ResponseWriter, code int, short, msg string) {
	b, _ := json.Marshal(errorBody{Error: msg, Code: short})
	h := w.Header()
	h.Set("Content-Type", "application/json")
	h.Set("Cache-Control", "no-store")
	h.Set("Content-Length", strconv.Itoa(len(b)+1))
	w.WriteHeader(code)
	_, _ = w.Write(append(b, '\n'))
}

// serveWeb serves the web verifier's files.
func (s *Server) serveWeb(w http.ResponseWriter, r *http.Request) {
	name := strings.TrimPrefix(path.Clean(r.URL.Path), "/")
	if name == "" || strings.HasSuffix(r.URL.Path, "/") {
		name = path.Join(name, "index.html")
	}
	if !fs.ValidPath(name) {
		writeError(w, http.StatusNotFound, "unknown_path", "There is nothing at this path.")
		return
	}
	f, err := s.web.Open(name)
	if err != nil {
		writeError(w, http.StatusNotFound, "unknown_path", "There is nothing at this path.")
		return
	}
	defer func() { _ = f.Close() }()
	st, err := f.Stat()
	if err != nil || st.IsDir() {
		writeError(w, http.StatusNotFound, "unknown_path", "There is nothing at this path.")
		return
	}
	rs, ok := f.(io.ReadSeeker)
	if !ok {
		writeError(w, http.StatusInternalServerError, "internal", "The node could not read the page.")
		return
	}
	if etag, err := s.fileETag(name, rs); err == nil {
		w.Header().Set("ETag", etag)
	}
	w.Header().Set("Cache-Control", "public, max-age=300")
	http.ServeContent(w, r, name, st.ModTime(), rs)
}

// fileETag returns (once) the ETag of a web file: its SHA-256.
func (s *Server) fileETag(name string, rs io.ReadSeeker) (string, error) {
	if e, ok := s.etags.Load(name); ok {
		return e.(string), nil
	}
	sum := sha256.New()
	if _, err := io.Copy(sum, rs); err != nil {
		return "", err
	}
	if _, err := rs.Seek(0, io.SeekStart); err != nil {
		return "", err
	}
	e := `"` + hex.EncodeToString(sum.Sum(nil)[:16]) + `"`
	s.etags.Store(name, e)
	return e, nil
}
