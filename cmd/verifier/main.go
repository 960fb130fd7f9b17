// Command verifier is the citizens' tool. `verifier verify` checks a
// document against its receipt offline, trusting only the consortium's trust
// bundle: no network, no single node. `verifier inspect` shows what a
// receipt claims, unverified.
//
// The citizen commands use the citizen's own key and a node's public
// gateway: `verifier citizen keygen` creates the key, `verifier consent
// grant|withdraw|list` manage consents, and `verifier accesses` fetches the
// citizen's access history and verifies it offline against the trust
// bundle.
//
// `verifier code CODE` checks a document's registration by its
// verification code: it asks the trust bundle's public nodes for the
// receipt under the code's key (the code never leaves the machine) and
// verifies it as verify does; with --file, the file against it.
//
// `verifier witness init|serve` runs a witness of the consortium's evidence
// log (C2SP tlog-witness, package app/witness): an independent body cosigns
// each checkpoint only after a consistency proof from the last one it
// cosigned (docs/witness.md).
//
// Exit codes of verify: 0 valid and not revoked; 3 valid but revoked; 1 not
// valid; 2 usage error or unreadable file. Of code, the same, and 5 no
// document registered under the code, 4 no node answered; a mistyped code
// is a usage error (2), refused before any request. Of the citizen commands: 0 done;
// 1 refused or not verified; 2 usage error; 4 node unreachable. Any
// command interrupted by SIGINT or SIGTERM exits 130. Of witness: 0 done; 1
// the witness could not start or serve; 2 usage error (flags, configuration,
// key file); serve runs until SIGINT or SIGTERM (130).
package main

import (
	"os"

	"github.com/gobtechlab/notary/cmd/internal/cli"
)

func main() { os.Exit(cli.Execute(newRootCmd(rootEnv{}))) }
