package main

import (
	"github.com/spf13/cobra"
)

func newConsentCmd(env rootEnv) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "consent",
		Short: "grant, withdraw and list your consents",
		Long: `consent manages which agency may use which category of your data, for which
purpose and until when. Each command signs with your citizen key
(--identity) and talks to a node (--node); no client certificate is needed.`,
	}
	cmd.AddCommand(newGrantCmd(env), newWithdrawCmd(env), newConsentListCmd(env))
	return cmd
}
