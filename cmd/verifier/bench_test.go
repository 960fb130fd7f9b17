package main

import (
	"testing"
	"time"

	"github.com/gobtechlab/notary/app"
	"github.com/gobtechlab/notary/app/identity"
	"github.com/gobtechlab/notary/cmd/verifier/verify"
	notaryv1 "github.com/gobtechlab/notary/proto/notary/v1"
)

// BenchmarkAccessHistory fetches a 1,000-entry access history from a real
// node's gateway over loopback TLS (one page with its checkpoint, and the
// agency and mandate records) and verifies it offline against the trust
// bundle (goal: 100 ms or less); "verify" is the offline part alone.
func BenchmarkAccessHistory(b *testing.B) {
	c := startChain(b, 100*time.Millisecond,
		app.AgencySpec{ID: "aeat", Name: "Agencia Estatal de Administración Tributaria", Permissions: exchangePerms},
		app.AgencySpec{ID: "sepe", Name: "Servicio Público de Empleo Estatal", Permissions: exchangePerms})
	ctx := testCtx(b)
	c.registerMandate(ctx, testMandate())
	citizen, err := identity.Generate(identity.RoleCitizen, "", testChainID)
	if err != nil {
		b.Fatal(err)
	}
	sub := citizen.Subject()
	const n = 1000
	bodies := make([]*notaryv1.TxBody, n)
	for i := range bodies {
		bodies[i] = exchange("aeat", "sepe", sub, "employment", "eligibility-check", "", testMandate().Id, nil)
	}
	rs, err := c.streamExchanges(ctx, c.net.Agencies["aeat"], bodies)
	if err != nil {
		b.Fatal(err)
	}
	last := int64(0)
	for _, r := range rs {
		if r.Code != 0 {
			b.Fatalf("exchange refused: %v", r)
		}
		last = max(last, r.Height)
	}
	c.waitHeight(last + 2)
	tb, err := readFile("trust", c.trust)
	if err != nil {
		b.Fatal(err)
	}
	trust, err := verify.DecodeTrustBundle(tb)
	if err != nil {
		b.Fatal(err)
	}
	gw := c.client(c.citizen)
	resp, records, err := fetchHistory(ctx, gw, citizen, 0, maxHistoryPage)
	if err != nil {
		b.Fatal(err)
	}
	if h, err := verify.AccessHistory(trust, sub, resp, records...); err != nil || h.Count != n {
		b.Fatalf("history: %v", err)
	}

	b.Run("fetch+verify", func(b *testing.B) {
		for b.Loop() {
			resp, records, err := fetchHistory(ctx, gw, citizen, 0, maxHistoryPage)
			if err != nil {
				b.Fatal(err)
			}
			if h, err := verify.AccessHistory(trust, sub, resp, records...); err != nil || len(h.Entries) != n {
				b.Fatalf("history: %v", err)
			}
		}
		b.ReportMetric(n, "entries")
	})
	b.Run("verify", func(b *testing.B) {
		for b.Loop() {
			if _, err := verify.AccessHistory(trust, sub, resp, records...); err != nil {
				b.Fatal(err)
			}
		}
		b.ReportMetric(n, "entries")
	})
}
