package netlab

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
)

// echo listens on host i and echoes every connection; it reports each
// chunk it receives on got.
func echo(t *testing.T, l *Lab, i int, got chan<- []byte) int {
	t.Helper()
	var ln net.Listener
	if err := l.Do(i, func() (err error) {
		ln, err = net.Listen("tcp", l.Addr(i)+":0")
		return err
	}); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = ln.Close() })
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			go func() {
				defer func() { _ = c.Close() }()
				buf := make([]byte, 64<<10)
				for {
					n, err := c.Read(buf)
					if n > 0 {
						if got != nil {
							select {
							case got <- append([]byte(nil), buf[:n]...):
							default:
							}
						}
						if _, werr := c.Write(buf[:n]); werr != nil {
							return
						}
					}
					if err != nil {
						return
					}
				}
			}()
		}
	}()
	return ln.Addr().(*net.TCPAddr).Port
}

// dial connects from host i to addr.
func dial(t *testing.T, l *Lab, i int, addr string) net.Conn {
	t.Helper()
	var c net.Conn
	if err := l.Do(i, func() (err error) {
		c, err = net.DialTimeout("tcp", addr, 10*time.Second)
		return err
	}); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = c.Close() })
	return c
}

// roundTrip writes msg and reads it back within timeout; false if it did
// not come back in time.
func roundTrip(t *testing.T, c net.Conn, msg string, timeout time.Duration) bool {
	t.Helper()
	if _, err := c.Write([]byte(msg)); err != nil {
		t.Fatal(err)
	}
	return readBack(t, c, msg, timeout)
}

func readBack(t *testing.T, c net.Conn, msg string, timeout time.Duration) bool {
	t.Helper()
	_ = c.SetReadDeadline(time.Now().Add(timeout))
	defer func() { _ = c.SetReadDeadline(time.Time{}) }()
	buf := make([]byte, len(msg))
	if _, err := io.ReadFull(c, buf); err != nil {
		if ne, ok := err.(net.Error); ok && ne.Timeout() {
			return false
		}
		t.Fatal(err)
	}
	if string(buf) != msg {
		t.Fatalf("read %q, want %q", buf, msg)
	}
	return true
}

func received(ch <-chan []byte, want string, timeout time.Duration) bool {
	deadline := time.After(timeout)
	var got []byte
	for {
		select {
		case b := <-ch:
			got = append(got, b...)
			if bytes.Contains(got, []byte(want)) {
				return true
			}
		case <-deadline:
			return false
		}
	}
}

func TestLab(t *testing.T) {
	for _, loopback := range []bool{false, true} {
		name := "namespaces"
		if loopback {
			name = "loopback"
		}
		t.Run(name, func(t *testing.T) { testLab(t, loopback) })
	}
}

