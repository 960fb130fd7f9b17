package join

import (
	"crypto/ed25519"
	"crypto/rand"
	"encoding/hex"
	"errors"
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
