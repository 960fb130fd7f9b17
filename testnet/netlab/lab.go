package netlab

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/Shopify/toxiproxy/v2"
)

// LockDir holds one lock file per live lab (and the lock that serialises
// the choice of subnets).
const LockDir = "/run/netlab"

// LoopbackEnv, when set in the environment, makes every lab run on
// 127.0.0.1 as with Options.Loopback.
const LoopbackEnv = "NETLAB_LOOPBACK"

// ErrLoopback is returned for what only namespaces can do (bandwidth caps)
// when the lab fell back to 127.0.0.1.
var ErrLoopback = errors.New("netlab: the lab runs on 127.0.0.1 without namespaces")

// Options configure New.
type Options struct {
	// Hosts is the number of hosts (at most 200).
	Hosts int
	// Loopback makes the lab run on 127.0.0.1 without namespaces even
	// where it could make them.
	Loopback bool
	// Logf receives what the lab does and why it falls back (nil: silent).
	Logf func(format string, args ...any)
	// CloseOnSignal closes the lab when the process gets SIGINT or SIGTERM,
	// and then ends the process by the same signal (for tests; a command
	// with signal handling of its own closes the lab itself).
	CloseOnSignal bool
}

// Lab is a network of hosts with a proxy on every directed pair of them.
type Lab struct {
	name   string // prefix of every resource, nl<pid><letter>
	ns     bool
	reason string
	subnet int
	hosts  []host
	logf   func(string, ...any)
	lock   *os.File

	mu      sync.Mutex
	server  *toxiproxy.ApiServer
	proxies map[pair]*toxiproxy.Proxy
	cut     map[pair]bool
	delay   map[pair]Delay
	closed  bool
}

type host struct {
	addr  string // IPv4 address
	netns string // "" on loopback
	outer string // the veth end on the bridge
}

var seq atomic.Uint32

// New makes a lab of o.Hosts hosts: namespaces on a bridge of their own
// when the process is root and ip(8) works, else hosts on 127.0.0.1 (the
// reason is logged and given by Reason). It first removes what labs of dead
// processes left behind. Close removes everything the lab made.
func New(o Options) (*Lab, error) {
	if o.Hosts < 1 || o.Hosts > 200 {
		return nil, fmt.Errorf("netlab: %d hosts: want 1..200", o.Hosts)
	}
	l := &Lab{
		name:    fmt.Sprintf("nl%d%c", os.Getpid(), 'a'+rune(seq.Add(1)-1)%26),
		logf:    o.Logf,
		proxies: map[pair]*toxiproxy.Proxy{},
		cut:     map[pair]bool{},
		delay:   map[pair]Delay{},
	}
	if l.logf == nil {
		l.logf = func(string, ...any) {}
	}
	l.server = toxiproxy.NewServer(toxiproxy.NewMetricsContainer(nil), quietLogger())
	switch {
	case o.Loopback:
		l.reason = "asked for"
	case os.Getenv(LoopbackEnv) != "":
		l.reason = LoopbackEnv + " is set"
	case os.Geteuid() != 0:
		l.reason = "not root"
	default:
		if _, err := exec.LookPath("ip"); err != nil {
			l.reason = "no ip(8): " + err.Error()
		} else if err := l.build(o.Hosts); err != nil {
			l.reason = err.Error()
			_ = l.teardown()
			l.subnet, l.hosts = 0, nil
		} else {
			l.ns = true
		}
	}
	if !l.ns {
		l.hosts = make([]host, o.Hosts)
		for i := range l.hosts {
			l.hosts[i] = host{addr: "127.0.0.1"}
		}
		l.logf("netlab: no network namespaces (%s): %d hosts on 127.0.0.1 with a proxy on every link; no bandwidth caps", l.reason, o.Hosts)
	} else {
		l.logf("netlab: %d hosts in network namespaces %s-0.., on 10.77.%d.0/24 (bridge %sbr at %s), a proxy on every link", o.Hosts, l.name, l.subnet, l.name, l.BridgeAddr())
	}
	if o.CloseOnSignal {
		closeOnSignal(l)
	}
	return l, nil
}

// Namespaces reports whether the hosts have network namespaces of their own.
func (l *Lab) Namespaces() bool { return l.ns }

// Reason says why the lab runs on 127.0.0.1 ("" when it has namespaces).
func (l *Lab) Reason() string { return l.reason }

// Name is the prefix of the lab's interfaces and namespaces.
func (l *Lab) Name() string { return l.name }

// Hosts is the number of hosts.
func (l *Lab) Hosts() int { return len(l.hosts) }

// Addr is host i's IPv4 address (127.0.0.1 on loopback).
func (l *Lab) Addr(i int) string { return l.hosts[i].addr }

// NetNS is the name of host i's network namespace ("" on loopback), for
// `ip netns exec`.
func (l *Lab) NetNS(i int) string { return l.hosts[i].netns }

// BridgeAddr is the address of the caller's side of the network, where the
// proxies listen (127.0.0.1 on loopback).
func (l *Lab) BridgeAddr() string {
	if l.subnet == 0 {
		return "127.0.0.1"
	}
	return fmt.Sprintf("10.77.%d.254", l.subnet)
}

