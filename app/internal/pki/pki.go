// Package pki issues the consortium's TLS certificates: a CA, node server
// certificates and participant client certificates whose subject names the
// participant ("agency/<id>", "ministry/<id>"). ECDSA P-256 keys, for the
// widest client support (grpcurl, any gRPC stack).
package pki

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"errors"
	"fmt"
	"math/big"
	"net"
	"net/url"
	"os"
	"path/filepath"
	"time"
)

// CA is a certificate authority with its key.
type CA struct {
	Cert *x509.Certificate
	Key  *ecdsa.PrivateKey
	PEM  []byte
}

// IdentityURI is the URI SAN of a participant's client certificate.
func IdentityURI(role, id string) *url.URL {
	return &url.URL{Scheme: "notary", Opaque: role + "/" + id}
}

// ParseIdentity returns the role and id a client certificate names.
func ParseIdentity(cert *x509.Certificate) (role, id string, err error) {
	for _, u := range cert.URIs {
		if u.Scheme != "notary" {
			continue
		}
		for i := 0; i < len(u.Opaque); i++ {
			if u.Opaque[i] == '/' {
				return u.Opaque[:i], u.Opaque[i+1:], nil
			}
		}
	}
	return "", "", errors.New("certificate names no notary participant (URI SAN notary:<role>/<id>)")
}

func serial() (*big.Int, error) {
	return rand.Int(rand.Reader, new(big.Int).Lsh(big.NewInt(1), 126))
}

// NewCA creates a self-signed CA valid from notBefore for validity.
func NewCA(name string, notBefore time.Time, validity time.Duration) (*CA, error) {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return nil, err
	}
	sn, err := serial()
	if err != nil {
		return nil, err
	}
	tmpl := &x509.Certificate{
		SerialNumber:          sn,
		Subject:               pkix.Name{CommonName: name, Organization: []string{"GobTechLab Notary consortium"}},
		NotBefore:             notBefore,
		NotAfter:              notBefore.Add(validity),
		KeyUsage:              x509.KeyUsageCertSign | x509.KeyUsageCRLSign | x509.KeyUsageDigitalSignature,
		BasicConstraintsValid: true,
		IsCA:                  true,
		MaxPathLenZero:        true,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		return nil, err
	}
	cert, err := x509.ParseCertificate(der)
	if err != nil {
		return nil, err
	}
	return &CA{Cert: cert, Key: key, PEM: pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der})}, nil
}

// Issued is a certificate and its key, PEM-encoded.
type Issued struct {
	CertPEM []byte
	KeyPEM  []byte
}

// TLSCertificate parses the pair.
func (i *Issued) TLSCertificate() (tls.Certificate, error) {
	return tls.X509KeyPair(i.CertPEM, i.KeyPEM)
}

func (ca *CA) issue(tmpl *x509.Certificate) (*Issued, error) {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return nil, err
	}
	sn, err := serial()
	if err != nil {
		return nil, err
	}
	tmpl.SerialNumber = sn
	der, err := x509.CreateCertificate(rand.Reader, tmpl, ca.Cert, &key.PublicKey, ca.Key)
	if err != nil {
		return nil, err
	}
	kb, err := x509.MarshalECPrivateKey(key)
	if err != nil {
		return nil, err
	}
	return &Issued{
		CertPEM: pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}),
		KeyPEM:  pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: kb}),
	}, nil
}

// IssueServer issues a server certificate for the given host names and IPs.
func (ca *CA) IssueServer(name string, hosts []string, notBefore time.Time, validity time.Duration) (*Issued, error) {
	tmpl := &x509.Certificate{
		Subject:     pkix.Name{CommonName: name},
		NotBefore:   notBefore,
		NotAfter:    notBefore.Add(validity),
		KeyUsage:    x509.KeyUsageDigitalSignature,
		ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
	}
	for _, h := range hosts {
		if ip := net.ParseIP(h); ip != nil {
			tmpl.IPAddresses = append(tmpl.IPAddresses, ip)
		} else {
			tmpl.DNSNames = append(tmpl.DNSNames, h)
		}
	}
	return ca.issue(tmpl)
}

// IssueClient issues a client certificate naming a participant.
func (ca *CA) IssueClient(role, id string, notBefore time.Time, validity time.Duration) (*Issued, error) {
	return ca.issue(&x509.Certificate{
		Subject:     pkix.Name{CommonName: role + "/" + id},
		URIs:        []*url.URL{IdentityURI(role, id)},
		NotBefore:   notBefore,
		NotAfter:    notBefore.Add(validity),
		KeyUsage:    x509.KeyUsageDigitalSignature,
		ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth},
	})
}

// Save writes the CA certificate (ca.crt) and key (ca.key) into dir.
func (ca *CA) Save(dir string) error {
	kb, err := x509.MarshalECPrivateKey(ca.Key)
	if err != nil {
		return err
	}
	if err := WriteFile(filepath.Join(dir, "ca.crt"), ca.PEM, 0o644); err != nil {
		return err
	}
	return WriteFile(filepath.Join(dir, "ca.key"), pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: kb}), 0o600)
}

