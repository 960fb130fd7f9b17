package asynccheck

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	abcicli "github.com/cometbft/cometbft/abci/client"
	"github.com/cometbft/cometbft/abci/example/kvstore"
	abcitypes "github.com/cometbft/cometbft/abci/types"
)

const (
	// waitLong bounds the wait for something that must happen.
	waitLong = 5 * time.Second
	// waitShort is how long something that must not happen (yet) is given
	// to happen anyway.
	waitShort = 50 * time.Millisecond
)

// checkCall is one CheckTx call seen by the application.
type checkCall struct {
	tx  string
	typ abcitypes.CheckTxType
}

// testApp is CometBFT's kvstore application with a CheckTx that records the
// order of its calls and can be held, and with the other methods the tests
// use recorded.
type testApp struct {
	*kvstore.Application

	// entered, if not nil, is sent the tx of every CheckTx call on entry
	// (without blocking: it is buffered generously).
	entered chan string
	// hold, if not nil, makes every CheckTx wait until it receives a value
	// (or hold is closed by release).
	hold        chan struct{}
	releaseOnce sync.Once
	// failTx makes CheckTx fail with an error for this tx.
	failTx string

	mu    sync.Mutex
	calls []checkCall
	other []string // the other ABCI methods called, in order
}

// newTestApp returns a kvstore app; a held app blocks every CheckTx until it
// is released (it is released when the test ends).
func newTestApp(t *testing.T, held bool) *testApp {
	t.Helper()
	a := &testApp{Application: kvstore.NewInMemoryApplication()}
	if held {
		a.entered = make(chan string, 1<<13)
		a.hold = make(chan struct{})
		t.Cleanup(a.release)
	}
	return a
}

// release lets every CheckTx, present and future, through.
func (a *testApp) release() { a.releaseOnce.Do(func() { close(a.hold) }) }

func (a *testApp) CheckTx(ctx context.Context, req *abcitypes.RequestCheckTx) (*abcitypes.ResponseCheckTx, error) {
	a.mu.Lock()
	a.calls = append(a.calls, checkCall{string(req.Tx), req.Type})
	a.mu.Unlock()
	if a.entered != nil {
		select {
		case a.entered <- string(req.Tx):
		default:
		}
	}
	if a.hold != nil {
		<-a.hold
	}
	if a.failTx != "" && string(req.Tx) == a.failTx {
		return nil, errors.New("app failure")
	}
	return a.Application.CheckTx(ctx, req)
}

func (a *testApp) record(method string) {
	a.mu.Lock()
	a.other = append(a.other, method)
	a.mu.Unlock()
}

func (a *testApp) Info(ctx context.Context, req *abcitypes.RequestInfo) (*abcitypes.ResponseInfo, error) {
	a.record("Info")
	return a.Application.Info(ctx, req)
}

func (a *testApp) Query(ctx context.Context, req *abcitypes.RequestQuery) (*abcitypes.ResponseQuery, error) {
	a.record("Query")
	return a.Application.Query(ctx, req)
}

func (a *testApp) FinalizeBlock(ctx context.Context, req *abcitypes.RequestFinalizeBlock) (*abcitypes.ResponseFinalizeBlock, error) {
	a.record("FinalizeBlock")
	return a.Application.FinalizeBlock(ctx, req)
}

func (a *testApp) Commit(ctx context.Context, req *abcitypes.RequestCommit) (*abcitypes.ResponseCommit, error) {
	a.record("Commit")
	return a.Application.Commit(ctx, req)
}

func (a *testApp) checkCalls() []checkCall {
	a.mu.Lock()
	defer a.mu.Unlock()
	return append([]checkCall(nil), a.calls...)
}

func (a *testApp) otherCalls() []string {
	a.mu.Lock()
	defer a.mu.Unlock()
	return append([]string(nil), a.other...)
}

