package public_test

import (
	"bytes"
	"context"
	"encoding/hex"
	"net/http"
	"path/filepath"
	"strconv"
	"testing"
	"time"

	"github.com/gobtechlab/notary/cmd/verifier/verify/vcode/vcodetest"

	"github.com/prometheus/client_golang/prometheus"
	"google.golang.org/protobuf/encoding/protojson"
	"google.golang.org/protobuf/proto"

	"github.com/gobtechlab/notary/app"
	"github.com/gobtechlab/notary/app/apptest"
	"github.com/gobtechlab/notary/app/gateway"
	"github.com/gobtechlab/notary/app/public"
	"github.com/gobtechlab/notary/cmd/verifier/verify"
	"github.com/gobtechlab/notary/ledger"
	notaryv1 "github.com/gobtechlab/notary/proto/notary/v1"
	"github.com/gobtechlab/notary/proto/notary/v1/gatewayv1"
)

// devNode is a real node with the gateway (receipts on) and the public
// endpoint, and its agency's signer.
type devNode struct {
	*apptest.Node
	gw   gatewayv1.GatewayClient
	sign func(*notaryv1.TxBody) []byte
	seq  uint64
}

func startNode(t testing.TB, opts apptest.Options) *devNode {
	t.Helper()
	opts.GatewayOptions = gateway.Options{Receipts: gateway.Receipts}
	n := apptest.Start(t, opts)
	agency := n.Identity(t, n.Agency)
	return &devNode{Node: n, gw: n.Client(t, n.Agency), sign: agency.SignTx}
}

// submit submits a transaction body of the agency and returns its height.
func (n *devNode) submit(t testing.TB, body *notaryv1.TxBody) int64 {
	t.Helper()
	body.Sequence = n.seq
	n.seq++
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	resp, err := n.gw.Submit(ctx, &notaryv1.SubmitRequest{Tx: n.sign(body)})
	if err != nil || resp.Code != 0 {
		t.Fatalf("submit: %v %v", resp, err)
	}
	return resp.Height
}

func (n *devNode) anchor(t testing.TB, digests ...[]byte) int64 {
	t.Helper()
	return n.submit(t, &notaryv1.TxBody{Msg: &notaryv1.TxBody_AnchorBatch{AnchorBatch: &notaryv1.AnchorBatch{
		AgencyId: apptest.AgencyID, HashAlgorithm: sha2, Digests: bytes.Join(digests, nil),
	}}})
}

func (n *devNode) revoke(t testing.TB, d []byte) int64 {
	t.Helper()
	return n.submit(t, &notaryv1.TxBody{Msg: &notaryv1.TxBody_Revoke{Revoke: &notaryv1.Revoke{
		HashAlgorithm: sha2, Digests: d, Reason: notaryv1.RevocationReason_REVOCATION_REASON_FRAUD, ReasonText: "fraude",
	}}})
}

func (n *devNode) statusURL(d []byte) string {
	return n.PublicURL + "/v1/status/sha2-256/" + hex.EncodeToString(d)
}

// liveOf decodes a status answer.
func liveOf(t testing.TB, r response) *notaryv1.LiveStatus {
	t.Helper()
	if r.code != 200 {
		t.Fatalf("status: %d %s", r.code, r.body)
	}
	live := &notaryv1.LiveStatus{}
	if err := protojson.Unmarshal([]byte(r.body), live); err != nil {
		t.Fatal(err)
	}
	return live
}

// verdictWithLive verifies a receipt whose status part is replaced by a
// live status, as a verifier checks one.
func verdictWithLive(t testing.TB, r *notaryv1.Receipt, live *notaryv1.LiveStatus, trust *notaryv1.TrustBundle) verify.Verdict {
	t.Helper()
	r = proto.CloneOf(r)
	r.Status, r.ValidatorChain = live.Status, live.ValidatorChain
	res, err := verify.VerifyReceipt(r, trust, nil)
	if err != nil {
		t.Fatal(err)
	}
	return res.Verdict
}

// TestNodeLiveStatus: on a real node over HTTP, the live status of an
// anchored digest verifies with the node's trust bundle as the status part
// of its receipt; after a revocation (and the block that signs it) an old
// receipt with the live status is revoked. The requests are counted in the
// node's metrics. The same holds on a chain that makes no empty blocks,
// which stays at the block that signs the revocation.
func TestNodeLiveStatus(t *testing.T) {
	if testing.Short() {
		t.Skip("starts a node")
	}
	for _, tc := range []struct {
		name    string
		noEmpty bool
	}{
		{"empty blocks", false},
		{"no empty blocks", true},
	} {
		t.Run(tc.name, func(t *testing.T) { nodeLiveStatus(t, tc.noEmpty) })
	}
}

