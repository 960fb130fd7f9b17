package main

import (
	"bufio"
	"bytes"
	"net"
	"net/netip"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"

	cmtcfg "github.com/cometbft/cometbft/config"
	"gopkg.in/yaml.v3"

	"github.com/gobtechlab/notary/app"
)

// The packaging files, from this package's folder.
var (
	repoRoot     = filepath.Join("..", "..")
	dockerfile   = filepath.Join(repoRoot, "Dockerfile")
	dockerignore = filepath.Join(repoRoot, ".dockerignore")
	composeFile  = filepath.Join(repoRoot, "scripts", "packaging", "compose.yaml")
	systemdUnit  = filepath.Join(repoRoot, "scripts", "packaging", "notaryd@.service")
	goMod        = filepath.Join(repoRoot, "go.mod")
)

// imageHome is the node's home in the container image.
const imageHome = "/var/lib/notary"

// composeSpec is the part of a compose file the test reads.
type composeSpec struct {
	Testnet  string                    `yaml:"x-notary-testnet"`
	Services map[string]composeService `yaml:"services"`
	Networks map[string]struct {
		IPAM struct {
			Config []struct {
				Subnet string `yaml:"subnet"`
			} `yaml:"config"`
		} `yaml:"ipam"`
	} `yaml:"networks"`
}

type composeService struct {
	Image string `yaml:"image"`
	Build struct {
		Context    string `yaml:"context"`
		Dockerfile string `yaml:"dockerfile"`
	} `yaml:"build"`
	User     string   `yaml:"user"`
	Volumes  []string `yaml:"volumes"`
	Networks map[string]struct {
		IPv4Address string `yaml:"ipv4_address"`
	} `yaml:"networks"`
	Ulimits struct {
		Nofile int `yaml:"nofile"`
	} `yaml:"ulimits"`
}

// composeNetwork reads the compose file and generates the homes its
// x-notary-testnet command line describes, as an operator would.
func composeNetwork(t *testing.T) (composeSpec, testnetResult) {
	t.Helper()
	b, err := os.ReadFile(composeFile)
	if err != nil {
		t.Fatal(err)
	}
	var c composeSpec
	if err := yaml.Unmarshal(b, &c); err != nil {
		t.Fatalf("%s: %v", composeFile, err)
	}
	args := strings.Fields(c.Testnet)
	if len(args) == 0 || args[0] != "testnet" {
		t.Fatalf("%s: x-notary-testnet %q is not a notaryd testnet command line", composeFile, c.Testnet)
	}
	out, err := runCmd(t, append(args, "--out", filepath.Join(t.TempDir(), "net"), "-o", "json")...)
	if err != nil {
		t.Fatalf("notaryd %s: %v\n%s", c.Testnet, err, out)
	}
	return c, readTestnet(t, out)
}

