package main

import (
	"encoding/base64"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/gobtechlab/notary/cmd/internal/cli"
	"github.com/gobtechlab/notary/cmd/verifier/verify"
)

// TestTrustShow: the bundle, its checkpoint (size, root, signers,
// cosigners), log validators and witness policy, in both languages and as
// JSON, for a genesis-only bundle and one with a witnessed checkpoint.
func TestTrustShow(t *testing.T) {
	for _, tc := range []struct {
		vector    string
		size      uint64
		signers   int
		cosigners []string
	}{
		{vector: "valid-v2"},
		{vector: "valid-v2-witnessed", size: 33551001, signers: 4, cosigners: []string{"Testigo a"}},
	} {
		t.Run(tc.vector, func(t *testing.T) {
			path := filepath.Join(vectors, tc.vector, "trust.json")
			for _, lang := range []string{"en", "es"} {
				out, code := run(t, rootEnv{}, "trust", "show", "--trust", path, "--lang", lang)
				if code != cli.ExitOK {
					t.Fatalf("exit %d\n%s", code, out)
				}
				golden(t, filepath.Join("testdata", "trust-"+tc.vector+"."+lang+".golden"), out)
			}
			out, code := run(t, rootEnv{}, "trust", "show", "--trust", path, "--output", "json")
			var got trustShown
			if err := json.Unmarshal([]byte(out), &got); err != nil || code != cli.ExitOK {
				t.Fatalf("json: %v %d\n%s", err, code, out)
			}
			if got.Fingerprint != verify.TrustFingerprint(mustRead(t, path)) {
				t.Errorf("fingerprint %s", got.Fingerprint)
			}
			c := got.Checkpoint
			if tc.size == 0 {
				if c != nil {
					t.Fatalf("a checkpoint in a genesis-only bundle: %+v", c)
				}
				return
			}
			if c == nil || c.Size != tc.size || len(c.Signers) != tc.signers || strings.Join(c.Cosigners, "|") != strings.Join(tc.cosigners, "|") {
				t.Fatalf("checkpoint %+v", c)
			}
			if root, err := base64.StdEncoding.DecodeString(c.Root); err != nil || len(root) != 32 {
				t.Errorf("root %q: %v", c.Root, err)
			}
			for _, s := range c.Signers {
				if s.Name == "" || s.MinistryID == "" {
					t.Errorf("signer %+v", s)
				}
			}
		})
	}
}

// TestTrustFingerprint: the fingerprint of the bundle verify would use,
// from --trust or the user's configuration folder; a bundle that is not
// valid is a usage error.
func TestTrustFingerprint(t *testing.T) {
	path := filepath.Join(vectors, "valid-v2-witnessed", "trust.json")
	want := verify.TrustFingerprint(mustRead(t, path))
	config := t.TempDir()
	if err := os.MkdirAll(filepath.Join(config, "notary"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(config, "notary", "trust.json"), mustRead(t, path), 0o644); err != nil {
		t.Fatal(err)
	}
	bad := filepath.Join(t.TempDir(), "trust.json")
	if err := os.WriteFile(bad, []byte(`{"chain_id": "x"}`), 0o644); err != nil {
		t.Fatal(err)
	}
	empty := ""
	for _, tc := range []struct {
		name string
		env  rootEnv
		args []string
		code int
		want string
	}{
		{"flag", rootEnv{configDir: t.TempDir(), releaseTrust: &empty}, []string{"--trust", path}, cli.ExitOK, want + "\n"},
		{"config", rootEnv{configDir: config, releaseTrust: &empty}, nil, cli.ExitOK, want + "\n"},
		{"not valid", rootEnv{configDir: t.TempDir(), releaseTrust: &empty}, []string{"--trust", bad}, cli.ExitUsage, ""},
		{"none", rootEnv{configDir: t.TempDir(), releaseTrust: &empty}, nil, cli.ExitUsage, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			out, code := run(t, tc.env, append([]string{"trust", "fingerprint"}, tc.args...)...)
			if code != tc.code || (tc.want != "" && out != tc.want) {
				t.Fatalf("exit %d, want %d: %q, want %q", code, tc.code, out, tc.want)
			}
		})
	}
}
