package main

import (
	"flag"
	"fmt"
	"os"
	"os/signal"
	"syscall"
	"time"

	"github.com/cometbft/cometbft/crypto/ed25519"
	cmtlog "github.com/cometbft/cometbft/libs/log"
	cmtnet "github.com/cometbft/cometbft/libs/net"
	"github.com/cometbft/cometbft/privval"
)

func main() {
	addr := flag.String("addr", "", "the node's priv_validator_laddr: tcp://host:port or unix://path")
	chainID := flag.String("chain-id", "", "chain id the key signs for")
	keyFile := flag.String("key", "", "priv_validator_key.json")
	stateFile := flag.String("state", "", "priv_validator_state.json")
	flag.Parse()
	if err := run(*addr, *chainID, *keyFile, *stateFile); err != nil {
		fmt.Fprintln(os.Stderr, "remotesigner:", err)
		os.Exit(1)
	}
}

func run(addr, chainID, keyFile, stateFile string) error {
	if addr == "" || chainID == "" || keyFile == "" || stateFile == "" {
		return fmt.Errorf("--addr, --chain-id, --key and --state are required")
	}
	logger := cmtlog.NewTMLogger(cmtlog.NewSyncWriter(os.Stdout))
	pv := privval.LoadFilePV(keyFile, stateFile)
	protocol, address := cmtnet.ProtocolAndAddress(addr)
	var dialer privval.SocketDialer
	switch protocol {
	case "tcp":
		dialer = privval.DialTCPFn(address, 3*time.Second, ed25519.GenPrivKey())
	case "unix":
		dialer = privval.DialUnixFn(address)
	default:
		return fmt.Errorf("--addr %q: want tcp:// or unix://", addr)
	}
	// Dial for up to a minute: the node may start after the signer.
	endpoint := privval.NewSignerDialerEndpoint(logger, dialer,
		privval.SignerDialerEndpointConnRetries(600),
		privval.SignerDialerEndpointRetryWaitInterval(100*time.Millisecond))
	server := privval.NewSignerServer(endpoint, chainID, pv)
	if err := server.Start(); err != nil {
		return err
	}
	logger.Info("remote signer running", "addr", addr, "validator", pv.GetAddress())
	sig := make(chan os.Signal, 1)
	signal.Notify(sig, syscall.SIGTERM, syscall.SIGINT)
	<-sig
	return server.Stop()
}
