package main

import (
	"encoding/json"
	"os/exec"
	"path/filepath"
	"testing"

	cmtversion "github.com/cometbft/cometbft/version"

	"github.com/gobtechlab/notary/app/version"
	"github.com/gobtechlab/notary/cmd/internal/cli"
)

// TestVersion checks what `notaryd version` prints in JSON and in text: the
// build's release and commit, and the CometBFT version notaryd links.
func TestVersion(t *testing.T) {
	out, err := runCmd(t, "version", "-o", "json")
	if err != nil {
		t.Fatalf("version: %v\n%s", err, out)
	}
	var got cli.VersionResult
	if err := json.Unmarshal([]byte(out), &got); err != nil {
		t.Fatalf("version JSON: %v\n%s", err, out)
	}
	want := cli.VersionResult{Program: "notaryd", Info: version.Get()}
	if got != want {
		t.Fatalf("version %+v, want %+v", got, want)
	}
	if got.CometBFT != "v"+cmtversion.TMCoreSemVer {
		t.Errorf("cometbft %s, but notaryd links %s", got.CometBFT, cmtversion.TMCoreSemVer)
	}
	text, err := runCmd(t, "version")
	if err != nil {
		t.Fatalf("version: %v\n%s", err, text)
	}
	wantText := "notaryd " + want.Release + "\n  commit    " + want.Commit +
		"\n  cometbft  " + want.CometBFT + "\n  go        " + want.Go + "\n"
	if text != wantText {
		t.Errorf("version text:\n%s\nwant:\n%s", text, wantText)
	}
}

// TestVersionStamped builds notaryd as scripts/build.sh does, with the
// release and commit stamped by the linker, and runs `notaryd version`.
func TestVersionStamped(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and runs notaryd")
	}
	const (
		release = "v0.2.0-test"
		commit  = "0123456789abcdef0123456789abcdef01234567"
	)
	bin := filepath.Join(t.TempDir(), "notaryd")
	ldflags := "-X github.com/gobtechlab/notary/app/version.Release=" + release +
		" -X github.com/gobtechlab/notary/app/version.Commit=" + commit
	if out, err := exec.Command("go", "build", "-ldflags", ldflags, "-o", bin, ".").CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	out, err := exec.Command(bin, "version", "--output", "json").Output()
	if err != nil {
		t.Fatalf("notaryd version: %v\n%s", err, out)
	}
	var got cli.VersionResult
	if err := json.Unmarshal(out, &got); err != nil {
		t.Fatalf("version JSON: %v\n%s", err, out)
	}
	want := cli.VersionResult{Program: "notaryd", Info: version.Info{
		Release: release, Commit: commit, CometBFT: "v" + cmtversion.TMCoreSemVer, Go: version.Get().Go,
	}}
	if got != want {
		t.Errorf("version %+v, want %+v", got, want)
	}
}
