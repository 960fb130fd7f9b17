// Command notaryctl is the agencies' and ministries' tool for the GobTechLab
// Notary chain. Agencies anchor the digests of the documents they issue
// (never the documents), write a receipt beside each one, look documents up,
// revoke them, check whether a data exchange is covered by a citizen's
// consent or a legal mandate and record it. Ministries propose and vote on
// governance actions.
//
// Every command talks to a node's gRPC gateway through the agency client
// library (app/client), as the identity of --identity; on a dev chain
// (`notaryd dev`) no flag is needed.
//
// Exit codes: 0 ok; 1 the operation failed or was refused (for `get`: not
// anchored; for `consent check`: not covered); 2 usage error or unreadable
// input; 3 (`get`) anchored but revoked; 4 the node could not be reached or
// is not ready; 5 (`anchor`) nothing failed but at least one document was
// already anchored (its original record is reported and its receipt
// written); 130 interrupted by SIGINT or SIGTERM.
package main

import (
	"os"

	"github.com/gobtechlab/notary/cmd/internal/cli"
)

func main() { os.Exit(cli.Execute(newRootCmd())) }
