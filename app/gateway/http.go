package gateway

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"log"
	"mime"
	"net"
	"net/http"
	"strings"
	"sync"

	"github.com/grpc-ecosystem/grpc-gateway/v2/runtime"
	"google.golang.org/genproto/googleapis/rpc/code"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/credentials"
	"google.golang.org/grpc/peer"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/encoding/protojson"
	"google.golang.org/protobuf/proto"

	notaryv1 "github.com/gobtechlab/notary/proto/notary/v1"
	"github.com/gobtechlab/notary/proto/notary/v1/gatewayv1"
)

// The HTTP/JSON routes (docs/adr/0022-http-json-gateway.md). grpc-gateway's
// generated reverse proxy (gatewayv1.RegisterGatewayHandlerClient) decodes
// each request from JSON and calls a client whose connection is the gateway
// itself, in process (localConn): the call runs the gRPC service's own
// method handler behind the same interceptors (recovery, metrics, limits
// and error mapping), with the caller's verified client certificate and
// pooled connection in its context, as a gRPC call has them. What fails
// before a handler (a body that is not JSON, unknown fields, a wrong
// content type, an oversize body) is counted, rate limited and answered
// like a gRPC request that does not decode.

// httpBodyFactor: a JSON body may be this many times max_recv_msg_bytes
// (bytes fields travel as base64, four characters for three bytes, and
// field names are spelt out); the decoded request must still fit
// max_recv_msg_bytes.
const httpBodyFactor = 2

// httpMaxHeaderBytes bounds a request's headers.
const httpMaxHeaderBytes = 64 << 10

// httpGateway serves the HTTP/JSON routes of a Server.
type httpGateway struct {
	s       *Server
	mux     *runtime.ServeMux
	srv     *http.Server
	tls     bool
	maxBody int64
	methods map[string]grpc.MethodDesc // by method name
	routes  map[string]string          // full method names by route path
	unary   grpc.UnaryServerInterceptor
}

// httpCall is what the HTTP layer learns of one request.
type httpCall struct {
	reached  bool // the request reached the interceptors
	tooLarge bool // its body exceeded maxBody
}

type httpCallKey struct{}

// httpConn is an HTTP connection: its pooled connection, and whether its
// client certificate has been looked at.
type httpConn struct {
	pc   *poolConn
	once sync.Once
}

type httpConnKey struct{}

func newHTTPGateway(s *Server, tlsCfg *tls.Config) (*httpGateway, error) {
	h := &httpGateway{
		s:       s,
		tls:     tlsCfg != nil,
		maxBody: int64(httpBodyFactor) * int64(s.cfg.MaxRecvMsgBytes),
		methods: map[string]grpc.MethodDesc{},
		routes:  map[string]string{},
		unary:   chainUnary(s.recoverUnary, s.metricsUnary, s.limitUnary),
	}
	for _, md := range gatewayv1.Gateway_ServiceDesc.Methods {
		h.methods[md.MethodName] = md
		h.routes[RoutePath(md.MethodName)] = "/" + gatewayv1.Gateway_ServiceDesc.ServiceName + "/" + md.MethodName
	}
	h.mux = runtime.NewServeMux(
		runtime.WithMarshalerOption(runtime.MIMEWildcard, &runtime.JSONPb{
			// The .proto field names, as receipts and trust bundles
			// have them; requests may use either spelling.
			MarshalOptions:   protojson.MarshalOptions{UseProtoNames: true},
			UnmarshalOptions: protojson.UnmarshalOptions{DiscardUnknown: false},
		}),
		runtime.WithErrorHandler(h.errorHandler),
		runtime.WithRoutingErrorHandler(h.routingError),
		// No header becomes gRPC metadata: the handlers read none, and a
		// grpc-timeout header must not shorten a submission's wait.
		runtime.WithIncomingHeaderMatcher(func(string) (string, bool) { return "", false }),
		runtime.WithOutgoingHeaderMatcher(func(string) (string, bool) { return "", false }),
	)
	if err := gatewayv1.RegisterGatewayHandlerClient(context.Background(), h.mux, gatewayv1.NewGatewayClient(localConn{h})); err != nil {
		return nil, fmt.Errorf("gateway: HTTP routes: %w", err)
	}
	cfg := s.cfg
	h.srv = &http.Server{
		Handler:   h,
		TLSConfig: tlsCfg,
		// The TLS handshake and the request's headers each within
		// tls_handshake_timeout; a body within submit_timeout; the answer
		// (which waits for commit) within submit_timeout and as long again.
		ReadHeaderTimeout: cfg.TLSHandshakeTimeout.Duration,
		ReadTimeout:       cfg.SubmitTimeout.Duration,
		WriteTimeout:      2 * cfg.SubmitTimeout.Duration,
		IdleTimeout:       cfg.IdleTimeout.Duration,
		MaxHeaderBytes:    httpMaxHeaderBytes,
		ErrorLog:          log.New(logWriter{s}, "", 0),
		ConnContext: func(ctx context.Context, c net.Conn) context.Context {
			if tc, ok := c.(*tls.Conn); ok {
				c = tc.NetConn()
			}
			pc, _ := c.(*poolConn)
			return context.WithValue(ctx, httpConnKey{}, &httpConn{pc: pc})
		},
	}
	return h, nil
}

