package main

import (
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/gobtechlab/notary/app"
	"github.com/gobtechlab/notary/app/join"
	"github.com/gobtechlab/notary/cmd/internal/cli"
	notaryv1 "github.com/gobtechlab/notary/proto/notary/v1"
)

// TestRenewal renews an agency's client certificate by the commands of
// docs/operations.md: identity renew, set-tls-keys with the old
// certificate and the new request, the new certificate in place, then
// set-tls-keys with the new one alone; the old certificate is then refused
// ("key not registered"). Bad proposals are refused with one message.
func TestRenewal(t *testing.T) {
	e := startNode(t, app.AgencySpec{ID: "rotating", Name: "Agencia Rotativa", Permissions: []notaryv1.Permission{notaryv1.Permission_PERMISSION_ANCHOR}})
	dir := e.n.Network.Agencies["rotating"]
	gov := func(args ...string) result {
		t.Helper()
		return e.as(t, e.n.Ministry, append([]string{"gov"}, args...)...)
	}
	pass := func(args ...string) {
		t.Helper()
		p := decode[proposeResult](t, gov(append(append([]string{"propose"}, args...), "-o", "json")...).want(t, cli.ExitOK))
		gov("vote", strconv.FormatUint(p.Proposal.ID, 10), "yes").want(t, cli.ExitOK)
	}
	e.as(t, dir, "status").want(t, cli.ExitOK)

	r := run(t, "identity", "renew", "--dir", dir).want(t, cli.ExitOK)
	if !strings.Contains(r.stdout, join.NextCSRFile) {
		t.Fatalf("renew: %s", r.stdout)
	}
	run(t, "identity", "renew", "--dir", dir).want(t, cli.ExitUsage)
	notPEM := e.file(t, "not.pem", "hello")
	for _, c := range []struct {
		name string
		args []string
		msg  string
	}{
		{"no member", []string{"--tls-cert", filepath.Join(dir, "tls.crt")}, "exactly one of --agency and --ministry"},
		{"no key", []string{"--agency", "rotating"}, "at least one --tls-cert"},
		{"not PEM", []string{"--agency", "rotating", "--tls-cert", notPEM}, "not PEM"},
		{"the same key twice", []string{"--agency", "rotating", "--tls-cert", filepath.Join(dir, "tls.crt"), "--tls-cert", filepath.Join(dir, "tls.crt")}, "the same key"},
	} {
		r := gov(append([]string{"propose", "set-tls-keys"}, c.args...)...).want(t, cli.ExitUsage)
		if !strings.Contains(r.stderr, c.msg) {
			t.Fatalf("%s: %q does not say %q", c.name, r.stderr, c.msg)
		}
	}
	// A renewal proposed with the agency's own key is refused.
	e.as(t, dir, "gov", "propose", "set-tls-keys", "--agency", "rotating", "--tls-cert", filepath.Join(dir, join.NextCSRFile)).want(t, cli.ExitUsage)

	pass("set-tls-keys", "--agency", "rotating", "--tls-cert", filepath.Join(dir, "tls.crt"), "--tls-cert", filepath.Join(dir, join.NextCSRFile))
	e.as(t, dir, "status").want(t, cli.ExitOK) // both keys accepted

	csr, err := os.ReadFile(filepath.Join(dir, join.NextCSRFile))
	if err != nil {
		t.Fatal(err)
	}
	signed, err := e.n.CA(t).SignCSR(csr, time.Now().Add(-time.Minute), time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	next := filepath.Join(e.dir, "tls.next.crt")
	if err := os.WriteFile(next, signed.CertPEM, 0o644); err != nil {
		t.Fatal(err)
	}
	pass("set-tls-keys", "--agency", "rotating", "--tls-cert", next)
	r = e.as(t, dir, "status")
	if r.code == cli.ExitOK || !strings.Contains(r.stderr, "key not registered") {
		t.Fatalf("the old certificate after the renewal: exit %d: %s", r.code, r.stderr)
	}
	doc := e.file(t, "renewed.txt", "a document")
	r = e.as(t, dir, "anchor", doc, "--timeout", "10s")
	if r.code == cli.ExitOK || !strings.Contains(r.stdout+r.stderr, "key not registered") {
		t.Fatalf("an anchor with the old certificate: exit %d: %s%s", r.code, r.stdout, r.stderr)
	}
	if err := os.Rename(filepath.Join(dir, join.NextKeyFile), filepath.Join(dir, "tls.key")); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "tls.crt"), signed.CertPEM, 0o644); err != nil {
		t.Fatal(err)
	}
	e.as(t, dir, "status").want(t, cli.ExitOK)
}
