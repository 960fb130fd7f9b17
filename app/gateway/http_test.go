package gateway_test

import (
	"bytes"
	"context"
	"encoding/hex"
	"encoding/json"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"sort"
	"strings"
	"testing"

	"github.com/getkin/kin-openapi/openapi2"
	"github.com/getkin/kin-openapi/openapi2conv"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/encoding/protojson"
	"google.golang.org/protobuf/proto"

	"github.com/gobtechlab/notary/app"
	"github.com/gobtechlab/notary/app/apptest"
	"github.com/gobtechlab/notary/app/gateway"
	"github.com/gobtechlab/notary/ledger"
	notaryv1 "github.com/gobtechlab/notary/proto/notary/v1"
	"github.com/gobtechlab/notary/proto/notary/v1/gatewayv1"
)

// openAPIFile is the committed OpenAPI document of the HTTP/JSON routes.
var openAPIFile = filepath.Join("..", "..", "proto", "notary", "v1", "gateway.swagger.json")

// openAPIRoutes returns the paths of the OpenAPI document, each with its
// operation id ("Gateway_Submit"), checking that every one is a POST.
func openAPIRoutes(t testing.TB) map[string]string {
	t.Helper()
	b, err := os.ReadFile(openAPIFile)
	if err != nil {
		t.Fatal(err)
	}
	var doc openapi2.T
	if err := json.Unmarshal(b, &doc); err != nil {
		t.Fatalf("%s: %v", openAPIFile, err)
	}
	routes := map[string]string{}
	for path, item := range doc.Paths {
		ops := item.Operations()
		if len(ops) != 1 || ops[http.MethodPost] == nil {
			t.Fatalf("%s: %s has operations %v, want POST alone", openAPIFile, path, ops)
		}
		routes[path] = ops[http.MethodPost].OperationID
	}
	return routes
}

// TestOpenAPIDocument validates the committed OpenAPI document (converted
// to OpenAPI 3 by kin-openapi, whose validator then checks it) and checks
// that it lists a route for every unary method of the service.
func TestOpenAPIDocument(t *testing.T) {
	b, err := os.ReadFile(openAPIFile)
	if err != nil {
		t.Fatal(err)
	}
	var v2 openapi2.T
	if err := json.Unmarshal(b, &v2); err != nil {
		t.Fatal(err)
	}
	v3, err := openapi2conv.ToV3(&v2)
	if err != nil {
		t.Fatalf("convert to OpenAPI 3: %v", err)
	}
	if err := v3.Validate(context.Background()); err != nil {
		t.Fatalf("the OpenAPI document does not validate: %v", err)
	}
	var listed []string
	for _, op := range openAPIRoutes(t) {
		listed = append(listed, strings.TrimPrefix(op, "Gateway_"))
	}
	var unary []string
	for _, md := range gatewayv1.Gateway_ServiceDesc.Methods {
		unary = append(unary, md.MethodName)
	}
	sort.Strings(listed)
	sort.Strings(unary)
	if !slices.Equal(listed, unary) {
		t.Fatalf("OpenAPI operations %v, unary methods %v", listed, unary)
	}
}

// httpAnswer is a decoded HTTP answer.
type httpAnswer struct {
	status int
	body   []byte
	err    *notaryv1.HttpError // when status is not 200 (else empty)
}

func post(t testing.TB, c *http.Client, url, contentType string, body io.Reader) httpAnswer {
	t.Helper()
	req, err := http.NewRequestWithContext(ctxT(t), http.MethodPost, url, body)
	if err != nil {
		t.Fatal(err)
	}
	if contentType != "" {
		req.Header.Set("Content-Type", contentType)
	}
	return do(t, c, req)
}