// logWriter passes net/http's own messages (bad handshakes, broken
// connections) to the gateway's log at debug level.
type logWriter struct{ s *Server }

func (w logWriter) Write(p []byte) (int, error) {
	w.s.log.Debug("gateway: http", "msg", strings.TrimSpace(string(p)))
	return len(p), nil
}

// serve serves l until the server is shut down.
func (h *httpGateway) serve(l net.Listener) error {
	var err error
	if h.tls {
		err = h.srv.ServeTLS(l, "", "")
	} else {
		err = h.srv.Serve(l)
	}
	if errors.Is(err, http.ErrServerClosed) {
		return nil
	}
	return err
}

// ServeHTTP implements http.Handler: it checks what the routes' decoding
// would not, puts the caller in the request's context and hands the
// request to the routes.
func (h *httpGateway) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	call := &httpCall{}
	ctx := context.WithValue(r.Context(), httpCallKey{}, call)
	p := &peer.Peer{Addr: remoteAddr(r)}
	if r.TLS != nil {
		p.AuthInfo = credentials.TLSInfo{State: *r.TLS, CommonAuthInfo: credentials.CommonAuthInfo{SecurityLevel: credentials.PrivacyAndIntegrity}}
	}
	ctx = peer.NewContext(ctx, p)
	if hc, _ := r.Context().Value(httpConnKey{}).(*httpConn); hc != nil && hc.pc != nil {
		if p.AuthInfo != nil {
			hc.once.Do(func() { h.s.authenticate(hc.pc, p.AuthInfo) })
		}
		ctx = context.WithValue(ctx, connKey{}, hc.pc)
		hc.pc.begin()
		defer hc.pc.end()
	}
	r = r.WithContext(ctx)
	if _, known := h.routes[r.URL.Path]; known && r.Method == http.MethodPost {
		if err := h.checkBody(r); err != nil {
			h.refuseEarly(ctx, w, r, err)
			return
		}
		r.Body = &limitedBody{ReadCloser: http.MaxBytesReader(w, r.Body, h.maxBody), call: call}
	}
	h.mux.ServeHTTP(w, r)
}

// checkBody refuses a body of another content type, or longer than
// maxBody by its Content-Length.
func (h *httpGateway) checkBody(r *http.Request) error {
	ct := r.Header.Get("Content-Type")
	mt, _, err := mime.ParseMediaType(ct)
	if err != nil || mt != "application/json" {
		return &httpStatusError{http.StatusUnsupportedMediaType, status.Errorf(codes.InvalidArgument,
			"the body's Content-Type is %s: the routes take application/json (a request message in protobuf's JSON mapping)", quote(ct))}
	}
	if r.ContentLength > h.maxBody {
		return h.tooLarge()
	}
	return nil
}

func (h *httpGateway) tooLarge() error {
	return &httpStatusError{http.StatusRequestEntityTooLarge, status.Errorf(codes.ResourceExhausted,
		"the request body exceeds %d bytes (gateway limit: %d times max_recv_msg_bytes, %d)", h.maxBody, httpBodyFactor, h.s.cfg.MaxRecvMsgBytes)}
}

