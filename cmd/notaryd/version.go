package main

import (
	"fmt"
	"io"
	"runtime/debug"

	"github.com/cometbft/cometbft/version"
	"github.com/spf13/cobra"

	"github.com/gobtechlab/notary/cmd/internal/cli"
)

type versionInfo struct {
	Notary   string `json:"notary"`
	CometBFT string `json:"cometbft"`
	Go       string `json:"go"`
}

func (v versionInfo) Text(w io.Writer) error {
	_, err := fmt.Fprintf(w, "notaryd %s (cometbft %s, %s)\n", v.Notary, v.CometBFT, v.Go)
	return err
}

func newVersionCmd() *cobra.Command {
	return &cobra.Command{
		Use:   "version",
		Short: "print the version",
		Args:  cobra.NoArgs,
		RunE: cli.Run(func(*cobra.Command, []string) (any, error) {
			v := versionInfo{Notary: "devel", CometBFT: version.TMCoreSemVer}
			if bi, ok := debug.ReadBuildInfo(); ok {
				v.Go = bi.GoVersion
				if bi.Main.Version != "" && bi.Main.Version != "(devel)" {
					v.Notary = bi.Main.Version
				}
			}
			return v, nil
		}),
	}
}