func do(t testing.TB, c *http.Client, req *http.Request) httpAnswer {
	t.Helper()
	resp, err := c.Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", req.Method, req.URL.Path, err)
	}
	defer func() { _ = resp.Body.Close() }()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	a := httpAnswer{status: resp.StatusCode, body: b, err: &notaryv1.HttpError{}}
	if resp.StatusCode != http.StatusOK {
		if ct := resp.Header.Get("Content-Type"); ct != "application/json" {
			t.Fatalf("%s %s: %d with Content-Type %q: %s", req.Method, req.URL.Path, resp.StatusCode, ct, b)
		}
		if err := protojson.Unmarshal(b, a.err); err != nil {
			t.Fatalf("%s %s: %d: the body is not an HttpError (%v): %s", req.Method, req.URL.Path, resp.StatusCode, err, b)
		}
		if a.err.Status != gateway.CodeName(codes.Code(a.err.Code)) {
			t.Fatalf("%s %s: status %q with code %d", req.Method, req.URL.Path, a.err.Status, a.err.Code)
		}
		if resp.StatusCode >= 500 || strings.Contains(string(b), "goroutine ") {
			t.Fatalf("%s %s: %d: %s", req.Method, req.URL.Path, resp.StatusCode, b)
		}
	}
	return a
}

func postJSON(t testing.TB, c *http.Client, url string, m proto.Message) httpAnswer {
	t.Helper()
	b, err := protojson.Marshal(m)
	if err != nil {
		t.Fatal(err)
	}
	return post(t, c, url, "application/json", bytes.NewReader(b))
}

func decodeJSON(t testing.TB, a httpAnswer, m proto.Message) {
	t.Helper()
	if a.status != http.StatusOK {
		t.Fatalf("got %d %s: %s", a.status, a.err.Status, a.err.Message)
	}
	if err := protojson.Unmarshal(a.body, m); err != nil {
		t.Fatalf("answer does not decode as %T: %v: %s", m, err, a.body)
	}
}

// TestHTTPRoutesServed calls every route the OpenAPI document lists, over
// HTTP/1.1 and HTTP/2, with an empty request: none is a missing route
// (404 for want of a route, 405), none fails inside (5xx), and every error
// answer names its gRPC code.
func TestHTTPRoutesServed(t *testing.T) {
	n := apptest.Start(t, apptest.Options{HTTP: true, GatewayOptions: gateway.Options{Receipts: gateway.Receipts}})
	for _, h2 := range []bool{false, true} {
		c := n.HTTPClient(t, n.Agency, h2)
		for path := range openAPIRoutes(t) {
			a := post(t, c, n.HTTPURL(path), "application/json", strings.NewReader("{}"))
			if a.status == http.StatusMethodNotAllowed || strings.HasPrefix(a.err.Message, "no route") {
				t.Errorf("POST %s (h2 %v): %d %s", path, h2, a.status, a.err.Message)
			}
		}
		for _, ct := range []string{"application/json", "text/plain"} {
			a := post(t, c, n.HTTPURL("/v1/no-such-route"), ct, strings.NewReader("{}"))
			if a.status != http.StatusNotFound || !strings.HasPrefix(a.err.Message, "no route") {
				t.Errorf("an unknown route (%s): %d %s", ct, a.status, a.err.Message)
			}
		}
	}
}