// httpStatusError is a status answered with an HTTP status of its own
// rather than the one its code maps to.
type httpStatusError struct {
	http int
	err  error
}

func (e *httpStatusError) Error() string { return e.err.Error() }

func (e *httpStatusError) GRPCStatus() *status.Status { return status.Convert(e.err) }

// limitedBody records that a body was cut at maxBody.
type limitedBody struct {
	io.ReadCloser
	call *httpCall
}

func (b *limitedBody) Read(p []byte) (int, error) {
	n, err := b.ReadCloser.Read(p)
	var mbe *http.MaxBytesError
	if errors.As(err, &mbe) {
		b.call.tooLarge = true
	}
	return n, err
}

// remoteAddr is the TCP address of r's client.
func remoteAddr(r *http.Request) net.Addr {
	a, err := net.ResolveTCPAddr("tcp", r.RemoteAddr)
	if err != nil {
		return nil
	}
	return a
}

// RoutePath is the path of the HTTP route of a Gateway method:
// "/v1/" and the method's name in kebab case ("/v1/lookup-digest"), as
// proto/notary/v1/gateway_http.yaml has them.
func RoutePath(method string) string {
	var b strings.Builder
	b.WriteString("/v1/")
	for i, r := range method {
		if 'A' <= r && r <= 'Z' {
			if i > 0 {
				b.WriteByte('-')
			}
			r += 'a' - 'A'
		}
		b.WriteRune(r)
	}
	return b.String()
}

// routeMethod is the gRPC method of the route of r
// ("/notary.v1.Gateway/Submit"); r names a route.
func (h *httpGateway) routeMethod(ctx context.Context, r *http.Request) string {
	if m, ok := runtime.RPCMethod(ctx); ok {
		return m
	}
	return h.routes[r.URL.Path]
}

// refuseEarly answers a request refused before it reached a handler: it is
// counted and rate limited like a gRPC request that does not decode.
func (h *httpGateway) refuseEarly(ctx context.Context, w http.ResponseWriter, r *http.Request, err error) {
	method := h.routeMethod(ctx, r)
	if rerr := h.s.admit(ctx, method); rerr != nil {
		err = rerr
	} else {
		err = h.s.refuse("malformed", err)
	}
	h.s.m.requests.WithLabelValues(methodName(method), status.Code(err).String()).Inc()
	h.writeError(w, err)
}

// errorHandler answers an error of a route: a status from the handlers, or
// a refusal of the routes' own decoding.
func (h *httpGateway) errorHandler(ctx context.Context, _ *runtime.ServeMux, _ runtime.Marshaler, w http.ResponseWriter, r *http.Request, err error) {
	call, _ := ctx.Value(httpCallKey{}).(*httpCall)
	if call != nil && !call.reached {
		if call.tooLarge {
			err = h.tooLarge()
		} else if st := status.Convert(err); st.Code() == codes.InvalidArgument || st.Code() == codes.Unknown {
			err = status.Errorf(codes.InvalidArgument, "malformed request: the body is not a valid JSON %s: %s",
				requestName(h.methods[methodName(h.routeMethod(ctx, r))]), clip(st.Message()))
		}
		h.refuseEarly(ctx, w, r, err)
		return
	}
	h.writeError(w, err)
}

// requestName names the request message of a method, for messages.
func requestName(md grpc.MethodDesc) string {
	if md.MethodName == "" {
		return "request message"
	}
	return "notary.v1." + md.MethodName + "Request"
}

// routingError answers a request that names no route.
func (h *httpGateway) routingError(_ context.Context, _ *runtime.ServeMux, _ runtime.Marshaler, w http.ResponseWriter, r *http.Request, httpStatus int) {
	switch httpStatus {
	case http.StatusMethodNotAllowed, http.StatusNotImplemented:
		h.writeError(w, &httpStatusError{http.StatusMethodNotAllowed, status.Errorf(codes.Unimplemented,
			"%s %s: the routes take POST", r.Method, quote(r.URL.Path))})
	default:
		h.writeError(w, &httpStatusError{http.StatusNotFound, status.Errorf(codes.NotFound,
			"no route %s %s: the routes are POST /v1/... (proto/notary/v1/gateway.swagger.json)", r.Method, quote(r.URL.Path))})
	}
}

