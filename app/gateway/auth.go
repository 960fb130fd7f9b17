package gateway

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"fmt"
	"os"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/credentials"
	"google.golang.org/grpc/peer"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/proto"

	"github.com/gobtechlab/notary/abci"
	"github.com/gobtechlab/notary/app/internal/pki"
	"github.com/gobtechlab/notary/ledger"
	notaryv1 "github.com/gobtechlab/notary/proto/notary/v1"
)

// serverTLS builds the gateway's TLS configuration: TLS 1.2 or later with the
// node's certificate; client certificates are asked for, verified against
// clientCA when one is given (a bad one fails the handshake), and not
// required (reads need none).
func serverTLS(certFile, keyFile, clientCA string) (*tls.Config, error) {
	cert, err := tls.LoadX509KeyPair(certFile, keyFile)
	if err != nil {
		return nil, fmt.Errorf("gateway: TLS certificate: %w", err)
	}
	cfg := &tls.Config{
		MinVersion:   tls.VersionTLS12,
		Certificates: []tls.Certificate{cert},
		NextProtos:   []string{"h2"},
	}
	if clientCA != "" {
		pem, err := os.ReadFile(clientCA)
		if err != nil {
			return nil, fmt.Errorf("gateway: client CA: %w", err)
		}
		pool := x509.NewCertPool()
		if !pool.AppendCertsFromPEM(pem) {
			return nil, fmt.Errorf("gateway: client CA %s holds no certificate", clientCA)
		}
		cfg.ClientCAs = pool
		cfg.ClientAuth = tls.VerifyClientCertIfGiven
	}
	return cfg, nil
}

// caller is who sent a request: the participant named by a verified client
// certificate, if any.
type caller struct {
	role, id string // from the certificate; empty without one
	keyHash  []byte // the certificate's key, as the chain registers it
}

// callerFrom reads the caller of a request from its context.
func callerFrom(ctx context.Context) caller {
	var c caller
	p, ok := peer.FromContext(ctx)
	if !ok {
		return c
	}
	cert := verifiedCert(p.AuthInfo)
	if cert == nil {
		return c
	}
	role, id, err := pki.ParseIdentity(cert)
	if err != nil {
		return c
	}
	c.role, c.id, c.keyHash = role, id, certKeyHash(cert)
	return c
}

// certIdentity returns the participant named by the verified client
// certificate of a connection; empty strings without one.
func certIdentity(info credentials.AuthInfo) (role, id string) {
	cert := verifiedCert(info)
	if cert == nil {
		return "", ""
	}
	role, id, err := pki.ParseIdentity(cert)
	if err != nil {
		return "", ""
	}
	return role, id
}

// verifiedCert returns the verified client certificate of a connection, or
// nil. Only a certificate whose chain was verified counts: with
// VerifyClientCertIfGiven an unverifiable one never gets here, but a
// configuration without a client CA must not trust one.
func verifiedCert(info credentials.AuthInfo) *x509.Certificate {
	ti, ok := info.(credentials.TLSInfo)
	if !ok || len(ti.State.VerifiedChains) == 0 || len(ti.State.VerifiedChains[0]) == 0 {
		return nil
	}
	return ti.State.VerifiedChains[0][0]
}

func (c caller) describe() string {
	if c.role != "" {
		return "the client certificate of " + c.role + " " + fmt.Sprintf("%q", c.id)
	}
	return "a caller without a client certificate"
}

func denied(format string, args ...any) error {
	return status.Errorf(codes.PermissionDenied, format, args...)
}

// msgName is the name of a transaction's message, for messages.
func msgName(tx *ledger.Tx) string {
	switch tx.Body.Msg.(type) {
	case *notaryv1.TxBody_AnchorBatch:
		return "AnchorBatch"
	case *notaryv1.TxBody_Revoke:
		return "Revoke"
	case *notaryv1.TxBody_GrantConsent:
		return "GrantConsent"
	case *notaryv1.TxBody_WithdrawConsent:
		return "WithdrawConsent"
	case *notaryv1.TxBody_RecordExchange:
		return "RecordExchange"
	case *notaryv1.TxBody_Propose:
		return "Propose"
	case *notaryv1.TxBody_Vote:
		return "Vote"
	case *notaryv1.TxBody_EnrollCitizen:
		return "EnrollCitizen"
	}
	return "an unknown message"
}