// newTestClient returns a started client for app, made by the package's
// creator, stopped when the test ends.
func newTestClient(t *testing.T, app abcitypes.Application) *client {
	t.Helper()
	cli, err := NewClientCreator(app).NewABCIClient()
	if err != nil {
		t.Fatalf("NewABCIClient: %v", err)
	}
	c, ok := cli.(*client)
	if !ok {
		t.Fatalf("NewABCIClient returned %T, want *client", cli)
	}
	if err := c.Start(); err != nil {
		t.Fatalf("Start: %v", err)
	}
	t.Cleanup(func() { _ = c.Stop() })
	return c
}

// response is one CheckTx response as a callback saw it.
type response struct {
	tx   string
	typ  abcitypes.CheckTxType
	code uint32
	log  string
}

// recorder is a global response callback that records what it is given.
type recorder struct {
	mu  sync.Mutex
	got []response
	ch  chan response // if not nil, also sent every response (buffered)
}

func newRecorder(buf int) *recorder {
	r := &recorder{}
	if buf > 0 {
		r.ch = make(chan response, buf)
	}
	return r
}

func (r *recorder) cb(req *abcitypes.Request, res *abcitypes.Response) {
	rc := req.GetCheckTx()
	if rc == nil {
		panic(fmt.Sprintf("global callback got request %T, want CheckTx", req.Value))
	}
	resp := response{tx: string(rc.Tx), typ: rc.Type, code: res.GetCheckTx().GetCode(), log: res.GetCheckTx().GetLog()}
	r.mu.Lock()
	r.got = append(r.got, resp)
	r.mu.Unlock()
	if r.ch != nil {
		r.ch <- resp
	}
}

func (r *recorder) responses() []response {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]response(nil), r.got...)
}

// recv returns the next value of ch, failing the test after waitLong.
func recv[T any](t *testing.T, ch <-chan T, what string) T {
	t.Helper()
	select {
	case v := <-ch:
		return v
	case <-time.After(waitLong):
		t.Fatalf("timed out after %v waiting for %s", waitLong, what)
		var zero T
		return zero
	}
}

// notYet fails the test if ch yields a value within waitShort.
func notYet[T any](t *testing.T, ch <-chan T, what string) {
	t.Helper()
	select {
	case v := <-ch:
		t.Fatalf("%s happened too early (%v)", what, v)
	case <-time.After(waitShort):
	}
}

// flushAsync runs Flush on its own goroutine; its result arrives on the
// returned channel.
func flushAsync(c *client) <-chan error {
	ch := make(chan error, 1)
	go func() { ch <- c.Flush(context.Background()) }()
	return ch
}

func checkTx(t *testing.T, c *client, tx string, typ abcitypes.CheckTxType) *abcicli.ReqRes {
	t.Helper()
	rr, err := c.CheckTxAsync(context.Background(), &abcitypes.RequestCheckTx{Tx: []byte(tx), Type: typ})
	if err != nil {
		t.Fatalf("CheckTxAsync(%q): %v", tx, err)
	}
	if rr == nil {
		t.Fatalf("CheckTxAsync(%q) returned a nil ReqRes", tx)
	}
	return rr
}

