package join

import (
	"bytes"
	"crypto/ed25519"
	"crypto/x509"
	"encoding/hex"
	"encoding/json"
	"encoding/pem"
	"errors"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"strings"

	"github.com/gobtechlab/notary/app/identity"
	"github.com/gobtechlab/notary/app/internal/pki"
	"github.com/gobtechlab/notary/ledger"
	notaryv1 "github.com/gobtechlab/notary/proto/notary/v1"
)

// Format names the request format; it prefixes the signing bytes.
const Format = "notary-join-request/1"

// Roles a request can ask for.
const (
	RoleMinistry = "ministry"
	RoleAgency   = "agency"
)

// Errors a request's checks wrap.
var (
	// ErrMalformed: the file is not a join request of this format.
	ErrMalformed = errors.New("not a valid join request")
	// ErrUnsigned: the request carries no signature.
	ErrUnsigned = errors.New("join request is not signed")
	// ErrBadSignature: the signature is not the request's key's over it.
	ErrBadSignature = errors.New("join request signature does not verify")
)

// Request is a join request.
type Request struct {
	Format          string   `json:"format"`
	ChainID         string   `json:"chain_id"`
	Role            string   `json:"role"`
	ID              string   `json:"id"`
	Name            string   `json:"name"`
	Power           int64    `json:"power,omitempty"`
	GovPubKey       string   `json:"gov_pub_key,omitempty"`
	ConsensusPubKey string   `json:"consensus_pub_key,omitempty"`
	NodeID          string   `json:"node_id,omitempty"`
	P2PAddress      string   `json:"p2p_address,omitempty"`
	GatewayAddress  string   `json:"gateway_address,omitempty"`
	PubKey          string   `json:"pub_key,omitempty"`
	Permissions     []string `json:"permissions,omitempty"`
	TLSKey          string   `json:"tls_key,omitempty"`
	Signature       string   `json:"signature,omitempty"`
}

// SignBytes are the bytes the signature covers.
func (r *Request) SignBytes() []byte {
	c := *r
	c.Signature = ""
	b, err := json.Marshal(&c)
	if err != nil {
		panic(err) // strings and integers always encode
	}
	return append([]byte(Format+"\n"), b...)
}

// TLSKeys is the request's certificate key as a record's tls_keys: none if
// the request names none.
func (r *Request) TLSKeys() [][]byte {
	b, err := hex.DecodeString(r.TLSKey)
	if err != nil || len(b) == 0 {
		return nil
	}
	return [][]byte{b}
}

// SignerKey is the key that signs the request: a ministry's governance key,
// an agency's signing key.
func (r *Request) SignerKey() string {
	if r.Role == RoleMinistry {
		return r.GovPubKey
	}
	return r.PubKey
}

// Sign sets the request's format and signs it with priv, which must be the
// request's signer key.
func (r *Request) Sign(priv ed25519.PrivateKey) error {
	r.Format = Format
	if hex.EncodeToString(priv.Public().(ed25519.PublicKey)) != r.SignerKey() {
		return errors.New("join: the signing key is not the request's key")
	}
	r.Signature = hex.EncodeToString(ed25519.Sign(priv, r.SignBytes()))
	return nil
}

// Encode returns the request as indented JSON.
func (r *Request) Encode() []byte {
	b, err := json.MarshalIndent(r, "", "  ")
	if err != nil {
		panic(err)
	}
	return append(b, '\n')
}

// Decode parses a request; unknown fields are refused. It checks the form
// (Check) but not the signature (Verify).
func Decode(b []byte) (*Request, error) {
	d := json.NewDecoder(bytes.NewReader(b))
	d.DisallowUnknownFields()
	var r Request
	if err := d.Decode(&r); err != nil {
		return nil, fmt.Errorf("%w: %w", ErrMalformed, err)
	}
	if d.More() {
		return nil, fmt.Errorf("%w: data after the JSON object", ErrMalformed)
	}
	if err := r.Check(); err != nil {
		return nil, err
	}
	return &r, nil
}

