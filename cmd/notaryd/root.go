package main

import (
	"os"
	"path/filepath"

	"github.com/spf13/cobra"

	"github.com/gobtechlab/notary/cmd/internal/cli"
)

// FlagHome is the node's home directory.
const FlagHome = "home"

func newRootCmd() *cobra.Command {
	root := &cobra.Command{
		Use:   "notaryd",
		Short: "run a gobtechlab notary node",
		Long: `notaryd runs a node of the GobTechLab Notary consortium chain.

  notaryd dev                      a single-validator dev chain in ~/.notary-dev
  notaryd init --chain-id ID       create a home for a single-validator chain
  notaryd init --ministry ID ...   create one ministry's home of a consortium being formed
  notaryd genesis collect|verify|install   form the consortium's genesis from join requests
  notaryd ca new|sign              the offline consortium CA: sign certificate requests
  notaryd start                    run the node of a home
  notaryd testnet --validators N   generate every home of a network on one machine (labs, tests)
  notaryd trust export             write the trust bundle for verifiers
  notaryd web export DIR --trust F write the web verifier with a trust bundle
  notaryd status                   show height, peers and app hash of a running node
  notaryd version                  release, commit and CometBFT version

Every flag can also be set with NOTARY_<FLAG> (for example NOTARY_HOME).`,
	}
	cli.AddOutputFlag(root)
	root.AddCommand(newInitCmd(), newGenesisCmd(), newCACmd(), newStartCmd(), newDevCmd(), newTestnetCmd(), newTrustCmd(), newStateSyncCmd(), newWebCmd(), newStatusCmd(), newVersionCmd())
	return root
}

func defaultHome(name string) string {
	h, err := os.UserHomeDir()
	if err != nil {
		return name
	}
	return filepath.Join(h, name)
}