// Requirement 1: CheckTxAsync returns while the application is still
// checking; the response arrives later, once through the global callback and
// then once through the ReqRes callback set after CheckTxAsync returned.
func TestCheckTxAsyncReturnsBeforeAppAnswers(t *testing.T) {
	app := newTestApp(t, true)
	c := newTestClient(t, app)
	global := newRecorder(4)
	c.SetResponseCallback(global.cb)

	rr := checkTx(t, c, "key=value", abcitypes.CheckTxType_New)
	if got := recv(t, app.entered, "the app's CheckTx to be entered"); got != "key=value" {
		t.Fatalf("app got tx %q, want %q", got, "key=value")
	}
	// The app is blocked inside CheckTx, yet CheckTxAsync has returned.
	if rr.Response != nil {
		t.Fatalf("ReqRes has a response before the app answered: %v", rr.Response)
	}
	waited := make(chan struct{})
	go func() { rr.Wait(); close(waited) }()

	type reqResCall struct {
		res          *abcitypes.Response
		globalBefore int // global responses seen when the ReqRes callback ran
	}
	local := make(chan reqResCall, 4)
	rr.SetCallback(func(res *abcitypes.Response) {
		local <- reqResCall{res, len(global.responses())}
	})

	notYet(t, local, "ReqRes callback")
	notYet(t, global.ch, "global callback")
	notYet(t, waited, "ReqRes.Wait returning")

	app.release()

	g := recv(t, global.ch, "global callback")
	if g.tx != "key=value" || g.code != kvstore.CodeTypeOK {
		t.Fatalf("global callback got %+v, want tx key=value with code %d", g, kvstore.CodeTypeOK)
	}
	l := recv(t, local, "ReqRes callback")
	if code := l.res.GetCheckTx().GetCode(); code != kvstore.CodeTypeOK {
		t.Fatalf("ReqRes callback got code %d, want %d", code, kvstore.CodeTypeOK)
	}
	if l.globalBefore != 1 {
		t.Fatalf("global callback had run %d times when the ReqRes callback ran, want 1 (as the socket client)", l.globalBefore)
	}
	recv(t, waited, "ReqRes.Wait returning")
	if rr.Response != l.res {
		t.Fatalf("ReqRes.Response %v differs from the response given to the callback %v", rr.Response, l.res)
	}

	if err := c.Flush(context.Background()); err != nil {
		t.Fatalf("Flush: %v", err)
	}
	select {
	case extra := <-local:
		t.Fatalf("ReqRes callback called again: %v", extra.res)
	case extra := <-global.ch:
		t.Fatalf("global callback called again: %+v", extra)
	default:
	}
	if n := len(global.responses()); n != 1 {
		t.Fatalf("global callback called %d times, want 1", n)
	}
}

// Requirement 2: SetCallback after the response arrived still gets it, once.
func TestSetCallbackAfterResponse(t *testing.T) {
	for _, tc := range []struct {
		name string
		// wait is what the test waits for before SetCallback.
		wait func(t *testing.T, c *client, rr *abcicli.ReqRes)
	}{
		{"after Flush", func(t *testing.T, c *client, _ *abcicli.ReqRes) {
			if err := c.Flush(context.Background()); err != nil {
				t.Fatalf("Flush: %v", err)
			}
		}},
		// Wait returns as soon as the response is set, possibly before the
		// worker invoked the (unset) callback: SetCallback races with it.
		{"after Wait", func(_ *testing.T, _ *client, rr *abcicli.ReqRes) { rr.Wait() }},
		// Nothing waited for: SetCallback races with the whole answer.
		{"immediately", func(*testing.T, *client, *abcicli.ReqRes) {}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			app := newTestApp(t, false)
			c := newTestClient(t, app)
			const n = 200
			var calls [n]atomic.Int32
			codes := make([]atomic.Uint32, n)
			for i := 0; i < n; i++ {
				tx := fmt.Sprintf("k%d=v", i)
				if i%2 == 1 {
					tx = fmt.Sprintf("invalid%d", i)
				}
				rr := checkTx(t, c, tx, abcitypes.CheckTxType_New)
				tc.wait(t, c, rr)
				rr.SetCallback(func(res *abcitypes.Response) {
					calls[i].Add(1)
					codes[i].Store(res.GetCheckTx().GetCode())
				})
				if tc.name == "after Flush" && calls[i].Load() != 1 {
					t.Fatalf("request %d: SetCallback after the answer did not call back at once", i)
				}
			}
			if err := c.Flush(context.Background()); err != nil {
				t.Fatalf("Flush: %v", err)
			}
			for i := 0; i < n; i++ {
				want := kvstore.CodeTypeOK
				if i%2 == 1 {
					want = kvstore.CodeTypeInvalidTxFormat
				}
				if got := calls[i].Load(); got != 1 {
					t.Errorf("request %d: callback called %d times, want 1", i, got)
				}
				if got := codes[i].Load(); got != want {
					t.Errorf("request %d: callback got code %d, want %d", i, got, want)
				}
			}
		})
	}
}

