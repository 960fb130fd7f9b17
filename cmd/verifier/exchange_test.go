package main

import (
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/gobtechlab/notary/app"
	"github.com/gobtechlab/notary/cmd/internal/cli"
	"github.com/gobtechlab/notary/ledger"
	notaryv1 "github.com/gobtechlab/notary/proto/notary/v1"
)

// TestOneSidedExchange is the one-sided exchange: agency aeat records that
// agency sepe provided data about the citizen, without sepe's involvement.
// The citizen's verified history says that aeat alone declared it and sepe
// did not confirm it, in English, in Spanish and in JSON; a confirmation
// that is not sepe's is refused; with sepe's own, the entry says sepe
// confirmed it.
func TestOneSidedExchange(t *testing.T) {
	if testing.Short() {
		t.Skip("starts a node")
	}
	c := startChain(t, 50*time.Millisecond,
		app.AgencySpec{ID: "aeat", Name: "Agencia Estatal de Administración Tributaria", Permissions: exchangePerms},
		app.AgencySpec{ID: "sepe", Name: "Servicio Público de Empleo Estatal", Permissions: exchangePerms})
	ctx := testCtx(t)
	env := rootEnv{locale: []string{"en_US.UTF-8"}, location: time.UTC, home: t.TempDir()}
	dir := c.citizen
	out, code := run(t, env, "consent", "grant", "--identity", dir, "--agency", "aeat", "--category", "tax", "--purpose", "eligibility-check",
		"--from", "2025-01-01", "--until", "2099-12-31", "--output", "json")
	if code != cli.ExitOK {
		t.Fatalf("grant: exit %d\n%s", code, out)
	}
	var g grantResult
	if err := json.Unmarshal([]byte(out), &g); err != nil {
		t.Fatal(err)
	}
	subject := c.identity(dir).Subject()
	aeat, sepe := c.net.Agencies["aeat"], c.net.Agencies["sepe"]
	x := func() *notaryv1.TxBody {
		return exchange("aeat", "sepe", subject, "tax", "eligibility-check", g.ConsentID, "", nil)
	}

	// aeat alone records that sepe provided the data.
	rs, err := c.streamExchanges(ctx, aeat, []*notaryv1.TxBody{x()})
	if err != nil || rs[0].Code != 0 {
		t.Fatalf("exchange: %v %v", rs, err)
	}
	c.waitHeight(rs[0].Height + 2)
	accesses := func(args ...string) string {
		t.Helper()
		out, code := run(t, env, append([]string{"accesses", "--identity", dir, "--trust", c.trust, "--tz", "UTC"}, args...)...)
		if code != cli.ExitOK {
			t.Fatalf("accesses %v: exit %d\n%s", args, code, out)
		}
		return out
	}
	for lang, want := range map[string][]string{
		"en": {"declared by aeat, not confirmed by sepe", "declared by the requesting agency alone"},
		"es": {"declarado por aeat, no confirmado por sepe", "lo declaró solo la agencia solicitante"},
	} {
		out := accesses("--lang", lang)
		for _, w := range want {
			if !strings.Contains(out, w) {
				t.Errorf("accesses --lang %s: an exchange sepe never signed is shown without %q:\n%s", lang, w, out)
			}
		}
	}
	var h struct {
		Entries []struct {
			ProviderConfirmed *bool `json:"provider_confirmed"`
		}
	}
	if err := json.Unmarshal([]byte(accesses("--output", "json")), &h); err != nil || len(h.Entries) != 1 ||
		h.Entries[0].ProviderConfirmed == nil || *h.Entries[0].ProviderConfirmed {
		t.Fatalf("accesses json: %v %+v", err, h)
	}

	// A confirmation by aeat's own key, passed off as sepe's: refused.
	rs, err = c.streamExchanges(ctx, aeat, []*notaryv1.TxBody{c.confirmedBy(aeat, x())})
	if err != nil || rs[0].Code != ledger.ErrBadConfirmation.Code() {
		t.Fatalf("an exchange confirmed by the requester's key: %v %v", rs, err)
	}
	// sepe's own confirmation.
	rs, err = c.streamExchanges(ctx, aeat, []*notaryv1.TxBody{c.confirmedBy(sepe, x())})
	if err != nil || rs[0].Code != 0 {
		t.Fatalf("an exchange confirmed by the provider: %v %v", rs, err)
	}
	c.waitHeight(rs[0].Height + 2)
	out = accesses("--lang", "en")
	if !strings.Contains(out, "confirmed by sepe") || strings.Count(out, "not confirmed by sepe") != 1 {
		t.Fatalf("accesses after a confirmed exchange:\n%s", out)
	}
}
