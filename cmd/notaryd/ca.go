package main

import (
	"fmt"
	"io"
	"os"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/gobtechlab/notary/app"
	"github.com/gobtechlab/notary/app/inputfile"
	"github.com/gobtechlab/notary/cmd/internal/cli"
)

type caNewResult struct {
	Dir  string `json:"dir"`
	Cert string `json:"ca_cert"`
}

func (r caNewResult) Text(w io.Writer) error {
	fmt.Fprintf(w, "created the consortium CA in %s\n", r.Dir)
	fmt.Fprintf(w, "  certificate      %s   (every node's tls/ca.crt and every identity's ca.crt)\n", r.Cert)
	fmt.Fprintln(w, "  ca.key signs certificates: keep this directory offline")
	return nil
}

type caSignResult struct {
	Out string `json:"out"`
	*app.IssuedCert
}

func (r caSignResult) Text(w io.Writer) error {
	if r.Client {
		fmt.Fprintf(w, "issued the client certificate of %s %s to %s\n", r.Role, r.ID, r.Out)
	} else {
		fmt.Fprintf(w, "issued the gateway server certificate %q for %s to %s\n", r.Subject, strings.Join(r.Hosts, ", "), r.Out)
	}
	fmt.Fprintf(w, "  valid until      %s\n", r.NotAfter)
	return nil
}

func newCACmd() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "ca",
		Short: "the consortium CA, kept offline: create it, sign certificate requests",
		Long: `The consortium CA issues the gateways' server certificates and the
agencies' and ministries' client certificates from certificate requests
(CSRs): each key stays on the host that made it ('notaryd init --ministry',
'notaryctl identity new'), and the CA key stays on the offline machine
that runs these commands.

  notaryd ca new --dir DIR --chain-id ID
  notaryd ca sign CSR --ca DIR --out CRT`,
	}
	var dir, chainID string
	newCA := &cobra.Command{
		Use:   "new --dir DIR --chain-id ID",
		Short: "create the consortium CA (ca.crt, ca.key) in DIR",
		Args:  cobra.NoArgs,
		RunE: cli.Run(func(*cobra.Command, []string) (any, error) {
			if dir == "" || chainID == "" {
				return nil, cli.Usage("--dir and --chain-id are required")
			}
			crt, err := app.NewConsortiumCA(dir, chainID)
			if err != nil {
				return nil, err
			}
			return caNewResult{Dir: dir, Cert: crt}, nil
		}),
	}
	newCA.Flags().StringVar(&dir, "dir", "", "directory for ca.crt and ca.key (required)")
	newCA.Flags().StringVar(&chainID, "chain-id", "", "the consortium's chain id (required)")

	var caDir, out string
	var days int
	sign := &cobra.Command{
		Use:   "sign CSR --ca DIR --out CRT",
		Short: "issue the certificate a request asks for: a gateway's server certificate or a participant's client certificate",
		Long: `sign issues, from a PEM certificate request, a gateway's server
certificate (a request for host names and IPs: <home>/tls/node.csr) or an
agency's or ministry's client certificate (a request naming agency/<id> or
ministry/<id>: tls.csr in an identity directory). It prints what it
issued: check it against what the participant asked for.`,
		Args: cobra.ExactArgs(1),
		RunE: cli.Run(func(_ *cobra.Command, args []string) (any, error) {
			if caDir == "" || out == "" {
				return nil, cli.Usage("--ca and --out are required")
			}
			csr, err := inputfile.ReadFile(args[0])
			if err != nil {
				return nil, cli.Usage("%v", err)
			}
			issued, err := app.SignCSR(caDir, csr, time.Duration(days)*24*time.Hour)
			if err != nil {
				return nil, cli.Usage("%s: %v", args[0], err)
			}
			if err := os.WriteFile(out, issued.CertPEM, 0o644); err != nil {
				return nil, err
			}
			return caSignResult{Out: out, IssuedCert: issued}, nil
		}),
	}
	sign.Flags().StringVar(&caDir, "ca", "", "the CA directory (ca.crt, ca.key) (required)")
	sign.Flags().StringVar(&out, "out", "", "certificate file to write (required)")
	sign.Flags().IntVar(&days, "days", 730, "validity in days")
	cmd.AddCommand(newCA, sign)
	return cmd
}