// Requirement 3: many requests, valid and invalid, new and recheck, are
// answered in the order they were submitted, with the app's codes.
func TestResponsesInSubmissionOrder(t *testing.T) {
	kinds := []struct {
		format string
		code   uint32
	}{
		{"key%d=value", kvstore.CodeTypeOK},
		{"key%d:value", kvstore.CodeTypeOK},
		{"novalue%d", kvstore.CodeTypeInvalidTxFormat},
		{"=value%d", kvstore.CodeTypeInvalidTxFormat},
		{"a=b=%d", kvstore.CodeTypeInvalidTxFormat},
		{"key%d=", kvstore.CodeTypeInvalidTxFormat},
		{"k%d:v=w", kvstore.CodeTypeInvalidTxFormat},
	}
	const n = 500
	app := newTestApp(t, false)
	c := newTestClient(t, app)
	global := newRecorder(0)
	c.SetResponseCallback(global.cb)

	want := make([]response, n)
	local := make([]response, n)
	var localCalls [n]atomic.Int32
	var localMu sync.Mutex
	for i := 0; i < n; i++ {
		k := kinds[i%len(kinds)]
		typ := abcitypes.CheckTxType_New
		if i%4 == 3 {
			typ = abcitypes.CheckTxType_Recheck
		}
		want[i] = response{tx: fmt.Sprintf(k.format, i), typ: typ, code: k.code}
		rr := checkTx(t, c, want[i].tx, typ)
		if got := rr.Request.GetCheckTx(); string(got.GetTx()) != want[i].tx || got.GetType() != typ {
			t.Fatalf("request %d: ReqRes.Request is %v, want tx %q type %v", i, got, want[i].tx, typ)
		}
		rr.SetCallback(func(res *abcitypes.Response) {
			localCalls[i].Add(1)
			localMu.Lock()
			local[i] = response{tx: want[i].tx, typ: typ, code: res.GetCheckTx().GetCode()}
			localMu.Unlock()
		})
	}
	if err := c.Flush(context.Background()); err != nil {
		t.Fatalf("Flush: %v", err)
	}

	calls := app.checkCalls()
	if len(calls) != n {
		t.Fatalf("app saw %d CheckTx calls, want %d", len(calls), n)
	}
	got := global.responses()
	if len(got) != n {
		t.Fatalf("global callback got %d responses, want %d", len(got), n)
	}
	localMu.Lock()
	defer localMu.Unlock()
	for i := 0; i < n; i++ {
		if calls[i] != (checkCall{want[i].tx, want[i].typ}) {
			t.Fatalf("app call %d is %+v, want %+v", i, calls[i], checkCall{want[i].tx, want[i].typ})
		}
		if got[i] != want[i] {
			t.Fatalf("global response %d is %+v, want %+v", i, got[i], want[i])
		}
		if n := localCalls[i].Load(); n != 1 {
			t.Fatalf("request %d: ReqRes callback called %d times, want 1", i, n)
		}
		if local[i] != want[i] {
			t.Fatalf("request %d: ReqRes callback got %+v, want %+v", i, local[i], want[i])
		}
	}
}

