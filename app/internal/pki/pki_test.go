package pki

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"net"
	"net/url"
	"strings"
	"testing"
	"time"
)

// TestSignCSR: the CA issues what a request asks for, a client certificate
// for a participant or a server certificate for hosts, and refuses a
// request that names neither, both, another role, or does not verify.
func TestSignCSR(t *testing.T) {
	now := time.Now()
	ca, err := NewCA("test CA", now.Add(-time.Hour), 24*time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	raw := func(tmpl *x509.CertificateRequest) []byte {
		key, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
		der, err := x509.CreateCertificateRequest(rand.Reader, tmpl, key)
		if err != nil {
			t.Fatal(err)
		}
		return pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE REQUEST", Bytes: der})
	}
	srv, _ := NewServerCSR("node", []string{"127.0.0.1", "node1.example"})
	cli, _ := NewClientCSR("agency", "aeat")
	tampered := raw(&x509.CertificateRequest{DNSNames: []string{"a.example"}})
	blk, _ := pem.Decode(tampered)
	blk.Bytes[len(blk.Bytes)-3] ^= 1
	tampered = pem.EncodeToMemory(blk)
	cases := []struct {
		name   string
		csr    []byte
		client bool
		err    string
	}{
		{"server", srv.CSRPEM, false, ""},
		{"client", cli.CSRPEM, true, ""},
		{"neither", raw(&x509.CertificateRequest{Subject: pkix.Name{CommonName: "x"}}), false, "neither"},
		{"both", raw(&x509.CertificateRequest{DNSNames: []string{"a.example"}, URIs: []*url.URL{IdentityURI("agency", "a")}}), false, "both"},
		{"citizen", raw(&x509.CertificateRequest{URIs: []*url.URL{IdentityURI("citizen", "a")}}), false, "only agencies and ministries"},
		{"bad signature", tampered, false, "certificate request"},
		{"not a request", srv.KeyPEM, false, "not a PEM certificate request"},
	}
	pool := x509.NewCertPool()
	pool.AddCert(ca.Cert)
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			s, err := ca.SignCSR(c.csr, now.Add(-time.Minute), time.Hour)
			if c.err != "" {
				if err == nil || !strings.Contains(err.Error(), c.err) {
					t.Fatalf("error %v, want %q", err, c.err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			b, _ := pem.Decode(s.CertPEM)
			cert, err := x509.ParseCertificate(b.Bytes)
			if err != nil {
				t.Fatal(err)
			}
			usage := x509.ExtKeyUsageServerAuth
			if c.client {
				usage = x509.ExtKeyUsageClientAuth
			}
			if _, err := cert.Verify(x509.VerifyOptions{Roots: pool, KeyUsages: []x509.ExtKeyUsage{usage}}); err != nil {
				t.Fatal(err)
			}
			if s.Client != c.client {
				t.Fatalf("client %v, want %v", s.Client, c.client)
			}
			if c.client {
				if role, id, err := ParseIdentity(cert); err != nil || role != "agency" || id != "aeat" {
					t.Fatalf("names %s/%s (%v)", role, id, err)
				}
			} else if len(cert.IPAddresses) != 1 || !cert.IPAddresses[0].Equal(net.ParseIP("127.0.0.1")) || cert.DNSNames[0] != "node1.example" {
				t.Fatalf("server certificate for %v %v", cert.IPAddresses, cert.DNSNames)
			}
		})
	}
}
