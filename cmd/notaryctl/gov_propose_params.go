package main

import (
	"fmt"
	"strconv"
	"strings"

	"github.com/spf13/cobra"
	"google.golang.org/protobuf/proto"

	"github.com/gobtechlab/notary/cmd/internal/cli"
	"github.com/gobtechlab/notary/ledger"
	notaryv1 "github.com/gobtechlab/notary/proto/notary/v1"
)

// paramFlag is one chain parameter that change-params can set.
type paramFlag struct {
	name, usage string
	set         func(p *notaryv1.Params, v string) error
}

// uintParam parses a non-negative integer of at most bits bits.
func uintParam(v string, bits int) (uint64, error) {
	n, err := strconv.ParseUint(v, 10, bits)
	if err != nil {
		return 0, fmt.Errorf("want a non-negative integer, not %q", v)
	}
	return n, nil
}

var paramFlags = []paramFlag{
	{"max-digests-per-batch", "most digests in one batch", func(p *notaryv1.Params, v string) error {
		n, err := uintParam(v, 32)
		p.MaxDigestsPerBatch = uint32(n)
		return err
	}},
	{"max-tx-bytes", "largest transaction in bytes", func(p *notaryv1.Params, v string) error {
		n, err := uintParam(v, 64)
		p.MaxTxBytes = n
		return err
	}},
	{"hash-algorithms", "accepted hash algorithms, comma-separated: sha2-256, sha3-256", func(p *notaryv1.Params, v string) error {
		p.HashAlgorithms = nil
		for _, name := range splitList(v) {
			alg, ok := ledger.ParseAlgorithm(name)
			if !ok {
				return fmt.Errorf("unknown hash algorithm %q", name)
			}
			p.HashAlgorithms = append(p.HashAlgorithms, alg)
		}
		return nil
	}},
	{"gov-threshold", "share of the voting power a proposal needs, as N/D (more than it passes)", func(p *notaryv1.Params, v string) error {
		n, d, ok := strings.Cut(v, "/")
		num, err1 := strconv.ParseUint(n, 10, 64)
		den, err2 := strconv.ParseUint(d, 10, 64)
		if !ok || err1 != nil || err2 != nil || den == 0 {
			return fmt.Errorf("want a fraction N/D, not %q", v)
		}
		p.GovThreshold = &notaryv1.Fraction{Numerator: num, Denominator: den}
		return nil
	}},
	{"proposal-lifetime-blocks", "blocks a proposal stays open", func(p *notaryv1.Params, v string) error {
		n, err := uintParam(v, 64)
		p.ProposalLifetimeBlocks = n
		return err
	}},
	{"max-label-bytes", "longest batch label in bytes", func(p *notaryv1.Params, v string) error {
		n, err := uintParam(v, 32)
		p.MaxLabelBytes = uint32(n)
		return err
	}},
	{"max-text-bytes", "longest free text in bytes", func(p *notaryv1.Params, v string) error {
		n, err := uintParam(v, 32)
		p.MaxTextBytes = uint32(n)
		return err
	}},
	{"data-categories", "data category vocabulary, comma-separated (replaces it)", func(p *notaryv1.Params, v string) error {
		p.DataCategories = sortedIDs(v)
		return nil
	}},
	{"purposes", "purpose vocabulary, comma-separated (replaces it)", func(p *notaryv1.Params, v string) error {
		p.Purposes = sortedIDs(v)
		return nil
	}},
	{"min-validators", "fewest validators the chain keeps", func(p *notaryv1.Params, v string) error {
		n, err := uintParam(v, 32)
		p.MinValidators = uint32(n)
		return err
	}},
	{"citizen-enrollment", "which citizen keys may sign consents: open (any key, enrolled by its first consent) or accredited (keys enrolled by an agency with PERMISSION_ENROLL)", func(p *notaryv1.Params, v string) error {
		e, names, ok := parseEnum(v, "CITIZEN_ENROLLMENT_", notaryv1.CitizenEnrollment_name)
		if !ok {
			return fmt.Errorf("want %s, not %q", strings.Join(names, " or "), v)
		}
		p.CitizenEnrollment = notaryv1.CitizenEnrollment(e)
		return nil
	}},
	{"max-active-consents-per-subject", "most consents in force or pending one citizen may have (0: no limit)", func(p *notaryv1.Params, v string) error {
		n, err := uintParam(v, 32)
		p.MaxActiveConsentsPerSubject = uint32(n)
		return err
	}},
	{"max-unordered-window", "most heights an unordered transaction's valid_until_height may be ahead of its block (0: unordered transactions refused)", func(p *notaryv1.Params, v string) error {
		n, err := uintParam(v, 64)
		p.MaxUnorderedWindow = n
		return err
	}},
	{"witness-threshold", "how many registered witnesses' cosignatures a checkpoint needs under the consortium's trust policy; trust bundles carry it (0: none; at most the witnesses)", func(p *notaryv1.Params, v string) error {
		n, err := uintParam(v, 32)
		p.WitnessThreshold = uint32(n)
		return err
	}},
	{"stateless-empty-blocks", "true: blocks keep no record of themselves in the state, so that an idle chain makes no blocks (nodes with create_empty_blocks = false); false on chains created before it", func(p *notaryv1.Params, v string) error {
		b, err := strconv.ParseBool(v)
		if err != nil {
			return fmt.Errorf("want true or false, not %q", v)
		}
		p.StatelessEmptyBlocks = b
		return nil
	}},
}