// TestComposeFile: the compose file parses, and runs one service per node
// of the network its command line generates, each with its home as the
// image's home, at the address the home names, on the compose network's
// subnet, built from the repository's Dockerfile.
func TestComposeFile(t *testing.T) {
	c, nw := composeNetwork(t)
	if len(c.Networks) != 1 {
		t.Fatalf("want one network, got %d", len(c.Networks))
	}
	var subnet netip.Prefix
	for name, n := range c.Networks {
		if len(n.IPAM.Config) != 1 {
			t.Fatalf("network %s: want one subnet", name)
		}
		var err error
		if subnet, err = netip.ParsePrefix(n.IPAM.Config[0].Subnet); err != nil {
			t.Fatalf("network %s: %v", name, err)
		}
	}
	if len(c.Services) != len(nw.Nodes) {
		t.Errorf("%d services for %d nodes", len(c.Services), len(nw.Nodes))
	}
	for _, n := range nw.Nodes {
		s, ok := c.Services[n.ID]
		if !ok {
			t.Errorf("no service for node %s", n.ID)
			continue
		}
		if _, err := app.LoadConfig(n.Home); err != nil {
			t.Fatalf("%s: %v", n.ID, err)
		}
		wantVolume := "${NOTARY_NET:-./net}/" + n.ID + ":" + imageHome
		if !slices.Equal(s.Volumes, []string{wantVolume}) {
			t.Errorf("%s: volumes %q, want [%q]", n.ID, s.Volumes, wantVolume)
		}
		if len(s.Networks) != 1 {
			t.Errorf("%s: on %d networks, want one", n.ID, len(s.Networks))
		}
		for _, sn := range s.Networks {
			addr, err := netip.ParseAddr(sn.IPv4Address)
			if err != nil || sn.IPv4Address != n.Host || !subnet.Contains(addr) {
				t.Errorf("%s: address %q, want the home's host %s in %s", n.ID, sn.IPv4Address, n.Host, subnet)
			}
		}
		if s.Image == "" || s.User == "" || s.Ulimits.Nofile < minOpenFiles() {
			t.Errorf("%s: image %q, user %q, nofile %d (want at least %d)", n.ID, s.Image, s.User, s.Ulimits.Nofile, minOpenFiles())
		}
		built := filepath.Join(filepath.Dir(composeFile), s.Build.Context, s.Build.Dockerfile)
		if same, err := sameFile(built, dockerfile); err != nil || !same {
			t.Errorf("%s: builds %s, want %s (%v)", n.ID, built, dockerfile, err)
		}
	}
}

func sameFile(a, b string) (bool, error) {
	fa, err := os.Stat(a)
	if err != nil {
		return false, err
	}
	fb, err := os.Stat(b)
	if err != nil {
		return false, err
	}
	return os.SameFile(fa, fb), nil
}

// instruction is one Dockerfile instruction.
type instruction struct {
	Cmd  string // upper case
	Args string
}

