package main

import (
	"fmt"
	"io"
	"path/filepath"

	"github.com/spf13/cobra"

	"github.com/gobtechlab/notary/app"
	"github.com/gobtechlab/notary/cmd/internal/cli"
	notaryv1 "github.com/gobtechlab/notary/proto/notary/v1"
)

type trustResult struct {
	Path   string                `json:"path"`
	Bundle *notaryv1.TrustBundle `json:"bundle"`
}

func (r trustResult) Text(w io.Writer) error {
	fmt.Fprintf(w, "wrote trust bundle of chain %s to %s\n", r.Bundle.ChainId, r.Path)
	fmt.Fprintf(w, "  genesis sha256 %s\n", r.Bundle.GenesisHash)
	for _, v := range r.Bundle.Validators {
		fmt.Fprintf(w, "  validator %-30s power %d\n", v.Name, v.Power)
	}
	return nil
}

func newTrustCmd() *cobra.Command {
	cmd := &cobra.Command{Use: "trust", Short: "manage the trust bundle verifiers rely on"}
	var home, out string
	export := &cobra.Command{
		Use:   "export",
		Short: "write the trust bundle (chain id, genesis hash, genesis validators) of a home",
		Args:  cobra.NoArgs,
		RunE: cli.Run(func(*cobra.Command, []string) (any, error) {
			if out == "" {
				out = filepath.Join(home, app.TrustFile)
			}
			tb, err := app.ExportTrustBundle(home, out)
			if err != nil {
				return nil, err
			}
			return trustResult{Path: out, Bundle: tb}, nil
		}),
	}
	export.Flags().StringVar(&home, FlagHome, defaultHome(".notary"), "home directory of the node")
	export.Flags().StringVar(&out, "out", "", "file to write (default <home>/trust.json)")
	cmd.AddCommand(export)
	return cmd
}
