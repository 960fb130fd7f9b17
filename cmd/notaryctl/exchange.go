package main

import (
	"encoding/hex"
	"fmt"
	"io"

	"github.com/spf13/cobra"

	"github.com/gobtechlab/notary/app/client"
	"github.com/gobtechlab/notary/app/identity"
	"github.com/gobtechlab/notary/cmd/internal/cli"
	notaryv1 "github.com/gobtechlab/notary/proto/notary/v1"
)

// exchangeResult is the exchange record command's result.
type exchangeResult struct {
	Requester string `json:"requester_agency_id"`
	Provider  string `json:"provider_agency_id"`
	Subject   string `json:"subject"`
	Category  string `json:"category"`
	Purpose   string `json:"purpose"`
	ConsentID string `json:"consent_id,omitempty"`
	MandateID string `json:"mandate_id,omitempty"`
	// Reference is the salted digest of the case file, if one was given.
	Reference string `json:"reference,omitempty"`
	// Index is the entry's index in the subject's access history.
	Index  uint64 `json:"index"`
	Height int64  `json:"height"`
	TxHash string `json:"tx_hash"`
}

func (r *exchangeResult) Text(w io.Writer) error {
	basis := "consent " + safe(r.ConsentID)
	if r.MandateID != "" {
		basis = "mandate " + safe(r.MandateID)
	}
	fmt.Fprintf(w, "exchange recorded at height %d: entry %d of subject %s's access history\n", r.Height, r.Index, safe(r.Subject))
	fmt.Fprintf(w, "  %s from %s: %s for %s, under %s\n", safe(r.Requester), safe(r.Provider), safe(r.Category), safe(r.Purpose), basis)
	if r.Reference != "" {
		fmt.Fprintf(w, "  reference  %s\n", safe(r.Reference))
	}
	_, err := fmt.Fprintf(w, "  tx         %s\n", safe(r.TxHash))
	return err
}

func newExchangeCmd() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "exchange",
		Short: "data exchanges between agencies",
	}
	cmd.AddCommand(newExchangeRecordCmd())
	return cmd
}

func newExchangeRecordCmd() *cobra.Command {
	var (
		f                         exchangeFlags
		consent, mandate, refFile string
	)
	cmd := &cobra.Command{
		Use:   "record --provider B --subject S --category C --purpose P --consent ID|--mandate ID [--reference FILE]",
		Short: "record that this agency obtained a citizen's data from another agency",
		Long: `exchange record logs, on chain, that this agency obtained data of a category
about the citizen with subject id S from agency B for a purpose, under the
citizen's consent (--consent) or a registered legal mandate (--mandate). The
chain accepts it only if that basis is in force and covers the exchange; the
citizen sees it in their access history. No data goes on chain; --reference
adds a salted digest of the agency's own case file (hashed here), which only
this agency can link to the file.

Exit codes: 0 recorded; 1 refused (not covered, unknown basis, no exchange
permission); 2 usage error; 4 node unreachable.`,
		Args: cobra.NoArgs,
		RunE: cli.Run(func(cmd *cobra.Command, _ []string) (any, error) {
			subject, err := f.check()
			if err != nil {
				return nil, err
			}
			if (consent == "") == (mandate == "") {
				return nil, cli.Usage("give exactly one basis: --consent ID or --mandate ID")
			}
			var refDigest []byte
			if refFile != "" {
				t, err := parseTarget(refFile)
				if err != nil {
					return nil, err
				}
				if t.Path == "" {
					return nil, cli.Usage("--reference %s: no such file", refFile)
				}
				if refDigest, err = t.document(cmd.Context(), client.SHA256); err != nil {
					return nil, err
				}
			}
			s, err := connect(cmd)
			if err != nil {
				return nil, err
			}
			defer s.close()
			if s.id.Role != identity.RoleAgency {
				return nil, cli.Usage("exchange record needs an agency identity, not a %s's (%s)", s.id.Role, s.id.Dir())
			}
			msg := &notaryv1.RecordExchange{RequesterAgencyId: s.id.ID, ProviderAgencyId: f.provider, Subject: subject, Category: f.category, Purpose: f.purpose}
			if consent != "" {
				msg.Basis = &notaryv1.RecordExchange_ConsentId{ConsentId: consent}
			} else {
				msg.Basis = &notaryv1.RecordExchange_MandateId{MandateId: mandate}
			}
			res := &exchangeResult{Requester: s.id.ID, Provider: f.provider, Subject: hex.EncodeToString(subject),
				Category: f.category, Purpose: f.purpose, ConsentID: consent, MandateID: mandate}
			if refDigest != nil {
				doc, err := s.c.Document(refDigest)
				if err != nil {
					return nil, cli.Usage("--reference: %w", err)
				}
				msg.Reference = doc.Anchored
				res.Reference = hex.EncodeToString(doc.Anchored)
			}
			resp, err := s.c.Submit(s.ctx, &notaryv1.TxBody{Msg: &notaryv1.TxBody_RecordExchange{RecordExchange: msg}})
			if err != nil {
				return nil, s.fail(fmt.Errorf("exchange record: %w", err))
			}
			res.Index = resp.GetResult().GetExchangeIndex()
			res.Height = resp.GetHeight()
			res.TxHash = hex.EncodeToString(resp.GetTxHash())
			return res, nil
		}),
	}
	f.register(cmd, false)
	cmd.Flags().StringVar(&consent, "consent", "", "id of the citizen's consent that covers the exchange")
	cmd.Flags().StringVar(&mandate, "mandate", "", "id of the legal mandate that covers the exchange")
	cmd.Flags().StringVar(&refFile, "reference", "", "the agency's case file; its salted digest is recorded")
	return cmd
}