// parseDockerfile reads a Dockerfile's instructions into stages (the
// instructions before the first FROM, then one slice per FROM).
func parseDockerfile(t *testing.T, path string) [][]instruction {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	stages := [][]instruction{nil}
	sc := bufio.NewScanner(bytes.NewReader(b))
	var cont strings.Builder
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		if strings.HasPrefix(line, "#") || (line == "" && cont.Len() == 0) {
			continue
		}
		if s, ok := strings.CutSuffix(line, `\`); ok {
			cont.WriteString(s + " ")
			continue
		}
		cont.WriteString(line)
		full := cont.String()
		cont.Reset()
		cmd, args, _ := strings.Cut(full, " ")
		in := instruction{Cmd: strings.ToUpper(cmd), Args: strings.Join(strings.Fields(args), " ")}
		switch in.Cmd {
		case "FROM":
			stages = append(stages, []instruction{in})
		case "ARG", "ENV", "RUN", "COPY", "ADD", "WORKDIR", "USER", "VOLUME", "EXPOSE", "ENTRYPOINT", "CMD",
			"HEALTHCHECK", "STOPSIGNAL", "LABEL", "SHELL", "ONBUILD":
			stages[len(stages)-1] = append(stages[len(stages)-1], in)
		default:
			t.Fatalf("%s: unknown instruction %q", path, cmd)
		}
	}
	if cont.Len() > 0 {
		t.Fatalf("%s ends in a continued line", path)
	}
	return stages
}

// args returns the arguments of the instructions named cmd in stage.
func args(stage []instruction, cmd string) []string {
	var out []string
	for _, in := range stage {
		if in.Cmd == cmd {
			out = append(out, in.Args)
		}
	}
	return out
}

// TestDockerfile: the image is built in stages from the Go release go.mod
// names, as a static binary with the release and commit stamped; it runs
// notaryd as a non-root user with the home as a volume, and exposes the
// ports of the homes notaryd testnet writes for separate hosts.
func TestDockerfile(t *testing.T) {
	stages := parseDockerfile(t, dockerfile)
	if len(stages) < 3 {
		t.Fatalf("want a multi-stage build, got %d stage(s)", len(stages)-1)
	}
	mod, err := os.ReadFile(goMod)
	if err != nil {
		t.Fatal(err)
	}
	m := regexp.MustCompile(`(?m)^go (\d+\.\d+)`).FindSubmatch(mod)
	if m == nil {
		t.Fatal("go.mod has no go directive")
	}
	if want := "GO_VERSION=" + string(m[1]); !slices.Contains(args(stages[0], "ARG"), want) {
		t.Errorf("global ARGs %q, want %s (go.mod's go directive)", args(stages[0], "ARG"), want)
	}
	named := map[string]bool{}
	for i, st := range stages[1:] {
		from := strings.Fields(st[0].Args)
		if len(from) == 3 && strings.EqualFold(from[1], "AS") {
			named[from[2]] = true
		}
		for _, c := range args(st, "COPY") {
			for _, f := range strings.Fields(c) {
				if src, ok := strings.CutPrefix(f, "--from="); ok && !named[src] {
					t.Errorf("stage %d copies from %q, which is no earlier stage", i+1, src)
				}
			}
		}
	}
	build := strings.Join(args(stages[1], "RUN"), "\n")
	for _, want := range []string{"CGO_ENABLED=0", "-trimpath", "./cmd/notaryd",
		"-X github.com/gobtechlab/notary/app/version.Release=", "-X github.com/gobtechlab/notary/app/version.Commit="} {
		if !strings.Contains(build, want) {
			t.Errorf("the build stage's RUN lacks %q", want)
		}
	}

	final := stages[len(stages)-1]
	users := args(final, "USER")
	if len(users) == 0 {
		t.Error("the image runs as root: no USER")
	} else if u, _, _ := strings.Cut(users[len(users)-1], ":"); u == "root" || u == "0" {
		t.Errorf("the image runs as %s", users[len(users)-1])
	}
	if v := args(final, "VOLUME"); !slices.Contains(v, `["`+imageHome+`"]`) && !slices.Contains(v, imageHome) {
		t.Errorf("VOLUME %q, want %s", v, imageHome)
	}
	if env := args(final, "ENV"); !slices.Contains(env, "NOTARY_HOME="+imageHome) {
		t.Errorf("ENV %q, want NOTARY_HOME=%s", env, imageHome)
	}
	if e := args(final, "ENTRYPOINT"); len(e) != 1 || e[0] != `["/usr/local/bin/notaryd"]` {
		t.Errorf("ENTRYPOINT %q", e)
	}
	if c := args(final, "CMD"); len(c) != 1 || c[0] != `["start"]` {
		t.Errorf("CMD %q", c)
	}

	_, nw := composeNetwork(t)
	var want []string
	for _, a := range []string{nw.Nodes[0].P2P, nw.Nodes[0].Gateway, nw.Nodes[0].Metrics, nw.Nodes[0].Public} {
		_, port, err := splitHostPort(a)
		if err != nil {
			t.Fatal(err)
		}
		want = append(want, port+"/tcp")
	}
	var exposed []string
	for _, e := range args(final, "EXPOSE") {
		exposed = append(exposed, strings.Fields(e)...)
	}
	if !slices.Equal(exposed, want) {
		t.Errorf("EXPOSE %q, want %q (p2p, gateway, metrics, public of a testnet home)", exposed, want)
	}

	ignore, err := os.ReadFile(dockerignore)
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range []string{".git", "scripts/packaging/net/", "localnet/", "dist/"} {
		if !slices.Contains(strings.Fields(string(ignore)), p) {
			t.Errorf("%s does not keep %s out of the build context", dockerignore, p)
		}
	}
}

// splitHostPort splits "host:port" or a URL "scheme://host:port/path".
func splitHostPort(a string) (string, string, error) {
	if _, rest, ok := strings.Cut(a, "://"); ok {
		a, _, _ = strings.Cut(rest, "/")
	}
	return net.SplitHostPort(a)
}

// minOpenFiles is the open files a node uses with the default limits: the
// gateway's two pools (gRPC and HTTP/JSON), CometBFT's RPC and peers, five
// goleveldb stores at their open-files cache (500), and a thousand more for
// the digest index's files and the rest.
func minOpenFiles() int {
	g := app.DefaultAppConfig().Gateway
	c := cmtcfg.DefaultConfig()
	return 2*(g.MaxConnections+g.MaxUnauthenticatedConnections) + c.RPC.MaxOpenConnections +
		c.P2P.MaxNumInboundPeers + c.P2P.MaxNumOutboundPeers + 5*500 + 1000
}

// parseUnit reads a systemd unit into section -> key -> values.
func parseUnit(t *testing.T, path string) map[string]map[string][]string {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	u := map[string]map[string][]string{}
	section := ""
	for i, line := range strings.Split(string(b), "\n") {
		line = strings.TrimSpace(line)
		switch {
		case line == "" || strings.HasPrefix(line, "#") || strings.HasPrefix(line, ";"):
		case strings.HasPrefix(line, "[") && strings.HasSuffix(line, "]"):
			section = line[1 : len(line)-1]
			u[section] = map[string][]string{}
		default:
			k, v, ok := strings.Cut(line, "=")
			if !ok || section == "" {
				t.Fatalf("%s:%d: %q is not key=value in a section", path, i+1, line)
			}
			u[section][k] = append(u[section][k], v)
		}
	}
	return u
}

// TestSystemdUnit: the unit runs the node as its own user, hardened, with
// its home the only place it writes, an open-files limit above what the
// default limits use, and a restart policy; systemd-analyze verify accepts
// it where systemd is installed.
func TestSystemdUnit(t *testing.T) {
	u := parseUnit(t, systemdUnit)
	svc := u["Service"]
	home := imageHome + "/%i"
	want := map[string]string{
		"User":                    "notary",
		"Group":                   "notary",
		"ExecStart":               "/usr/local/bin/notaryd start --home " + home,
		"ReadWritePaths":          home,
		"NoNewPrivileges":         "yes",
		"ProtectSystem":           "strict",
		"ProtectHome":             "yes",
		"PrivateTmp":              "yes",
		"CapabilityBoundingSet":   "",
		"Restart":                 "on-failure",
		"KillSignal":              "SIGTERM",
		"RestrictAddressFamilies": "AF_INET AF_INET6 AF_UNIX",
	}
	for k, v := range want {
		if got := svc[k]; len(got) != 1 || got[0] != v {
			t.Errorf("[Service] %s = %q, want %q", k, got, v)
		}
	}
	if n, err := strconv.Atoi(strings.Join(svc["LimitNOFILE"], "")); err != nil || n < minOpenFiles() {
		t.Errorf("[Service] LimitNOFILE = %q, want at least %d", svc["LimitNOFILE"], minOpenFiles())
	}
	if got := u["Install"]["WantedBy"]; !slices.Equal(got, []string{"multi-user.target"}) {
		t.Errorf("[Install] WantedBy = %q", got)
	}

	analyze, err := exec.LookPath("systemd-analyze")
	if err != nil {
		t.Skip("systemd-analyze is not installed: the unit is not verified by systemd")
	}
	// verify also checks that ExecStart's binary exists: point it at a
	// stand-in, and verify an instance of the template.
	dir := t.TempDir()
	stub := filepath.Join(dir, "notaryd")
	if err := os.WriteFile(stub, []byte("#!/bin/sh\n"), 0o755); err != nil {
		t.Fatal(err)
	}
	b, err := os.ReadFile(systemdUnit)
	if err != nil {
		t.Fatal(err)
	}
	instance := filepath.Join(dir, "notaryd@hacienda.service")
	if err := os.WriteFile(instance, bytes.ReplaceAll(b, []byte("/usr/local/bin/notaryd"), []byte(stub)), 0o644); err != nil {
		t.Fatal(err)
	}
	out, err := exec.Command(analyze, "verify", instance).CombinedOutput()
	if err != nil || len(bytes.TrimSpace(out)) > 0 {
		t.Fatalf("systemd-analyze verify: %v\n%s", err, out)
	}
}
