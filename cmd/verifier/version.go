package main

import (
	"github.com/spf13/cobra"

	"github.com/gobtechlab/notary/cmd/internal/cli"
)

func newVersionCmd() *cobra.Command {
	return &cobra.Command{
		Use:   "version",
		Short: "print the release, commit, CometBFT and Go versions",
		Long: `version prints the verifier's release and the commit it was built from
(both stamped by scripts/build.sh; "devel" and the VCS revision or
"unknown" otherwise), the CometBFT version of the chain whose signatures it
checks and the Go toolchain.`,
		Args: cobra.NoArgs,
		RunE: cli.Run(func(*cobra.Command, []string) (any, error) {
			return cli.NewVersionResult("verifier"), nil
		}),
	}
}