func nodeLiveStatus(t *testing.T, noEmpty bool) {
	n := startNode(t, apptest.Options{NoEmptyBlocks: noEmpty, Public: func(c *app.PublicConfig) { c.CORSOrigins = []string{"https://sede.example.gob.es"} }})
	trustBytes, err := readFile(filepath.Join(n.Home, app.TrustFile))
	if err != nil {
		t.Fatal(err)
	}
	trust, err := verify.DecodeTrustBundle(trustBytes)
	if err != nil {
		t.Fatal(err)
	}
	if len(trust.PublicEndpoints) != 1 || trust.PublicEndpoints[0] != n.PublicURL {
		t.Fatalf("trust bundle endpoints %q, node at %s", trust.PublicEndpoints, n.PublicURL)
	}
	d := ledger.HashDocument(sha2, []byte("certificado de antecedentes penales\n"))
	h := n.anchor(t, d)
	ctx := context.Background()
	rr, err := n.Client(t, "").GetReceipt(ctx, &notaryv1.GetReceiptRequest{HashAlgorithm: sha2, Digest: d})
	if err != nil {
		t.Fatal(err)
	}
	old := rr.Receipt
	live := liveOf(t, get(t, "GET", n.statusURL(d), "Origin: https://sede.example.gob.es"))
	if live.AnchorHeight != h || live.ChainId != apptest.ChainID || live.Status.Checkpoint.Height < h {
		t.Fatalf("live status %v", live)
	}
	if v := verdictWithLive(t, old, live, trust); v != verify.Valid {
		t.Fatalf("live status: %s", v)
	}
	r := n.revoke(t, d)
	n.WaitHeight(t, r+1)
	deadline := time.Now().Add(10 * time.Second)
	for live.Status.Checkpoint.Height < r {
		if time.Now().After(deadline) {
			t.Fatalf("live status still at %d, revoked at %d", live.Status.Checkpoint.Height, r)
		}
		time.Sleep(20 * time.Millisecond)
		live = liveOf(t, get(t, "GET", n.statusURL(d)))
	}
	if v := verdictWithLive(t, old, live, trust); v != verify.Revoked {
		t.Fatalf("old receipt with the live status after the revocation: %s", v)
	}
	if noEmpty {
		time.Sleep(2 * time.Second)
		if h := n.Height(); h != r+1 {
			t.Fatalf("idle chain at height %d, want %d (the block that signs the revocation)", h, r+1)
		}
		live = liveOf(t, get(t, "GET", n.statusURL(d)))
		if live.Status.Checkpoint.Height != r || verdictWithLive(t, old, live, trust) != verify.Revoked {
			t.Fatalf("live status of an idle chain: checkpoint %d, revoked at %d", live.Status.Checkpoint.Height, r)
		}
	}
	checkError(t, "unknown digest", get(t, "GET", n.statusURL(ledger.HashDocument(sha2, []byte("nunca")))), 404, "not_found")

	if c := counted("status", "200"); c < 2 {
		t.Errorf("notary_public_requests_total{route=status,code=200} = %v", c)
	}
	if c := counted("status", "404"); c < 1 {
		t.Errorf("notary_public_requests_total{route=status,code=404} = %v", c)
	}
}

// counted reads notary_public_requests_total for a route and code.
func counted(route, code string) float64 {
	mfs, err := prometheus.DefaultGatherer.Gather()
	if err != nil {
		return -1
	}
	for _, mf := range mfs {
		if mf.GetName() != "notary_public_requests_total" {
			continue
		}
		for _, m := range mf.GetMetric() {
			labels := map[string]string{}
			for _, l := range m.GetLabel() {
				labels[l.GetName()] = l.GetValue()
			}
			if labels["route"] == route && labels["code"] == code {
				return m.GetCounter().GetValue()
			}
		}
	}
	return 0
}

// TestNodeWithoutPublic: a node whose configuration has no public listen
// address runs without the endpoint.
func TestNodeWithoutPublic(t *testing.T) {
	if testing.Short() {
		t.Skip("starts a node")
	}
	n := startNode(t, apptest.Options{NoPublic: true})
	if n.Public != nil || n.PublicURL != "" {
		t.Fatalf("public endpoint at %q", n.PublicURL)
	}
}

