package main

import (
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"time"

	"github.com/spf13/cobra"

	"github.com/gobtechlab/notary/app/identity"
	"github.com/gobtechlab/notary/cmd/internal/cli"
	"github.com/gobtechlab/notary/cmd/internal/safetext"
	"github.com/gobtechlab/notary/ledger"
	notaryv1 "github.com/gobtechlab/notary/proto/notary/v1"
)

// exchangeFlags are the fields that describe a data exchange, shared by
// `consent check` and `exchange record`.
type exchangeFlags struct {
	subject, agency, provider, category, purpose string
}

func (f *exchangeFlags) register(cmd *cobra.Command, withAgency bool) {
	fl := cmd.Flags()
	fl.StringVar(&f.subject, "subject", "", "the citizen's subject id (64 hex characters), or a citizen identity directory (required)")
	if withAgency {
		fl.StringVar(&f.agency, "agency", "", "the requesting agency (default: this identity's agency)")
	}
	fl.StringVar(&f.provider, "provider", "", "the agency that provides the data (required)")
	fl.StringVar(&f.category, "category", "", "data category, e.g. tax, health (the chain's vocabulary; required)")
	fl.StringVar(&f.purpose, "purpose", "", "purpose, e.g. eligibility-check (the chain's vocabulary; required)")
}

// check validates the flags (requester is the agency that asks) and returns
// the subject id.
func (f *exchangeFlags) check() ([]byte, error) {
	for _, x := range []struct{ name, v string }{{"--subject", f.subject}, {"--provider", f.provider}, {"--category", f.category}, {"--purpose", f.purpose}} {
		if x.v == "" {
			return nil, cli.Usage("%s is required", x.name)
		}
	}
	for _, x := range []struct{ name, v string }{{"--agency", f.agency}, {"--provider", f.provider}, {"--category", f.category}, {"--purpose", f.purpose}} {
		if x.v != "" && !ledger.ValidID(x.v) {
			return nil, cli.Usage("%s %q: codes and ids are 1..64 of [a-z0-9-]", x.name, x.v)
		}
	}
	return parseSubject(f.subject)
}

// parseSubject reads a subject id: 64 hex characters, or a citizen identity
// directory whose key gives it.
func parseSubject(s string) ([]byte, error) {
	if st, err := os.Stat(s); err == nil && st.IsDir() {
		id, err := identity.Load(s)
		if err != nil {
			return nil, cli.Usage("--subject %s: %w", s, err)
		}
		if id.Role != identity.RoleCitizen {
			return nil, cli.Usage("--subject %s: a %s identity, not a citizen's", s, id.Role)
		}
		return id.Subject(), nil
	} else if err != nil && !errors.Is(err, fs.ErrNotExist) {
		return nil, cli.Usage("--subject: %w", err)
	}
	b, err := hex.DecodeString(s)
	if err != nil || len(b) != 32 {
		return nil, cli.Usage("--subject %q: want a subject id of 64 hex characters or a citizen identity directory", filepath.Clean(s))
	}
	return b, nil
}

// coverageResult is the consent check command's result.
type coverageResult struct {
	Requester string `json:"requester_agency_id"`
	Provider  string `json:"provider_agency_id"`
	Subject   string `json:"subject"`
	Category  string `json:"category"`
	Purpose   string `json:"purpose"`
	Covered   bool   `json:"covered"`
	// ConsentID or MandateID is what covers the exchange.
	ConsentID string `json:"consent_id,omitempty"`
	MandateID string `json:"mandate_id,omitempty"`
	// LegalReference of the mandate; ValidUntil of the consent or mandate.
	LegalReference string    `json:"legal_reference,omitempty"`
	ValidUntil     time.Time `json:"valid_until,omitzero"`
	// Reason says why not, when not covered.
	Reason string `json:"reason,omitempty"`
	// Height the answer was read at.
	Height int64 `json:"height"`
}

// ExitCode: 0 covered, 1 not covered.
func (r *coverageResult) ExitCode() int {
	if r.Covered {
		return cli.ExitOK
	}
	return cli.ExitFailure
}

