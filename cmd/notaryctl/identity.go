package main

import (
	"encoding/hex"
	"fmt"
	"io"
	"strings"

	"github.com/spf13/cobra"

	"github.com/gobtechlab/notary/app/join"
	"github.com/gobtechlab/notary/cmd/internal/cli"
)

type identityNewResult struct {
	Dir         string   `json:"dir"`
	ChainID     string   `json:"chain_id"`
	Agency      string   `json:"agency"`
	PubKey      string   `json:"pub_key"`
	Permissions []string `json:"permissions"`
	Request     string   `json:"join_request"`
	CSR         string   `json:"csr"`
}

func (r identityNewResult) Text(w io.Writer) error {
	fmt.Fprintf(w, "created the identity of agency %s (chain %s) in %s; its keys stay here\n", r.Agency, r.ChainID, r.Dir)
	fmt.Fprintf(w, "  signing key      %s\n", r.PubKey)
	fmt.Fprintf(w, "  permissions      %s\n", strings.Join(r.Permissions, ", "))
	fmt.Fprintf(w, "  join request     %s   (send it to the coordinator of the genesis, or with a governance proposal)\n", r.Request)
	fmt.Fprintf(w, "  certificate CSR  %s   (for the consortium CA's 'notaryd ca sign'; the certificate goes to tls.crt, the CA's to ca.crt)\n", r.CSR)
	return nil
}

func newIdentityCmd() *cobra.Command {
	cmd := &cobra.Command{Use: "identity", Short: "an agency's identity: keys, join request, certificate request"}
	var (
		dir, chainID, agency, name string
		perms                      []string
	)
	create := &cobra.Command{
		Use:   "new --agency ID --name NAME --chain-id ID --dir DIR",
		Short: "make an agency's keys on this host, its join request and its certificate request",
		Long: `new makes an agency's identity in --dir on the agency's own host: its
signing and salt keys (identity.json), its TLS key (tls.key) and the request
for its client certificate (tls.csr), and its join request
(join-request.json: id, name, public key, permissions, signed by the
signing key). The join request goes to the coordinator of the genesis
('notaryd genesis collect'); the certificate request to the consortium CA
('notaryd ca sign'), whose certificate the agency saves as tls.crt, with
the CA's certificate as ca.crt. No private key leaves the directory.
--node (the gateway to use) is saved as the identity's default.`,
		Args: cobra.NoArgs,
		RunE: cli.Run(func(cmd *cobra.Command, _ []string) (any, error) {
			if dir == "" || chainID == "" || agency == "" || name == "" {
				return nil, cli.Usage("--dir, --chain-id, --agency and --name are required")
			}
			node, _ := cmd.Flags().GetString(flagNode)
			f, err := join.NewAgency(dir, chainID, agency, name, perms, node)
			if err != nil {
				return nil, cli.Usage("%v", err)
			}
			return identityNewResult{Dir: dir, ChainID: chainID, Agency: agency, PubKey: f.Request.PubKey,
				Permissions: f.Request.Permissions, Request: f.RequestFile, CSR: f.CSRFile}, nil
		}),
	}
	fl := create.Flags()
	fl.StringVar(&dir, "dir", "", "identity directory to create (required)")
	fl.StringVar(&chainID, "chain-id", "", "the consortium's chain id (required)")
	fl.StringVar(&agency, "agency", "", "the agency's id, [a-z0-9-] (required)")
	fl.StringVar(&name, "name", "", "the agency's official name (required)")
	fl.StringSliceVar(&perms, "permissions", []string{"anchor", "revoke"}, "permissions to ask for: "+strings.Join(join.PermissionNames(), ", "))
	cmd.AddCommand(create, newIdentityRenewCmd())
	return cmd
}

type identityRenewResult struct {
	Dir    string `json:"dir"`
	CSR    string `json:"csr"`
	TLSKey string `json:"tls_key"`
}

func (r identityRenewResult) Text(w io.Writer) error {
	fmt.Fprintf(w, "made a new client certificate key and request in %s; the key stays here\n", r.Dir)
	fmt.Fprintf(w, "  certificate CSR  %s   (for the consortium CA's 'notaryd ca sign')\n", r.CSR)
	fmt.Fprintf(w, "  tls key          %s   (what 'gov propose set-tls-keys' registers)\n", r.TLSKey)
	fmt.Fprintf(w, "once governance accepts the new key: replace tls.crt with the new certificate and tls.key with %s\n", join.NextKeyFile)
	return nil
}

func newIdentityRenewCmd() *cobra.Command {
	var dir string
	cmd := &cobra.Command{
		Use:   "renew --dir DIR",
		Short: "make a new key and certificate request for an identity's client certificate",
		Long: `renew makes the next client certificate of the agency or ministry identity
in --dir: a new key (tls.next.key, which stays there) and its certificate
request (tls.next.csr, for the consortium CA's 'notaryd ca sign'). A
ministry then proposes 'notaryctl gov propose set-tls-keys' with the
current certificate and the new request; once it passes, the identity
replaces tls.crt with the new certificate and tls.key with tls.next.key,
and a second proposal with the new certificate alone withdraws the old
key (docs/operations.md).`,
		Args: cobra.NoArgs,
		RunE: cli.Run(func(*cobra.Command, []string) (any, error) {
			if dir == "" {
				return nil, cli.Usage("--dir is required")
			}
			csr, key, err := join.NewRenewal(dir)
			if err != nil {
				return nil, cli.Usage("%v", err)
			}
			return identityRenewResult{Dir: dir, CSR: csr, TLSKey: hex.EncodeToString(key)}, nil
		}),
	}
	cmd.Flags().StringVar(&dir, "dir", "", "the identity directory (required)")
	return cmd
}
