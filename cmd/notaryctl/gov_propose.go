package main

import (
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/gobtechlab/notary/app/identity"
	"github.com/gobtechlab/notary/app/inputfile"
	"github.com/gobtechlab/notary/cmd/internal/cli"
	notaryv1 "github.com/gobtechlab/notary/proto/notary/v1"
)

// proposeResult is the gov propose command's result.
type proposeResult struct {
	Height   int64        `json:"height"`
	TxHash   string       `json:"tx_hash"`
	Proposal proposalView `json:"proposal"`
}

func (r *proposeResult) Text(w io.Writer) error {
	p := r.Proposal
	fmt.Fprintf(w, "proposal %d submitted at height %d by %s: %s\n", p.ID, r.Height, safe(p.Proposer), p.describe())
	fmt.Fprintf(w, "  title    %s\n", safe(p.Title))
	_, err := fmt.Fprintf(w, "  status   %s until height %d; ministries vote with `notaryctl gov vote %d yes`\n", safe(p.Status), p.Expiry, p.ID)
	return err
}

// actionBuilder builds a proposal's action, reading the chain if needed (a
// change keeps what it does not name), and a default title.
type actionBuilder func(s *session) (*notaryv1.ProposalAction, string, error)

func newGovProposeCmd() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "propose ACTION [flags]",
		Short: "propose a governance action (ministries)",
		Long: `propose submits a governance proposal signed with this ministry's governance
key. ACTION is one of:

  add-agency           register an agency (--id, --name, --pub-key, --permissions)
  remove-agency        deactivate an agency (--id)
  update-agency        change an agency's name, permissions or key (--id and what changes)
  add-validator        add a ministry and its validator (--id, --name, --gov-key,
                       --consensus-key, --power)
  remove-validator     remove a ministry's validator (--id)
  reweight-validator   change a ministry's voting power (--id, --power)
  register-mandate     register a legal mandate (--id, --legal-reference,
                       --requesters, --providers, --categories, --purposes, --valid-until)
  expire-mandate       end a legal mandate (--id)
  change-params        change chain parameters (one flag per parameter changed)
  schedule-upgrade     schedule a software upgrade (NAME, --height or --in, --info)
  cancel-upgrade       cancel the scheduled upgrade (NAME)

--title is a short public text (default: the action in words). The chain
refuses at once what it can already see is impossible or unsafe (for example
removing validators below a safe set).

Exit codes: 0 proposed; 1 refused; 2 usage error; 4 node unreachable.`,
	}
	cmd.PersistentFlags().String("title", "", "title of the proposal (default: the action in words)")
	cmd.AddCommand(
		newProposeAddAgencyCmd(), newProposeRemoveCmd("remove-agency", "agency"), newProposeUpdateAgencyCmd(), newProposeSetTLSKeysCmd(),
		newProposeAddValidatorCmd(), newProposeRemoveCmd("remove-validator", "validator"), newProposeReweightCmd(),
		newProposeRegisterMandateCmd(), newProposeRemoveCmd("expire-mandate", "mandate"),
		newProposeChangeParamsCmd(), newProposeScheduleUpgradeCmd(), newProposeCancelUpgradeCmd(),
	)
	return cmd
}

// proposeRun adapts an action builder into a command's RunE: connect as a
// ministry, build the action, submit the proposal, read it back.
func proposeRun(build actionBuilder) func(*cobra.Command, []string) error {
	return cli.Run(func(cmd *cobra.Command, _ []string) (any, error) {
		title, _ := cmd.Flags().GetString("title")
		s, err := connect(cmd)
		if err != nil {
			return nil, err
		}
		defer s.close()
		if err := requireMinistry(s, "gov propose"); err != nil {
			return nil, err
		}
		action, defTitle, err := build(s)
		if err != nil {
			return nil, s.fail(err)
		}
		if title == "" {
			title = defTitle
		}
		resp, err := s.c.Submit(s.ctx, &notaryv1.TxBody{Msg: &notaryv1.TxBody_Propose{Propose: &notaryv1.Propose{
			MinistryId: s.id.ID, Title: title, Action: action}}})
		if err != nil {
			return nil, s.fail(fmt.Errorf("propose: %w", err))
		}
		id := resp.GetResult().GetProposalId()
		res := &proposeResult{Height: resp.GetHeight(), TxHash: hex.EncodeToString(resp.GetTxHash())}
		pr, err := s.c.Gateway().GetProposal(s.ctx, &notaryv1.GetProposalRequest{Id: id, Height: resp.GetHeight()})
		if err != nil {
			return nil, s.fail(fmt.Errorf("proposed at height %d, but reading proposal %d failed: %w", res.Height, id, err))
		}
		res.Proposal = viewProposal(pr.GetProposal())
		return res, nil
	})
}

