package testnet

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"testing"
	"time"

	"github.com/cometbft/cometbft/privval"

	"github.com/gobtechlab/notary/app"
	"github.com/gobtechlab/notary/testnet/internal/harness"
)

// TestRemoteSigner runs a single-validator chain whose node has no
// consensus key: config.toml's priv_validator_laddr makes it listen for a
// remote signer, and CometBFT's own privval signer server (with the file
// key moved out of the home, in another process) dials it and signs every
// block.
func TestRemoteSigner(t *testing.T) {
	if testing.Short() {
		t.Skip("runs a node and a signer process")
	}
	dir := t.TempDir()
	home := filepath.Join(dir, "node")
	signerDir := filepath.Join(dir, "signer")
	ports := harness.FreePorts(t, 7)
	const chainID = "signer-test"
	out, err := exec.Command(harness.Binary(t), "init", "--chain-id", chainID, "--home", home,
		"--p2p-port", strconv.Itoa(ports[0]), "--rpc-port", strconv.Itoa(ports[1]),
		"--gateway-port", strconv.Itoa(ports[2]), "--metrics-port", strconv.Itoa(ports[3]),
		"--public-port", "0", "--empty-blocks").CombinedOutput()
	if err != nil {
		t.Fatalf("notaryd init: %v\n%s", err, out)
	}

	// The validator key moves to the signer's host.
	cfg, err := app.LoadConfig(home)
	if err != nil {
		t.Fatal(err)
	}
	keyFile := filepath.Join(signerDir, "priv_validator_key.json")
	stateFile := filepath.Join(signerDir, "priv_validator_state.json")
	if err := os.MkdirAll(signerDir, 0o700); err != nil {
		t.Fatal(err)
	}
	for from, to := range map[string]string{cfg.Comet.PrivValidatorKeyFile(): keyFile, cfg.Comet.PrivValidatorStateFile(): stateFile} {
		if err := os.Rename(from, to); err != nil {
			t.Fatal(err)
		}
	}
	laddr := fmt.Sprintf("tcp://127.0.0.1:%d", ports[5])
	cfg.Comet.PrivValidatorListenAddr = laddr
	if err := app.SaveConfig(cfg); err != nil {
		t.Fatal(err)
	}
	validator := privval.LoadFilePV(keyFile, stateFile).GetAddress()

	signerLog, err := os.Create(filepath.Join(signerDir, "signer.log"))
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = signerLog.Close() }()
	signer := exec.Command(harness.Tool(t, "github.com/gobtechlab/notary/testnet/internal/remotesigner"),
		"--addr", laddr, "--chain-id", chainID, "--key", keyFile, "--state", stateFile)
	signer.Stdout, signer.Stderr = signerLog, signerLog
	if err := signer.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		_ = signer.Process.Kill()
		_ = signer.Wait()
	})

	node := harness.NewProc(t, home, ports[1])
	node.Start()
	ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
	defer cancel()
	const height = 4
	if err := node.WaitHeight(ctx, height, 60*time.Second); err != nil {
		log, _ := os.ReadFile(node.LogPath)
		slog, _ := os.ReadFile(signerLog.Name())
		t.Fatalf("%v\nnode log:\n%s\nsigner log:\n%s", err, tail(string(log), 4096), tail(string(slog), 4096))
	}
	for h := int64(1); h < height; h++ {
		ok, err := harness.Signed(ctx, node, h, validator)
		if err != nil {
			t.Fatal(err)
		}
		if !ok {
			t.Fatalf("block %d is not signed by validator %s", h, validator)
		}
	}
	if _, err := os.Stat(cfg.Comet.PrivValidatorKeyFile()); !os.IsNotExist(err) {
		t.Fatalf("the node made a consensus key of its own (%v)", err)
	}
	// The signer's state file records what it signed last.
	b, err := os.ReadFile(stateFile)
	if err != nil {
		t.Fatal(err)
	}
	var st struct {
		Height string `json:"height"`
	}
	if err := json.Unmarshal(b, &st); err != nil {
		t.Fatal(err)
	}
	if h, _ := strconv.ParseInt(st.Height, 10, 64); h < height-1 {
		t.Fatalf("the signer's last signed height is %q, want %d or more", st.Height, height-1)
	}
}