func (r *coverageResult) Text(w io.Writer) error {
	what := fmt.Sprintf("%s from %s about subject %s: %s for %s", safe(r.Requester), safe(r.Provider), safe(r.Subject), safe(r.Category), safe(r.Purpose))
	switch {
	case r.ConsentID != "":
		fmt.Fprintf(w, "COVERED by the citizen's consent %s (valid until %s), as of height %d\n", safe(r.ConsentID), stamp(r.ValidUntil), r.Height)
	case r.MandateID != "":
		fmt.Fprintf(w, "COVERED by the legal mandate %s", safe(r.MandateID))
		if r.LegalReference != "" {
			fmt.Fprintf(w, " (%s)", safe(r.LegalReference))
		}
		fmt.Fprintf(w, ", valid until %s, as of height %d\n", stamp(r.ValidUntil), r.Height)
	default:
		fmt.Fprintf(w, "NOT COVERED: %s (as of height %d)\n", safetext.Escape(r.Reason), r.Height)
	}
	_, err := fmt.Fprintf(w, "  exchange  %s\n", what)
	return err
}

func newConsentCmd() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "consent",
		Short: "citizens' consents, as an agency sees them",
	}
	cmd.AddCommand(newConsentCheckCmd())
	return cmd
}

func newConsentCheckCmd() *cobra.Command {
	var f exchangeFlags
	cmd := &cobra.Command{
		Use:   "check --subject S --provider B --category C --purpose P [--agency A]",
		Short: "is a data exchange covered by a consent or a mandate, and by which",
		Long: `consent check asks the chain whether an exchange would be covered now: agency
A (default: this identity's) obtaining data of category C about the citizen
with subject id S from agency B, for purpose P. It answers with the consent
or legal mandate in force that covers it (a consent first), or why nothing
does. Nothing is recorded: ` + "`notaryctl exchange record`" + ` does that.

Exit codes: 0 covered; 1 not covered; 2 usage error; 4 node unreachable.`,
		Args: cobra.NoArgs,
		RunE: cli.Run(func(cmd *cobra.Command, _ []string) (any, error) {
			subject, err := f.check()
			if err != nil {
				return nil, err
			}
			s, err := connect(cmd)
			if err != nil {
				return nil, err
			}
			defer s.close()
			requester := f.agency
			if requester == "" {
				if s.id.Role != identity.RoleAgency {
					return nil, cli.Usage("--agency is required with a %s identity", s.id.Role)
				}
				requester = s.id.ID
			}
			resp, err := s.c.Gateway().CheckCoverage(s.ctx, &notaryv1.CheckCoverageRequest{
				RequesterAgencyId: requester, ProviderAgencyId: f.provider, Subject: subject, Category: f.category, Purpose: f.purpose})
			if err != nil {
				return nil, s.fail(fmt.Errorf("check coverage: %w", err))
			}
			res := &coverageResult{
				Requester: requester, Provider: f.provider, Subject: hex.EncodeToString(subject), Category: f.category, Purpose: f.purpose,
				Covered: resp.GetCovered(), ConsentID: resp.GetConsentId(), MandateID: resp.GetMandateId(), Reason: resp.GetReason(), Height: resp.GetHeight(),
			}
			switch {
			case res.ConsentID != "":
				cr, err := s.c.Gateway().GetConsent(s.ctx, &notaryv1.GetConsentRequest{ConsentId: res.ConsentID, Height: res.Height})
				if err != nil {
					return nil, s.fail(fmt.Errorf("consent %s: %w", res.ConsentID, err))
				}
				res.ValidUntil = utc(cr.GetConsent().GetConsent().GetValidUntil())
			case res.MandateID != "":
				mr, err := s.c.Gateway().ListMandates(s.ctx, &notaryv1.ListMandatesRequest{})
				if err != nil {
					return nil, s.fail(fmt.Errorf("mandates: %w", err))
				}
				for _, m := range mr.GetMandates() {
					if m.GetId() == res.MandateID {
						res.LegalReference = m.GetLegalReference()
						res.ValidUntil = utc(m.GetValidUntil())
					}
				}
			}
			return res, nil
		}),
	}
	f.register(cmd, true)
	return cmd
}
