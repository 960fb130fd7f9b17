package main

import (
	"encoding/json"
	"testing"

	"github.com/gobtechlab/notary/app/version"
	"github.com/gobtechlab/notary/cmd/internal/cli"
)

// TestVersion checks what `notaryctl version` prints, in JSON and in text,
// with no identity and no node to talk to.
func TestVersion(t *testing.T) {
	t.Setenv("NOTARY_HOME", t.TempDir())
	want := cli.VersionResult{Program: "notaryctl", Info: version.Get()}

	r := run(t, "version", "--output", "json").want(t, cli.ExitOK)
	var got cli.VersionResult
	if err := json.Unmarshal([]byte(r.stdout), &got); err != nil {
		t.Fatalf("version JSON: %v\n%s", err, r.stdout)
	}
	if got != want {
		t.Errorf("version %+v, want %+v", got, want)
	}
	// notaryctl does not link CometBFT: it reports the version go.mod
	// requires.
	if got.CometBFT == "" || got.CometBFT == version.Unknown {
		t.Errorf("cometbft version %q", got.CometBFT)
	}

	r = run(t, "version").want(t, cli.ExitOK)
	wantText := "notaryctl " + want.Release + "\n  commit    " + want.Commit +
		"\n  cometbft  " + want.CometBFT + "\n  go        " + want.Go + "\n"
	if r.stdout != wantText {
		t.Errorf("version text:\n%s\nwant:\n%s", r.stdout, wantText)
	}
}
