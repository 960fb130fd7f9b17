package main

import (
	"fmt"
	"io"
	"strings"

	"github.com/spf13/cobra"

	"github.com/gobtechlab/notary/cmd/internal/cli"
	"github.com/gobtechlab/notary/ledger"
	notaryv1 "github.com/gobtechlab/notary/proto/notary/v1"
)

// govParamsResult is the gov params command's result: the governed
// parameters a change-params proposal changes.
type govParamsResult struct {
	MaxDigestsPerBatch     uint32        `json:"max_digests_per_batch"`
	MaxTxBytes             uint64        `json:"max_tx_bytes"`
	HashAlgorithms         []string      `json:"hash_algorithms"`
	GovThreshold           string        `json:"gov_threshold"`
	ProposalLifetimeBlocks uint64        `json:"proposal_lifetime_blocks"`
	MinValidators          uint32        `json:"min_validators"`
	CitizenEnrollment      string        `json:"citizen_enrollment"`
	EvidenceLog            bool          `json:"evidence_log"`
	CheckpointInterval     uint64        `json:"checkpoint_interval"`
	Witnesses              []witnessView `json:"witnesses"`
	WitnessThreshold       uint32        `json:"witness_threshold"`
}

func viewParams(p *notaryv1.Params) *govParamsResult {
	r := &govParamsResult{
		MaxDigestsPerBatch: p.GetMaxDigestsPerBatch(), MaxTxBytes: p.GetMaxTxBytes(),
		GovThreshold:           fmt.Sprintf("%d/%d", p.GetGovThreshold().GetNumerator(), p.GetGovThreshold().GetDenominator()),
		ProposalLifetimeBlocks: p.GetProposalLifetimeBlocks(), MinValidators: p.GetMinValidators(),
		CitizenEnrollment: strings.ToLower(strings.TrimPrefix(p.GetCitizenEnrollment().String(), "CITIZEN_ENROLLMENT_")),
		EvidenceLog:       p.GetEvidenceLog(), CheckpointInterval: p.GetCheckpointInterval(),
		Witnesses: viewWitnesses(p.GetWitnesses()), WitnessThreshold: p.GetWitnessThreshold(),
	}
	for _, a := range p.GetHashAlgorithms() {
		r.HashAlgorithms = append(r.HashAlgorithms, ledger.AlgorithmName(a))
	}
	if r.Witnesses == nil {
		r.Witnesses = []witnessView{}
	}
	return r
}

func (r *govParamsResult) Text(w io.Writer) error {
	fmt.Fprintf(w, "max digests per batch     %d\n", r.MaxDigestsPerBatch)
	fmt.Fprintf(w, "max tx bytes              %d\n", r.MaxTxBytes)
	fmt.Fprintf(w, "hash algorithms           %s\n", strings.Join(r.HashAlgorithms, ", "))
	fmt.Fprintf(w, "gov threshold             %s\n", r.GovThreshold)
	fmt.Fprintf(w, "proposal lifetime blocks  %d\n", r.ProposalLifetimeBlocks)
	fmt.Fprintf(w, "min validators            %d\n", r.MinValidators)
	fmt.Fprintf(w, "citizen enrollment        %s\n", r.CitizenEnrollment)
	fmt.Fprintf(w, "evidence log              %t\n", r.EvidenceLog)
	fmt.Fprintf(w, "checkpoint interval       %d\n", r.CheckpointInterval)
	fmt.Fprintf(w, "witness policy            %s\n", witnessPolicy(r.Witnesses, r.WitnessThreshold))
	for _, wt := range r.Witnesses {
		fmt.Fprintf(w, "  witness %-24s %s\n", safe(wt.Name), safe(wt.Key))
	}
	return nil
}

func newGovParamsCmd() *cobra.Command {
	return &cobra.Command{
		Use:   "params",
		Short: "show the chain parameters in force, with the registered witnesses",
		Long: `params shows the chain parameters a change-params proposal changes, as in
force now, with the witnesses governance registered and how many of their
cosignatures a checkpoint needs (docs/witness.md).

Exit codes: 0 ok; 4 node unreachable.`,
		Args: cobra.NoArgs,
		RunE: cli.Run(func(cmd *cobra.Command, _ []string) (any, error) {
			s, err := connect(cmd)
			if err != nil {
				return nil, err
			}
			defer s.close()
			p, err := s.c.Params(s.ctx)
			if err != nil {
				return nil, s.fail(err)
			}
			return viewParams(p), nil
		}),
	}
}