// LoadCA reads ca.crt and ca.key from dir.
func LoadCA(dir string) (*CA, error) {
	cb, err := os.ReadFile(filepath.Join(dir, "ca.crt"))
	if err != nil {
		return nil, err
	}
	kb, err := os.ReadFile(filepath.Join(dir, "ca.key"))
	if err != nil {
		return nil, err
	}
	cblk, _ := pem.Decode(cb)
	kblk, _ := pem.Decode(kb)
	if cblk == nil || kblk == nil {
		return nil, fmt.Errorf("%s: not PEM", dir)
	}
	cert, err := x509.ParseCertificate(cblk.Bytes)
	if err != nil {
		return nil, err
	}
	key, err := x509.ParseECPrivateKey(kblk.Bytes)
	if err != nil {
		return nil, err
	}
	return &CA{Cert: cert, Key: key, PEM: cb}, nil
}

// WriteFile writes data, creating the directory.
func WriteFile(path string, data []byte, mode os.FileMode) error {
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return err
	}
	return os.WriteFile(path, data, mode)
}

// CSR is a certificate signing request and the private key it was made
// with, PEM-encoded: the key stays where it was made, the request goes to
// the CA (CA.SignCSR).
type CSR struct {
	CSRPEM []byte
	KeyPEM []byte
}

// NewServerCSR makes a key and a request for a server certificate for the
// given host names and IPs.
func NewServerCSR(name string, hosts []string) (*CSR, error) {
	tmpl := &x509.CertificateRequest{Subject: pkix.Name{CommonName: name}}
	for _, h := range hosts {
		if ip := net.ParseIP(h); ip != nil {
			tmpl.IPAddresses = append(tmpl.IPAddresses, ip)
		} else {
			tmpl.DNSNames = append(tmpl.DNSNames, h)
		}
	}
	return newCSR(tmpl)
}

// NewClientCSR makes a key and a request for a client certificate naming a
// participant.
func NewClientCSR(role, id string) (*CSR, error) {
	return newCSR(&x509.CertificateRequest{
		Subject: pkix.Name{CommonName: role + "/" + id},
		URIs:    []*url.URL{IdentityURI(role, id)},
	})
}

func newCSR(tmpl *x509.CertificateRequest) (*CSR, error) {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return nil, err
	}
	der, err := x509.CreateCertificateRequest(rand.Reader, tmpl, key)
	if err != nil {
		return nil, err
	}
	kb, err := x509.MarshalECPrivateKey(key)
	if err != nil {
		return nil, err
	}
	return &CSR{
		CSRPEM: pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE REQUEST", Bytes: der}),
		KeyPEM: pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: kb}),
	}, nil
}

// Signed describes a certificate the CA issued from a request.
type Signed struct {
	CertPEM []byte
	// Client is true for a participant's client certificate (the request
	// named one: URI SAN notary:<role>/<id>), false for a server's.
	Client   bool
	Role, ID string   // the participant, for a client certificate
	Hosts    []string // the names and IPs, for a server certificate
	Subject  string
	NotAfter time.Time
}

// SignCSR checks a PEM certificate request and issues what it asks for: a
// client certificate if it names a participant (role agency or ministry),
// else a server certificate for its host names and IPs. Only the request's
// names and key are used; the CA sets usages and validity.
func (ca *CA) SignCSR(csrPEM []byte, notBefore time.Time, validity time.Duration) (*Signed, error) {
	blk, _ := pem.Decode(csrPEM)
	if blk == nil || blk.Type != "CERTIFICATE REQUEST" {
		return nil, errors.New("not a PEM certificate request (CERTIFICATE REQUEST)")
	}
	req, err := x509.ParseCertificateRequest(blk.Bytes)
	if err != nil {
		return nil, fmt.Errorf("certificate request: %w", err)
	}
	if err := req.CheckSignature(); err != nil {
		return nil, fmt.Errorf("certificate request: its signature does not verify: %w", err)
	}
	tmpl := &x509.Certificate{
		Subject:   pkix.Name{CommonName: req.Subject.CommonName},
		NotBefore: notBefore,
		NotAfter:  notBefore.Add(validity),
		KeyUsage:  x509.KeyUsageDigitalSignature,
	}
	out := &Signed{Subject: req.Subject.CommonName, NotAfter: tmpl.NotAfter}
	role, id, perr := ParseIdentity(&x509.Certificate{URIs: req.URIs})
	switch {
	case perr == nil:
		if role != "agency" && role != "ministry" {
			return nil, fmt.Errorf("certificate request names a %q; only agencies and ministries get client certificates", role)
		}
		if len(req.DNSNames)+len(req.IPAddresses) > 0 {
			return nil, errors.New("certificate request names both a participant and hosts")
		}
		tmpl.Subject.CommonName = role + "/" + id
		tmpl.URIs = []*url.URL{IdentityURI(role, id)}
		tmpl.ExtKeyUsage = []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth}
		out.Client, out.Role, out.ID, out.Subject = true, role, id, tmpl.Subject.CommonName
	case len(req.DNSNames)+len(req.IPAddresses) > 0:
		tmpl.DNSNames, tmpl.IPAddresses = req.DNSNames, req.IPAddresses
		tmpl.ExtKeyUsage = []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth}
		out.Hosts = append(out.Hosts, req.DNSNames...)
		for _, ip := range req.IPAddresses {
			out.Hosts = append(out.Hosts, ip.String())
		}
	default:
		return nil, errors.New("certificate request names neither a participant (URI SAN notary:<role>/<id>) nor a host")
	}
	sn, err := serial()
	if err != nil {
		return nil, err
	}
	tmpl.SerialNumber = sn
	der, err := x509.CreateCertificate(rand.Reader, tmpl, ca.Cert, req.PublicKey, ca.Key)
	if err != nil {
		return nil, err
	}
	out.CertPEM = pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der})
	return out, nil
}