// parseWitnesses parses --witness values, "NAME=KEY" each; a single empty
// value clears the list.
func parseWitnesses(vals []string) ([]*notaryv1.Witness, error) {
	if len(vals) == 1 && vals[0] == "" {
		return nil, nil
	}
	out := make([]*notaryv1.Witness, 0, len(vals))
	for _, v := range vals {
		i := strings.LastIndex(v, "=")
		if i <= 0 || i == len(v)-1 {
			return nil, fmt.Errorf("want NAME=KEY, not %q", v)
		}
		out = append(out, &notaryv1.Witness{Name: strings.TrimSpace(v[:i]), Key: strings.TrimSpace(v[i+1:])})
	}
	return out, nil
}

func newProposeChangeParamsCmd() *cobra.Command {
	values := make([]string, len(paramFlags))
	var witnesses []string
	cmd := &cobra.Command{
		Use:   "change-params --PARAM VALUE...",
		Short: "propose changing chain parameters",
		Long: `change-params proposes new chain parameters: the ones given change, the
others keep the value in force now. Vocabularies (--data-categories,
--purposes) are replaced as a whole, and so is the list of witnesses
(--witness, repeated; docs/witness.md).`,
		Args: cobra.NoArgs,
	}
	cmd.RunE = proposeRun(func(s *session) (*notaryv1.ProposalAction, string, error) {
		var changed []string
		for _, pf := range paramFlags {
			if cmd.Flags().Changed(pf.name) {
				changed = append(changed, pf.name)
			}
		}
		if cmd.Flags().Changed("witness") {
			changed = append(changed, "witnesses")
		}
		if len(changed) == 0 {
			return nil, "", cli.Usage("change-params: give at least one parameter (see --help)")
		}
		cur, err := s.c.Params(s.ctx)
		if err != nil {
			return nil, "", err
		}
		p := proto.Clone(cur).(*notaryv1.Params)
		for i, pf := range paramFlags {
			if !cmd.Flags().Changed(pf.name) {
				continue
			}
			if err := pf.set(p, values[i]); err != nil {
				return nil, "", cli.Usage("--%s: %w", pf.name, err)
			}
		}
		if cmd.Flags().Changed("witness") {
			ws, err := parseWitnesses(witnesses)
			if err != nil {
				return nil, "", cli.Usage("--witness: %w", err)
			}
			p.Witnesses = ws
		}
		if err := ledger.ValidateParams(p); err != nil {
			return nil, "", cli.Usage("change-params: %w", err)
		}
		return &notaryv1.ProposalAction{Action: &notaryv1.ProposalAction_ChangeParams{ChangeParams: p}},
			"Change " + joinWords(changed), nil
	})
	for i, pf := range paramFlags {
		cmd.Flags().StringVar(&values[i], pf.name, "", pf.usage)
	}
	cmd.Flags().StringArrayVar(&witnesses, "witness", nil,
		`a witness the consortium registers, "NAME=KEY" (KEY: its cosignature/v1 verifier key, as `+"`verifier witness init`"+` prints it); repeat for each; the list given replaces the registered one; --witness "" clears it`)
	return cmd
}
