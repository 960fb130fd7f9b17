package main

import (
	"bytes"
	"fmt"
	"os"
	"sort"

	"github.com/spf13/cobra"

	"github.com/gobtechlab/notary/app/join"
	"github.com/gobtechlab/notary/cmd/internal/cli"
	notaryv1 "github.com/gobtechlab/notary/proto/notary/v1"
)

// parseTLSKeys reads the keys of PEM certificates or certificate requests
// as the chain registers them, ascending.
func parseTLSKeys(flag string, files []string) ([][]byte, error) {
	var keys [][]byte
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			return nil, cli.Usage("--%s: %v", flag, err)
		}
		k, err := join.TLSKeyOf(b)
		if err != nil {
			return nil, cli.Usage("--%s %s: %v", flag, f, err)
		}
		keys = append(keys, k)
	}
	sort.Slice(keys, func(i, j int) bool { return bytes.Compare(keys[i], keys[j]) < 0 })
	for i := 1; i < len(keys); i++ {
		if bytes.Equal(keys[i-1], keys[i]) {
			return nil, cli.Usage("--%s: two files hold the same key %x", flag, keys[i])
		}
	}
	return keys, nil
}

func newProposeSetTLSKeysCmd() *cobra.Command {
	var (
		agency, ministry string
		certs            []string
	)
	cmd := &cobra.Command{
		Use:   "set-tls-keys (--agency ID | --ministry ID) --tls-cert FILE...",
		Short: "propose the client certificates the gateways accept for a member (renewal, withdrawal)",
		Long: `set-tls-keys proposes replacing the certificate keys the chain registers for
an agency or a ministry: the gateways then accept only client certificates
with one of those keys, from the block that passes the proposal. Each
--tls-cert is a PEM certificate or certificate request (tls.csr): a
request and the certificate the CA issues from it carry the same key, so a
renewal can be proposed before the certificate is issued.

A renewal without a gap: propose the old certificate and the new request
together; once the member uses the new certificate, propose the new one
alone, which withdraws the old key. At most 4 keys.`,
		Args: cobra.NoArgs,
	}
	cmd.RunE = proposeRun(func(*session) (*notaryv1.ProposalAction, string, error) {
		if (agency == "") == (ministry == "") {
			return nil, "", cli.Usage("set-tls-keys: give exactly one of --agency and --ministry")
		}
		if len(certs) == 0 {
			return nil, "", cli.Usage("set-tls-keys: give at least one --tls-cert")
		}
		keys, err := parseTLSKeys("tls-cert", certs)
		if err != nil {
			return nil, "", err
		}
		who := "agency " + agency
		if ministry != "" {
			who = "ministry " + ministry
		}
		a := &notaryv1.SetTLSKeys{AgencyId: agency, MinistryId: ministry, TlsKeys: keys}
		return &notaryv1.ProposalAction{Action: &notaryv1.ProposalAction_SetTlsKeys{SetTlsKeys: a}},
			fmt.Sprintf("Accept %d client certificate key(s) for %s", len(keys), who), nil
	})
	f := cmd.Flags()
	f.StringVar(&agency, "agency", "", "the agency's id")
	f.StringVar(&ministry, "ministry", "", "the ministry's id")
	f.StringSliceVar(&certs, "tls-cert", nil, "a PEM certificate or certificate request whose key to accept (repeat for several)")
	return cmd
}
