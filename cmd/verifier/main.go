// Command verifier is the citizens' tool. `verifier verify` checks a
// document against its receipt offline, trusting only the consortium's trust
// bundle: no network, no single node. `verifier inspect` shows what a
// receipt claims, unverified.
//
// Exit codes: 0 valid and not revoked; 3 valid but revoked; 1 not valid; 2
// usage error or unreadable file.
package main

import (
	"os"

	"github.com/gobtechlab/notary/cmd/internal/cli"
)

func main() { os.Exit(cli.Execute(newRootCmd(rootEnv{}))) }