// Command returns a command that runs name with args on host i (in its
// namespace, through `ip netns exec`). The command gets SIGKILL if the
// thread that started it dies (Pdeathsig).
func (l *Lab) Command(i int, name string, args ...string) *exec.Cmd {
	var cmd *exec.Cmd
	if ns := l.hosts[i].netns; ns != "" {
		cmd = exec.Command("ip", append([]string{"netns", "exec", ns, name}, args...)...)
	} else {
		cmd = exec.Command(name, args...)
	}
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
	return cmd
}

// build makes the bridge, and a namespace and a veth link per host.
func (l *Lab) build(hosts int) error {
	if err := os.MkdirAll(LockDir, 0o755); err != nil {
		return err
	}
	CleanStale(l.logf)
	lock, err := lockFile(filepath.Join(LockDir, l.name+".lock"))
	if err != nil {
		return err
	}
	l.lock = lock
	if err := l.bridge(); err != nil {
		return err
	}
	br := l.name + "br"
	for i := 0; i < hosts; i++ {
		h := host{
			addr:  fmt.Sprintf("10.77.%d.%d", l.subnet, i+1),
			netns: fmt.Sprintf("%s-%d", l.name, i),
			outer: fmt.Sprintf("%sh%d", l.name, i),
		}
		inner := fmt.Sprintf("%sn%d", l.name, i)
		l.hosts = append(l.hosts, h)
		steps := [][]string{
			{"ip", "netns", "add", h.netns},
			{"ip", "link", "add", h.outer, "type", "veth", "peer", "name", inner},
			{"ip", "link", "set", inner, "netns", h.netns},
			{"ip", "link", "set", h.outer, "master", br},
			{"bridge", "link", "set", "dev", h.outer, "isolated", "on"},
			{"ip", "link", "set", h.outer, "up"},
			{"ip", "-n", h.netns, "link", "set", "lo", "up"},
			{"ip", "-n", h.netns, "link", "set", inner, "name", "eth0"},
			{"ip", "-n", h.netns, "addr", "add", h.addr + "/24", "dev", "eth0"},
			{"ip", "-n", h.netns, "link", "set", "eth0", "up"},
		}
		for _, s := range steps {
			if err := run(s...); err != nil {
				return err
			}
		}
	}
	return nil
}

// bridge chooses a /24 of 10.77.0.0/16 that no interface of this namespace
// uses, under a lock shared by every lab of the machine, and puts the lab's
// bridge on it.
func (l *Lab) bridge() error {
	alloc, err := os.OpenFile(filepath.Join(LockDir, "subnets.lock"), os.O_CREATE|os.O_RDWR, 0o644)
	if err != nil {
		return err
	}
	defer func() { _ = alloc.Close() }()
	if err := syscall.Flock(int(alloc.Fd()), syscall.LOCK_EX); err != nil {
		return err
	}
	out, err := exec.Command("ip", "-4", "-o", "addr", "show").Output()
	if err != nil {
		return fmt.Errorf("ip addr: %w", err)
	}
	routes, err := exec.Command("ip", "-4", "route", "show").Output()
	if err != nil {
		return fmt.Errorf("ip route: %w", err)
	}
	used := string(out) + string(routes)
	l.subnet = 0
	for n := 1; n < 255; n++ {
		if !strings.Contains(used, fmt.Sprintf("10.77.%d.", n)) {
			l.subnet = n
			break
		}
	}
	if l.subnet == 0 {
		return errors.New("no free subnet in 10.77.0.0/16")
	}
	br := l.name + "br"
	for _, s := range [][]string{
		{"ip", "link", "add", br, "type", "bridge"},
		{"ip", "addr", "add", l.BridgeAddr() + "/24", "dev", br},
		{"ip", "link", "set", br, "up"},
	} {
		if err := run(s...); err != nil {
			return err
		}
	}
	return nil
}

// Close stops the proxies and removes the namespaces, links and lock of
// the lab. Processes still running in its namespaces are killed.
func (l *Lab) Close() error {
	l.mu.Lock()
	if l.closed {
		l.mu.Unlock()
		return nil
	}
	l.closed = true
	proxies := l.proxies
	l.proxies = map[pair]*toxiproxy.Proxy{}
	l.mu.Unlock()
	openMu.Lock()
	delete(open, l)
	openMu.Unlock()
	for _, p := range proxies {
		// Held bytes are let go first: a link waiting on a cut would
		// otherwise keep its goroutines.
		for _, name := range toxicNames {
			_ = p.Toxics.RemoveToxic(context.Background(), name)
		}
		p.Stop()
	}
	return l.teardown()
}

// teardown removes the lab's namespaces and links, and its lock file.
func (l *Lab) teardown() error {
	if l.lock == nil {
		return nil
	}
	err := removeResources(l.name)
	_ = os.Remove(l.lock.Name())
	_ = l.lock.Close()
	l.lock = nil
	return err
}

