package version

import (
	"os"
	"regexp"
	"runtime"
	"runtime/debug"
	"testing"
)

func TestResolve(t *testing.T) {
	comet := func(v string) *debug.Module { return &debug.Module{Path: cometBFTModule, Version: v} }
	settings := func(kv ...string) []debug.BuildSetting {
		var s []debug.BuildSetting
		for i := 0; i < len(kv); i += 2 {
			s = append(s, debug.BuildSetting{Key: kv[i], Value: kv[i+1]})
		}
		return s
	}
	tests := []struct {
		name            string
		release, commit string
		bi              debug.BuildInfo
		want            Info
	}{
		{
			name: "nothing known",
			want: Info{Release: Devel, Commit: Unknown, CometBFT: cometBFTRequired},
		},
		{
			name: "go build without VCS stamping",
			bi:   debug.BuildInfo{Main: debug.Module{Version: "(devel)"}},
			want: Info{Release: Devel, Commit: Unknown, CometBFT: cometBFTRequired},
		},
		{
			name:    "stamped",
			release: "v0.2.0", commit: "0123abcd",
			bi: debug.BuildInfo{
				Main:     debug.Module{Version: "v0.1.0"},
				Settings: settings("vcs.revision", "ffff", "vcs.modified", "true"),
				Deps:     []*debug.Module{comet("v0.38.30")},
			},
			want: Info{Release: "v0.2.0", Commit: "0123abcd", CometBFT: "v0.38.30"},
		},
		{
			name: "go install module@version",
			bi:   debug.BuildInfo{Main: debug.Module{Version: "v0.2.1"}, Deps: []*debug.Module{comet("v0.38.27")}},
			want: Info{Release: "v0.2.1", Commit: Unknown, CometBFT: "v0.38.27"},
		},
		{
			name: "VCS revision, clean",
			bi:   debug.BuildInfo{Main: debug.Module{Version: "(devel)"}, Settings: settings("vcs.revision", "abc123", "vcs.modified", "false")},
			want: Info{Release: Devel, Commit: "abc123", CometBFT: cometBFTRequired},
		},
		{
			name: "VCS revision, modified",
			bi:   debug.BuildInfo{Settings: settings("vcs.modified", "true", "vcs.revision", "abc123")},
			want: Info{Release: Devel, Commit: "abc123-dirty", CometBFT: cometBFTRequired},
		},
		{
			name: "modified without a revision",
			bi:   debug.BuildInfo{Settings: settings("vcs.modified", "true")},
			want: Info{Release: Devel, Commit: Unknown, CometBFT: cometBFTRequired},
		},
		{
			name: "CometBFT replaced",
			bi: debug.BuildInfo{Deps: []*debug.Module{
				{Path: "github.com/cosmos/iavl", Version: "v1.3.6"},
				{Path: cometBFTModule, Version: "v0.38.26", Replace: &debug.Module{Path: "example.org/fork", Version: "v0.38.26-fork.1"}},
			}},
			want: Info{Release: Devel, Commit: Unknown, CometBFT: "v0.38.26-fork.1"},
		},
		{
			name: "CometBFT replaced by a directory",
			bi: debug.BuildInfo{Deps: []*debug.Module{
				{Path: cometBFTModule, Version: "v0.38.28", Replace: &debug.Module{Path: "../cometbft"}},
			}},
			want: Info{Release: Devel, Commit: Unknown, CometBFT: "v0.38.28"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			bi := tt.bi
			if got := resolve(tt.release, tt.commit, &bi); got != tt.want {
				t.Errorf("got %+v, want %+v", got, tt.want)
			}
		})
	}
}

func TestGet(t *testing.T) {
	i := Get()
	if i.Release == "" || i.Commit == "" || i.CometBFT == "" || i.Go != runtime.Version() {
		t.Fatalf("Get() = %+v", i)
	}
	want := i.Release + " (commit " + i.Commit + ", cometbft " + i.CometBFT + ", " + i.Go + ")"
	if s := i.String(); s != want {
		t.Errorf("String() = %q, want %q", s, want)
	}
}

// TestCometBFTRequired keeps the fallback CometBFT version equal to the one
// go.mod requires.
func TestCometBFTRequired(t *testing.T) {
	mod, err := os.ReadFile("../../go.mod")
	if err != nil {
		t.Fatal(err)
	}
	m := regexp.MustCompile(`(?m)^\s*(?:require\s+)?` + regexp.QuoteMeta(cometBFTModule) + `\s+(v\S+)`).FindSubmatch(mod)
	if m == nil {
		t.Fatalf("go.mod does not require %s", cometBFTModule)
	}
	if got := string(m[1]); got != cometBFTRequired {
		t.Errorf("go.mod requires %s %s; cometBFTRequired is %s", cometBFTModule, got, cometBFTRequired)
	}
	if regexp.MustCompile(`(?m)^\s*(?:replace\s+)?` + regexp.QuoteMeta(cometBFTModule) + `(\s+v\S+)?\s+=>`).Match(mod) {
		t.Errorf("go.mod replaces %s: report the replacement's version", cometBFTModule)
	}
}
