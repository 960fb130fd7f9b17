// Package identity stores a participant's keys: an agency's, a ministry's
// governance key or a citizen's, with the TLS client certificate that agencies
// and ministries present to the gateway.
//
// An identity directory holds:
//
//	identity.json   role, id, chain id, ed25519 key (and an agency's salt key)
//	tls.crt tls.key the client certificate issued by the consortium CA (agencies, ministries)
//	ca.crt          the consortium CA, to authenticate the gateway
package identity

import (
	"crypto/ed25519"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"

	"github.com/gobtechlab/notary/app/inputfile"
	"github.com/gobtechlab/notary/ledger"
	notaryv1 "github.com/gobtechlab/notary/proto/notary/v1"
)

// Roles.
const (
	RoleAgency   = "agency"
	RoleMinistry = "ministry"
	RoleCitizen  = "citizen"
)

// File names inside an identity directory.
const (
	File    = "identity.json"
	CertPEM = "tls.crt"
	KeyPEM  = "tls.key"
	CAPEM   = "ca.crt"
)

// Identity is a participant's signing identity.
type Identity struct {
	// Role is agency, ministry or citizen.
	Role string `json:"role"`
	// ID is the agency or ministry id; for a citizen, the hex subject id.
	ID string `json:"id"`
	// ChainID the identity signs for.
	ChainID string `json:"chain_id"`
	// PublicKey and PrivateKey (its 32-byte seed) are the ed25519 signing key, hex.
	PublicKey  string `json:"public_key"`
	PrivateKey string `json:"private_key"`
	// SaltKey (agencies) derives per-document salts, hex; see app/client.
	SaltKey string `json:"salt_key,omitempty"`
	// Node is the default gateway address for this identity.
	Node string `json:"node,omitempty"`

	dir  string
	priv ed25519.PrivateKey
}

// Generate creates a new identity with fresh random keys. For a citizen the
// id is the subject id derived from the key.
func Generate(role, id, chainID string) (*Identity, error) {
	pub, priv, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		return nil, err
	}
	return FromKey(role, id, chainID, priv, pub)
}

// FromKey builds an identity around an existing key.
func FromKey(role, id, chainID string, priv ed25519.PrivateKey, pub ed25519.PublicKey) (*Identity, error) {
	switch role {
	case RoleAgency, RoleMinistry:
		if !ledger.ValidID(id) {
			return nil, fmt.Errorf("identity: bad %s id %q", role, id)
		}
	case RoleCitizen:
		id = hex.EncodeToString(ledger.SubjectID(pub))
	default:
		return nil, fmt.Errorf("identity: unknown role %q", role)
	}
	i := &Identity{Role: role, ID: id, ChainID: chainID, PublicKey: hex.EncodeToString(pub),
		PrivateKey: hex.EncodeToString(priv.Seed()), priv: priv}
	if role == RoleAgency {
		salt := make([]byte, 32)
		if _, err := rand.Read(salt); err != nil {
			return nil, err
		}
		i.SaltKey = hex.EncodeToString(salt)
	}
	return i, nil
}

// Key returns the signing key.
func (i *Identity) Key() ed25519.PrivateKey { return i.priv }

// Public returns the public key.
func (i *Identity) Public() ed25519.PublicKey { return i.priv.Public().(ed25519.PublicKey) }

// Salt returns the agency's salt key (nil for other roles).
func (i *Identity) Salt() []byte {
	b, _ := hex.DecodeString(i.SaltKey)
	return b
}

// Subject returns a citizen's subject id (the SubjectID of any key).
func (i *Identity) Subject() []byte { return ledger.SubjectID(i.Public()) }

// Dir is the directory the identity was loaded from or saved to.
func (i *Identity) Dir() string { return i.dir }

// Save writes identity.json into dir (mode 0600).
func (i *Identity) Save(dir string) error {
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return err
	}
	b, err := json.MarshalIndent(i, "", "  ")
	if err != nil {
		return err
	}
	if err := os.WriteFile(filepath.Join(dir, File), append(b, '\n'), 0o600); err != nil {
		return err
	}
	i.dir = dir
	return nil
}

