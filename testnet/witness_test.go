package testnet

import (
	"context"
	"crypto/sha256"
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	tnote "github.com/transparency-dev/formats/note"
	"golang.org/x/mod/sumdb/note"
	"google.golang.org/protobuf/proto"

	"github.com/gobtechlab/notary/app"
	"github.com/gobtechlab/notary/cmd/verifier/verify"
	"github.com/gobtechlab/notary/ledger"
	notaryv1 "github.com/gobtechlab/notary/proto/notary/v1"
	"github.com/gobtechlab/notary/testnet/internal/harness"
)

// startWitnessProc runs `verifier witness init` and `verifier witness
// serve` (the real binary) for chainID's log, with the validators' keys
// and a threshold of more than 2/3 of them, and returns its submission
// URL and cosignature/v1 verifier key.
func startWitnessProc(t *testing.T, verifier, chainID string, vals []verify.LogValidator) (url, vkey string) {
	t.Helper()
	home := t.TempDir()
	out, err := exec.Command(verifier, "witness", "init", "--home", home, "--name", "witness.audit.example/notary", "--output", "json").CombinedOutput()
	if err != nil {
		t.Fatalf("verifier witness init: %v\n%s", err, out)
	}
	var init struct {
		VerifierKey string `json:"verifier_key"`
	}
	if err := json.Unmarshal(out, &init); err != nil {
		t.Fatalf("verifier witness init: %v\n%s", err, out)
	}
	addr := "127.0.0.1:" + strconv.Itoa(harness.FreePorts(t, 1)[0])
	args := []string{"witness", "serve", "--home", home, "--listen", addr, "--origin", verify.LogOrigin(chainID),
		"--threshold", strconv.Itoa(len(vals)*2/3 + 1)}
	for _, v := range vals {
		k, err := note.NewEd25519VerifierKey(verify.LogKeyName(chainID, v.MinistryID), v.PubKey)
		if err != nil {
			t.Fatal(err)
		}
		args = append(args, "--log-key", k)
	}
	cmd := exec.Command(verifier, args...)
	logf, err := os.Create(filepath.Join(home, "serve.log"))
	if err != nil {
		t.Fatal(err)
	}
	cmd.Stdout, cmd.Stderr = logf, logf
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		_ = cmd.Process.Kill()
		_ = cmd.Wait()
		_ = logf.Close()
		if t.Failed() {
			b, _ := os.ReadFile(logf.Name())
			t.Logf("witness log:\n%s", b)
		}
	})
	url = "http://" + addr
	deadline := time.Now().Add(30 * time.Second)
	for {
		if code, _, _, err := httpGet(context.Background(), url+"/"); err == nil && code == http.StatusOK {
			return url, init.VerifierKey
		}
		if time.Now().After(deadline) {
			t.Fatalf("the witness does not serve on %s", addr)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// TestWitnessPolicy: four validators submit their checkpoints to a witness
// (`verifier witness serve`) named in app.toml [log] witnesses; governance
// registers the witness with a threshold of 1 (a change-params proposal
// and the votes); /log/checkpoint then carries the witness's valid
// cosignature, and `notaryd trust export` on a running node's home writes
// a bundle with that checkpoint, its validator set and the witness policy.
// On a stopped node's home (which holds no cosignature) the export has no
// checkpoint and says why.
func TestWitnessPolicy(t *testing.T) {
	if testing.Short() {
		t.Skip("runs four validator processes and a witness")
	}
	net := harness.NewNet(t, harness.NetOptions{Validators: 4, Agencies: 1, BlockInterval: 200 * time.Millisecond, NoEmptyBlocks: true})
	vals := genesisValidators(t, net.Nodes[0].Home)
	verifier := cliBinary(t, t.TempDir(), "verifier")
	url, vkey := startWitnessProc(t, verifier, net.ChainID, vals)
	for _, n := range net.Nodes {
		cfg, err := app.LoadConfig(n.Home)
		if err != nil {
			t.Fatal(err)
		}
		cfg.App.Log.Witnesses = []app.WitnessConfig{{URL: url, Key: vkey}}
		if err := app.SaveConfig(cfg); err != nil {
			t.Fatal(err)
		}
		n.Start()
	}
	ctx := context.Background()
	for _, n := range net.Nodes {
		if err := n.WaitHeight(ctx, 1, 90*time.Second); err != nil {
			t.Fatal(err)
		}
	}

	// Governance registers the witness: a proposal, and the votes of three
	// of the four ministries (more than 2/3 of the power).
	params := waitCommitted(t, ctx, net.Nodes[0], 30*time.Second)
	p := proto.Clone(params).(*notaryv1.Params)
	p.Witnesses = []*notaryv1.Witness{{Name: "Tribunal de Cuentas", Key: vkey}}
	p.WitnessThreshold = 1
	res, _, err := harness.Submit(ctx, net.Nodes[0].Proc, net.Nodes[0].GovKey, &notaryv1.TxBody{Msg: &notaryv1.TxBody_Propose{Propose: &notaryv1.Propose{
		MinistryId: net.Nodes[0].ID, Title: "Testigo del Tribunal de Cuentas",
		Action: &notaryv1.ProposalAction{Action: &notaryv1.ProposalAction_ChangeParams{ChangeParams: p}},
	}}})
	if err != nil {
		t.Fatalf("propose: %v", err)
	}
	// Every transaction goes through the first node, which has committed
	// what the previous one did (another node may be a block behind).
	for _, n := range net.Nodes[:3] {
		if _, _, err := harness.Submit(ctx, net.Nodes[0].Proc, n.GovKey, &notaryv1.TxBody{Msg: &notaryv1.TxBody_Vote{Vote: &notaryv1.Vote{
			MinistryId: n.ID, ProposalId: res.GetProposalId(), Option: notaryv1.VoteOption_VOTE_OPTION_YES}}}); err != nil {
			t.Fatalf("%s votes: %v", n.ID, err)
		}
	}
	if found, err := queryStore(ctx, net.Nodes[0], ledger.ParamsKey(), 0, params); err != nil || !found || !proto.Equal(params, p) {
		t.Fatalf("params after the vote: %v %v %v", params, found, err)
	}

	// Anchors make checkpoints; the nodes submit them to the witness and
	// serve its cosignature.
	agency := net.Agencies[0]
	cosigner, err := tnote.NewVerifierForCosignatureV1(vkey)
	if err != nil {
		t.Fatal(err)
	}
	var (
		b []byte
		c *verify.LogCheckpoint
	)
	deadline := time.Now().Add(60 * time.Second)
	for i := 0; b == nil; i++ {
		if time.Now().After(deadline) {
			t.Fatal("no cosigned checkpoint at /log/checkpoint within 60s")
		}
		d := sha256.Sum256([]byte(fmt.Sprint("witnessed", i)))
		if _, _, err := harness.Submit(ctx, net.Nodes[0].Proc, agency, &notaryv1.TxBody{Msg: &notaryv1.TxBody_AnchorBatch{
			AnchorBatch: &notaryv1.AnchorBatch{AgencyId: agency.ID, HashAlgorithm: notaryv1.HashAlgorithm_HASH_ALGORITHM_SHA2_256, Digests: d[:]}}}); err != nil {
			t.Fatal(err)
		}
		for range 10 {
			code, got, _, err := httpGet(ctx, publicURL(net.Nodes[2])+"/log/checkpoint")
			if err == nil && code == http.StatusOK {
				if _, err := note.Open(got, note.VerifierList(cosigner)); err == nil {
					if c, err = verify.VerifyLogCheckpoint(net.ChainID, got, vals); err != nil {
						t.Fatalf("the cosigned checkpoint: %v\n%s", err, got)
					}
					b = got
					break
				}
			}
			time.Sleep(300 * time.Millisecond)
		}
	}
	t.Logf("checkpoint of size %d signed by %v, cosigned by the witness:\n%s", c.Size, c.Signers, b)

	// trust export on the running node's home.
	out := filepath.Join(t.TempDir(), "trust.json")
	raw, err := exec.Command(harness.Binary(t), "trust", "export", "--home", net.Nodes[2].Home, "--out", out, "--output", "json").CombinedOutput()
	if err != nil {
		t.Fatalf("trust export: %v\n%s", err, raw)
	}
	var exported struct {
		Bundle *notaryv1.TrustBundle `json:"bundle"`
		Log    struct {
			Source    string   `json:"source"`
			Size      uint64   `json:"size"`
			Cosigners []string `json:"cosigners"`
			Missing   string   `json:"missing"`
		} `json:"log"`
	}
	if err := json.Unmarshal(raw, &exported); err != nil {
		t.Fatalf("trust export: %v\n%s", err, raw)
	}
	tb := exported.Bundle
	if exported.Log.Source != "running node" || exported.Log.Missing != "" || len(exported.Log.Cosigners) != 1 {
		t.Fatalf("trust export: %s", raw)
	}
	if _, err := note.Open(tb.LogCheckpoint, note.VerifierList(cosigner)); err != nil {
		t.Fatalf("the bundle's checkpoint is not cosigned: %v\n%s", err, tb.LogCheckpoint)
	}
	var bvals []verify.LogValidator
	for i, v := range tb.LogValidators {
		if i > 0 && v.MinistryId <= tb.LogValidators[i-1].MinistryId || v.Name == "" {
			t.Fatalf("log_validators %v", tb.LogValidators)
		}
		bvals = append(bvals, verify.LogValidator{MinistryID: v.MinistryId, PubKey: v.PubKey, Power: v.Power})
	}
	bc, err := verify.VerifyLogCheckpoint(net.ChainID, tb.LogCheckpoint, bvals)
	if err != nil || bc.Size < c.Size || len(bvals) != len(vals) {
		t.Fatalf("the bundle's checkpoint: %v %v (%d validators)", bc, err, len(bvals))
	}
	if len(tb.Witnesses) != 1 || tb.Witnesses[0].Key != vkey || tb.Witnesses[0].Name != "Tribunal de Cuentas" || tb.WitnessThreshold != 1 {
		t.Fatalf("the bundle's witness policy: %v %d", tb.Witnesses, tb.WitnessThreshold)
	}
	t.Logf("bundle with the checkpoint of size %d, %d validators, %d of %d witnesses", bc.Size, len(bvals), tb.WitnessThreshold, len(tb.Witnesses))

	// A stopped node's home: its stored state, no cosignature held, so no
	// checkpoint under a threshold of 1: the export fails and writes
	// nothing; --no-checkpoint: neither policy.
	stopped := net.Nodes[3]
	stopped.Stop()
	refused := filepath.Join(t.TempDir(), "refused.json")
	raw, err = exec.Command(harness.Binary(t), "trust", "export", "--home", stopped.Home, "--out", refused).CombinedOutput()
	if err == nil || !strings.Contains(string(raw), "the checkpoint of size") || !strings.Contains(string(raw), "--no-checkpoint") {
		t.Fatalf("trust export of a stopped node: %v\n%s", err, raw)
	}
	if _, err := os.Stat(refused); err == nil {
		t.Fatal("a refused export wrote its bundle")
	}
	raw, err = exec.Command(harness.Binary(t), "trust", "export", "--home", net.Nodes[1].Home, "--out", out, "--no-checkpoint").CombinedOutput()
	if err != nil || strings.Contains(string(raw), "checkpoint") || strings.Contains(string(raw), "witness") {
		t.Fatalf("trust export --no-checkpoint: %v\n%s", err, raw)
	}
}