// HTTPStatus is the HTTP status of an error answer with gRPC code c.
func HTTPStatus(c codes.Code) int { return runtime.HTTPStatusFromCode(c) }

// CodeName is the stable name of gRPC code c ("INVALID_ARGUMENT"), which
// HTTP error answers carry in their status field.
func CodeName(c codes.Code) string {
	if n, ok := code.Code_name[int32(c)]; ok {
		return n
	}
	return code.Code_name[int32(codes.Unknown)]
}

// writeError writes err as an HttpError body.
func (h *httpGateway) writeError(w http.ResponseWriter, err error) {
	st := status.Convert(err)
	hs := HTTPStatus(st.Code())
	var he *httpStatusError
	if errors.As(err, &he) {
		hs = he.http
	}
	p := st.Proto()
	body, merr := protojson.MarshalOptions{UseProtoNames: true}.Marshal(&notaryv1.HttpError{Code: p.Code, Message: p.Message, Details: p.Details, Status: CodeName(st.Code())})
	if merr != nil {
		h.s.log.Error("gateway: encode an HTTP error", "err", merr)
		hs = http.StatusInternalServerError
		body = []byte(`{"code":13,"message":"internal error","status":"INTERNAL"}`)
	}
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("X-Content-Type-Options", "nosniff")
	w.WriteHeader(hs)
	_, _ = w.Write(body)
}

// localConn is the in-process connection of the HTTP routes' client: a
// call runs the service's method handler behind the gateway's unary
// interceptors, as the gRPC server runs it.
type localConn struct{ h *httpGateway }

// Invoke implements grpc.ClientConnInterface.
func (c localConn) Invoke(ctx context.Context, method string, args, reply any, _ ...grpc.CallOption) error {
	if call, _ := ctx.Value(httpCallKey{}).(*httpCall); call != nil {
		call.reached = true
	}
	md, ok := c.h.methods[methodName(method)]
	if !ok {
		return status.Errorf(codes.Unimplemented, "method %s has no HTTP route", method)
	}
	in, ok := args.(proto.Message)
	if !ok {
		return status.Error(codes.Internal, internalMessage)
	}
	s := c.h.s
	if n := proto.Size(in); n > s.cfg.MaxRecvMsgBytes {
		return status.Errorf(codes.ResourceExhausted, "the request is %d bytes as protobuf; gateway limit max_recv_msg_bytes is %d", n, s.cfg.MaxRecvMsgBytes)
	}
	dec := func(v any) error {
		m, ok := v.(proto.Message)
		if !ok {
			return status.Error(codes.Internal, internalMessage)
		}
		proto.Merge(m, in)
		return nil
	}
	resp, err := md.Handler(s, ctx, dec, c.h.unary)
	if err != nil {
		return err
	}
	out, ok := resp.(proto.Message)
	if !ok {
		return status.Error(codes.Internal, internalMessage)
	}
	if n := proto.Size(out); n > s.cfg.MaxSendMsgBytes {
		return status.Errorf(codes.ResourceExhausted, "the response is %d bytes; gateway limit max_send_msg_bytes is %d", n, s.cfg.MaxSendMsgBytes)
	}
	proto.Merge(reply.(proto.Message), out)
	return nil
}

// NewStream implements grpc.ClientConnInterface: no route streams.
func (localConn) NewStream(context.Context, *grpc.StreamDesc, string, ...grpc.CallOption) (grpc.ClientStream, error) {
	return nil, status.Error(codes.Unimplemented, "streams have no HTTP route: use SubmitBatch")
}

// chainUnary chains interceptors, the first outermost, as
// grpc.ChainUnaryInterceptor does.
func chainUnary(ics ...grpc.UnaryServerInterceptor) grpc.UnaryServerInterceptor {
	return func(ctx context.Context, req any, info *grpc.UnaryServerInfo, h grpc.UnaryHandler) (any, error) {
		next := h
		for i := len(ics) - 1; i >= 0; i-- {
			ic, n := ics[i], next
			next = func(ctx context.Context, req any) (any, error) { return ic(ctx, req, info, n) }
		}
		return next(ctx, req)
	}
}