// TestHTTPAnchorLookupReceipt anchors digests over HTTP/JSON, one
// transaction and then a batch, looks them up and fetches a receipt, as an
// integrator without gRPC would; the answers equal the gRPC ones.
func TestHTTPAnchorLookupReceipt(t *testing.T) {
	n := apptest.Start(t, apptest.Options{HTTP: true, GatewayOptions: gateway.Options{Receipts: gateway.Receipts}})
	c := n.HTTPClient(t, n.Agency, false)
	ag := &signer{id: n.Identity(t, n.Agency)}
	ds := digestsOf("http", 4)

	var one notaryv1.SubmitResponse
	decodeJSON(t, postJSON(t, c, n.HTTPURL("/v1/submit"), &notaryv1.SubmitRequest{
		Tx: ag.sign(anchorBody(apptest.AgencyID, 0, ds[:2*32])), RequestId: "one"}), &one)
	if one.Height == 0 || one.GrpcCode != 0 || one.RequestId != "one" {
		t.Fatalf("submit: %v", &one)
	}

	batch := &notaryv1.SubmitBatchRequest{}
	for i := 2; i < 4; i++ {
		batch.Requests = append(batch.Requests, &notaryv1.SubmitRequest{
			Tx: ag.sign(anchorBody(apptest.AgencyID, 0, digestAt(ds, i))), RequestId: string(rune('a' + i))})
	}
	var many notaryv1.SubmitBatchResponse
	decodeJSON(t, postJSON(t, c, n.HTTPURL("/v1/submit-batch"), batch), &many)
	if len(many.Responses) != 2 {
		t.Fatalf("submit-batch: %d answers", len(many.Responses))
	}
	for i, r := range many.Responses {
		if r.GrpcCode != 0 || r.Height == 0 || r.RequestId != batch.Requests[i].RequestId {
			t.Fatalf("submit-batch answer %d: %v", i, r)
		}
	}

	public := n.HTTPClient(t, "", true)
	gw := n.Client(t, "")
	for i := 0; i < 4; i++ {
		var got notaryv1.LookupDigestResponse
		decodeJSON(t, postJSON(t, public, n.HTTPURL("/v1/lookup-digest"), &notaryv1.LookupDigestRequest{
			HashAlgorithm: sha2, Digest: digestAt(ds, i), Height: 0}), &got)
		want, err := gw.LookupDigest(ctxT(t), &notaryv1.LookupDigestRequest{HashAlgorithm: sha2, Digest: digestAt(ds, i), Height: got.Height})
		if err != nil {
			t.Fatal(err)
		}
		if !proto.Equal(&got, want) {
			t.Fatalf("lookup %d: HTTP %v, gRPC %v", i, &got, want)
		}
	}
	var rc notaryv1.Receipt
	decodeJSON(t, postJSON(t, public, n.HTTPURL("/v1/get-receipt"), &notaryv1.GetReceiptRequest{
		HashAlgorithm: sha2, Digest: digestAt(ds, 0)}), &rc)
	if rc.GetDocument().GetAnchoredDigest() == "" || rc.GetInclusion() == nil {
		t.Fatalf("get-receipt: not a receipt: %v", &rc)
	}
	// A v2 receipt (version in the same body) waits for a signed
	// checkpoint, which a test node without a signer never has; a version
	// past 2 is refused.
	for _, tc := range []struct {
		version uint32
		status  string
		text    string
	}{{2, "FAILED_PRECONDITION", "try again in a few blocks"}, {3, "INVALID_ARGUMENT", "version 3"}} {
		a := postJSON(t, public, n.HTTPURL("/v1/get-receipt"), &notaryv1.GetReceiptRequest{HashAlgorithm: sha2, Digest: digestAt(ds, 0), Version: tc.version})
		if a.err.Status != tc.status || !strings.Contains(a.err.Message, tc.text) {
			t.Fatalf("get-receipt version %d: %d %s %s", tc.version, a.status, a.err.Status, a.err.Message)
		}
	}

	// A duplicate is refused with the gRPC side's code and details.
	a := postJSON(t, c, n.HTTPURL("/v1/submit"), &notaryv1.SubmitRequest{Tx: ag.sign(anchorBody(apptest.AgencyID, 0, digestAt(ds, 0)))})
	if a.status != http.StatusConflict || a.err.Status != "ALREADY_EXISTS" || len(a.err.Details) == 0 {
		t.Fatalf("duplicate: %d %s %s (%d details)", a.status, a.err.Status, a.err.Message, len(a.err.Details))
	}
	ag.seq-- // the refused transaction used no sequence

	// A document under a verification code, found by its code key (base64
	// in JSON, as every bytes field).
	key := bytes.Repeat([]byte{0x5a}, ledger.CodeKeySize)
	d := digestsOf("http-coded", 1)
	coded := anchorBody(apptest.AgencyID, 0, d)
	coded.GetAnchorBatch().CodeKeys = key
	var sub notaryv1.SubmitResponse
	decodeJSON(t, postJSON(t, c, n.HTTPURL("/v1/submit"), &notaryv1.SubmitRequest{Tx: ag.sign(coded)}), &sub)
	if sub.GrpcCode != 0 || sub.Height == 0 {
		t.Fatalf("submit coded: %v", &sub)
	}
	var byCode notaryv1.Receipt
	decodeJSON(t, postJSON(t, public, n.HTTPURL("/v1/get-receipt"), &notaryv1.GetReceiptRequest{CodeKey: key}), &byCode)
	if byCode.GetDocument().GetCodeKey() != hex.EncodeToString(key) || byCode.GetDocument().GetAnchoredDigest() != hex.EncodeToString(d) {
		t.Fatalf("get-receipt by code: %v", byCode.GetDocument())
	}
	var look notaryv1.LookupDigestResponse
	decodeJSON(t, postJSON(t, public, n.HTTPURL("/v1/lookup-digest"), &notaryv1.LookupDigestRequest{CodeKey: key}), &look)
	if !bytes.Equal(look.Digest, d) || !bytes.Equal(look.CodeKey, key) {
		t.Fatalf("lookup-digest by code: %v", &look)
	}
}