// Check checks the request's form: format, ids, keys, addresses and
// permissions. Power rules are the genesis's (the collect step).
func (r *Request) Check() error {
	bad := func(format string, args ...any) error {
		return fmt.Errorf("%w: %s", ErrMalformed, fmt.Sprintf(format, args...))
	}
	if r.Format != Format {
		return bad("format %q, want %q", r.Format, Format)
	}
	if !ledger.ValidID(r.ChainID) {
		return bad("chain_id %q: use 1..64 of [a-z0-9-]", r.ChainID)
	}
	if !ledger.ValidID(r.ID) {
		return bad("id %q: use 1..64 of [a-z0-9-]", r.ID)
	}
	if strings.TrimSpace(r.Name) == "" {
		return bad("%s %s has no name", r.Role, r.ID)
	}
	key := func(field, v string) error {
		if b, err := hex.DecodeString(v); err != nil || len(b) != ed25519.PublicKeySize || v != strings.ToLower(v) {
			return bad("%s: want a 32-byte ed25519 public key in lower-case hex", field)
		}
		return nil
	}
	addr := func(field, v string) error {
		host, port, err := net.SplitHostPort(v)
		if err != nil || host == "" {
			return bad("%s %q: want host:port", field, v)
		}
		if p, err := strconv.Atoi(port); err != nil || p < 1 || p > 65535 {
			return bad("%s %q: bad port", field, v)
		}
		return nil
	}
	if r.TLSKey != "" {
		if b, err := hex.DecodeString(r.TLSKey); err != nil || len(b) != ledger.TLSKeySize || r.TLSKey != strings.ToLower(r.TLSKey) {
			return bad("tls_key: want the SHA-256 of the client certificate's public key (TLSKeyOf) in lower-case hex")
		}
	}
	switch r.Role {
	case RoleMinistry:
		if r.PubKey != "" || len(r.Permissions) > 0 {
			return bad("a ministry's request carries no pub_key or permissions")
		}
		for _, e := range []error{
			key("gov_pub_key", r.GovPubKey), key("consensus_pub_key", r.ConsensusPubKey),
			addr("p2p_address", r.P2PAddress), addr("gateway_address", r.GatewayAddress),
		} {
			if e != nil {
				return e
			}
		}
		if b, err := hex.DecodeString(r.NodeID); err != nil || len(b) != 20 {
			return bad("node_id %q: want 40 hex characters", r.NodeID)
		}
	case RoleAgency:
		if r.GovPubKey != "" || r.ConsensusPubKey != "" || r.NodeID != "" || r.P2PAddress != "" || r.GatewayAddress != "" || r.Power != 0 {
			return bad("an agency's request carries no node, keys other than pub_key, or power")
		}
		if err := key("pub_key", r.PubKey); err != nil {
			return err
		}
		if _, err := ParsePermissions(r.Permissions); err != nil {
			return bad("%v", err)
		}
	default:
		return bad("role %q: want %q or %q", r.Role, RoleMinistry, RoleAgency)
	}
	return nil
}

// Verify checks the request's signature by its own key (a ministry's
// governance key, an agency's signing key).
func (r *Request) Verify() error {
	if r.Signature == "" {
		return fmt.Errorf("%w: %s %q has no signature", ErrUnsigned, r.Role, r.ID)
	}
	sig, err := hex.DecodeString(r.Signature)
	if err != nil || len(sig) != ed25519.SignatureSize {
		return fmt.Errorf("%w: %s %q: the signature is not %d bytes of hex", ErrBadSignature, r.Role, r.ID, ed25519.SignatureSize)
	}
	pub, _ := hex.DecodeString(r.SignerKey())
	if len(pub) != ed25519.PublicKeySize || !ed25519.Verify(pub, r.SignBytes(), sig) {
		return fmt.Errorf("%w: %s %q is not signed by its own key %s (signed by another key, or changed after signing)", ErrBadSignature, r.Role, r.ID, r.SignerKey())
	}
	return nil
}

// permissionNames are the permissions a request may ask for.
var permissionNames = map[string]notaryv1.Permission{
	"anchor":   notaryv1.Permission_PERMISSION_ANCHOR,
	"revoke":   notaryv1.Permission_PERMISSION_REVOKE,
	"exchange": notaryv1.Permission_PERMISSION_EXCHANGE,
	"enroll":   notaryv1.Permission_PERMISSION_ENROLL,
}

// PermissionNames lists the permission names in their chain order.
func PermissionNames() []string { return []string{"anchor", "revoke", "exchange", "enroll"} }

// ParsePermissions maps permission names to the ascending, unique list the
// chain wants; at least one.
func ParsePermissions(names []string) ([]notaryv1.Permission, error) {
	if len(names) == 0 {
		return nil, errors.New("permissions: at least one of " + strings.Join(PermissionNames(), ", "))
	}
	seen := map[notaryv1.Permission]bool{}
	var out []notaryv1.Permission
	for _, n := range names {
		p, ok := permissionNames[n]
		if !ok {
			return nil, fmt.Errorf("permissions: unknown %q (use %s)", n, strings.Join(PermissionNames(), ", "))
		}
		if seen[p] {
			return nil, fmt.Errorf("permissions: %q twice", n)
		}
		seen[p] = true
		out = append(out, p)
	}
	for i := 1; i < len(out); i++ {
		for j := i; j > 0 && out[j] < out[j-1]; j-- {
			out[j], out[j-1] = out[j-1], out[j]
		}
	}
	return out, nil
}

// AgencyFiles is what NewAgency wrote.
type AgencyFiles struct {
	Dir         string
	Request     *Request
	RequestFile string // join-request.json in Dir
	CSRFile     string // tls.csr in Dir: the client certificate's request
}

