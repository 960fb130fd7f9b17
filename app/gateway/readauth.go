package gateway

import (
	"bytes"
	"context"
	"fmt"
	"time"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/proto"

	"github.com/gobtechlab/notary/ledger"
	notaryv1 "github.com/gobtechlab/notary/proto/notary/v1"
)

// MaxReadSkew is how far the time of a signed read (ReadAuth.time) may be
// from the node's clock, either way.
const MaxReadSkew = 5 * time.Minute

// reader is who asks for a citizen's records: the caller (its client
// certificate, if any) and the subject whose key signed the request, if it
// carries a valid read_auth.
type reader struct {
	caller
	subject []byte
}

// agency reports whether the reader presents the client certificate of
// agency id.
func (r reader) agency(id string) bool { return r.role == "agency" && r.id == id }

// signedBy reports whether the request is signed by the key of subject.
func (r reader) signedBy(subject []byte) bool {
	return r.subject != nil && bytes.Equal(r.subject, subject)
}

// anonymous reports whether the reader proved nothing: no client
// certificate and no read_auth.
func (r reader) anonymous() bool { return r.role == "" && r.subject == nil }

func (r reader) describe() string {
	switch {
	case r.subject != nil && r.role != "":
		return fmt.Sprintf("a signature by the key of subject %x and %s", r.subject, r.caller.describe())
	case r.subject != nil:
		return fmt.Sprintf("a signature by the key of subject %x", r.subject)
	}
	return r.caller.describe()
}

// readerOf authenticates a read of a citizen's records: the caller's client
// certificate, and the request's read_auth if it carries one, which must be
// a valid signature of the request for method by a key, made within
// MaxReadSkew of the node's clock. A read_auth that fails these checks is
// refused (Unauthenticated) even if the certificate alone would do.
func (s *Server) readerOf(ctx context.Context, method string, req proto.Message) (reader, error) {
	r := reader{caller: callerFrom(ctx)}
	if ledger.ReadAuthOf(req) == nil {
		return r, nil
	}
	name := methodName(method)
	auth, err := ledger.VerifyRead(s.chainID, method, req)
	if err != nil {
		return r, s.refuse("read_auth", status.Errorf(codes.Unauthenticated, "%s: %v", name, err))
	}
	now := time.Now()
	skew := int64(MaxReadSkew / time.Second)
	if auth.Time < now.Unix()-skew || auth.Time > now.Unix()+skew {
		return r, s.refuse("read_auth", status.Errorf(codes.Unauthenticated,
			"%s: read_auth.time %s is more than %s from this node's clock (%s): check the clock of the signer and sign the request again",
			name, time.Unix(auth.Time, 0).UTC().Format(time.RFC3339), MaxReadSkew, now.UTC().Format(time.RFC3339)))
	}
	r.subject = ledger.SubjectID(auth.PubKey)
	s.citizenAuthenticated(ctx, auth.PubKey)
	return r, nil
}

// citizenAuthenticated is called once a request carries a valid signature
// by a citizen's key pub (a fresh ReadAuth that verifies, or a consent
// transaction that passed the gateway's checks): the connection that carried
// it serves the holder of that key. If the chain lists the key as a
// citizen's, the connection joins the pool reserved for the chain's
// participants (promoteConn).
func (s *Server) citizenAuthenticated(ctx context.Context, pub []byte) {
	view, err := s.app.StateAt(0)
	if err != nil {
		return
	}
	acct := &notaryv1.Account{}
	if ok, err := loadRecord(view, ledger.AccountKey(pub), acct); err == nil && ok && acct.Role == notaryv1.Role_ROLE_CITIZEN {
		s.promoteConn(ctx)
	}
}

// unauthenticated refuses a read of a citizen's records by a caller that
// proved nothing.
func (s *Server) unauthenticated(format string, args ...any) error {
	return s.refuse("read_auth", status.Errorf(codes.Unauthenticated, format, args...))
}

// forbidden refuses a read of a citizen's records by a caller that is not
// one of those it is returned to.
func (s *Server) forbidden(format string, args ...any) error {
	return s.refuse("permission", status.Errorf(codes.PermissionDenied, format, args...))
}

// ownSubject lets r read the records of subject only if it signed the
// request with that subject's key; what names the records, for messages.
func (s *Server) ownSubject(r reader, method, what string, subject []byte) error {
	name := methodName(method)
	switch {
	case r.signedBy(subject):
		return nil
	case r.anonymous():
		return s.unauthenticated("%s returns %s only to its subject: sign the request with the subject's key (read_auth, see notary.v1.ReadAuth); the request carries no read_auth", name, what)
	case r.subject == nil:
		return s.forbidden("%s returns %s only to its subject (a request signed with the subject's key, read_auth); the request presents %s and no read_auth", name, what, r.describe())
	}
	return s.forbidden("%s returns %s only to its subject: the request asks for subject %x but is signed by the key of subject %x", name, what, subject, r.subject)
}
