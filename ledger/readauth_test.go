package ledger

import (
	"bytes"
	"crypto/ed25519"
	"encoding/hex"
	"testing"

	"google.golang.org/protobuf/proto"

	notaryv1 "github.com/gobtechlab/notary/proto/notary/v1"
)

const listConsentsMethod = "/notary.v1.Gateway/ListConsents"

// TestReadSignBytesExample checks the worked example of docs/DESIGN.md
// (signed reads): key from seed 00 01 .. 1f, chain "notary-dev",
// ListConsents of the key's subject at 2026-01-01T00:00:00Z.
func TestReadSignBytesExample(t *testing.T) {
	seed := make([]byte, ed25519.SeedSize)
	for i := range seed {
		seed[i] = byte(i)
	}
	priv := ed25519.NewKeyFromSeed(seed)
	req := &notaryv1.ListConsentsRequest{Subject: SubjectID(priv.Public().(ed25519.PublicKey))}
	const unix = 1767225600
	b, err := ReadRequestBytes(req)
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]string{
		"request": "0a20640f16b4c458fa83454f9018edd9574d661ca3dae3d10d90e949724839be7fbf",
		"sign bytes": "6e6f746172792f726561642f76310a6e6f746172792d6465761f2f6e6f746172792e76312e476174657761792f4c697374436f6e73656e7473" +
			"0a20640f16b4c458fa83454f9018edd9574d661ca3dae3d10d90e949724839be7fbf000000006955b900",
		"signature": "51080557b2cac7bd671f410a05d510c357f9abe2a9bdbdef111148ced10ac103106406e3263012ba33c88553642f2c422df3f27218189dcf57b91bc723358f0d",
	}
	if err := SignRead("notary-dev", listConsentsMethod, priv.Public().(ed25519.PublicKey), req, unix, signer(priv)); err != nil {
		t.Fatal(err)
	}
	got := map[string]string{
		"request":    hex.EncodeToString(b),
		"sign bytes": hex.EncodeToString(ReadSignBytes("notary-dev", listConsentsMethod, b, unix)),
		"signature":  hex.EncodeToString(req.ReadAuth.Signature),
	}
	for k := range want {
		if got[k] != want[k] {
			t.Errorf("%s: %s, want %s", k, got[k], want[k])
		}
	}
	if _, err := VerifyRead("notary-dev", listConsentsMethod, req); err != nil {
		t.Fatal(err)
	}
}

// TestVerifyRead: a signature binds the chain, the method, every field of
// the request and the time; the request bytes leave read_auth out.
func TestVerifyRead(t *testing.T) {
	k := testKey("reader")
	sign := func(req proto.Message) proto.Message {
		if err := SignRead("c", listConsentsMethod, pub(k), req, 1000, signer(k)); err != nil {
			t.Fatal(err)
		}
		return req
	}
	good := func() *notaryv1.ListConsentsRequest {
		return sign(&notaryv1.ListConsentsRequest{Subject: SubjectID(pub(k))}).(*notaryv1.ListConsentsRequest)
	}
	cases := map[string]struct {
		chain, method string
		req           proto.Message
		ok            bool
	}{
		"valid":        {"c", listConsentsMethod, good(), true},
		"other chain":  {"d", listConsentsMethod, good(), false},
		"other method": {"c", "/notary.v1.Gateway/GetAccessHistory", good(), false},
		"other subject": {"c", listConsentsMethod, func() proto.Message {
			r := good()
			r.Subject = SubjectID([]byte("x"))
			return r
		}(), false},
		"other time": {"c", listConsentsMethod, func() proto.Message {
			r := good()
			r.ReadAuth.Time++
			return r
		}(), false},
		"other key": {"c", listConsentsMethod, func() proto.Message {
			r := good()
			r.ReadAuth.PubKey = pub(testKey("other"))
			return r
		}(), false},
		"short signature": {"c", listConsentsMethod, func() proto.Message {
			r := good()
			r.ReadAuth.Signature = r.ReadAuth.Signature[:63]
			return r
		}(), false},
		"no read_auth": {"c", listConsentsMethod, &notaryv1.ListConsentsRequest{Subject: SubjectID(pub(k))}, false},
	}
	for name, c := range cases {
		_, err := VerifyRead(c.chain, c.method, c.req)
		if (err == nil) != c.ok {
			t.Errorf("%s: err %v, want ok %v", name, err, c.ok)
		}
	}

	// The signed bytes are the request's without read_auth, and signing
	// leaves the other fields as they were.
	r := good()
	b, err := ReadRequestBytes(r)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(b, Encode(&notaryv1.ListConsentsRequest{Subject: r.Subject})) {
		t.Fatalf("request bytes %x", b)
	}
	if err := SignRead("c", listConsentsMethod, pub(k), &notaryv1.GetStatusRequest{}, 1, signer(k)); err == nil {
		t.Fatal("a request without read_auth was signed")
	}
}

func signer(k ed25519.PrivateKey) func([]byte) []byte {
	return func(m []byte) []byte { return ed25519.Sign(k, m) }
}