// RequestFile is the name of the join request in an agency's identity
// directory (and in a ministry's home).
const RequestFile = "join-request.json"

// NewAgency makes an agency's identity in dir, on the agency's own host:
// its signing and salt keys (identity.json), its TLS key (tls.key) with the
// request for its client certificate (tls.csr, for the consortium CA), and
// its join request signed by the signing key. node is the gateway the
// identity uses by default ("" for none).
func NewAgency(dir, chainID, id, name string, permissions []string, node string) (*AgencyFiles, error) {
	if _, err := os.Stat(filepath.Join(dir, identity.File)); err == nil {
		return nil, fmt.Errorf("%s already holds an identity; use another directory", dir)
	}
	req := &Request{Format: Format, ChainID: chainID, Role: RoleAgency, ID: id, Name: name, PubKey: strings.Repeat("0", 64), Permissions: permissions}
	if err := req.Check(); err != nil {
		return nil, err
	}
	ident, err := identity.Generate(identity.RoleAgency, id, chainID)
	if err != nil {
		return nil, err
	}
	ident.Node = node
	if err := ident.Save(dir); err != nil {
		return nil, err
	}
	csr, err := pki.NewClientCSR(identity.RoleAgency, id)
	if err != nil {
		return nil, err
	}
	out := &AgencyFiles{Dir: dir, RequestFile: filepath.Join(dir, RequestFile), CSRFile: filepath.Join(dir, "tls.csr")}
	if err := pki.WriteFile(filepath.Join(dir, identity.KeyPEM), csr.KeyPEM, 0o600); err != nil {
		return nil, err
	}
	if err := pki.WriteFile(out.CSRFile, csr.CSRPEM, 0o644); err != nil {
		return nil, err
	}
	req.PubKey = hex.EncodeToString(ident.Public())
	tk, err := TLSKeyOf(csr.CSRPEM)
	if err != nil {
		return nil, err
	}
	req.TLSKey = hex.EncodeToString(tk)
	if err := req.Sign(ident.Key()); err != nil {
		return nil, err
	}
	out.Request = req
	if err := os.WriteFile(out.RequestFile, req.Encode(), 0o644); err != nil {
		return nil, err
	}
	return out, nil
}

// TLSKeyOf returns the key of a PEM certificate or certificate request as
// the chain registers it (ledger.TLSKeyHash): a request and the certificate
// issued from it give the same.
func TLSKeyOf(pemBytes []byte) ([]byte, error) {
	blk, _ := pem.Decode(pemBytes)
	if blk == nil {
		return nil, errors.New("not PEM: want a certificate or a certificate request")
	}
	switch blk.Type {
	case "CERTIFICATE":
		c, err := x509.ParseCertificate(blk.Bytes)
		if err != nil {
			return nil, fmt.Errorf("certificate: %w", err)
		}
		return ledger.TLSKeyHash(c.RawSubjectPublicKeyInfo), nil
	case "CERTIFICATE REQUEST":
		c, err := x509.ParseCertificateRequest(blk.Bytes)
		if err != nil {
			return nil, fmt.Errorf("certificate request: %w", err)
		}
		return ledger.TLSKeyHash(c.RawSubjectPublicKeyInfo), nil
	}
	return nil, fmt.Errorf("PEM block %q: want a CERTIFICATE or a CERTIFICATE REQUEST", blk.Type)
}

// Names of a renewal's files in an identity directory: the next client
// certificate's key and request, until the new certificate replaces
// tls.crt and the key replaces tls.key.
const (
	NextKeyFile = "tls.next.key"
	NextCSRFile = "tls.next.csr"
)

// NewRenewal makes a new key and certificate request for the client
// certificate of the identity in dir (an agency's or a ministry's), as
// NextKeyFile and NextCSRFile there, and returns the request's path and
// its key as the chain registers it. It refuses to overwrite a renewal in
// progress.
func NewRenewal(dir string) (csrFile string, key []byte, err error) {
	id, err := identity.Load(dir)
	if err != nil {
		return "", nil, err
	}
	keyFile, csrFile := filepath.Join(dir, NextKeyFile), filepath.Join(dir, NextCSRFile)
	if _, err := os.Stat(keyFile); err == nil {
		return "", nil, fmt.Errorf("%s already holds a renewal's key (%s): finish it or remove it first", dir, NextKeyFile)
	}
	csr, err := pki.NewClientCSR(id.Role, id.ID)
	if err != nil {
		return "", nil, err
	}
	if err := pki.WriteFile(keyFile, csr.KeyPEM, 0o600); err != nil {
		return "", nil, err
	}
	if err := pki.WriteFile(csrFile, csr.CSRPEM, 0o644); err != nil {
		return "", nil, err
	}
	key, err = TLSKeyOf(csr.CSRPEM)
	return csrFile, key, err
}