// lockFile creates path and holds an flock on it. A CleanStale of another
// process may take the new file for a dead lab's and remove it between the
// two steps: the lock then holds only if path is still the locked file.
func lockFile(path string) (*os.File, error) {
	for try := 0; ; try++ {
		f, err := os.OpenFile(path, os.O_CREATE|os.O_RDWR, 0o644)
		if err != nil {
			return nil, err
		}
		if err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB); err != nil {
			_ = f.Close()
			return nil, fmt.Errorf("lock %s: %w", path, err)
		}
		held, err1 := f.Stat()
		named, err2 := os.Stat(path)
		if err1 == nil && err2 == nil && os.SameFile(held, named) {
			return f, nil
		}
		_ = f.Close()
		if try == 10 {
			return nil, fmt.Errorf("lock %s: removed again and again", path)
		}
	}
}

var lockName = regexp.MustCompile(`^(nl[0-9]+[a-z])\.lock$`)

// CleanStale removes what labs of dead processes left behind: their
// processes, namespaces, links and lock files. A lab is dead when its lock
// file is not locked. It needs root; without it, it does nothing.
func CleanStale(logf func(string, ...any)) {
	if logf == nil {
		logf = func(string, ...any) {}
	}
	entries, err := os.ReadDir(LockDir)
	if err != nil {
		return
	}
	for _, e := range entries {
		m := lockName.FindStringSubmatch(e.Name())
		if m == nil {
			continue
		}
		path := filepath.Join(LockDir, e.Name())
		f, err := os.OpenFile(path, os.O_RDWR, 0)
		if err != nil {
			continue
		}
		if err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB); err != nil {
			_ = f.Close() // a live lab
			continue
		}
		if err := removeResources(m[1]); err != nil {
			logf("netlab: removing the leftovers of lab %s: %v", m[1], err)
		} else {
			logf("netlab: removed the leftovers of lab %s (its process died)", m[1])
		}
		_ = os.Remove(path)
		_ = f.Close()
	}
}

// removeResources kills the processes in the namespaces named after prefix
// and removes those namespaces and the links named after it.
func removeResources(prefix string) error {
	var errs []error
	if out, err := exec.Command("ip", "netns", "list").Output(); err == nil {
		for _, line := range strings.Split(string(out), "\n") {
			f := strings.Fields(line)
			if len(f) == 0 || !strings.HasPrefix(f[0], prefix+"-") {
				continue
			}
			ns := f[0]
			killNamespace(ns)
			if err := run("ip", "netns", "del", ns); err != nil {
				errs = append(errs, err)
			}
		}
	}
	if out, err := exec.Command("ip", "-o", "link", "show").Output(); err == nil {
		for _, line := range strings.Split(string(out), "\n") {
			f := strings.Fields(line)
			if len(f) < 2 {
				continue
			}
			name, _, _ := strings.Cut(strings.TrimSuffix(f[1], ":"), "@")
			if !strings.HasPrefix(name, prefix) {
				continue
			}
			// A veth end goes with its peer: it may be gone already.
			if err := run("ip", "link", "del", name); err != nil && linkExists(name) {
				errs = append(errs, err)
			}
		}
	}
	return errors.Join(errs...)
}

// killNamespace sends SIGKILL to every process in a namespace and waits
// (a few seconds at most) until none is left.
func killNamespace(ns string) {
	for deadline := time.Now().Add(5 * time.Second); time.Now().Before(deadline); {
		out, err := exec.Command("ip", "netns", "pids", ns).Output()
		if err != nil || len(bytes.TrimSpace(out)) == 0 {
			return
		}
		for _, f := range strings.Fields(string(out)) {
			if pid, err := strconv.Atoi(f); err == nil && pid > 1 && pid != os.Getpid() {
				_ = syscall.Kill(pid, syscall.SIGKILL)
			}
		}
		time.Sleep(50 * time.Millisecond)
	}
}

func linkExists(name string) bool {
	return exec.Command("ip", "link", "show", "dev", name).Run() == nil
}

func run(args ...string) error {
	out, err := exec.Command(args[0], args[1:]...).CombinedOutput()
	if err != nil {
		return fmt.Errorf("%s: %w: %s", strings.Join(args, " "), err, bytes.TrimSpace(out))
	}
	return nil
}

// Labs to close on SIGINT or SIGTERM before the process ends by the signal.
var (
	openMu  sync.Mutex
	open    = map[*Lab]bool{}
	sigOnce sync.Once
)

func closeOnSignal(l *Lab) {
	openMu.Lock()
	open[l] = true
	openMu.Unlock()
	sigOnce.Do(func() {
		c := make(chan os.Signal, 1)
		signal.Notify(c, syscall.SIGINT, syscall.SIGTERM)
		go func() {
			sig := <-c
			openMu.Lock()
			labs := make([]*Lab, 0, len(open))
			for x := range open {
				labs = append(labs, x)
			}
			openMu.Unlock()
			for _, x := range labs {
				_ = x.Close()
			}
			signal.Reset(syscall.SIGINT, syscall.SIGTERM)
			_ = syscall.Kill(os.Getpid(), sig.(syscall.Signal))
		}()
	})
}
