package netlab

import (
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"strconv"

	"golang.org/x/sys/unix"
)

// SetRate caps host i's bandwidth at bitsPerSecond in each direction with a
// tbf qdisc on both ends of its veth link; 0 removes the cap. It returns
// ErrLoopback without namespaces.
func (l *Lab) SetRate(i int, bitsPerSecond int64) error {
	if !l.ns {
		return ErrLoopback
	}
	h := l.hosts[i]
	outer := []string{"tc", "qdisc"}
	inner := []string{"tc", "-n", h.netns, "qdisc"}
	if bitsPerSecond <= 0 {
		_ = run(append(outer, "del", "dev", h.outer, "root")...)
		_ = run(append(inner, "del", "dev", "eth0", "root")...)
		return nil
	}
	// The bucket holds 10 ms of the rate, and at least a few segments of
	// the veth's 64 kB offloads.
	burst := max(bitsPerSecond/8/100, 256<<10)
	tbf := []string{"root", "tbf", "rate", strconv.FormatInt(bitsPerSecond, 10) + "bit",
		"burst", strconv.FormatInt(burst, 10), "latency", "100ms"}
	if err := run(append(append(outer, "replace", "dev", h.outer), tbf...)...); err != nil {
		return err
	}
	return run(append(append(inner, "replace", "dev", "eth0"), tbf...)...)
}

// SetRateAll caps every host's bandwidth (see SetRate).
func (l *Lab) SetRateAll(bitsPerSecond int64) error {
	for i := range l.hosts {
		if err := l.SetRate(i, bitsPerSecond); err != nil {
			return err
		}
	}
	return nil
}

// Do runs f on an OS thread in host i's network namespace: the sockets f
// creates (net.Listen, net.Dial to IP addresses) belong to the host and
// stay there after f returns. Without namespaces f runs as it is.
func (l *Lab) Do(i int, f func() error) error {
	ns := l.hosts[i].netns
	if ns == "" {
		return f()
	}
	errc := make(chan error, 1)
	go func() {
		runtime.LockOSThread()
		orig, err := os.Open(fmt.Sprintf("/proc/%d/task/%d/ns/net", os.Getpid(), unix.Gettid()))
		if err != nil {
			runtime.UnlockOSThread()
			errc <- err
			return
		}
		defer func() { _ = orig.Close() }()
		target, err := os.Open(filepath.Join("/run/netns", ns))
		if err != nil {
			runtime.UnlockOSThread()
			errc <- err
			return
		}
		defer func() { _ = target.Close() }()
		if err := unix.Setns(int(target.Fd()), unix.CLONE_NEWNET); err != nil {
			runtime.UnlockOSThread()
			errc <- fmt.Errorf("netlab: enter %s: %w", ns, err)
			return
		}
		ferr := f()
		if err := unix.Setns(int(orig.Fd()), unix.CLONE_NEWNET); err != nil {
			// The thread stays locked and ends with this goroutine: no
			// other goroutine runs in the wrong namespace.
			errc <- fmt.Errorf("netlab: leave %s: %w", ns, err)
			return
		}
		runtime.UnlockOSThread()
		errc <- ferr
	}()
	return <-errc
}
