package main

import (
	"bytes"
	"encoding/hex"
	"encoding/json"
	"io"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"google.golang.org/protobuf/types/known/timestamppb"

	"github.com/gobtechlab/notary/app"
	"github.com/gobtechlab/notary/app/apptest"
	"github.com/gobtechlab/notary/app/identity"
	"github.com/gobtechlab/notary/cmd/internal/cli"
	"github.com/gobtechlab/notary/ledger"
	notaryv1 "github.com/gobtechlab/notary/proto/notary/v1"
)

var (
	hash64RE   = regexp.MustCompile(`[0-9a-f]{64}`)
	hash32RE   = regexp.MustCompile(`[0-9a-f]{32}`)
	tableTime  = regexp.MustCompile(`\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2} UTC`)
	jsonTime   = regexp.MustCompile(`"\d{4}-\d{2}-\d{2}T[0-9:.]+Z"`)
	stateRE    = regexp.MustCompile(`\((state|estado) \d+\)`)
	jsonNumRE  = regexp.MustCompile(`"(height)": \d+`)
	loopbackRE = regexp.MustCompile(`127\.0\.0\.1:\d+`)
)

// normalizeAccesses replaces what differs between runs on a live chain:
// times, heights, hashes, ids and the node's port (widths are kept where
// a table aligns on them).
func normalizeAccesses(s string) string {
	s = hash64RE.ReplaceAllString(s, "<hash>")
	s = hash32RE.ReplaceAllString(s, "<consent-id>")
	s = tableTime.ReplaceAllString(s, "YYYY-MM-DD hh:mm:ss UTC")
	s = jsonTime.ReplaceAllString(s, `"<time>"`)
	s = stateRE.ReplaceAllString(s, "($1 N)")
	s = jsonNumRE.ReplaceAllString(s, `"$1": N`)
	return loopbackRE.ReplaceAllString(s, "<node>")
}

// testMandate is a law that lets aeat obtain employment data from sepe to
// check eligibility.
func testMandate() *notaryv1.Mandate {
	return &notaryv1.Mandate{
		Id:                 "ley-40-2015-art-155",
		LegalReference:     "Ley 40/2015, art. 155 (BOE-A-2015-10566)",
		RequestingAgencies: []string{"aeat"},
		ProvidingAgencies:  []string{"sepe"},
		Categories:         []string{"employment"},
		Purposes:           []string{"eligibility-check"},
		ValidFrom:          timestamppb.New(time.Date(2015, 10, 2, 0, 0, 0, 0, time.UTC)),
		ValidUntil:         timestamppb.New(time.Date(2099, 1, 1, 0, 0, 0, 0, time.UTC)),
	}
}

var exchangePerms = []notaryv1.Permission{notaryv1.Permission_PERMISSION_EXCHANGE}

// enrollPerms let an agency record exchanges and enrol citizens.
var enrollPerms = []notaryv1.Permission{notaryv1.Permission_PERMISSION_EXCHANGE, notaryv1.Permission_PERMISSION_ENROLL}

