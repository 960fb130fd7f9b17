package main

import (
	"fmt"
	"io"

	"github.com/spf13/cobra"

	"github.com/gobtechlab/notary/cmd/internal/cli"
	"github.com/gobtechlab/notary/cmd/verifier/verify"
	"github.com/gobtechlab/notary/ledger"
	notaryv1 "github.com/gobtechlab/notary/proto/notary/v1"
)

// withdrawResult is a consent the chain marked withdrawn.
type withdrawResult struct {
	ConsentID string `json:"consent_id"`
	Height    int64  `json:"height"`
	TxHash    string `json:"tx_hash"`
	lang      verify.Lang
}

func (r withdrawResult) Text(w io.Writer) error {
	_, err := fmt.Fprintf(w, tr(r.lang,
		"Consent %s withdrawn at height %d: no exchange can rely on it from now on.\n",
		"Consentimiento %s retirado en la altura %d: ningún intercambio puede ampararse en él desde ahora.\n"),
		safe(r.ConsentID), r.Height)
	return err
}

func newWithdrawCmd(env rootEnv) *cobra.Command {
	var nf nodeFlags
	cmd := &cobra.Command{
		Use:   "withdraw CONSENT_ID",
		Short: "withdraw one of your consents",
		Long: `withdraw records on the chain, signed by your key, that you withdraw consent
CONSENT_ID (see: verifier consent list). Only the citizen who granted a
consent can withdraw it; exchanges already recorded stay in your history.

Exit codes: 0 withdrawn, 1 refused by the chain, 2 usage error, 4 node unreachable.`,
		Args: cobra.ExactArgs(1),
		RunE: cli.Run(func(cmd *cobra.Command, args []string) (any, error) {
			lang, err := env.lang(cmd)
			if err != nil {
				return nil, err
			}
			cid := args[0]
			if !ledger.ValidConsentID(cid) {
				return nil, cli.Usage("%q is not a consent id (%d lowercase hex characters)", cid, ledger.ConsentIDLen)
			}
			id, s, ctx, done, err := nf.connect(cmd)
			if err != nil {
				return nil, err
			}
			defer done()
			resp, err := submitAsCitizen(ctx, s, id, &notaryv1.TxBody{Msg: &notaryv1.TxBody_WithdrawConsent{WithdrawConsent: &notaryv1.WithdrawConsent{ConsentId: cid}}})
			if err != nil {
				return nil, err
			}
			return withdrawResult{ConsentID: cid, Height: resp.Height, TxHash: fmt.Sprintf("%x", resp.TxHash), lang: lang}, nil
		}),
	}
	nf.register(cmd, env)
	return cmd
}