// TestHTTPBadInput sends every route the gateway's bad input: each gets a
// clear status and code name, never a 5xx, never a stack.
func TestHTTPBadInput(t *testing.T) {
	n := apptest.Start(t, apptest.Options{HTTP: true, Gateway: func(g *app.GatewayConfig) {
		g.MaxRecvMsgBytes = 64 << 10
	}})
	c := n.HTTPClient(t, n.Agency, false)
	big := `{"requestId":"` + strings.Repeat("x", 200<<10) + `"}`
	cases := []struct {
		name        string
		method      string
		contentType string
		body        func() io.Reader
		chunked     bool
		status      int
		code        string
	}{
		{"wrong content type", http.MethodPost, "text/plain", func() io.Reader { return strings.NewReader("{}") }, false, http.StatusUnsupportedMediaType, "INVALID_ARGUMENT"},
		{"no content type", http.MethodPost, "", func() io.Reader { return strings.NewReader("{}") }, false, http.StatusUnsupportedMediaType, "INVALID_ARGUMENT"},
		{"invalid JSON", http.MethodPost, "application/json", func() io.Reader { return strings.NewReader(`{"tx":`) }, false, http.StatusBadRequest, "INVALID_ARGUMENT"},
		{"not an object", http.MethodPost, "application/json", func() io.Reader { return strings.NewReader(`[1,2]`) }, false, http.StatusBadRequest, "INVALID_ARGUMENT"},
		{"unknown field", http.MethodPost, "application/json; charset=utf-8", func() io.Reader { return strings.NewReader(`{"noSuchField":1}`) }, false, http.StatusBadRequest, "INVALID_ARGUMENT"},
		{"oversize body", http.MethodPost, "application/json", func() io.Reader { return strings.NewReader(big) }, false, http.StatusRequestEntityTooLarge, "RESOURCE_EXHAUSTED"},
		{"oversize body, chunked", http.MethodPost, "application/json", func() io.Reader { return io.MultiReader(strings.NewReader(big)) }, true, http.StatusRequestEntityTooLarge, "RESOURCE_EXHAUSTED"},
		{"GET", http.MethodGet, "", func() io.Reader { return nil }, false, http.StatusMethodNotAllowed, "UNIMPLEMENTED"},
	}
	for path := range openAPIRoutes(t) {
		for _, tc := range cases {
			req, err := http.NewRequestWithContext(ctxT(t), tc.method, n.HTTPURL(path), tc.body())
			if err != nil {
				t.Fatal(err)
			}
			if tc.contentType != "" {
				req.Header.Set("Content-Type", tc.contentType)
			}
			if tc.chunked {
				req.ContentLength = -1
			}
			a := do(t, c, req)
			if a.status != tc.status || a.err.Status != tc.code {
				t.Errorf("%s %s: got %d %s (%s), want %d %s", path, tc.name, a.status, a.err.Status, a.err.Message, tc.status, tc.code)
			}
		}
	}
	if n.HasPanic() {
		t.Fatal("the node's log mentions a panic")
	}
}