// A CheckTx that fails (rather than refuses the tx) gives a non-zero code,
// and the worker goes on answering.
func TestCheckTxAppError(t *testing.T) {
	app := newTestApp(t, false)
	app.failTx = "boom=1"
	c := newTestClient(t, app)
	global := newRecorder(0)
	c.SetResponseCallback(global.cb)

	rrs := []*abcicli.ReqRes{
		checkTx(t, c, "a=1", abcitypes.CheckTxType_New),
		checkTx(t, c, "boom=1", abcitypes.CheckTxType_New),
		checkTx(t, c, "b=2", abcitypes.CheckTxType_New),
	}
	if err := c.Flush(context.Background()); err != nil {
		t.Fatalf("Flush: %v", err)
	}
	for i, wantCode := range []uint32{kvstore.CodeTypeOK, 1, kvstore.CodeTypeOK} {
		rrs[i].Wait()
		if got := rrs[i].Response.GetCheckTx().GetCode(); got != wantCode {
			t.Errorf("request %d: code %d, want %d", i, got, wantCode)
		}
	}
	if log := rrs[1].Response.GetCheckTx().GetLog(); !strings.Contains(log, "app failure") {
		t.Errorf("failed CheckTx has log %q, want it to carry the app's error", log)
	}
	if n := len(global.responses()); n != 3 {
		t.Errorf("global callback got %d responses, want 3", n)
	}
}

// Requirement 4: Flush blocks while requests are pending and returns once
// all of them are answered (callbacks included).
func TestFlushWaitsForPending(t *testing.T) {
	app := newTestApp(t, true)
	c := newTestClient(t, app)
	global := newRecorder(0)
	c.SetResponseCallback(global.cb)

	// Nothing pending: Flush returns at once.
	if err := recv(t, flushAsync(c), "Flush with nothing pending"); err != nil {
		t.Fatalf("Flush with nothing pending: %v", err)
	}

	var rrs []*abcicli.ReqRes
	var reqResCalls atomic.Int32
	for i := 0; i < 3; i++ {
		rr := checkTx(t, c, fmt.Sprintf("k%d=v", i), abcitypes.CheckTxType_New)
		rr.SetCallback(func(*abcitypes.Response) { reqResCalls.Add(1) })
		rrs = append(rrs, rr)
	}
	recv(t, app.entered, "the first CheckTx")
	flushed := flushAsync(c)
	notYet(t, flushed, "Flush with 3 requests pending")

	// Let the first request through: the second one holds the worker.
	app.hold <- struct{}{}
	recv(t, app.entered, "the second CheckTx")
	notYet(t, flushed, "Flush with 2 requests pending")

	// A request queued while Flush waits is waited for too.
	rrs = append(rrs, checkTx(t, c, "late=1", abcitypes.CheckTxType_New))
	app.hold <- struct{}{}
	recv(t, app.entered, "the third CheckTx")
	notYet(t, flushed, "Flush with 2 requests pending")

	app.release()
	if err := recv(t, flushed, "Flush after all requests were answered"); err != nil {
		t.Fatalf("Flush: %v", err)
	}
	// Everything was answered, and the callbacks ran, before Flush returned.
	if n := len(global.responses()); n != 4 {
		t.Fatalf("global callback got %d responses when Flush returned, want 4", n)
	}
	if n := reqResCalls.Load(); n != 3 {
		t.Fatalf("ReqRes callbacks called %d times when Flush returned, want 3", n)
	}
	for i, rr := range rrs {
		if rr.Response == nil {
			t.Fatalf("request %d has no response when Flush returned", i)
		}
	}
}

