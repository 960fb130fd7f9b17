package gateway

import (
	"bytes"
	"context"
	"crypto/x509"
	"encoding/hex"
	"strings"
	"sync"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"github.com/gobtechlab/notary/ledger"
	notaryv1 "github.com/gobtechlab/notary/proto/notary/v1"
)

// member is what the committed state says of a participant that a client
// certificate names.
type member struct {
	found   bool
	active  bool
	since   int64    // the height of the record's current form
	tlsKeys [][]byte // the registered certificate keys (TLSKeyHash); none: any the CA issued
}

// members caches the committed state's record of each participant that
// called, for one committed height: the first call after a commit reloads
// it, so a removal or a key change by governance applies from the next
// block on every call.
type members struct {
	mu     sync.Mutex
	height int64
	byID   map[string]member
}

// member returns the committed record of role/id.
func (s *Server) member(role, id string) (member, error) {
	height, _, _ := s.app.LastCommit()
	key := role + "/" + id
	s.members.mu.Lock()
	if s.members.height != height || s.members.byID == nil {
		s.members.height, s.members.byID = height, map[string]member{}
	}
	m, ok := s.members.byID[key]
	s.members.mu.Unlock()
	if ok {
		return m, nil
	}
	view, err := s.app.StateAt(height)
	if err != nil {
		return member{}, err
	}
	switch role {
	case "agency":
		a := &notaryv1.Agency{}
		m.found, err = loadRecord(view, ledger.AgencyKey(id), a)
		m.active, m.since, m.tlsKeys = a.Active, a.SinceHeight, a.TlsKeys
	case "ministry":
		r := &notaryv1.Ministry{}
		m.found, err = loadRecord(view, ledger.MinistryKey(id), r)
		m.active, m.since, m.tlsKeys = r.Active, r.SinceHeight, r.TlsKeys
	}
	if err != nil {
		return member{}, err
	}
	s.members.mu.Lock()
	if s.members.height == height {
		s.members.byID[key] = m
	}
	s.members.mu.Unlock()
	return m, nil
}

// checkMember refuses a call whose verified client certificate names a
// participant the committed state does not accept: one it does not list, one
// governance removed, or a certificate whose key is not among those
// registered for it. A call without a client certificate passes (what it
// may do is decided per method).
func (s *Server) checkMember(ctx context.Context, method string) error {
	if strings.HasPrefix(method, "/grpc.health.v1.Health/") {
		return nil
	}
	c := callerFrom(ctx)
	if c.role == "" {
		return nil
	}
	m, err := s.member(c.role, c.id)
	if err != nil {
		s.log.Error("gateway: read a member's record", "member", c.role+"/"+c.id, "err", err)
		return status.Error(codes.Unavailable, "the gateway cannot read the committed state; retry")
	}
	if err := m.accepts(c); err != nil {
		return s.refuse("membership", err)
	}
	return nil
}

// accepts checks c's certificate against the record.
func (m member) accepts(c caller) error {
	switch {
	case !m.found:
		return status.Errorf(codes.PermissionDenied, "the client certificate names %s %q, which the chain does not list as a member", c.role, c.id)
	case !m.active:
		return status.Errorf(codes.PermissionDenied, "%s %q was removed at height %d: its client certificates are no longer accepted", c.role, c.id, m.since)
	case len(m.tlsKeys) == 0:
		return nil
	}
	for _, k := range m.tlsKeys {
		if bytes.Equal(k, c.keyHash) {
			return nil
		}
	}
	return status.Errorf(codes.PermissionDenied,
		"key not registered: the client certificate's key (tls key %s) is not registered for %s %q on chain (renewed or withdrawn by governance at height %d); use a certificate whose key the chain lists",
		hex.EncodeToString(c.keyHash), c.role, c.id, m.since)
}

// certKeyHash is the registered form of a certificate's key.
func certKeyHash(cert *x509.Certificate) []byte {
	return ledger.TLSKeyHash(cert.RawSubjectPublicKeyInfo)
}
