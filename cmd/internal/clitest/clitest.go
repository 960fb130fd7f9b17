package clitest

import (
	"bytes"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

// asMainEnv makes a test binary run the tool's main instead of its tests.
const asMainEnv = "NOTARY_CLITEST_MAIN"

// RunMainIfAsked runs main and exits when the test binary was started by
// Start; call it first in TestMain.
func RunMainIfAsked(main func()) {
	if os.Getenv(asMainEnv) == "1" {
		main()
		os.Exit(0)
	}
}

// Process is a tool running as a child process.
type Process struct {
	cmd            *exec.Cmd
	stdout, stderr bytes.Buffer
	done           chan struct{}
	started        time.Time
	err            error
}

// Start runs the test binary as the tool (see RunMainIfAsked) with args,
// HOME set to home and no NOTARY_* variable of the test's environment.
func Start(t testing.TB, home string, args ...string) *Process {
	t.Helper()
	cmd := exec.Command(os.Args[0], args...)
	for _, kv := range os.Environ() {
		k, _, _ := strings.Cut(kv, "=")
		if strings.HasPrefix(k, "NOTARY_") || k == "HOME" {
			continue
		}
		cmd.Env = append(cmd.Env, kv)
	}
	cmd.Env = append(cmd.Env, asMainEnv+"=1", "HOME="+home)
	p := &Process{cmd: cmd, done: make(chan struct{})}
	cmd.Stdout, cmd.Stderr = &p.stdout, &p.stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	p.started = time.Now()
	go func() {
		p.err = cmd.Wait()
		close(p.done)
	}()
	t.Cleanup(func() {
		select {
		case <-p.done:
		default:
			_ = cmd.Process.Kill()
			<-p.done
		}
	})
	return p
}

// Signal sends sig to the process.
func (p *Process) Signal(t testing.TB, sig os.Signal) {
	t.Helper()
	if err := p.cmd.Process.Signal(sig); err != nil {
		t.Fatalf("signal %v: %v", sig, err)
	}
}

// Exited reports whether the process has ended.
func (p *Process) Exited() bool {
	select {
	case <-p.done:
		return true
	default:
		return false
	}
}

// Wait waits at most d for the process to end and returns its exit code;
// a process still running after d is killed and the test fails.
func (p *Process) Wait(t testing.TB, d time.Duration) int {
	t.Helper()
	select {
	case <-p.done:
	case <-time.After(d):
		_ = p.cmd.Process.Kill()
		<-p.done
		t.Fatalf("still running %s after it was started (killed)\nstdout:\n%s\nstderr:\n%s", time.Since(p.started).Round(time.Millisecond), p.stdout.String(), p.stderr.String())
	}
	var ee *exec.ExitError
	switch {
	case p.err == nil:
		return 0
	case errors.As(p.err, &ee):
		return ee.ExitCode()
	}
	t.Fatalf("wait: %v", p.err)
	return -1
}

// Stdout and Stderr are what the process printed.
// WaitOpen waits, at most d, until the process has path open: a tool
// reads its inputs only after it handles signals, so a signal sent then
// reaches the tool, not the Go runtime's default action. Where /proc does
// not list open files it waits a second.
func (p *Process) WaitOpen(t testing.TB, path string, d time.Duration) {
	t.Helper()
	fds := fmt.Sprintf("/proc/%d/fd", p.cmd.Process.Pid)
	if _, err := os.Stat(fds); err != nil {
		time.Sleep(time.Second)
		return
	}
	deadline := time.Now().Add(d)
	for time.Now().Before(deadline) {
		entries, _ := os.ReadDir(fds)
		for _, e := range entries {
			if target, err := os.Readlink(filepath.Join(fds, e.Name())); err == nil && target == path {
				return
			}
		}
		if p.Exited() {
			return
		}
		time.Sleep(10 * time.Millisecond)
	}
	t.Fatalf("the process did not open %s within %s", path, d)
}

func (p *Process) Stdout() string { return p.stdout.String() }

// Stderr is what the process printed on its standard error.
func (p *Process) Stderr() string { return p.stderr.String() }

// SilentPeer listens on a loopback port, accepts every connection and
// never answers; accepted receives a value for each connection accepted.
func SilentPeer(t testing.TB) (addr string, accepted <-chan struct{}) {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ch := make(chan struct{}, 64)
	var (
		mu    sync.Mutex
		conns []net.Conn
	)
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			mu.Lock()
			conns = append(conns, c)
			mu.Unlock()
			select {
			case ch <- struct{}{}:
			default:
			}
		}
	}()
	t.Cleanup(func() {
		_ = ln.Close()
		mu.Lock()
		defer mu.Unlock()
		for _, c := range conns {
			_ = c.Close()
		}
	})
	return ln.Addr().String(), ch
}

// Fifo makes a named pipe at path. When the test ends, a reader still
// blocked opening it is released.
func Fifo(t testing.TB, path string) string {
	t.Helper()
	if err := syscall.Mkfifo(path, 0o644); err != nil {
		t.Fatalf("mkfifo: %v", err)
	}
	t.Cleanup(func() { Release(path) })
	return path
}

// Release lets a reader blocked opening the named pipe at path go on (it
// reads an empty pipe): it opens the pipe for writing, without blocking,
// and closes it.
func Release(path string) {
	fd, err := syscall.Open(path, syscall.O_WRONLY|syscall.O_NONBLOCK, 0)
	if err == nil {
		_ = syscall.Close(fd)
	}
}

// SparseFile makes a file of size bytes (zeros) that takes no space.
func SparseFile(t testing.TB, path string, size int64) string {
	t.Helper()
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = f.Close() }()
	if err := f.Truncate(size); err != nil {
		t.Fatal(err)
	}
	return path
}

// Within runs f and fails the test if it has not returned after d. Named
// pipes in release are released then, so that f can end.
func Within(t testing.TB, d time.Duration, release []string, f func()) {
	t.Helper()
	done := make(chan struct{})
	go func() {
		defer close(done)
		f()
	}()
	select {
	case <-done:
		return
	case <-time.After(d):
	}
	for _, p := range release {
		Release(p)
	}
	select {
	case <-done:
	case <-time.After(5 * time.Second):
	}
	t.Fatalf("blocked for more than %s", d)
}