// TestCitizenCommands runs the citizen's commands against a real node: a new
// identity enrolled by an agency, a consent granted, an exchange recorded by
// an agency under it (confirmed by the provider) and one under a law
// registered by governance (declared by the requester alone), the access
// history fetched and
// verified (golden tables in es and en, and JSON), the consent listed and
// withdrawn; then the defaults of the dev chain and the exit codes of usage
// errors, refusals and an unreachable node.
func TestCitizenCommands(t *testing.T) {
	if testing.Short() {
		t.Skip("starts a node")
	}
	c := startChain(t, 50*time.Millisecond,
		app.AgencySpec{ID: "aeat", Name: "Agencia Estatal de Administración Tributaria", Permissions: enrollPerms},
		app.AgencySpec{ID: "sepe", Name: "Servicio Público de Empleo Estatal", Permissions: exchangePerms})
	ctx := testCtx(t)
	env := rootEnv{locale: []string{"en_US.UTF-8"}, location: time.UTC, home: t.TempDir()}
	dir := filepath.Join(t.TempDir(), "ana")

	// keygen.
	out, code := run(t, env, "citizen", "keygen", "--out", dir, "--chain-id", testChainID, "--node", c.addr, "--ca", c.ca, "--output", "json")
	if code != cli.ExitOK {
		t.Fatalf("keygen: exit %d\n%s", code, out)
	}
	var kg keygenResult
	if err := json.Unmarshal([]byte(out), &kg); err != nil {
		t.Fatal(err)
	}
	ana := c.identity(dir)
	if kg.Subject != hex.EncodeToString(ledger.SubjectID(ana.Public())) || ana.Role != identity.RoleCitizen || !kg.CA {
		t.Fatalf("keygen: %+v, identity %+v", kg, ana)
	}
	if out, code := run(t, env, "citizen", "keygen", "--out", dir, "--chain-id", testChainID); code != cli.ExitUsage {
		t.Fatalf("keygen over an identity: exit %d\n%s", code, out)
	}
	if out, code := run(t, env, "citizen", "keygen", "--out", filepath.Join(t.TempDir(), "x"), "--lang", "es"); code != cli.ExitOK || !strings.Contains(out, "Nueva identidad") {
		t.Fatalf("keygen in Spanish: exit %d\n%s", code, out)
	}

	// Until an agency enrols the key, the chain refuses its consents.
	grant := []string{"consent", "grant", "--identity", dir, "--agency", "aeat", "--category", "tax", "--purpose", "eligibility-check",
		"--from", "2025-01-01", "--until", "2099-12-31"}
	root := newRootCmd(env)
	var stderr bytes.Buffer
	root.SetOut(io.Discard)
	root.SetArgs(grant)
	if code := cli.ExecuteTo(root, &stderr); code != cli.ExitFailure || !strings.Contains(stderr.String(), "not enrolled") ||
		!strings.Contains(stderr.String(), ana.PublicKey) {
		t.Fatalf("grant before enrolment: exit %d\n%s", code, stderr.String())
	}
	c.enroll(ctx, c.net.Agencies["aeat"], ana.Public())

	// grant.
	out, code = run(t, env, append(grant, "--output", "json")...)
	if code != cli.ExitOK {
		t.Fatalf("grant: exit %d\n%s", code, out)
	}
	var g grantResult
	if err := json.Unmarshal([]byte(out), &g); err != nil || len(g.ConsentID) != ledger.ConsentIDLen {
		t.Fatalf("grant: %v\n%s", err, out)
	}
	if !g.ValidUntil.Equal(time.Date(2100, 1, 1, 0, 0, 0, 0, time.UTC)) {
		t.Errorf("--until 2099-12-31 ends at %s, want the end of that day", g.ValidUntil)
	}
	for name, args := range map[string][]string{
		"unknown category": {"consent", "grant", "--identity", dir, "--agency", "aeat", "--category", "horoscope", "--purpose", "statistics", "--until", "2099-01-01"},
		"unknown agency":   {"consent", "grant", "--identity", dir, "--agency", "nadie", "--category", "tax", "--purpose", "statistics", "--until", "2099-01-01"},
	} {
		if out, code := run(t, env, args...); code != cli.ExitFailure {
			t.Errorf("grant with %s: exit %d\n%s", name, code, out)
		}
	}

	// The agency records two exchanges: under the consent, confirmed by
	// the provider, and under a law, declared by the requester alone.
	c.registerMandate(ctx, testMandate())
	aeatDir := c.net.Agencies["aeat"]
	ref := ledger.SaltedDigest(notaryv1.HashAlgorithm_HASH_ALGORITHM_SHA2_256, bytes.Repeat([]byte{7}, 32), []byte("expediente 2025/118"))
	rs, err := c.streamExchanges(ctx, aeatDir, []*notaryv1.TxBody{
		c.confirmedBy(c.net.Agencies["sepe"], exchange("aeat", "sepe", ana.Subject(), "tax", "eligibility-check", g.ConsentID, "", ref)),
		exchange("aeat", "sepe", ana.Subject(), "employment", "eligibility-check", "", testMandate().Id, nil),
	})
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range rs {
		if r.Code != 0 {
			t.Fatalf("exchange refused: %v", r)
		}
	}
	c.waitHeight(rs[1].Height + 2)

	// accesses: golden tables and JSON.
	acc := []string{"accesses", "--identity", dir, "--trust", c.trust, "--tz", "UTC"}
	for _, lang := range []string{"en", "es"} {
		out, code := run(t, env, append(acc, "--lang", lang)...)
		if code != cli.ExitOK {
			t.Fatalf("accesses --lang %s: exit %d\n%s", lang, code, out)
		}
		golden(t, filepath.Join("testdata", "accesses."+lang+".golden"), normalizeAccesses(out))
	}
	out, code = run(t, env, append(acc, "--output", "json")...)
	if code != cli.ExitOK {
		t.Fatalf("accesses json: exit %d\n%s", code, out)
	}
	var h struct {
		Verified bool
		Count    uint64
		Entries  []struct {
			ConsentID         string `json:"consent_id"`
			LegalReference    string `json:"legal_reference"`
			RequesterName     string `json:"requester_name"`
			Reference         string `json:"reference"`
			ProviderConfirmed *bool  `json:"provider_confirmed"`
		}
	}
	if err := json.Unmarshal([]byte(out), &h); err != nil || !h.Verified || h.Count != 2 || h.Entries[0].ConsentID != g.ConsentID ||
		h.Entries[0].ProviderConfirmed == nil || !*h.Entries[0].ProviderConfirmed || h.Entries[1].ProviderConfirmed == nil || *h.Entries[1].ProviderConfirmed ||
		h.Entries[1].LegalReference != testMandate().LegalReference || h.Entries[0].RequesterName != "Agencia Estatal de Administración Tributaria" ||
		h.Entries[0].Reference != hex.EncodeToString(ref) {
		t.Fatalf("accesses json: %v %+v\n%s", err, h, out)
	}
	golden(t, filepath.Join("testdata", "accesses.json.golden"), normalizeAccesses(out))

	// list, withdraw, list; the withdrawn consent covers nothing more.
	out, code = run(t, env, "consent", "list", "--identity", dir, "--tz", "UTC")
	if code != cli.ExitOK || !strings.Contains(out, g.ConsentID) || !strings.Contains(out, "given") {
		t.Fatalf("list: exit %d\n%s", code, out)
	}
	out, code = run(t, env, "consent", "withdraw", g.ConsentID, "--identity", dir, "--lang", "es")
	if code != cli.ExitOK || !strings.Contains(out, "retirado") {
		t.Fatalf("withdraw: exit %d\n%s", code, out)
	}
	out, code = run(t, env, "consent", "list", "--identity", dir, "--output", "json")
	var cl consentList
	if err := json.Unmarshal([]byte(out), &cl); code != cli.ExitOK || err != nil || len(cl.Consents) != 1 || cl.Consents[0].Status != "withdrawn" {
		t.Fatalf("list after withdrawal: exit %d %v\n%s", code, err, out)
	}
	if out, code := run(t, env, "consent", "withdraw", g.ConsentID, "--identity", dir); code != cli.ExitFailure {
		t.Fatalf("second withdrawal: exit %d\n%s", code, out)
	}
	rs, err = c.streamExchanges(ctx, aeatDir, []*notaryv1.TxBody{exchange("aeat", "sepe", ana.Subject(), "tax", "eligibility-check", g.ConsentID, "", nil)})
	if err != nil || rs[0].Code == 0 {
		t.Fatalf("exchange under a withdrawn consent: %v %v", rs, err)
	}

	// The dev chain's defaults: identity ~/.notary-dev/identities/dev-citizen
	// (whose node address is the gateway's) and ~/.notary-dev/trust.json.
	devHomeDir := filepath.Join(env.home, devHome)
	copyFile(t, c.trust, filepath.Join(devHomeDir, "trust.json"))
	for _, f := range []string{identity.File, identity.CAPEM} {
		copyFile(t, filepath.Join(c.citizen, f), filepath.Join(devHomeDir, "identities", devCitizen, f))
	}
	out, code = run(t, env, "accesses")
	if code != cli.ExitOK || !strings.Contains(out, "VERIFIED") || !strings.Contains(out, "0 exchanges") {
		t.Fatalf("accesses with the defaults: exit %d\n%s", code, out)
	}

	// Exit codes.
	closed := apptest.FreePorts(t, 1)[0]
	cases := []struct {
		name string
		args []string
		want int
	}{
		{"no identity", []string{"accesses", "--identity", filepath.Join(t.TempDir(), "none"), "--trust", c.trust}, cli.ExitUsage},
		{"agency identity", []string{"consent", "list", "--identity", aeatDir}, cli.ExitUsage},
		{"page size 0", append(acc, "--page-size", "0"), cli.ExitUsage},
		{"negative height", append(acc, "--height", "-1"), cli.ExitUsage},
		{"missing trust", []string{"accesses", "--identity", dir, "--trust", filepath.Join(t.TempDir(), "none")}, cli.ExitUsage},
		{"bad consent id", []string{"consent", "withdraw", "xyz", "--identity", dir}, cli.ExitUsage},
		{"no until", []string{"consent", "grant", "--identity", dir, "--agency", "aeat", "--category", "tax", "--purpose", "statistics"}, cli.ExitUsage},
		{"bad date", []string{"consent", "grant", "--identity", dir, "--agency", "aeat", "--category", "tax", "--purpose", "statistics", "--until", "31/12/2099"}, cli.ExitUsage},
		{"until before from", []string{"consent", "grant", "--identity", dir, "--agency", "aeat", "--category", "tax", "--purpose", "statistics", "--from", "2030-01-01", "--until", "2029-01-01"}, cli.ExitUsage},
		{"bad ca", []string{"consent", "list", "--identity", dir, "--ca", c.trust}, cli.ExitUsage},
		{"unreachable node", []string{"consent", "list", "--identity", dir, "--node", "127.0.0.1:" + strconv.Itoa(closed), "--timeout", "2s"}, cli.ExitUnavail},
		{"identity of another chain", []string{"consent", "withdraw", g.ConsentID, "--identity", otherChainIdentity(t, dir)}, cli.ExitUsage},
	}
	for _, tc := range cases {
		if out, code := run(t, env, tc.args...); code != tc.want {
			t.Errorf("%s: exit %d, want %d\n%s", tc.name, code, tc.want, out)
		}
	}
}

func copyFile(t *testing.T, from, to string) {
	t.Helper()
	b, err := os.ReadFile(from)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.MkdirAll(filepath.Dir(to), 0o700); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(to, b, 0o600); err != nil {
		t.Fatal(err)
	}
}

// otherChainIdentity copies the identity in dir with another chain id.
func otherChainIdentity(t *testing.T, dir string) string {
	t.Helper()
	id, err := identity.Load(dir)
	if err != nil {
		t.Fatal(err)
	}
	id.ChainID = "another-chain"
	out := filepath.Join(t.TempDir(), "other")
	if err := id.Save(out); err != nil {
		t.Fatal(err)
	}
	copyFile(t, filepath.Join(dir, identity.CAPEM), filepath.Join(out, identity.CAPEM))
	return out
}
