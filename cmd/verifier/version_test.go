package main

import (
	"encoding/json"
	"testing"

	"github.com/gobtechlab/notary/app/version"
	"github.com/gobtechlab/notary/cmd/internal/cli"
)

// TestVersion checks what `verifier version` prints, in JSON and in text.
func TestVersion(t *testing.T) {
	want := cli.VersionResult{Program: "verifier", Info: version.Get()}

	out, code := run(t, rootEnv{home: t.TempDir()}, "version", "--output", "json")
	if code != cli.ExitOK {
		t.Fatalf("version: exit %d\n%s", code, out)
	}
	var got cli.VersionResult
	if err := json.Unmarshal([]byte(out), &got); err != nil {
		t.Fatalf("version JSON: %v\n%s", err, out)
	}
	if got != want {
		t.Errorf("version %+v, want %+v", got, want)
	}
	// The verifier does not link CometBFT: it reports the version go.mod
	// requires.
	if got.CometBFT == "" || got.CometBFT == version.Unknown {
		t.Errorf("cometbft version %q", got.CometBFT)
	}

	out, code = run(t, rootEnv{home: t.TempDir()}, "version", "--lang", "es")
	wantText := "verifier " + want.Release + "\n  commit    " + want.Commit +
		"\n  cometbft  " + want.CometBFT + "\n  go        " + want.Go + "\n"
	if code != cli.ExitOK || out != wantText {
		t.Errorf("version text (exit %d):\n%s\nwant:\n%s", code, out, wantText)
	}
}