func testLab(t *testing.T, loopback bool) {
	l, err := New(Options{Hosts: 3, Loopback: loopback, Logf: t.Logf, CloseOnSignal: true})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := l.Close(); err != nil {
			t.Error(err)
		}
	})
	if !loopback && !l.Namespaces() {
		t.Logf("no namespaces here (%s): the loopback lab is tested instead", l.Reason())
	}
	got := make([]chan []byte, 3)
	ports := make([]int, 3)
	for i := range ports {
		got[i] = make(chan []byte, 64)
		ports[i] = echo(t, l, i, got[i])
	}
	if err := l.ConnectPeers(ports); err != nil {
		t.Fatal(err)
	}

	if l.Namespaces() {
		// Hosts reach each other only through the proxies.
		err := l.Do(0, func() error {
			c, err := net.DialTimeout("tcp", net.JoinHostPort(l.Addr(1), strconv.Itoa(ports[1])), time.Second)
			if err == nil {
				_ = c.Close()
			}
			return err
		})
		if err == nil {
			t.Fatal("host 0 reached host 1 directly")
		}
	}

	c01 := dial(t, l, 0, l.PeerAddr(0, 1)) // host 0 dialled host 1
	c10 := dial(t, l, 1, l.PeerAddr(1, 0)) // host 1 dialled host 0
	if !roundTrip(t, c01, "hello", 10*time.Second) || !roundTrip(t, c10, "hello", 10*time.Second) {
		t.Fatal("no echo through the proxies")
	}

	// One-way delays add up on a round trip, in either connection.
	l.SetDelay(0, 1, Delay{Latency: 100 * time.Millisecond})
	l.SetDelay(1, 0, Delay{Latency: 50 * time.Millisecond, Jitter: 10 * time.Millisecond})
	for _, c := range []net.Conn{c01, c10} {
		t0 := time.Now()
		if !roundTrip(t, c, "slow", 10*time.Second) {
			t.Fatal("no echo with delays")
		}
		if rtt := time.Since(t0); rtt < 140*time.Millisecond {
			t.Fatalf("round trip %v with one-way delays of 100 and 50±10 ms", rtt)
		}
	}
	l.SetDelayAll(Delay{})

	// A cut from 0 to 1 holds 0's bytes on the connection 0 dialled ...
	l.Cut(0, 1)
	if _, err := c01.Write([]byte("held")); err != nil {
		t.Fatal(err)
	}
	if received(got[1], "held", 500*time.Millisecond) {
		t.Fatal("bytes crossed a cut link")
	}
	// ... and the echo of host 0's server on the connection 1 dialled,
	// while 1's bytes still reach 0.
	if _, err := c10.Write([]byte("one-way")); err != nil {
		t.Fatal(err)
	}
	if !received(got[0], "one-way", 10*time.Second) {
		t.Fatal("the link from 1 to 0 is cut too")
	}
	if readBack(t, c10, "one-way", 500*time.Millisecond) {
		t.Fatal("an echo crossed the cut link from 0 to 1")
	}
	if !l.IsCut(0, 1) || l.IsCut(1, 0) {
		t.Fatal("IsCut")
	}
	// Healing lets the held bytes go on, in order.
	l.Heal(0, 1)
	if !readBack(t, c01, "held", 10*time.Second) || !readBack(t, c10, "one-way", 10*time.Second) {
		t.Fatal("held bytes lost on heal")
	}

	// Isolation and partitions.
	l.Isolate(2)
	for _, j := range []int{0, 1} {
		if !l.IsCut(2, j) || !l.IsCut(j, 2) {
			t.Fatalf("host 2 isolated, link with %d open", j)
		}
	}
	l.Partition([]int{0}, []int{1, 2})
	if !l.IsCut(0, 1) || !l.IsCut(2, 0) || l.IsCut(1, 2) || l.IsCut(2, 1) {
		t.Fatal("partition 0 | 1 2")
	}
	c12 := dial(t, l, 1, l.PeerAddr(1, 2))
	if !roundTrip(t, c12, "same side", 10*time.Second) {
		t.Fatal("no echo within a side of the partition")
	}
	l.HealAll()
	if !roundTrip(t, c01, "healed", 10*time.Second) {
		t.Fatal("no echo after HealAll")
	}

	// The wan profile: 25 ms ± 5 ms one way, so at least 40 ms there and
	// back; the zero profile takes it all away.
	err = l.Apply(Profiles["wan"])
	if l.Namespaces() && err != nil || !l.Namespaces() && !errors.Is(err, ErrLoopback) {
		t.Fatalf("apply %v: %v", Profiles["wan"], err)
	}
	t0 := time.Now()
	if !roundTrip(t, c01, "wan", 10*time.Second) {
		t.Fatal("no echo on the wan profile")
	}
	if rtt := time.Since(t0); rtt < 40*time.Millisecond {
		t.Fatalf("round trip %v on %v", rtt, Profiles["wan"])
	}
	if err := l.Apply(Profile{}); err != nil {
		t.Fatal(err)
	}

	if !l.Namespaces() {
		if err := l.SetRate(1, 8_000_000); err != ErrLoopback {
			t.Fatalf("SetRate on loopback: %v", err)
		}
		return
	}
	// 8 Mbit/s on host 1: 1 MB there and back takes about a second.
	if err := l.SetRate(1, 8_000_000); err != nil {
		t.Fatal(err)
	}
	msg := strings.Repeat("x", 1<<20)
	t0 = time.Now()
	go func() { _, _ = c01.Write([]byte(msg)) }()
	if !readBack(t, c01, msg, 60*time.Second) {
		t.Fatal("1 MB not echoed in 60 s at 8 Mbit/s")
	}
	if d := time.Since(t0); d < 700*time.Millisecond {
		t.Fatalf("1 MB echoed in %v through a host capped at 8 Mbit/s", d)
	}
	if err := l.SetRate(1, 0); err != nil {
		t.Fatal(err)
	}

	name := l.Name()
	if err := l.Close(); err != nil {
		t.Fatal(err)
	}
	if left := leftovers(t, name); left != "" {
		t.Fatalf("after Close: %s", left)
	}
}