// Load reads the identity in dir and checks that its keys belong together.
// Its files must be regular files: a named pipe or a device in their place
// is refused without being read (see package inputfile).
func Load(dir string) (*Identity, error) {
	if st, err := os.Stat(dir); err == nil && !st.IsDir() {
		return nil, fmt.Errorf("identity: %s is %s, not a directory", dir, inputfile.Kind(st.Mode()))
	}
	b, err := inputfile.ReadFile(filepath.Join(dir, File))
	if err != nil {
		return nil, fmt.Errorf("identity: %w", err)
	}
	var i Identity
	if err := json.Unmarshal(b, &i); err != nil {
		return nil, fmt.Errorf("identity: %s: %w", filepath.Join(dir, File), err)
	}
	seed, err := hex.DecodeString(i.PrivateKey)
	if err != nil || len(seed) != ed25519.SeedSize {
		return nil, fmt.Errorf("identity: %s: private_key must be a %d-byte hex seed", dir, ed25519.SeedSize)
	}
	i.priv = ed25519.NewKeyFromSeed(seed)
	if hex.EncodeToString(i.Public()) != i.PublicKey {
		return nil, fmt.Errorf("identity: %s: public_key does not match private_key", dir)
	}
	switch i.Role {
	case RoleAgency, RoleMinistry, RoleCitizen:
	default:
		return nil, fmt.Errorf("identity: %s: unknown role %q", dir, i.Role)
	}
	if i.Role == RoleAgency {
		if s := i.Salt(); len(s) != 32 {
			return nil, fmt.Errorf("identity: %s: an agency needs a 32-byte hex salt_key", dir)
		}
	}
	i.dir = dir
	return &i, nil
}

// ClientTLS returns the TLS configuration to reach a gateway: the consortium
// CA from the identity directory (or the system roots if there is none) and
// the client certificate if the identity has one.
func (i *Identity) ClientTLS() (*tls.Config, error) {
	return ClientTLS(i.dir)
}

// ClientTLS builds a client TLS configuration from the files in dir: ca.crt
// to authenticate the server, and tls.crt/tls.key if present (regular files
// only, as for Load).
func ClientTLS(dir string) (*tls.Config, error) {
	cfg := &tls.Config{MinVersion: tls.VersionTLS12}
	if dir == "" {
		return cfg, nil
	}
	if ca, err := inputfile.ReadFile(filepath.Join(dir, CAPEM)); err == nil {
		pool := x509.NewCertPool()
		if !pool.AppendCertsFromPEM(ca) {
			return nil, fmt.Errorf("identity: %s: no certificate in %s", dir, CAPEM)
		}
		cfg.RootCAs = pool
	} else if !errors.Is(err, os.ErrNotExist) {
		return nil, err
	}
	crt, err := inputfile.ReadFile(filepath.Join(dir, CertPEM))
	if errors.Is(err, os.ErrNotExist) {
		return cfg, nil
	}
	if err != nil {
		return nil, err
	}
	key, err := inputfile.ReadFile(filepath.Join(dir, KeyPEM))
	if err != nil {
		return nil, err
	}
	pair, err := tls.X509KeyPair(crt, key)
	if err != nil {
		return nil, fmt.Errorf("identity: %s: %w", dir, err)
	}
	cfg.Certificates = []tls.Certificate{pair}
	return cfg, nil
}

// SignTx builds the canonical, signed bytes of a transaction carrying body
// for chainID with key priv (body.ChainId is set).
func SignTx(chainID string, priv ed25519.PrivateKey, body *notaryv1.TxBody) []byte {
	return ledger.EncodeSigned(chainID, priv.Public().(ed25519.PublicKey), body, func(m []byte) []byte {
		return ed25519.Sign(priv, m)
	})
}

// SignTx signs body with the identity's key for its chain.
func (i *Identity) SignTx(body *notaryv1.TxBody) []byte { return SignTx(i.ChainID, i.priv, body) }

// ConfirmExchange returns the providing agency's confirmation of exchange m
// on chainID, signed with key priv (ledger.ConfirmSignBytes). m is not
// modified.
func ConfirmExchange(chainID string, priv ed25519.PrivateKey, m *notaryv1.RecordExchange) *notaryv1.ProviderConfirmation {
	return ledger.EncodeConfirmation(chainID, priv.Public().(ed25519.PublicKey), m, func(b []byte) []byte {
		return ed25519.Sign(priv, b)
	})
}

// ConfirmExchange confirms exchange m with the identity's key for its chain,
// as the providing agency.
func (i *Identity) ConfirmExchange(m *notaryv1.RecordExchange) *notaryv1.ProviderConfirmation {
	return ConfirmExchange(i.ChainID, i.priv, m)
}