// Requirement 5: Stop while requests are pending makes Flush return an error
// instead of hanging, and CheckTxAsync fail.
func TestStopWithPendingRequests(t *testing.T) {
	app := newTestApp(t, true)
	c := newTestClient(t, app)

	// One request in the app (held), QueueLen queued: the queue is full.
	checkTx(t, c, "first=1", abcitypes.CheckTxType_New)
	recv(t, app.entered, "the first CheckTx")
	for i := 0; i < QueueLen; i++ {
		checkTx(t, c, fmt.Sprintf("k%d=v", i), abcitypes.CheckTxType_New)
	}
	// A caller beyond the queue waits for room.
	type result struct {
		rr  *abcicli.ReqRes
		err error
	}
	blocked := make(chan result, 1)
	go func() {
		rr, err := c.CheckTxAsync(context.Background(), &abcitypes.RequestCheckTx{Tx: []byte("overflow=1")})
		blocked <- result{rr, err}
	}()
	notYet(t, blocked, "CheckTxAsync on a full queue returning")

	flushed := flushAsync(c)
	notYet(t, flushed, "Flush with requests pending")

	if err := c.Stop(); err != nil {
		t.Fatalf("Stop: %v", err)
	}
	if c.IsRunning() {
		t.Fatal("client still running after Stop")
	}
	if err := recv(t, flushed, "Flush after Stop"); err == nil {
		t.Fatal("Flush waiting when the client was stopped returned nil, want an error")
	}
	if r := recv(t, blocked, "CheckTxAsync waiting for room when the client was stopped"); r.err == nil || r.rr != nil {
		t.Fatalf("CheckTxAsync waiting for room when the client was stopped returned (%v, %v), want (nil, error)", r.rr, r.err)
	}
	// Later calls fail too, without hanging. (The queue is still full, so
	// this does not depend on select's choice; see
	// TestCheckTxAsyncAfterStopFails for an empty queue.)
	if err := recv(t, flushAsync(c), "Flush after Stop"); err == nil {
		t.Fatal("Flush after Stop returned nil with requests unanswered, want an error")
	}
	if rr, err := c.CheckTxAsync(context.Background(), &abcitypes.RequestCheckTx{Tx: []byte("after=1")}); err == nil || rr != nil {
		t.Fatalf("CheckTxAsync after Stop returned (%v, %v), want (nil, error)", rr, err)
	}
	// Stop twice does not panic.
	if err := c.Stop(); err == nil {
		t.Error("second Stop returned nil, want the service's already-stopped error")
	}
}

// Stop while the app is answering: Flush does not hang even though the
// worker is still inside the application.
func TestStopWhileAppBusy(t *testing.T) {
	app := newTestApp(t, true)
	c := newTestClient(t, app)
	checkTx(t, c, "a=1", abcitypes.CheckTxType_New)
	checkTx(t, c, "b=1", abcitypes.CheckTxType_Recheck)
	recv(t, app.entered, "the first CheckTx")
	if err := c.Stop(); err != nil {
		t.Fatalf("Stop: %v", err)
	}
	if err := recv(t, flushAsync(c), "Flush after Stop"); err == nil {
		t.Fatal("Flush after Stop with requests pending returned nil, want an error")
	}
}

// Known bug (see the report): with room in the queue, CheckTxAsync after
// Stop picks at random between queueing the request (which nobody will
// answer) and failing.
func TestCheckTxAsyncAfterStopFails(t *testing.T) {
	app := newTestApp(t, false)
	c := newTestClient(t, app)
	if err := c.Stop(); err != nil {
		t.Fatalf("Stop: %v", err)
	}
	succeeded := 0
	for i := 0; i < 100; i++ {
		if _, err := c.CheckTxAsync(context.Background(), &abcitypes.RequestCheckTx{Tx: []byte("k=v")}); err == nil {
			succeeded++
		}
	}
	if succeeded > 0 {
		t.Fatalf("%d of 100 CheckTxAsync calls after Stop returned no error (their requests are never answered)", succeeded)
	}
}

