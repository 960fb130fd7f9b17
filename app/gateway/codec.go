package gateway

import (
	"errors"

	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/encoding"
	protoenc "google.golang.org/grpc/encoding/proto"
	"google.golang.org/grpc/mem"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/encoding/protowire"
	"google.golang.org/protobuf/proto"
)

// decodeCodec is the gateway's gRPC codec: protobuf, except that a request
// that does not decode is not refused by gRPC itself (which answers Internal
// before any interceptor runs). The message is reset and carries the
// decoding error instead, as an unknown field numbered malformedField; the
// interceptors answer it with InvalidArgument once the call has been counted
// and rate limited, and no handler sees it. The mark lives in the message, so
// nothing is left behind when gRPC drops a call before the interceptors (a
// second message on a unary call, a reset stream).
type decodeCodec struct {
	base encoding.CodecV2
}

// malformedField is the field number of the mark: the largest valid one,
// which no message of the schema uses.
const malformedField = protowire.MaxValidNumber

func newDecodeCodec() *decodeCodec {
	return &decodeCodec{base: encoding.GetCodecV2(protoenc.Name)}
}

func (c *decodeCodec) Name() string { return c.base.Name() }

func (c *decodeCodec) Marshal(v any) (mem.BufferSlice, error) { return c.base.Marshal(v) }

func (c *decodeCodec) Unmarshal(data mem.BufferSlice, v any) error {
	err := c.base.Unmarshal(data, v)
	if err == nil {
		return nil
	}
	m, ok := v.(proto.Message)
	if !ok {
		return err
	}
	proto.Reset(m)
	mark := protowire.AppendTag(nil, malformedField, protowire.BytesType)
	mark = protowire.AppendString(mark, clip(err.Error()))
	m.ProtoReflect().SetUnknown(mark)
	return nil
}

// decodeError returns the decoding error a message carries (removing the
// mark), or nil. A message whose only unknown field is a well-formed mark
// counts as malformed whatever sent it.
func decodeError(v any) error {
	m, ok := v.(proto.Message)
	if !ok {
		return nil
	}
	r := m.ProtoReflect()
	u := r.GetUnknown()
	if len(u) == 0 {
		return nil
	}
	num, typ, n := protowire.ConsumeTag(u)
	if n < 0 || num != malformedField || typ != protowire.BytesType {
		return nil
	}
	s, k := protowire.ConsumeString(u[n:])
	if k < 0 || n+k != len(u) {
		return nil
	}
	r.SetUnknown(nil)
	return errors.New(s)
}

// malformed is the answer to a request that does not decode.
func malformed(v any, err error) error {
	name := "the request message"
	if m, ok := v.(proto.Message); ok {
		name = string(m.ProtoReflect().Descriptor().FullName())
	}
	return status.Errorf(codes.InvalidArgument, "malformed request: the bytes are not a valid %s: %v", name, clip(err.Error()))
}

// checkedStream is a server stream whose received messages that do not
// decode end the stream with InvalidArgument.
type checkedStream struct {
	grpc.ServerStream
}

func (s *checkedStream) RecvMsg(m any) error {
	if err := s.ServerStream.RecvMsg(m); err != nil {
		return err
	}
	if err := decodeError(m); err != nil {
		return malformed(m, err)
	}
	return nil
}