// leftovers lists the namespaces, links and lock of lab name still there.
func leftovers(t *testing.T, name string) string {
	t.Helper()
	var left []string
	ns, _ := exec.Command("ip", "netns", "list").Output()
	links, _ := exec.Command("ip", "-o", "link", "show").Output()
	for _, line := range strings.Split(string(ns)+string(links), "\n") {
		if strings.Contains(line, name) {
			left = append(left, strings.TrimSpace(line))
		}
	}
	if _, err := os.Stat(LockDir + "/" + name + ".lock"); err == nil {
		left = append(left, "lock file")
	}
	return strings.Join(left, "; ")
}

// TestCleanStale kills a process that holds a lab with a process in one of
// its namespaces, and checks that the next lab removes all of it.
func TestCleanStale(t *testing.T) {
	name := childLab(t, "kill")
	if leftovers(t, name) == "" {
		t.Fatalf("the child's lab %s left nothing to clean", name)
	}
	CleanStale(t.Logf)
	if left := leftovers(t, name); left != "" {
		t.Fatalf("after CleanStale: %s", left)
	}
}

// TestCloseOnSignal ends a process that holds a lab by SIGTERM, and checks
// that the lab was closed on the way out.
func TestCloseOnSignal(t *testing.T) {
	name := childLab(t, "signal")
	if left := leftovers(t, name); left != "" {
		t.Fatalf("after SIGTERM: %s", left)
	}
}

// childLab runs TestLabChild in a new process, waits until it names its
// lab, ends it (SIGKILL for "kill", SIGTERM for "signal") and returns the
// lab's name.
func childLab(t *testing.T, how string) string {
	t.Helper()
	if os.Geteuid() != 0 {
		t.Skip("namespaces need root")
	}
	cmd := exec.Command(os.Args[0], "-test.run=^TestLabChild$", "-test.v")
	cmd.Env = append(os.Environ(), "NETLAB_CHILD="+how)
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	name := ""
	sc := bufio.NewScanner(out)
	for sc.Scan() {
		if f := strings.Fields(sc.Text()); len(f) == 2 && f[0] == "LAB" {
			name = f[1]
			break
		}
		if strings.HasPrefix(sc.Text(), "--- SKIP") {
			_ = cmd.Process.Kill()
			_ = cmd.Wait()
			t.Skip("the child made no namespaces")
		}
	}
	if name == "" {
		_ = cmd.Process.Kill()
		_ = cmd.Wait()
		t.Fatal("the child named no lab")
	}
	sig := syscall.SIGKILL
	if how == "signal" {
		sig = syscall.SIGTERM
	}
	_ = cmd.Process.Signal(sig)
	go func() { _, _ = io.Copy(io.Discard, out) }()
	_ = cmd.Wait()
	return name
}

// TestLabChild is childLab's child: it makes a lab, runs a process in it,
// names the lab and waits to be ended.
func TestLabChild(t *testing.T) {
	how := os.Getenv("NETLAB_CHILD")
	if how == "" {
		t.Skip("run by TestCleanStale and TestCloseOnSignal")
	}
	l, err := New(Options{Hosts: 2, CloseOnSignal: how == "signal"})
	if err != nil {
		t.Fatal(err)
	}
	if !l.Namespaces() {
		t.Skip(l.Reason())
	}
	sleep := l.Command(0, "sleep", "600")
	if err := sleep.Start(); err != nil {
		t.Fatal(err)
	}
	fmt.Println("LAB " + l.Name())
	time.Sleep(10 * time.Minute)
}
