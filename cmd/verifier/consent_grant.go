package main

import (
	"fmt"
	"io"
	"time"

	"github.com/spf13/cobra"
	"google.golang.org/protobuf/types/known/timestamppb"

	"github.com/gobtechlab/notary/cmd/internal/cli"
	"github.com/gobtechlab/notary/cmd/verifier/verify"
	"github.com/gobtechlab/notary/ledger"
	notaryv1 "github.com/gobtechlab/notary/proto/notary/v1"
)

// grantResult is a consent the chain recorded.
type grantResult struct {
	ConsentID  string    `json:"consent_id"`
	Agency     string    `json:"agency_id"`
	Category   string    `json:"category"`
	Purpose    string    `json:"purpose"`
	ValidFrom  time.Time `json:"valid_from"`
	ValidUntil time.Time `json:"valid_until"`
	Height     int64     `json:"height"`
	TxHash     string    `json:"tx_hash"`
	lang       verify.Lang
	loc        *time.Location
}

func (r grantResult) Text(w io.Writer) error {
	l := r.lang
	_, err := fmt.Fprintf(w, tr(l,
		"Consent %s granted: agency %s may use your %s data for %s, from %s until %s (recorded at height %d).\nWithdraw it with: verifier consent withdraw %s\n",
		"Consentimiento %s otorgado: la agencia %s puede usar sus datos de %s para %s, desde %s hasta %s (registrado en la altura %d).\nRetírelo con: verifier consent withdraw %s\n"),
		safe(r.ConsentID), safe(r.Agency), category(l, r.Category), purpose(l, r.Purpose),
		when(r.ValidFrom, r.loc), when(r.ValidUntil, r.loc), r.Height, safe(r.ConsentID))
	return err
}

func newGrantCmd(env rootEnv) *cobra.Command {
	var nf nodeFlags
	var agency, cat, purp, from, until, tz string
	cmd := &cobra.Command{
		Use:   "grant --agency A --category C --purpose P --until DATE [--from DATE]",
		Short: "let an agency use a category of your data for a purpose, until a date",
		Long: `grant records on the chain, signed by your key, that agency A may obtain
data of category C about you for purpose P from --from (default: now) until
--until. Dates are YYYY-MM-DD (UTC; --until includes that whole day) or
RFC 3339 times. Categories and purposes are the chain's codes, such as tax,
health, employment; eligibility-check, service-provision, statistics.

Exit codes: 0 granted, 1 refused by the chain, 2 usage error, 4 node unreachable.`,
		Args: cobra.NoArgs,
		RunE: cli.Run(func(cmd *cobra.Command, _ []string) (any, error) {
			lang, err := env.lang(cmd)
			if err != nil {
				return nil, err
			}
			loc, err := env.zone(tz)
			if err != nil {
				return nil, err
			}
			if !ledger.ValidID(agency) {
				return nil, cli.Usage("--agency %q: an agency id (1..64 of [a-z0-9-])", agency)
			}
			if cat == "" || purp == "" {
				return nil, cli.Usage("--category and --purpose are required")
			}
			if until == "" {
				return nil, cli.Usage("--until is required: the date the consent ends")
			}
			end, err := parseDate("until", until, true)
			if err != nil {
				return nil, err
			}
			start := time.Now().UTC().Truncate(time.Second)
			if from != "" {
				if start, err = parseDate("from", from, false); err != nil {
					return nil, err
				}
			}
			if !end.After(start) {
				return nil, cli.Usage("--until %s is not after --from %s", end.Format(time.RFC3339), start.Format(time.RFC3339))
			}
			id, s, ctx, done, err := nf.connect(cmd)
			if err != nil {
				return nil, err
			}
			defer done()
			resp, err := submitAsCitizen(ctx, s, id, &notaryv1.TxBody{Msg: &notaryv1.TxBody_GrantConsent{GrantConsent: &notaryv1.GrantConsent{
				Subject: id.Subject(), AgencyId: agency, Category: cat, Purpose: purp,
				ValidFrom: timestamppb.New(start), ValidUntil: timestamppb.New(end),
			}}})
			if err != nil {
				return nil, err
			}
			return grantResult{ConsentID: resp.GetResult().GetConsentId(), Agency: agency, Category: cat, Purpose: purp,
				ValidFrom: start, ValidUntil: end, Height: resp.Height, TxHash: fmt.Sprintf("%x", resp.TxHash), lang: lang, loc: loc}, nil
		}),
	}
	nf.register(cmd, env)
	cmd.Flags().StringVar(&agency, "agency", "", "id of the agency you give consent to")
	cmd.Flags().StringVar(&cat, "category", "", "category of data (a code of the chain, e.g. tax)")
	cmd.Flags().StringVar(&purp, "purpose", "", "purpose (a code of the chain, e.g. eligibility-check)")
	cmd.Flags().StringVar(&from, "from", "", "start date (default: now)")
	cmd.Flags().StringVar(&until, "until", "", "end date")
	cmd.Flags().StringVar(&tz, "tz", "", "time zone of printed times (default: the system's)")
	return cmd
}