// required checks that flags were given.
func required(cmd *cobra.Command, names ...string) error {
	var missing []string
	for _, n := range names {
		if !cmd.Flags().Changed(n) {
			missing = append(missing, "--"+n)
		}
	}
	if len(missing) > 0 {
		return cli.Usage("%s: %s required", cmd.Name(), strings.Join(missing, ", "))
	}
	return nil
}

// parsePermissions parses a comma-separated list of permission codes into
// the ascending, unique list the chain wants.
func parsePermissions(s string) ([]notaryv1.Permission, error) {
	seen := map[notaryv1.Permission]bool{}
	var out []notaryv1.Permission
	for _, code := range splitList(s) {
		v, names, ok := parseEnum(code, "PERMISSION_", notaryv1.Permission_name)
		if !ok {
			return nil, cli.Usage("--permissions: unknown %q (use %s)", code, strings.Join(names, ", "))
		}
		if p := notaryv1.Permission(v); !seen[p] {
			seen[p] = true
			out = append(out, p)
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i] < out[j] })
	return out, nil
}

// parsePubKey reads an ed25519 public key given as 64 hex characters, as
// base64 (CometBFT's form), as an identity directory (its key), as a
// CometBFT priv_validator_key.json file (its public key) or as a node home
// holding config/priv_validator_key.json.
func parsePubKey(flag, s string) ([]byte, error) {
	if s == "" {
		return nil, cli.Usage("--%s is required", flag)
	}
	if st, err := os.Stat(s); err == nil {
		if st.IsDir() {
			if _, err := os.Stat(filepath.Join(s, identity.File)); err == nil {
				id, err := identity.Load(s)
				if err != nil {
					return nil, cli.Usage("--%s: %w", flag, err)
				}
				return id.Public(), nil
			}
			s = filepath.Join(s, "config", "priv_validator_key.json")
		}
		return validatorKeyFile(flag, s)
	} else if !errors.Is(err, fs.ErrNotExist) {
		return nil, cli.Usage("--%s: %w", flag, err)
	}
	if b, err := hex.DecodeString(s); err == nil && len(b) == 32 {
		return b, nil
	}
	if b, err := base64.StdEncoding.DecodeString(s); err == nil && len(b) == 32 {
		return b, nil
	}
	return nil, cli.Usage("--%s %q: want a 32-byte ed25519 public key (64 hex or base64 characters), an identity directory or a priv_validator_key.json", flag, s)
}

// validatorKeyFile reads the public key of a CometBFT priv_validator_key.json.
func validatorKeyFile(flag, path string) ([]byte, error) {
	b, err := inputfile.ReadFile(path)
	if err != nil {
		return nil, cli.Usage("--%s: %w", flag, err)
	}
	var f struct {
		PubKey struct {
			Type  string `json:"type"`
			Value string `json:"value"`
		} `json:"pub_key"`
	}
	if err := json.Unmarshal(b, &f); err != nil {
		return nil, cli.Usage("--%s %s: %w", flag, path, err)
	}
	key, err := base64.StdEncoding.DecodeString(f.PubKey.Value)
	if err != nil || len(key) != 32 || !strings.Contains(strings.ToLower(f.PubKey.Type), "ed25519") {
		return nil, cli.Usage("--%s %s: no ed25519 pub_key in it", flag, path)
	}
	return key, nil
}

// parseDate reads a date as RFC 3339 or YYYY-MM-DD (midnight UTC).
func parseDate(flag, s string) (time.Time, error) {
	if t, err := time.Parse(time.RFC3339, s); err == nil {
		return t.UTC(), nil
	}
	if t, err := time.Parse(time.DateOnly, s); err == nil {
		return t, nil
	}
	return time.Time{}, cli.Usage("--%s %q: want a date, YYYY-MM-DD or RFC 3339", flag, s)
}

// sortedIDs splits, sorts and deduplicates a comma-separated list of ids or
// codes (the chain wants them sorted without duplicates).
func sortedIDs(s string) []string {
	ids := splitList(s)
	sort.Strings(ids)
	out := ids[:0]
	for i, id := range ids {
		if i == 0 || id != ids[i-1] {
			out = append(out, id)
		}
	}
	return out
}