// authorize decides whether c may submit tx, from the committed state view:
// agency messages (EnrollCitizen among them) need the client certificate of the agency that owns the
// signing key, holds the message's permission and is active, and the message
// must name that agency; governance messages likewise for a ministry; a
// citizen's consent messages are authorised by their signature alone.
func authorize(view *abci.StateView, tx *ledger.Tx, c caller) error {
	var (
		role  notaryv1.Role
		perm  notaryv1.Permission
		named string
	)
	switch m := tx.Body.Msg.(type) {
	case *notaryv1.TxBody_GrantConsent, *notaryv1.TxBody_WithdrawConsent:
		return nil
	case *notaryv1.TxBody_AnchorBatch:
		role, perm, named = notaryv1.Role_ROLE_AGENCY, notaryv1.Permission_PERMISSION_ANCHOR, m.AnchorBatch.AgencyId
	case *notaryv1.TxBody_Revoke:
		role, perm = notaryv1.Role_ROLE_AGENCY, notaryv1.Permission_PERMISSION_REVOKE
	case *notaryv1.TxBody_RecordExchange:
		role, perm, named = notaryv1.Role_ROLE_AGENCY, notaryv1.Permission_PERMISSION_EXCHANGE, m.RecordExchange.RequesterAgencyId
	case *notaryv1.TxBody_Propose:
		role, named = notaryv1.Role_ROLE_MINISTRY, m.Propose.MinistryId
	case *notaryv1.TxBody_Vote:
		role, named = notaryv1.Role_ROLE_MINISTRY, m.Vote.MinistryId
	case *notaryv1.TxBody_EnrollCitizen:
		role, perm, named = notaryv1.Role_ROLE_AGENCY, notaryv1.Permission_PERMISSION_ENROLL, m.EnrollCitizen.AgencyId
	default:
		return invalidArg("the transaction carries no known message")
	}
	want := "agency"
	if role == notaryv1.Role_ROLE_MINISTRY {
		want = "ministry"
	}
	msg := msgName(tx)
	if c.role == "" {
		return denied("%s needs the client certificate (mutual TLS) of the %s that signs it; the request has none", msg, want)
	}
	if c.role != want {
		article := "an"
		if want == "ministry" {
			article = "a"
		}
		return denied("%s needs %s %s's client certificate; the request presents %s", msg, article, want, c.describe())
	}
	acct := &notaryv1.Account{}
	ok, err := loadRecord(view, ledger.AccountKey(tx.Signer), acct)
	if err != nil {
		return err
	}
	if !ok || acct.Role != role {
		return denied("%s is signed by key %x, which is not a registered %s key", msg, tx.Signer, want)
	}
	if acct.Owner != c.id {
		return denied("%s is signed by the key of %s %q, but the request presents %s", msg, want, acct.Owner, c.describe())
	}
	if named != "" && named != c.id {
		return denied("%s names %s %s, but the request presents %s", msg, want, quote(named), c.describe())
	}
	if role == notaryv1.Role_ROLE_MINISTRY {
		m := &notaryv1.Ministry{}
		ok, err := loadRecord(view, ledger.MinistryKey(c.id), m)
		if err != nil {
			return err
		}
		if !ok || !m.Active {
			return denied("ministry %q is not an active member of the consortium", c.id)
		}
		return nil
	}
	a := &notaryv1.Agency{}
	ok, err = loadRecord(view, ledger.AgencyKey(c.id), a)
	if err != nil {
		return err
	}
	if !ok || !a.Active {
		return denied("agency %q is not an active registered agency", c.id)
	}
	for _, p := range a.Permissions {
		if p == perm {
			return nil
		}
	}
	return denied("agency %q lacks %s, which %s needs", c.id, perm, msg)
}

// loadRecord reads and decodes the record at key; it reports false if there
// is none. A record that does not decode is a damaged state.
func loadRecord(view *abci.StateView, key []byte, m proto.Message) (bool, error) {
	b, err := view.Get(key)
	if err != nil || b == nil {
		return false, err
	}
	if err := proto.Unmarshal(b, m); err != nil {
		return false, &ledger.StoreError{Err: fmt.Errorf("decode %T at %q: %w", m, key, err)}
	}
	return true, nil
}