// Known bug (see the report): the package says requests still queued at
// Stop are not answered, but the worker picks at random between quit and
// the queue after each answer, so it goes on answering some of them.
func TestStopDropsQueuedRequests(t *testing.T) {
	answered := 0
	const trials = 20
	for trial := 0; trial < trials; trial++ {
		app := newTestApp(t, true)
		c := newTestClient(t, app)
		first := checkTx(t, c, "first=1", abcitypes.CheckTxType_New)
		queued := checkTx(t, c, "queued=1", abcitypes.CheckTxType_New)
		recv(t, app.entered, "the first CheckTx")
		if err := c.Stop(); err != nil {
			t.Fatalf("Stop: %v", err)
		}
		app.release()
		first.Wait()
		done := make(chan struct{})
		go func() { queued.Wait(); close(done) }()
		select {
		case <-done:
			answered++
		case <-time.After(20 * time.Millisecond):
		}
	}
	if answered > 0 {
		t.Fatalf("in %d of %d trials a request queued at Stop was answered after Stop", answered, trials)
	}
}

// Requirement 6: the creator's clients start and stop, and their other
// methods go to the application synchronously.
func TestClientCreator(t *testing.T) {
	app := newTestApp(t, true)
	creator := NewClientCreator(app)
	mempoolConn, err := creator.NewABCIClient()
	if err != nil {
		t.Fatalf("NewABCIClient: %v", err)
	}
	consensusConn, err := creator.NewABCIClient()
	if err != nil {
		t.Fatalf("NewABCIClient: %v", err)
	}
	for _, cli := range []abcicli.Client{mempoolConn, consensusConn} {
		if _, ok := cli.(*client); !ok {
			t.Fatalf("NewABCIClient returned %T, want *client", cli)
		}
		if cli.IsRunning() {
			t.Fatal("client running before Start")
		}
		if err := cli.Start(); err != nil {
			t.Fatalf("Start: %v", err)
		}
		if !cli.IsRunning() {
			t.Fatal("client not running after Start")
		}
		if err := cli.Error(); err != nil {
			t.Fatalf("Error: %v", err)
		}
	}
	ctx := context.Background()

	// A CheckTx held in the app on the mempool connection does not hold up
	// the consensus connection: each has its own mutex.
	if _, err := mempoolConn.CheckTxAsync(ctx, &abcitypes.RequestCheckTx{Tx: []byte("held=1")}); err != nil {
		t.Fatalf("CheckTxAsync: %v", err)
	}
	recv(t, app.entered, "the held CheckTx")

	done := make(chan struct{})
	go func() {
		defer close(done)
		info, err := consensusConn.Info(ctx, &abcitypes.RequestInfo{})
		if err != nil || info.LastBlockHeight != 0 {
			t.Errorf("Info = (%v, %v), want height 0", info, err)
			return
		}
		fin, err := consensusConn.FinalizeBlock(ctx, &abcitypes.RequestFinalizeBlock{
			Height: 1,
			Txs:    [][]byte{[]byte("a=1"), []byte("b=2")},
		})
		if err != nil {
			t.Errorf("FinalizeBlock: %v", err)
			return
		}
		if len(fin.TxResults) != 2 || fin.TxResults[0].Code != kvstore.CodeTypeOK || len(fin.AppHash) == 0 {
			t.Errorf("FinalizeBlock = %v, want 2 OK results and an app hash", fin)
		}
		if _, err := consensusConn.Commit(ctx, &abcitypes.RequestCommit{}); err != nil {
			t.Errorf("Commit: %v", err)
		}
		q, err := consensusConn.Query(ctx, &abcitypes.RequestQuery{Data: []byte("a")})
		if err != nil || string(q.Value) != "1" || q.Height != 1 {
			t.Errorf("Query(a) = (%v, %v), want value 1 at height 1", q, err)
		}
		info, err = consensusConn.Info(ctx, &abcitypes.RequestInfo{})
		if err != nil || info.LastBlockHeight != 1 {
			t.Errorf("Info = (%v, %v), want height 1", info, err)
		}
	}()
	recv(t, done, "the consensus connection's calls while a CheckTx is held on the mempool connection")

	// Each call reached the app before it returned, in order.
	want := []string{"Info", "FinalizeBlock", "Commit", "Query", "Info"}
	if got := app.otherCalls(); strings.Join(got, " ") != strings.Join(want, " ") {
		t.Fatalf("app saw %v, want %v", got, want)
	}

	app.release()
	if err := mempoolConn.Flush(ctx); err != nil {
		t.Fatalf("Flush: %v", err)
	}
	for _, cli := range []abcicli.Client{mempoolConn, consensusConn} {
		if err := cli.Stop(); err != nil {
			t.Fatalf("Stop: %v", err)
		}
		if cli.IsRunning() {
			t.Fatal("client running after Stop")
		}
	}
}

