package main

import (
	"context"
	"fmt"
	"io"
	"path/filepath"
	"strings"

	cmttypes "github.com/cometbft/cometbft/types"
	"github.com/spf13/cobra"

	"github.com/gobtechlab/notary/app"
	"github.com/gobtechlab/notary/app/checkpoint"
	"github.com/gobtechlab/notary/cmd/internal/cli"
	notaryv1 "github.com/gobtechlab/notary/proto/notary/v1"
)

type trustResult struct {
	Path   string                `json:"path"`
	Bundle *notaryv1.TrustBundle `json:"bundle"`
	// Log says where the checkpoint came from, its size, signers and
	// cosigners, or why the bundle has none.
	Log *trustLog `json:"log,omitempty"`
}

// trustLog is what the report says of the bundle's checkpoint.
type trustLog struct {
	Source    string   `json:"source"`
	Size      uint64   `json:"size,omitempty"`
	Signers   []string `json:"signers,omitempty"`
	Cosigners []string `json:"cosigners,omitempty"`
	Missing   string   `json:"missing,omitempty"`
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
	if l := r.Log; l != nil {
		if l.Missing != "" {
			fmt.Fprintf(w, "  no checkpoint: %s (read from the %s)\n", l.Missing, l.Source)
		} else {
			fmt.Fprintf(w, "  checkpoint      log size %d (read from the %s)\n", l.Size, l.Source)
			fmt.Fprintf(w, "    signed by     %s\n", strings.Join(l.Signers, ", "))
			for _, v := range r.Bundle.LogValidators {
				fmt.Fprintf(w, "    validator %-26s power %d\n", v.Name, v.Power)
			}
			if len(l.Cosigners) > 0 {
				fmt.Fprintf(w, "    cosigned by   %s\n", strings.Join(l.Cosigners, ", "))
			}
		}
	}
	if n := len(r.Bundle.Witnesses); n > 0 {
		fmt.Fprintf(w, "  witness policy  %d of %d registered witnesses\n", r.Bundle.WitnessThreshold, n)
		for _, wt := range r.Bundle.Witnesses {
			fmt.Fprintf(w, "    witness %-28s %s\n", wt.Name, wt.Key)
		}
	}
	return nil
}

func newTrustCmd() *cobra.Command {
	cmd := &cobra.Command{Use: "trust", Short: "manage the trust bundle verifiers rely on"}
	var (
		home, out    string
		endpoints    []string
		verifierURL  string
		noCheckpoint bool
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
the home.

When the chain keeps the evidence log, the bundle also carries the latest
valid checkpoint of the log (a C2SP signed note with the validators'
signatures and the cosignatures of the witnesses the node holds), its
validator set, and the witness policy governance registered
(params.witnesses, params.witness_threshold): a verifier holding it trusts
the consortium as of that checkpoint. With a witness threshold k > 0, the
checkpoint must carry cosignatures of k registered witnesses. A running
node is asked (its CometBFT RPC and public endpoint, on this machine): it
holds the state's database and the cosignatures; a stopped node's stored
state is read (it holds no cosignature). Without such a checkpoint yet,
the export fails (with k > 0: a bundle without a checkpoint would trust
the genesis validators only) or, with k = 0, the bundle has none and the
report says why. --no-checkpoint writes the genesis-only bundle. A bundle
the verifier would refuse is never written.`,
		Args: cobra.NoArgs,
		RunE: cli.Run(func(cmd *cobra.Command, _ []string) (any, error) {
			if out == "" {
				out = filepath.Join(home, app.TrustFile)
			}
			x := app.TrustExport{PublicEndpoints: endpoints}
			if cmd.Flags().Changed("verifier-url") {
				x.VerifierURL = &verifierURL
			}
			var report *trustLog
			if !noCheckpoint {
				l, src, err := bundleLog(cmd.Context(), home)
				if err != nil {
					return nil, err
				}
				if l != nil {
					x.Log = l
					report = &trustLog{Source: string(src), Size: l.Size, Signers: l.Signers, Cosigners: l.Cosigners, Missing: l.Missing}
				}
			}
			tb, err := app.ExportTrustBundle(home, out, x)
			if err != nil {
				return nil, err
			}
			return trustResult{Path: out, Bundle: tb, Log: report}, nil
		}),
	}
	export.Flags().StringVar(&home, FlagHome, defaultHome(".notary"), "home directory of the node")
	export.Flags().StringVar(&out, "out", "", "file to write (default <home>/trust.json)")
	export.Flags().StringArrayVar(&endpoints, "public-endpoint", nil, "base URL of a public endpoint to list (repeatable; default: those of <home>/trust.json)")
	export.Flags().StringVar(&verifierURL, "verifier-url", "", "base URL of the published web verifier, for the links of verification codes (default: that of <home>/trust.json)")
	export.Flags().BoolVar(&noCheckpoint, "no-checkpoint", false, "write the genesis-only bundle: no checkpoint of the evidence log, no witness policy")
	cmd.AddCommand(export)
	return cmd
}

// bundleLog reads what the home's chain's bundle carries of the evidence
// log (checkpoint.ForBundle).
func bundleLog(ctx context.Context, home string) (*app.BundleLog, checkpoint.BundleSource, error) {
	cfg, err := app.LoadConfig(home)
	if err != nil {
		return nil, "", cli.Usage("%v", err)
	}
	gen, err := cmttypes.GenesisDocFromFile(cfg.Comet.GenesisFile())
	if err != nil {
		return nil, "", fmt.Errorf("genesis: %w", err)
	}
	return checkpoint.ForBundle(ctx, cfg, gen.ChainID)
}
