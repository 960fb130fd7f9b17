package main

import (
	"encoding/hex"
	"fmt"
	"os"

	"github.com/spf13/cobra"
	"google.golang.org/protobuf/proto"

	"github.com/gobtechlab/notary/app/join"
	"github.com/gobtechlab/notary/cmd/internal/cli"
	notaryv1 "github.com/gobtechlab/notary/proto/notary/v1"
)

func newProposeAddAgencyCmd() *cobra.Command {
	var (
		id, name, key, perms, request string
		certs                         []string
	)
	cmd := &cobra.Command{
		Use:   "add-agency (--request join-request.json | --id ID --name NAME --pub-key KEY --permissions LIST [--tls-cert FILE])",
		Short: "propose registering an agency",
		Long: `add-agency proposes registering an agency, from its join request
('notaryctl identity new', checked here: its signature by the agency's own
key) or from flags. --tls-cert (a PEM certificate or certificate request)
registers the key of the agency's client certificate: the gateways then
accept only that certificate for it (see set-tls-keys).`,
		Args: cobra.NoArgs,
	}
	cmd.RunE = proposeRun(func(*session) (*notaryv1.ProposalAction, string, error) {
		if request != "" {
			r, err := readJoinRequest(request, join.RoleAgency)
			if err != nil {
				return nil, "", err
			}
			pub, _ := hex.DecodeString(r.PubKey)
			ps, _ := join.ParsePermissions(r.Permissions)
			a := &notaryv1.Agency{Id: r.ID, Name: r.Name, PubKey: pub, Permissions: ps, TlsKeys: r.TLSKeys()}
			return &notaryv1.ProposalAction{Action: &notaryv1.ProposalAction_AddAgency{AddAgency: a}},
				fmt.Sprintf("Register agency %s (%s)", r.ID, r.Name), nil
		}
		if err := required(cmd, "id", "name", "pub-key", "permissions"); err != nil {
			return nil, "", err
		}
		tk, err := parseTLSKeys("tls-cert", certs)
		if err != nil {
			return nil, "", err
		}
		pub, err := parsePubKey("pub-key", key)
		if err != nil {
			return nil, "", err
		}
		ps, err := parsePermissions(perms)
		if err != nil {
			return nil, "", err
		}
		a := &notaryv1.Agency{Id: id, Name: name, PubKey: pub, Permissions: ps, TlsKeys: tk}
		return &notaryv1.ProposalAction{Action: &notaryv1.ProposalAction_AddAgency{AddAgency: a}},
			fmt.Sprintf("Register agency %s (%s)", id, name), nil
	})
	f := cmd.Flags()
	f.StringVar(&id, "id", "", "agency id, 1..64 of [a-z0-9-]")
	f.StringVar(&name, "name", "", "agency name")
	f.StringVar(&key, "pub-key", "", "the agency's ed25519 key: hex, base64 or its identity directory")
	f.StringVar(&perms, "permissions", "", "comma-separated: anchor, revoke, exchange, enroll")
	f.StringVar(&request, "request", "", "the agency's join request (join-request.json), in place of the other flags")
	f.StringSliceVar(&certs, "tls-cert", nil, "a PEM certificate or certificate request whose key the gateways accept for the agency")
	return cmd
}

// readJoinRequest reads a join request of role and checks its form and its
// signature by the member's own key.
func readJoinRequest(path, role string) (*join.Request, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, cli.Usage("--request: %v", err)
	}
	r, err := join.Decode(b)
	if err != nil {
		return nil, cli.Usage("--request %s: %v", path, err)
	}
	if err := r.Verify(); err != nil {
		return nil, cli.Usage("--request %s: %v", path, err)
	}
	if r.Role != role {
		return nil, cli.Usage("--request %s: the request of a %s, not of a %s", path, r.Role, role)
	}
	return r, nil
}

