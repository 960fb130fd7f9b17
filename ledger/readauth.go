package ledger

import (
	"encoding/binary"
	"errors"
	"fmt"

	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/reflect/protoreflect"

	notaryv1 "github.com/gobtechlab/notary/proto/notary/v1"
)

// ReadSignPrefix starts the sign bytes of a signed read (notary.v1.ReadAuth).
// The state machine never sees signed reads: the gateway checks them, and
// this package defines their bytes next to those of transactions so that
// both domains stay apart.
const ReadSignPrefix = "notary/read/v1"

// readAuthField is the name of the read_auth field of the requests that
// carry one.
const readAuthField = "read_auth"

// ReadSignBytes returns the bytes a ReadAuth signature covers:
//
//	"notary/read/v1" || uvarint(len(chainID)) || chainID
//	|| uvarint(len(method)) || method || request || be64(unixTime)
//
// where method is the full gRPC method name ("/notary.v1.Gateway/ListConsents")
// and request the canonical encoding of the request with read_auth unset
// (ReadRequestBytes).
func ReadSignBytes(chainID, method string, request []byte, unixTime int64) []byte {
	out := make([]byte, 0, len(ReadSignPrefix)+2*binary.MaxVarintLen64+len(chainID)+len(method)+len(request)+8)
	out = append(out, ReadSignPrefix...)
	out = binary.AppendUvarint(out, uint64(len(chainID)))
	out = append(out, chainID...)
	out = binary.AppendUvarint(out, uint64(len(method)))
	out = append(out, method...)
	out = append(out, request...)
	return binary.BigEndian.AppendUint64(out, uint64(unixTime))
}

// ReadRequestBytes returns the canonical encoding of req with its read_auth
// field unset (req is not modified). It fails if req has no read_auth field
// or does not encode.
func ReadRequestBytes(req proto.Message) ([]byte, error) {
	fd, err := readAuthFieldOf(req)
	if err != nil {
		return nil, err
	}
	m := req.ProtoReflect()
	if !m.Has(fd) {
		return marshalOpts.Marshal(req)
	}
	c := proto.Clone(req)
	c.ProtoReflect().Clear(fd)
	return marshalOpts.Marshal(c)
}

// ReadAuthOf returns the read_auth of req, or nil if it has none.
func ReadAuthOf(req proto.Message) *notaryv1.ReadAuth {
	fd, err := readAuthFieldOf(req)
	if err != nil || !req.ProtoReflect().Has(fd) {
		return nil
	}
	a, _ := req.ProtoReflect().Get(fd).Message().Interface().(*notaryv1.ReadAuth)
	return a
}

// SignRead sets req's read_auth for chainID and method at unixTime, signed
// by pub with sign, which returns the ed25519 signature of the sign bytes it
// is given (as for EncodeSigned). Holders of a private key use
// client.SignRead, which supplies sign.
func SignRead(chainID, method string, pub []byte, req proto.Message, unixTime int64, sign func(signBytes []byte) []byte) error {
	fd, err := readAuthFieldOf(req)
	if err != nil {
		return err
	}
	if len(pub) != PublicKeySize {
		return fmt.Errorf("ledger: sign read: the public key is %d bytes, want %d", len(pub), PublicKeySize)
	}
	b, err := ReadRequestBytes(req)
	if err != nil {
		return fmt.Errorf("ledger: sign read: encode %s: %w", req.ProtoReflect().Descriptor().FullName(), err)
	}
	auth := &notaryv1.ReadAuth{
		PubKey:    append([]byte(nil), pub...),
		Time:      unixTime,
		Signature: sign(ReadSignBytes(chainID, method, b, unixTime)),
	}
	req.ProtoReflect().Set(fd, protoreflect.ValueOfMessage(auth.ProtoReflect()))
	return nil
}

// VerifyRead checks the read_auth of req for chainID and method: a 32-byte
// key and its signature of the request at the auth's time. It does not judge
// the time (the caller compares it with its clock).
func VerifyRead(chainID, method string, req proto.Message) (*notaryv1.ReadAuth, error) {
	auth := ReadAuthOf(req)
	if auth == nil {
		return nil, errors.New("the request carries no read_auth")
	}
	if len(auth.PubKey) != PublicKeySize {
		return nil, fmt.Errorf("read_auth.pub_key is %d bytes; an ed25519 public key is %d bytes", len(auth.PubKey), PublicKeySize)
	}
	if len(auth.Signature) != SignatureSize {
		return nil, fmt.Errorf("read_auth.signature is %d bytes; an ed25519 signature is %d bytes", len(auth.Signature), SignatureSize)
	}
	b, err := ReadRequestBytes(req)
	if err != nil {
		return nil, fmt.Errorf("the request does not encode: %w", err)
	}
	if !VerifySignature(auth.PubKey, ReadSignBytes(chainID, method, b, auth.Time), auth.Signature) {
		return nil, errors.New("read_auth.signature does not verify (sign bytes: docs/DESIGN.md, signed reads)")
	}
	return auth, nil
}

func readAuthFieldOf(req proto.Message) (protoreflect.FieldDescriptor, error) {
	if req == nil {
		return nil, errors.New("ledger: no request")
	}
	d := req.ProtoReflect().Descriptor()
	fd := d.Fields().ByName(readAuthField)
	if fd == nil || fd.Message() == nil || fd.Message().FullName() != (&notaryv1.ReadAuth{}).ProtoReflect().Descriptor().FullName() {
		return nil, fmt.Errorf("ledger: %s has no read_auth field", d.FullName())
	}
	return fd, nil
}

// SubjectPrefixes returns the prefixes of the state keys that hold a
// citizen's records: consents, the subject's consent index and its index of
// active consents, access history entries and heads.
func SubjectPrefixes() [][]byte {
	return [][]byte{
		append([]byte(nil), prefixConsent...),
		append([]byte(nil), prefixSubjConsent...),
		append([]byte(nil), prefixExchange...),
		append([]byte(nil), prefixAccessHead...),
		append([]byte(nil), prefixActive...),
	}
}
