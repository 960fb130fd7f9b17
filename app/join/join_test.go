package join

import (
	"bytes"
	"crypto/ed25519"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"os"
	"strings"
	"testing"
)

func agencyRequest(t *testing.T) (*Request, ed25519.PrivateKey) {
	t.Helper()
	pub, priv, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	r := &Request{ChainID: "c", Role: RoleAgency, ID: "aeat", Name: "Agencia", PubKey: hex.EncodeToString(pub), Permissions: []string{"revoke", "anchor"}}
	if err := r.Sign(priv); err != nil {
		t.Fatal(err)
	}
	return r, priv
}

// TestRoundTrip: a signed request encodes, decodes and verifies; its
// permissions map to the chain's ascending list.
func TestRoundTrip(t *testing.T) {
	r, _ := agencyRequest(t)
	d, err := Decode(r.Encode())
	if err != nil {
		t.Fatal(err)
	}
	if err := d.Verify(); err != nil {
		t.Fatal(err)
	}
	perms, err := ParsePermissions(d.Permissions)
	if err != nil || len(perms) != 2 || perms[0] > perms[1] {
		t.Fatalf("permissions %v, %v", perms, err)
	}
}

// TestRefused: each bad request fails the check it should, with its error.
func TestRefused(t *testing.T) {
	_, otherKey, _ := ed25519.GenerateKey(rand.Reader)
	cases := []struct {
		name   string
		change func(r *Request) []byte
		want   error
		verify bool
	}{
		{"unknown field", func(r *Request) []byte {
			return []byte(strings.Replace(string(r.Encode()), `"format"`, `"extra": 1, "format"`, 1))
		}, ErrMalformed, false},
		{"other format", func(r *Request) []byte { r.Format = "v0"; return r.Encode() }, ErrMalformed, false},
		{"bad id", func(r *Request) []byte { r.ID = "A B"; return r.Encode() }, ErrMalformed, false},
		{"unknown permission", func(r *Request) []byte { r.Permissions = []string{"rule"}; return r.Encode() }, ErrMalformed, false},
		{"agency with power", func(r *Request) []byte { r.Power = 3; return r.Encode() }, ErrMalformed, false},
		{"short tls_key", func(r *Request) []byte { r.TLSKey = "abcd"; return r.Encode() }, ErrMalformed, false},
		{"upper-case tls_key", func(r *Request) []byte { r.TLSKey = strings.Repeat("AB", 32); return r.Encode() }, ErrMalformed, false},
		{"tls_key changed", func(r *Request) []byte { r.TLSKey = strings.Repeat("ab", 32); return r.Encode() }, ErrBadSignature, true},
		{"unsigned", func(r *Request) []byte { r.Signature = ""; return r.Encode() }, ErrUnsigned, true},
		{"changed", func(r *Request) []byte { r.Name = "Other"; return r.Encode() }, ErrBadSignature, true},
		{"another key", func(r *Request) []byte {
			r.Signature = hex.EncodeToString(ed25519.Sign(otherKey, r.SignBytes()))
			return r.Encode()
		}, ErrBadSignature, true},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			r, _ := agencyRequest(t)
			d, err := Decode(c.change(r))
			if c.verify {
				if err != nil {
					t.Fatal(err)
				}
				err = d.Verify()
			}
			if !errors.Is(err, c.want) {
				t.Fatalf("error %v, want %v", err, c.want)
			}
		})
	}
}

// TestSignWithOtherKey: Sign refuses a key that is not the request's own.
func TestSignWithOtherKey(t *testing.T) {
	r, _ := agencyRequest(t)
	_, other, _ := ed25519.GenerateKey(rand.Reader)
	if err := r.Sign(other); err == nil {
		t.Fatal("signed with another key")
	}
}

// TestNewAgencyAndRenewal: an agency's request registers the key of its
// certificate request; a renewal makes another key, once.
func TestNewAgencyAndRenewal(t *testing.T) {
	dir := t.TempDir()
	f, err := NewAgency(dir, "c", "aeat", "Agencia", []string{"anchor"}, "")
	if err != nil {
		t.Fatal(err)
	}
	csr, err := os.ReadFile(f.CSRFile)
	if err != nil {
		t.Fatal(err)
	}
	k, err := TLSKeyOf(csr)
	if err != nil || hex.EncodeToString(k) != f.Request.TLSKey || len(f.Request.TLSKeys()) != 1 {
		t.Fatalf("tls_key %q, the request's key %x (%v)", f.Request.TLSKey, k, err)
	}
	if err := f.Request.Verify(); err != nil {
		t.Fatal(err)
	}
	next, nk, err := NewRenewal(dir)
	if err != nil {
		t.Fatal(err)
	}
	b, err := os.ReadFile(next)
	if err != nil {
		t.Fatal(err)
	}
	if again, err := TLSKeyOf(b); err != nil || !bytes.Equal(again, nk) || bytes.Equal(nk, k) {
		t.Fatalf("renewal key %x, its request's %x, the old %x (%v)", nk, again, k, err)
	}
	if _, _, err := NewRenewal(dir); err == nil || !strings.Contains(err.Error(), "already holds a renewal") {
		t.Fatalf("a second renewal: %v", err)
	}
	if _, err := TLSKeyOf([]byte("not pem")); err == nil {
		t.Fatal("TLSKeyOf accepted a file that is not PEM")
	}
}
