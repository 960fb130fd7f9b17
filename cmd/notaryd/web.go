package main

import (
	"errors"
	"fmt"
	"io"
	"path/filepath"

	"github.com/spf13/cobra"

	"github.com/gobtechlab/notary/app/inputfile"
	"github.com/gobtechlab/notary/app/web"
	"github.com/gobtechlab/notary/cmd/internal/cli"
)

type webExportResult struct {
	Dir   string   `json:"dir"`
	Files []string `json:"files"`
}

func (r webExportResult) Text(w io.Writer) error {
	fmt.Fprintf(w, "wrote the web verifier to %s\n", r.Dir)
	for _, f := range r.Files {
		fmt.Fprintf(w, "  %s\n", f)
	}
	fmt.Fprintf(w, "serve the folder with any static web server; index.html is the page\n")
	return nil
}

func newWebCmd() *cobra.Command {
	cmd := &cobra.Command{Use: "web", Short: "the web verifier: a static page that checks receipts in the browser"}
	var trust string
	export := &cobra.Command{
		Use:   "export DIR",
		Short: "write the web verifier with a trust bundle into DIR",
		Long: `export writes the web verifier (index.html, style.css, app.js,
favicon.svg, wasm_exec.js, verifier.wasm.gz) and the trust bundle, as trust.json, into
DIR, creating it if needed. Any static web server can publish the folder;
the page loads nothing from elsewhere and asks only the public endpoints
the trust bundle lists. Files of the same names in DIR are replaced.`,
		Args: cobra.ExactArgs(1),
		RunE: cli.Run(func(_ *cobra.Command, args []string) (any, error) {
			if trust == "" {
				return nil, cli.Fail(cli.ExitUsage, fmt.Errorf("--trust is required (a trust.json from notaryd trust export)"))
			}
			b, err := inputfile.ReadFile(trust)
			if err != nil {
				return nil, cli.Fail(cli.ExitUsage, fmt.Errorf("trust bundle: %w", err))
			}
			files, err := web.Export(args[0], b)
			if errors.Is(err, web.ErrTrustBundle) {
				return nil, cli.Fail(cli.ExitUsage, err)
			}
			if err != nil {
				return nil, err
			}
			dir, err := filepath.Abs(args[0])
			if err != nil {
				dir = args[0]
			}
			return webExportResult{Dir: dir, Files: files}, nil
		}),
	}
	export.Flags().StringVar(&trust, "trust", "", "the trust bundle to publish with the page (trust.json)")
	cmd.AddCommand(export)
	return cmd
}
