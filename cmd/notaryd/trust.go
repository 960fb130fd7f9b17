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
	for _, e := range r.Bundle.PublicEndpoints {
		fmt.Fprintf(w, "  public endpoint %s\n", e)
	}
	if r.Bundle.VerifierUrl != "" {
		fmt.Fprintf(w, "  web verifier    %s\n", r.Bundle.VerifierUrl)
	}
	return nil
}

func newTrustCmd() *cobra.Command {
	cmd := &cobra.Command{Use: "trust", Short: "manage the trust bundle verifiers rely on"}
	var (
		home, out   string
		endpoints   []string
		verifierURL string
	)
	export := &cobra.Command{
		Use:   "export",
		Short: "write the trust bundle (chain id, genesis hash, genesis validators, public endpoints) of a home",
		Long: `export writes the trust bundle of a home's chain in its canonical form: the
same chain and endpoints give the same bytes, in every build, so that the
consortium can publish the file's SHA-256 (its fingerprint).

The bundle lists the consortium's public endpoints, which verifiers ask for
the current status of a document: --public-endpoint (repeatable;
https://host[:port], or http:// on a loopback address; --public-endpoint ""
lists none), or else those of the trust bundle already in the home.

It also names the consortium's published web verifier, the base of the
links that the QR codes of verification codes carry: --verifier-url
(https://host[:port][/path], or http:// on a loopback address;
--verifier-url "" names none), or else that of the trust bundle already in
the home.`,
		Args: cobra.NoArgs,
		RunE: cli.Run(func(cmd *cobra.Command, _ []string) (any, error) {
			if out == "" {
				out = filepath.Join(home, app.TrustFile)
			}
			x := app.TrustExport{PublicEndpoints: endpoints}
			if cmd.Flags().Changed("verifier-url") {
				x.VerifierURL = &verifierURL
			}
			tb, err := app.ExportTrustBundle(home, out, x)
			if err != nil {
				return nil, err
			}
			return trustResult{Path: out, Bundle: tb}, nil
		}),
	}
	export.Flags().StringVar(&home, FlagHome, defaultHome(".notary"), "home directory of the node")
	export.Flags().StringVar(&out, "out", "", "file to write (default <home>/trust.json)")
	export.Flags().StringArrayVar(&endpoints, "public-endpoint", nil, "base URL of a public endpoint to list (repeatable; default: those of <home>/trust.json)")
	export.Flags().StringVar(&verifierURL, "verifier-url", "", "base URL of the published web verifier, for the links of verification codes (default: that of <home>/trust.json)")
	cmd.AddCommand(export)
	return cmd
}
