package main

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io/fs"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"
)

// procs are the processes the bench started; stopAll ends exactly these.
type procs struct {
	mu   sync.Mutex
	list []*proc
}

type proc struct {
	name string
	cmd  *exec.Cmd
	done chan struct{}
	err  error
}

func newProcs() *procs { return &procs{} }

// start runs cmd with its output appended to logPath. The child gets
// SIGKILL if the bench dies without cleaning up (Pdeathsig).
func (p *procs) start(name string, cmd *exec.Cmd, logPath string) (*proc, error) {
	f, err := os.OpenFile(logPath, os.O_CREATE|os.O_APPEND|os.O_WRONLY, 0o644)
	if err != nil {
		return nil, err
	}
	cmd.Stdout, cmd.Stderr = f, f
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
	if err := cmd.Start(); err != nil {
		_ = f.Close()
		return nil, fmt.Errorf("start %s: %w", name, err)
	}
	pr := &proc{name: name, cmd: cmd, done: make(chan struct{})}
	go func() {
		pr.err = cmd.Wait()
		_ = f.Close()
		close(pr.done)
	}()
	p.mu.Lock()
	p.list = append(p.list, pr)
	p.mu.Unlock()
	return pr, nil
}

func (pr *proc) pid() int { return pr.cmd.Process.Pid }

func (pr *proc) exited() bool {
	select {
	case <-pr.done:
		return true
	default:
		return false
	}
}

// stop sends SIGTERM, then SIGKILL after timeout, and waits.
func (pr *proc) stop(timeout time.Duration) {
	if pr.exited() {
		return
	}
	_ = pr.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-pr.done:
	case <-time.After(timeout):
		_ = pr.cmd.Process.Kill()
		<-pr.done
	}
}

// stopAll stops every process still running, in parallel.
func (p *procs) stopAll(timeout time.Duration) {
	p.mu.Lock()
	list := p.list
	p.list = nil
	p.mu.Unlock()
	var wg sync.WaitGroup
	for _, pr := range list {
		wg.Add(1)
		go func() { defer wg.Done(); pr.stop(timeout) }()
	}
	wg.Wait()
}

// stopGroup stops some of the processes (one baseline's) and forgets them.
func (p *procs) stopGroup(group []*proc, timeout time.Duration) {
	var wg sync.WaitGroup
	for _, pr := range group {
		wg.Add(1)
		go func() { defer wg.Done(); pr.stop(timeout) }()
	}
	wg.Wait()
	p.mu.Lock()
	defer p.mu.Unlock()
	keep := p.list[:0]
	for _, pr := range p.list {
		stopped := false
		for _, g := range group {
			if g == pr {
				stopped = true
			}
		}
		if !stopped {
			keep = append(keep, pr)
		}
	}
	p.list = keep
}

// clockTicks is USER_HZ, the unit of utime and stime in /proc/<pid>/stat;
// 100 on every mainstream Linux architecture.
const clockTicks = 100

// cpuSeconds returns utime+stime of a process, in seconds.
func cpuSeconds(pid int) (float64, error) {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return 0, err
	}
	// The command name (field 2) is in parentheses and may hold spaces.
	i := bytes.LastIndexByte(b, ')')
	if i < 0 {
		return 0, fmt.Errorf("/proc/%d/stat: unexpected format", pid)
	}
	f := strings.Fields(string(b[i+1:]))
	// After the name: state(3) ... utime(14) stime(15), so indexes 11 and 12.
	if len(f) < 13 {
		return 0, fmt.Errorf("/proc/%d/stat: too few fields", pid)
	}
	ut, err1 := strconv.ParseUint(f[11], 10, 64)
	st, err2 := strconv.ParseUint(f[12], 10, 64)
	if err := errors.Join(err1, err2); err != nil {
		return 0, fmt.Errorf("/proc/%d/stat: %w", pid, err)
	}
	return float64(ut+st) / clockTicks, nil
}

// sumCPU sums cpuSeconds over processes.
func sumCPU(ps []*proc) (float64, error) {
	var t float64
	for _, p := range ps {
		s, err := cpuSeconds(p.pid())
		if err != nil {
			return 0, err
		}
		t += s
	}
	return t, nil
}

// selfCPU is the bench's own CPU time (the load generator's cost).
func selfCPU() float64 {
	s, err := cpuSeconds(os.Getpid())
	if err != nil {
		return 0
	}
	return s
}

// ioBytes returns the bytes a process read from and wrote to storage
// (read_bytes and write_bytes of /proc/<pid>/io: what reached the block
// layer or will, not what the page cache served).
func ioBytes(pid int) (read, written int64, err error) {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/io", pid))
	if err != nil {
		return 0, 0, err
	}
	for _, line := range strings.Split(string(b), "\n") {
		k, v, ok := strings.Cut(line, ": ")
		if !ok {
			continue
		}
		n, err := strconv.ParseInt(strings.TrimSpace(v), 10, 64)
		if err != nil {
			return 0, 0, fmt.Errorf("/proc/%d/io: %w", pid, err)
		}
		switch k {
		case "read_bytes":
			read = n
		case "write_bytes":
			written = n
		}
	}
	return read, written, nil
}

// sumIO sums ioBytes over processes; a process it cannot read counts 0.
func sumIO(ps []*proc) (read, written int64) {
	for _, p := range ps {
		r, w, err := ioBytes(p.pid())
		if err == nil {
			read += r
			written += w
		}
	}
	return read, written
}

