// Command notaryd runs a GobTechLab Notary node: a CometBFT validator with
// the notary application in-process and the agencies' gRPC gateway. It is
// the ministries' tool: init, start, dev, testnet, trust export, status.
package main

import (
	"os"

	"github.com/gobtechlab/notary/cmd/internal/cli"
)

func main() { os.Exit(cli.ExecuteService(newRootCmd())) }