// TestHTTPAuthorisation: the HTTP routes answer authorisation as the gRPC
// side does, with the same code: no client certificate, another agency's
// certificate, another agency's consent.
func TestHTTPAuthorisation(t *testing.T) {
	n := apptest.Start(t, apptest.Options{HTTP: true, Agencies: []app.AgencySpec{{ID: "other-agency", Name: "Otra Agencia", Permissions: apptest.AllPermissions}}})
	other := n.Network.Agencies["other-agency"]
	ag := &signer{id: n.Identity(t, n.Agency)}
	raw := ag.sign(anchorBody(apptest.AgencyID, 0, digestsOf("auth", 1)))
	cases := []struct {
		name string
		dir  string
		path string
		req  proto.Message
		call func(gatewayv1.GatewayClient) error
		want codes.Code
	}{
		{"anchor without a client certificate", "", "/v1/submit", &notaryv1.SubmitRequest{Tx: raw}, func(g gatewayv1.GatewayClient) error {
			_, err := g.Submit(ctxT(t), &notaryv1.SubmitRequest{Tx: raw})
			return err
		}, codes.PermissionDenied},
		{"anchor with another agency's certificate", other, "/v1/submit", &notaryv1.SubmitRequest{Tx: raw}, func(g gatewayv1.GatewayClient) error {
			_, err := g.Submit(ctxT(t), &notaryv1.SubmitRequest{Tx: raw})
			return err
		}, codes.PermissionDenied},
		{"another agency's consent", other, "/v1/get-consent", &notaryv1.GetConsentRequest{ConsentId: "c-0000000000000000"}, func(g gatewayv1.GatewayClient) error {
			_, err := g.GetConsent(ctxT(t), &notaryv1.GetConsentRequest{ConsentId: "c-0000000000000000"})
			return err
		}, codes.Unknown},
		{"a citizen's history without its signature", n.Agency, "/v1/get-access-history", &notaryv1.GetAccessHistoryRequest{Subject: bytes.Repeat([]byte{1}, 32)}, func(g gatewayv1.GatewayClient) error {
			_, err := g.GetAccessHistory(ctxT(t), &notaryv1.GetAccessHistoryRequest{Subject: bytes.Repeat([]byte{1}, 32)})
			return err
		}, codes.Unknown},
	}
	for _, tc := range cases {
		grpcCode := status.Code(tc.call(n.Client(t, tc.dir)))
		if grpcCode == codes.OK || (tc.want != codes.Unknown && grpcCode != tc.want) {
			t.Fatalf("%s: gRPC answers %v", tc.name, grpcCode)
		}
		a := postJSON(t, n.HTTPClient(t, tc.dir, false), n.HTTPURL(tc.path), tc.req)
		if a.err.Status != gateway.CodeName(grpcCode) || a.status != gateway.HTTPStatus(grpcCode) {
			t.Errorf("%s: HTTP %d %s (%s), gRPC %v", tc.name, a.status, a.err.Status, a.err.Message, grpcCode)
		}
	}
}

// TestHTTPRateLimited: HTTP requests take tokens of the caller's bucket,
// shared with its gRPC requests, and the refusal is 429 RESOURCE_EXHAUSTED.
func TestHTTPRateLimited(t *testing.T) {
	n := apptest.Start(t, apptest.Options{HTTP: true, Gateway: func(g *app.GatewayConfig) {
		g.RatePerSecond, g.RateBurst = 0.01, 3
	}})
	c := n.HTTPClient(t, n.Agency, true)
	var got []int
	for i := 0; i < 5; i++ {
		got = append(got, post(t, c, n.HTTPURL("/v1/get-status"), "application/json", strings.NewReader(`{`)).status)
	}
	if got[0] != http.StatusBadRequest || got[4] != http.StatusTooManyRequests {
		t.Fatalf("statuses %v: want 400 (malformed, counted) first and 429 once the burst is spent", got)
	}
}

// TestHTTPRulesFollowMethods: every route of the rules file is
// gateway.RoutePath of its method, as docs/integration.md says.
func TestHTTPRulesFollowMethods(t *testing.T) {
	b, err := os.ReadFile(filepath.Join("..", "..", "proto", "notary", "v1", "gateway_http.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	re := regexp.MustCompile(`selector: notary\.v1\.Gateway\.(\w+)\n\s+post: (\S+)`)
	found := 0
	for _, m := range re.FindAllStringSubmatch(string(b), -1) {
		found++
		if want := gateway.RoutePath(m[1]); m[2] != want {
			t.Errorf("%s: route %s, want %s", m[1], m[2], want)
		}
	}
	if found != len(gatewayv1.Gateway_ServiceDesc.Methods) {
		t.Errorf("%d routes for %d unary methods", found, len(gatewayv1.Gateway_ServiceDesc.Methods))
	}
}
