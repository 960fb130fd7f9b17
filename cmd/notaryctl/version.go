package main

import (
	"github.com/spf13/cobra"

	"github.com/gobtechlab/notary/cmd/internal/cli"
)

func newVersionCmd() *cobra.Command {
	return &cobra.Command{
		Use:   "version",
		Short: "print the release, commit, CometBFT and Go versions",
		Long: `version prints notaryctl's release and the commit it was built from (both
stamped by scripts/build.sh; "devel" and the VCS revision or "unknown"
otherwise), the CometBFT version of the chain it was built for and the Go
toolchain. It needs no node and no identity.`,
		Args: cobra.NoArgs,
		RunE: cli.Run(func(*cobra.Command, []string) (any, error) {
			return cli.NewVersionResult("notaryctl"), nil
		}),
	}
}