func newProposeUpdateAgencyCmd() *cobra.Command {
	var id, name, key, perms string
	cmd := &cobra.Command{
		Use:   "update-agency --id ID [--name NAME] [--permissions LIST] [--pub-key KEY]",
		Short: "propose changing an agency's name, permissions or key",
		Long: `update-agency proposes replacing an agency's record: what is not given is
kept as the chain has it now.`,
		Args: cobra.NoArgs,
	}
	cmd.RunE = proposeRun(func(s *session) (*notaryv1.ProposalAction, string, error) {
		if err := required(cmd, "id"); err != nil {
			return nil, "", err
		}
		if !cmd.Flags().Changed("name") && !cmd.Flags().Changed("permissions") && !cmd.Flags().Changed("pub-key") {
			return nil, "", cli.Usage("update-agency: give what changes: --name, --permissions or --pub-key")
		}
		resp, err := s.c.Gateway().ListAgencies(s.ctx, &notaryv1.ListAgenciesRequest{})
		if err != nil {
			return nil, "", fmt.Errorf("list agencies: %w", err)
		}
		var cur *notaryv1.Agency
		for _, a := range resp.GetAgencies() {
			if a.GetId() == id {
				cur = a
			}
		}
		if cur == nil {
			return nil, "", cli.Fail(cli.ExitFailure, fmt.Errorf("update-agency: no agency %q on chain", id))
		}
		a := proto.Clone(cur).(*notaryv1.Agency)
		a.Active, a.SinceHeight = false, 0 // set by the chain
		var changes []string
		if cmd.Flags().Changed("name") {
			a.Name = name
			changes = append(changes, "name")
		}
		if cmd.Flags().Changed("permissions") {
			if a.Permissions, err = parsePermissions(perms); err != nil {
				return nil, "", err
			}
			changes = append(changes, "permissions")
		}
		if cmd.Flags().Changed("pub-key") {
			if a.PubKey, err = parsePubKey("pub-key", key); err != nil {
				return nil, "", err
			}
			changes = append(changes, "key")
		}
		return &notaryv1.ProposalAction{Action: &notaryv1.ProposalAction_UpdateAgency{UpdateAgency: a}},
			fmt.Sprintf("Change the %s of agency %s", joinWords(changes), id), nil
	})
	f := cmd.Flags()
	f.StringVar(&id, "id", "", "agency id")
	f.StringVar(&name, "name", "", "new name")
	f.StringVar(&key, "pub-key", "", "new ed25519 key: hex, base64 or an identity directory")
	f.StringVar(&perms, "permissions", "", "new permissions, comma-separated: anchor, revoke, exchange, enroll")
	return cmd
}

// newProposeRemoveCmd builds the actions that name one record by id:
// remove-agency, remove-validator, expire-mandate.
func newProposeRemoveCmd(action, kind string) *cobra.Command {
	var id string
	cmd := &cobra.Command{
		Use:   action + " --id ID",
		Short: fmt.Sprintf("propose the action %s", action),
		Args:  cobra.NoArgs,
	}
	cmd.RunE = proposeRun(func(*session) (*notaryv1.ProposalAction, string, error) {
		if err := required(cmd, "id"); err != nil {
			return nil, "", err
		}
		a := &notaryv1.ProposalAction{}
		var title string
		switch action {
		case "remove-agency":
			a.Action = &notaryv1.ProposalAction_RemoveAgency{RemoveAgency: id}
			title = "Remove agency " + id
		case "remove-validator":
			a.Action = &notaryv1.ProposalAction_RemoveValidator{RemoveValidator: id}
			title = "Remove the validator of ministry " + id
		default:
			a.Action = &notaryv1.ProposalAction_ExpireMandate{ExpireMandate: id}
			title = "Expire mandate " + id
		}
		return a, title, nil
	})
	idOf := map[string]string{"agency": "agency id", "validator": "ministry id", "mandate": "mandate id"}[kind]
	cmd.Flags().StringVar(&id, "id", "", idOf)
	return cmd
}

// joinWords joins words as "a, b and c".
func joinWords(ws []string) string {
	switch len(ws) {
	case 0:
		return ""
	case 1:
		return ws[0]
	}
	out := ws[0]
	for _, w := range ws[1 : len(ws)-1] {
		out += ", " + w
	}
	return out + " and " + ws[len(ws)-1]
}