// Requirement 7: several goroutines calling CheckTxAsync (and Flush, and
// SetCallback) at once; run with -race.
func TestConcurrentCheckTxAsync(t *testing.T) {
	const (
		goroutines = 8
		perG       = 150
	)
	app := newTestApp(t, false)
	c := newTestClient(t, app)
	global := newRecorder(0)
	c.SetResponseCallback(global.cb)

	var calls [goroutines][perG]atomic.Int32
	var badCode atomic.Int32
	var wg sync.WaitGroup
	stopFlushing := make(chan struct{})
	flushErrs := make(chan error, 1)
	go func() {
		for {
			select {
			case <-stopFlushing:
				flushErrs <- nil
				return
			default:
			}
			if err := c.Flush(context.Background()); err != nil {
				flushErrs <- err
				return
			}
		}
	}()
	for g := 0; g < goroutines; g++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; i < perG; i++ {
				tx, want := fmt.Sprintf("g%d-%d=v", g, i), kvstore.CodeTypeOK
				if i%3 == 0 {
					tx, want = fmt.Sprintf("g%d-%d", g, i), kvstore.CodeTypeInvalidTxFormat
				}
				typ := abcitypes.CheckTxType_New
				if i%5 == 0 {
					typ = abcitypes.CheckTxType_Recheck
				}
				rr, err := c.CheckTxAsync(context.Background(), &abcitypes.RequestCheckTx{Tx: []byte(tx), Type: typ})
				if err != nil {
					t.Errorf("CheckTxAsync: %v", err)
					return
				}
				rr.SetCallback(func(res *abcitypes.Response) {
					calls[g][i].Add(1)
					if res.GetCheckTx().GetCode() != want {
						badCode.Add(1)
					}
				})
			}
		}()
	}
	wg.Wait()
	close(stopFlushing)
	if err := recv(t, flushErrs, "the flushing goroutine"); err != nil {
		t.Fatalf("concurrent Flush: %v", err)
	}
	if err := c.Flush(context.Background()); err != nil {
		t.Fatalf("Flush: %v", err)
	}

	for g := range calls {
		for i := range calls[g] {
			if n := calls[g][i].Load(); n != 1 {
				t.Fatalf("goroutine %d request %d: ReqRes callback called %d times, want 1", g, i, n)
			}
		}
	}
	if n := badCode.Load(); n != 0 {
		t.Fatalf("%d responses had the wrong code", n)
	}
	got := global.responses()
	if len(got) != goroutines*perG {
		t.Fatalf("global callback got %d responses, want %d", len(got), goroutines*perG)
	}
	// Each goroutine's requests were answered in the order it made them, and
	// the app was called in the order of the responses.
	appCalls := app.checkCalls()
	next := make(map[int]int)
	for k, r := range got {
		if appCalls[k] != (checkCall{r.tx, r.typ}) {
			t.Fatalf("response %d is for %+v but the app's call %d was %+v", k, r, k, appCalls[k])
		}
		var g, i int
		if _, err := fmt.Sscanf(strings.TrimSuffix(r.tx, "=v"), "g%d-%d", &g, &i); err != nil {
			t.Fatalf("unexpected tx %q: %v", r.tx, err)
		}
		if i != next[g] {
			t.Fatalf("goroutine %d: response for request %d came when %d was due", g, i, next[g])
		}
		next[g]++
	}
}