// TestNodeCodeReceipt: on a real node over HTTP, the receipt of a document
// anchored under a verification code, asked by the code's key, verifies
// with the node's trust bundle and the document (salt from the code); after
// a revocation it says revoked. The requests are counted in the node's
// metrics under route "code".
func TestNodeCodeReceipt(t *testing.T) {
	if testing.Short() {
		t.Skip("starts a node")
	}
	n := startNode(t, apptest.Options{})
	trustBytes, err := readFile(filepath.Join(n.Home, app.TrustFile))
	if err != nil {
		t.Fatal(err)
	}
	trust, err := verify.DecodeTrustBundle(trustBytes)
	if err != nil {
		t.Fatal(err)
	}
	salt, key := vcodetest.Secrets("7KQ4MXW9TR2HDNPC8VE6")
	doc := []byte("certificado de empadronamiento, con código\n")
	d := ledger.HashDocument(sha2, doc)
	anchored := ledger.SaltedDigest(sha2, salt, d)
	h := n.submit(t, &notaryv1.TxBody{Msg: &notaryv1.TxBody_AnchorBatch{AnchorBatch: &notaryv1.AnchorBatch{
		AgencyId: apptest.AgencyID, HashAlgorithm: sha2, Digests: anchored, CodeKeys: key,
	}}})
	url := n.PublicURL + public.CodePrefix + hex.EncodeToString(key)
	// fetch waits for an answer at or above a status height.
	fetch := func(min int64) *notaryv1.Receipt {
		t.Helper()
		deadline := time.Now().Add(10 * time.Second)
		for {
			r := get(t, "GET", url)
			if r.code == 200 {
				rc, err := verify.DecodeReceipt([]byte(r.body))
				if err != nil {
					t.Fatal(err)
				}
				if rc.Status.Checkpoint.Height >= min {
					return rc
				}
			} else if r.code != http.StatusServiceUnavailable {
				t.Fatalf("code receipt: %d %s", r.code, r.body)
			}
			if time.Now().After(deadline) {
				t.Fatalf("no code receipt at height %d: %d %s", min, r.code, r.body)
			}
			time.Sleep(20 * time.Millisecond)
		}
	}
	verdict := func(rc *notaryv1.Receipt) verify.Verdict {
		t.Helper()
		rc.Document.Salt, rc.Document.DocumentDigest = hex.EncodeToString(salt), hex.EncodeToString(d)
		res, err := verify.VerifyReceipt(rc, trust, bytes.NewReader(doc))
		if err != nil {
			t.Fatal(err)
		}
		if res.Verdict != verify.NotValid && res.Proven.Issuer.ID != apptest.AgencyID {
			t.Fatalf("issuer %+v", res.Proven.Issuer)
		}
		return res.Verdict
	}
	rc := fetch(h)
	if rc.Anchor.Height != h || rc.Document.CodeKey != hex.EncodeToString(key) || rc.Document.AnchoredDigest != hex.EncodeToString(anchored) {
		t.Fatalf("code receipt: anchor %d, binding %v", rc.Anchor.Height, rc.Document)
	}
	if v := verdict(rc); v != verify.Valid {
		t.Fatalf("code receipt: %s", v)
	}
	// Its receipt v2 waits for a checkpoint the validators signed: this
	// node runs no checkpoint signer.
	v2 := get(t, "GET", url+"?version=2")
	checkError(t, "receipt v2 without a signed checkpoint", v2, http.StatusServiceUnavailable, "no_checkpoint_yet")
	if v2.header.Get("Retry-After") != strconv.Itoa(public.RetryV2Seconds) {
		t.Errorf("receipt v2 without a signed checkpoint: Retry-After %q", v2.header.Get("Retry-After"))
	}
	// A coded document is revoked by its key.
	r := n.submit(t, &notaryv1.TxBody{Msg: &notaryv1.TxBody_Revoke{Revoke: &notaryv1.Revoke{
		HashAlgorithm: sha2, CodeKeys: key, Reason: notaryv1.RevocationReason_REVOCATION_REASON_FRAUD, ReasonText: "fraude",
	}}})
	if v := verdict(fetch(r)); v != verify.Revoked {
		t.Fatalf("code receipt after the revocation: %s", v)
	}
	// Its live status is asked by key, and says revoked.
	live := get(t, "GET", n.PublicURL+verify.CodeStatusPath(hex.EncodeToString(key)))
	if live.code != 200 {
		t.Fatalf("live status by code: %d %s", live.code, live.body)
	}
	if lc, err := verify.CheckLiveStatus(trust, rc, liveOf(t, live)); err != nil || !lc.Revoked {
		t.Fatalf("live status by code: %v %+v", err, lc)
	}
	checkError(t, "unknown code", get(t, "GET", n.PublicURL+public.CodePrefix+hex.EncodeToString(testCodeKey("NUNCA"))), 404, "not_found")
	if c := counted("code", "200"); c < 2 {
		t.Errorf("notary_public_requests_total{route=code,code=200} = %v", c)
	}
	if c := counted("code", "503"); c < 1 {
		t.Errorf("notary_public_requests_total{route=code,code=503} = %v", c)
	}
	if c := counted("code", "404"); c < 1 {
		t.Errorf("notary_public_requests_total{route=code,code=404} = %v", c)
	}
}
