package main

import (
	"encoding/hex"
	"fmt"
	"io"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"

	"github.com/gobtechlab/notary/app/client"
	"github.com/gobtechlab/notary/cmd/internal/cli"
	"github.com/gobtechlab/notary/cmd/verifier/verify"
	notaryv1 "github.com/gobtechlab/notary/proto/notary/v1"
)

// consentList is a subject's consents as a node reports them.
type consentList struct {
	Node     string        `json:"node"`
	Subject  string        `json:"subject_id"`
	Height   int64         `json:"height"`
	Time     time.Time     `json:"time"`
	Consents []consentItem `json:"consents"`
	// Verified is false: the list is what the node says (verifier accesses
	// verifies what was done under them).
	Verified bool `json:"verified"`
	lang     verify.Lang
	loc      *time.Location
}

type consentItem struct {
	ID         string    `json:"consent_id"`
	Agency     string    `json:"agency_id"`
	Category   string    `json:"category"`
	Purpose    string    `json:"purpose"`
	ValidFrom  time.Time `json:"valid_from"`
	ValidUntil time.Time `json:"valid_until"`
	Status     string    `json:"status"`
	status     notaryv1.ConsentStatus
}

func (c consentList) Text(w io.Writer) error {
	l := c.lang
	if len(c.Consents) == 0 {
		_, err := fmt.Fprintf(w, tr(l, "You have granted no consent (node %s, height %d).\n", "No ha otorgado ningún consentimiento (nodo %s, altura %d).\n"), safe(c.Node), c.Height)
		return err
	}
	fmt.Fprintf(w, tr(l, "Your consents, as node %s reports them at height %d (%s):\n\n", "Sus consentimientos, según el nodo %s en la altura %d (%s):\n\n"),
		safe(c.Node), c.Height, when(c.Time, c.loc))
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, tr(l, "CONSENT\tAGENCY\tCATEGORY\tPURPOSE\tFROM\tUNTIL\tSTATUS", "CONSENTIMIENTO\tAGENCIA\tCATEGORÍA\tFINALIDAD\tDESDE\tHASTA\tESTADO"))
	for _, x := range c.Consents {
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\t%s\n", safe(x.ID), safe(x.Agency), category(l, x.Category), purpose(l, x.Purpose),
			when(x.ValidFrom, c.loc), when(x.ValidUntil, c.loc), consentStatus(l, x.status))
	}
	return tw.Flush()
}

func newConsentListCmd(env rootEnv) *cobra.Command {
	var nf nodeFlags
	var tz string
	cmd := &cobra.Command{
		Use:   "list",
		Short: "list your consents and their status",
		Long: `list shows every consent you granted, with its status now (given,
withdrawn, expired, not yet in force), as the node reports it. The request
is signed with your key: the node returns your consents to you only.

Exit codes: 0 listed, 1 refused, 2 usage error, 4 node unreachable.`,
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
			id, s, ctx, done, err := nf.connect(cmd)
			if err != nil {
				return nil, err
			}
			defer done()
			req := &notaryv1.ListConsentsRequest{Subject: id.Subject()}
			if err := client.SignRead(id, req); err != nil {
				return nil, cli.Fail(cli.ExitUsage, err)
			}
			resp, err := s.gw.ListConsents(ctx, req)
			if err != nil {
				return nil, nodeError(s.addr, "list consents", err)
			}
			out := consentList{Node: s.addr, Subject: hex.EncodeToString(id.Subject()), Height: resp.Height,
				Time: resp.GetTime().AsTime().UTC(), Consents: []consentItem{}, lang: lang, loc: loc}
			for _, cv := range resp.Consents {
				c := cv.GetConsent()
				out.Consents = append(out.Consents, consentItem{ID: c.GetId(), Agency: c.GetAgencyId(), Category: c.GetCategory(),
					Purpose: c.GetPurpose(), ValidFrom: c.GetValidFrom().AsTime().UTC(), ValidUntil: c.GetValidUntil().AsTime().UTC(),
					Status: consentStatus(verify.English, cv.Status), status: cv.Status})
			}
			return out, nil
		}),
	}
	nf.register(cmd, env)
	cmd.Flags().StringVar(&tz, "tz", "", "time zone of printed times (default: the system's)")
	return cmd
}
