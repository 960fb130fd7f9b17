package gateway_test

import (
	"errors"
	"io"
	"strings"
	"testing"

	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/mem"
	"google.golang.org/grpc/status"

	"github.com/gobtechlab/notary/app"
	"github.com/gobtechlab/notary/app/apptest"
	"github.com/gobtechlab/notary/proto/notary/v1/gatewayv1"
)

// rawCodec sends and receives bytes as they are, so that a test can send
// requests that are not protobuf.
type rawCodec struct{}

func (rawCodec) Name() string { return "proto" }

func (rawCodec) Marshal(v any) (mem.BufferSlice, error) {
	return mem.BufferSlice{mem.SliceBuffer(*v.(*[]byte))}, nil
}

func (rawCodec) Unmarshal(data mem.BufferSlice, v any) error {
	*v.(*[]byte) = data.Materialize()
	return nil
}

// garbage is not a protobuf message: field 1 with wire type 7, which does
// not exist.
var garbage = []byte{0x0f, 0xff, 0xff, 0xff}

// TestMalformedRequests sends bytes that are not protobuf to unary methods
// and to a stream: the answer is InvalidArgument naming the message type (not
// gRPC's own Internal), the calls are counted in the request metrics, and
// they are rate limited like any other call.
func TestMalformedRequests(t *testing.T) {
	const burst = 6
	n := apptest.Start(t, apptest.Options{Gateway: func(c *app.GatewayConfig) {
		c.RatePerSecond = 0.001
		c.RateBurst = burst
	}})
	ctx := ctxT(t)
	cc := n.Dial(t, "", grpc.WithDefaultCallOptions(grpc.ForceCodecV2(rawCodec{})))

	before := counterValue(t, "notary_gateway_requests_total", map[string]string{"method": "ListBatches", "code": "InvalidArgument"})
	for i := 0; i < burst-1; i++ {
		var out []byte
		in := append([]byte(nil), garbage...)
		err := cc.Invoke(ctx, gatewayv1.Gateway_ListBatches_FullMethodName, &in, &out)
		wantCode(t, err, codes.InvalidArgument, "malformed ListBatches")
		if msg := status.Convert(err).Message(); !strings.Contains(msg, "notary.v1.ListBatchesRequest") {
			t.Fatalf("the message does not name the request type: %q", msg)
		}
	}
	after := counterValue(t, "notary_gateway_requests_total", map[string]string{"method": "ListBatches", "code": "InvalidArgument"})
	if after-before != burst-1 {
		t.Fatalf("requests_total{ListBatches,InvalidArgument} grew by %v, want %d", after-before, burst-1)
	}

	// A stream that sends garbage ends with InvalidArgument.
	st, err := cc.NewStream(ctx, &grpc.StreamDesc{ClientStreams: true, ServerStreams: true}, gatewayv1.Gateway_SubmitStream_FullMethodName)
	if err != nil {
		t.Fatal(err)
	}
	in := append([]byte(nil), garbage...)
	if err := st.SendMsg(&in); err != nil && !errors.Is(err, io.EOF) {
		t.Fatal(err)
	}
	var out []byte
	err = st.RecvMsg(&out)
	wantCode(t, err, codes.InvalidArgument, "malformed SubmitStream message")

	// The bucket is empty now: garbage is refused by the rate limit.
	var got []byte
	err = cc.Invoke(ctx, gatewayv1.Gateway_GetStatus_FullMethodName, &in, &got)
	wantCode(t, err, codes.ResourceExhausted, "garbage past the rate limit")
}