// rssMiB returns VmRSS of a process in MiB.
func rssMiB(pid int) (float64, error) {
	f, err := os.Open(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return 0, err
	}
	defer func() { _ = f.Close() }() // read only
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if rest, ok := strings.CutPrefix(sc.Text(), "VmRSS:"); ok {
			fs := strings.Fields(rest)
			if len(fs) == 0 {
				break
			}
			kb, err := strconv.ParseFloat(fs[0], 64)
			if err != nil {
				return 0, err
			}
			return kb / 1024, nil
		}
	}
	return 0, fmt.Errorf("/proc/%d/status: no VmRSS", pid)
}

// diskBytes is the space files under dir take on disk (like du).
func diskBytes(dir string) (int64, error) {
	var n int64
	err := filepath.WalkDir(dir, func(_ string, d fs.DirEntry, err error) error {
		if err != nil {
			if errors.Is(err, fs.ErrNotExist) {
				return nil // a file removed meanwhile (compaction)
			}
			return err
		}
		if d.IsDir() {
			return nil
		}
		info, err := d.Info()
		if errors.Is(err, fs.ErrNotExist) {
			return nil
		}
		if err != nil {
			return err
		}
		if st, ok := info.Sys().(*syscall.Stat_t); ok {
			n += st.Blocks * 512
		} else {
			n += info.Size()
		}
		return nil
	})
	return n, err
}

// moduleRoot finds the notary module's directory from the working directory.
func moduleRoot() (string, error) {
	out, err := exec.Command("go", "env", "GOMOD").Output()
	if err != nil {
		return "", fmt.Errorf("go env GOMOD: %w (is Go installed?)", err)
	}
	gomod := strings.TrimSpace(string(out))
	if gomod == "" || gomod == os.DevNull {
		return "", errors.New("run the bench from the notary repository (no go.mod here)")
	}
	b, err := os.ReadFile(gomod)
	if err != nil {
		return "", err
	}
	if !bytes.Contains(b, []byte("module github.com/gobtechlab/notary\n")) {
		return "", fmt.Errorf("%s is not the notary module's go.mod; run the bench from the notary repository", gomod)
	}
	return filepath.Dir(gomod), nil
}

// goCmd runs a go command in dir with extra environment, returning its
// combined output in the error.
func goCmd(ctx context.Context, dir string, env []string, args ...string) error {
	cmd := exec.CommandContext(ctx, "go", args...)
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), env...)
	out, err := cmd.CombinedOutput()
	if err != nil {
		return fmt.Errorf("go %s: %w\n%s", strings.Join(args, " "), err, out)
	}
	return nil
}

// freeBase finds a base port such that base..base+span-1 are all free on
// 127.0.0.1, starting from start.
func freeBase(start, span int) (int, error) {
	for base := start; base+span < 65000; base += span + 10 {
		ok := true
		for p := base; p < base+span && ok; p++ {
			l, err := net.Listen("tcp", fmt.Sprintf("127.0.0.1:%d", p))
			if err != nil {
				ok = false
				break
			}
			_ = l.Close()
		}
		if ok {
			return base, nil
		}
	}
	return 0, fmt.Errorf("no %d free consecutive ports above %d", span, start)
}

type machine struct {
	Cores      int    `json:"cores"`
	CPU        string `json:"cpu"`
	GoVersion  string `json:"go"`
	LoadBefore string `json:"load_average_before"`
	MemTotal   string `json:"mem_total"`
}

func machineInfo() machine {
	m := machine{Cores: runtime.NumCPU(), GoVersion: runtime.Version(), LoadBefore: loadAverage()}
	if b, err := os.ReadFile("/proc/cpuinfo"); err == nil {
		for _, l := range strings.Split(string(b), "\n") {
			if v, ok := strings.CutPrefix(l, "model name"); ok {
				m.CPU = strings.TrimSpace(strings.TrimPrefix(strings.TrimSpace(v), ":"))
				break
			}
		}
	}
	if b, err := os.ReadFile("/proc/meminfo"); err == nil {
		for _, l := range strings.Split(string(b), "\n") {
			if v, ok := strings.CutPrefix(l, "MemTotal:"); ok {
				m.MemTotal = strings.TrimSpace(v)
				break
			}
		}
	}
	return m
}

func loadAverage() string {
	b, err := os.ReadFile("/proc/loadavg")
	if err != nil {
		return "?"
	}
	f := strings.Fields(string(b))
	if len(f) < 3 {
		return "?"
	}
	return strings.Join(f[:3], " ")
}

// waitFor polls check every interval until it succeeds, ctx ends or the
// timeout passes; the error names what was awaited and the last failure.
func waitFor(ctx context.Context, what string, timeout, interval time.Duration, check func() error) error {
	deadline := time.Now().Add(timeout)
	var last error
	for {
		if last = check(); last == nil {
			return nil
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("%s: not ready after %s: %w", what, timeout, last)
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(interval):
		}
	}
}

// tail returns the last lines of a log file, for error messages.
func tail(path string, lines int) string {
	b, err := os.ReadFile(path)
	if err != nil {
		return ""
	}
	ls := strings.Split(strings.TrimRight(string(b), "\n"), "\n")
	if len(ls) > lines {
		ls = ls[len(ls)-lines:]
	}
	return strings.Join(ls, "\n")
}
