package verify_test

import (
	"bytes"
	"os/exec"
	"strings"
	"testing"

	"github.com/gobtechlab/notary/cmd/verifier/verify"
)

func TestVerifyValidReceipts(t *testing.T) {
	cases := []struct {
		name        string
		opts        fixtureOpts
		want        verify.Verdict
		transitions int
		outside     []string // signers of the anchor proven by ministry records
	}{
		{name: "salted sha2-256", opts: fixtureOpts{}, want: verify.Valid},
		{name: "bare digest", opts: fixtureOpts{bare: true}, want: verify.Valid},
		{name: "salted sha3-256", opts: fixtureOpts{alg: sha3}, want: verify.Valid},
		{name: "status much later", opts: fixtureOpts{later: 20}, want: verify.Valid},
		{name: "revoked", opts: fixtureOpts{revoked: true}, want: verify.Revoked},
		{name: "after validators were added and removed", opts: fixtureOpts{governed: true}, want: verify.Valid, transitions: 2, outside: []string{"educacion"}},
		{name: "governed and revoked", opts: fixtureOpts{governed: true, revoked: true, bare: true}, want: verify.Revoked, transitions: 2, outside: []string{"educacion"}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			f := newFixture(t, tc.opts)
			res := f.check(t, f.file)
			if res.Verdict != tc.want {
				t.Fatalf("verdict %s (%s: %s), want %s", res.Verdict, res.Reason, res.Detail, tc.want)
			}
			for _, s := range res.Steps {
				if s.Status != verify.StepOK {
					t.Errorf("step %s: %s", s.Name, s.Status)
				}
			}
			p := res.Proven
			if p.Issuer.Name != "Registro Civil Central" || p.Batch.LeafIndex != 2 || p.Batch.Count != 5 {
				t.Errorf("proven %+v", p)
			}
			if len(p.ValidatorChain) != tc.transitions {
				t.Errorf("%d transitions, want %d", len(p.ValidatorChain), tc.transitions)
			}
			var outside []string
			for _, s := range p.Anchor.Signers {
				if s.Source == verify.SourceMinistryRecord {
					outside = append(outside, s.MinistryID)
				}
			}
			if strings.Join(outside, ",") != strings.Join(tc.outside, ",") {
				t.Errorf("signers outside the trust bundle %v, want %v", outside, tc.outside)
			}
			if p.Status.Revoked != (tc.want == verify.Revoked) {
				t.Errorf("status %+v", p.Status)
			}
			if p.Anchor.SignedPower*3 <= p.Anchor.TotalPower*2 {
				t.Errorf("anchor signed by %d of %d", p.Anchor.SignedPower, p.Anchor.TotalPower)
			}
		})
	}
}

func TestVerifyWithoutDocument(t *testing.T) {
	f := newFixture(t, fixtureOpts{})
	res, err := verify.Verify(verify.Input{Receipt: f.file, Trust: f.trust})
	if err != nil {
		t.Fatal(err)
	}
	if res.Verdict != verify.Valid || res.DocumentChecked {
		t.Fatalf("%+v", res)
	}
	// A receipt as the gateway returns it (no salt, no document digest),
	// checked without a document: the document step is skipped.
	r := f.chain.Receipt(sha2, mustHex(t, f.receipt.Document.AnchoredDigest))
	res, err = verify.VerifyReceipt(r, f.trust, nil)
	if err != nil {
		t.Fatal(err)
	}
	if res.Verdict != verify.Valid || res.Steps[len(res.Steps)-1].Status != verify.StepSkipped {
		t.Fatalf("%+v", res)
	}
	// The same receipt with the salted document: document_digest is
	// computed from the document.
	r.Document.Salt = f.receipt.Document.Salt
	res, err = verify.VerifyReceipt(r, f.trust, bytes.NewReader(f.doc))
	if err != nil {
		t.Fatal(err)
	}
	if res.Verdict != verify.Valid || res.Proven.Document.DocumentDigest != f.receipt.Document.DocumentDigest {
		t.Fatalf("%+v", res)
	}
}

func TestEncodeDecodeRoundTrip(t *testing.T) {
	f := newFixture(t, fixtureOpts{governed: true, revoked: true})
	r, err := verify.DecodeReceipt(f.file)
	if err != nil {
		t.Fatal(err)
	}
	canon, err := verify.EncodeReceipt(r)
	if err != nil {
		t.Fatal(err)
	}
	again, err := verify.EncodeReceipt(f.receipt)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(canon, again) {
		t.Fatal("decode and encode changed the receipt")
	}
	// The compact canonical bytes decode too; so do other indentations.
	for _, b := range [][]byte{canon, append([]byte("\n\t "), canon...), []byte(strings.ReplaceAll(string(f.file), "  ", "\t"))} {
		if _, err := verify.DecodeReceipt(b); err != nil {
			t.Fatal(err)
		}
	}
	tb, err := verify.EncodeTrustBundle(f.trust)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := verify.DecodeTrustBundle(tb); err != nil {
		t.Fatal(err)
	}
}

// TestNoNetworkingInVerifyPackage: the verify path, and the web verifier's
// core on it, link no networking, no gRPC, no CometBFT and no command-line
// framework.
func TestNoNetworkingInVerifyPackage(t *testing.T) {
	for _, pkg := range []string{"github.com/gobtechlab/notary/cmd/verifier/verify", "github.com/gobtechlab/notary/cmd/verifier/verify/webapi"} {
		out, err := exec.Command("go", "list", "-deps", pkg).Output()
		if err != nil {
			t.Fatalf("go list: %v", err)
		}
		deps := strings.Fields(string(out))
		if len(deps) < 10 {
			t.Fatalf("go list -deps gave %d packages", len(deps))
		}
		for _, dep := range deps {
			switch {
			case dep == "net", strings.HasPrefix(dep, "net/"),
				dep == "google.golang.org/grpc", strings.HasPrefix(dep, "google.golang.org/grpc/"),
				strings.HasPrefix(dep, "github.com/cometbft/"),
				strings.HasPrefix(dep, "github.com/spf13/"),
				strings.HasPrefix(dep, "github.com/gobtechlab/notary/app"),
				strings.HasPrefix(dep, "github.com/gobtechlab/notary/abci"):
				t.Errorf("%s depends on %s", pkg, dep)
			}
		}
	}
}

func mustHex(t testing.TB, s string) []byte {
	t.Helper()
	b, err := hexDecode(s)
	if err != nil {
		t.Fatal(err)
	}
	return b
}
