package main

import (
	"fmt"
	"time"

	"github.com/spf13/cobra"
	"google.golang.org/protobuf/types/known/timestamppb"

	"github.com/gobtechlab/notary/cmd/internal/cli"
	notaryv1 "github.com/gobtechlab/notary/proto/notary/v1"
)

func newProposeRegisterMandateCmd() *cobra.Command {
	var id, ref, requesters, providers, categories, purposes, from, until string
	cmd := &cobra.Command{
		Use:   "register-mandate --id ID --legal-reference TEXT --requesters A,.. --providers B,.. --categories C,.. --purposes P,.. --valid-until DATE",
		Short: "propose registering a legal mandate",
		Long: `register-mandate proposes a legal mandate: a law that lets the requesting
agencies obtain data of the categories, for the purposes, from the providing
agencies, from --valid-from (default: now) until --valid-until, without the
citizen's consent. --legal-reference names the law, article and official
gazette reference. Lists are comma-separated.`,
		Args: cobra.NoArgs,
	}
	cmd.RunE = proposeRun(func(*session) (*notaryv1.ProposalAction, string, error) {
		if err := required(cmd, "id", "legal-reference", "requesters", "providers", "categories", "purposes", "valid-until"); err != nil {
			return nil, "", err
		}
		start := time.Now().UTC().Truncate(time.Second)
		if from != "" {
			t, err := parseDate("valid-from", from)
			if err != nil {
				return nil, "", err
			}
			start = t
		}
		end, err := parseDate("valid-until", until)
		if err != nil {
			return nil, "", err
		}
		if !end.After(start) {
			return nil, "", cli.Usage("--valid-until must be after --valid-from (%s)", start.Format(time.RFC3339))
		}
		m := &notaryv1.Mandate{
			Id: id, LegalReference: ref,
			RequestingAgencies: sortedIDs(requesters), ProvidingAgencies: sortedIDs(providers),
			Categories: sortedIDs(categories), Purposes: sortedIDs(purposes),
			ValidFrom: timestamppb.New(start), ValidUntil: timestamppb.New(end),
		}
		return &notaryv1.ProposalAction{Action: &notaryv1.ProposalAction_RegisterMandate{RegisterMandate: m}},
			fmt.Sprintf("Register mandate %s (%s)", id, ref), nil
	})
	f := cmd.Flags()
	f.StringVar(&id, "id", "", "mandate id, 1..64 of [a-z0-9-]")
	f.StringVar(&ref, "legal-reference", "", "law, article and official gazette reference")
	f.StringVar(&requesters, "requesters", "", "requesting agencies, comma-separated")
	f.StringVar(&providers, "providers", "", "providing agencies, comma-separated")
	f.StringVar(&categories, "categories", "", "data categories, comma-separated")
	f.StringVar(&purposes, "purposes", "", "purposes, comma-separated")
	f.StringVar(&from, "valid-from", "", "start of validity, YYYY-MM-DD or RFC 3339 (default: now)")
	f.StringVar(&until, "valid-until", "", "end of validity, YYYY-MM-DD or RFC 3339")
	return cmd
}
