package main

import (
	"encoding/hex"
	"fmt"
	"io"

	"github.com/spf13/cobra"

	"github.com/gobtechlab/notary/app/identity"
	"github.com/gobtechlab/notary/cmd/internal/cli"
	"github.com/gobtechlab/notary/ledger"
)

// enrolled is one key the citizen enroll command enrolled.
type enrolled struct {
	PublicKey string `json:"public_key"`
	Subject   string `json:"subject"`
	Height    int64  `json:"height"`
	TxHash    string `json:"tx_hash"`
}

// enrollResult is the citizen enroll command's result.
type enrollResult struct {
	Agency   string     `json:"enrolled_by"`
	Enrolled []enrolled `json:"enrolled"`
}

func (r *enrollResult) Text(w io.Writer) error {
	for _, e := range r.Enrolled {
		if _, err := fmt.Fprintf(w, "enrolled by %s at height %d: key %s (subject id %s)\n", r.Agency, e.Height, e.PublicKey, e.Subject); err != nil {
			return err
		}
	}
	return nil
}

func newCitizenCmd() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "citizen",
		Short: "citizen keys (identity agencies)",
	}
	cmd.AddCommand(newCitizenEnrollCmd())
	return cmd
}

func newCitizenEnrollCmd() *cobra.Command {
	return &cobra.Command{
		Use:   "enroll KEY...",
		Short: "enrol citizen keys, as an agency holding PERMISSION_ENROLL",
		Long: `citizen enroll creates the citizen account of each KEY (64 hex characters,
base64, or a citizen identity directory such as one made by ` + "`verifier citizen\nkeygen`" + `) on behalf of this identity's agency, which must hold
PERMISSION_ENROLL (granted by governance, for example to the national e-ID
provider). The agency vouches that it identified the key's holder as a
citizen; nothing about the person goes on chain, and the account records
only which agency enrolled it. On a chain whose citizen enrolment is
ACCREDITED (the default for new chains) a key signs consents only once
enrolled.

Keys are enrolled one after another; the command stops at the first
refusal (a key already in use, no permission).

Exit codes: 0 enrolled; 1 refused; 2 usage error; 4 node unreachable.`,
		Args: cobra.MinimumNArgs(1),
		RunE: cli.Run(func(cmd *cobra.Command, args []string) (any, error) {
			keys := make([][]byte, len(args))
			for i, a := range args {
				k, err := parsePubKey("KEY", a)
				if err != nil {
					return nil, err
				}
				if !ledger.ValidPublicKey(k) {
					return nil, cli.Usage("%s: not an ed25519 public key", a)
				}
				keys[i] = k
			}
			s, err := connect(cmd)
			if err != nil {
				return nil, err
			}
			defer s.close()
			if s.id.Role != identity.RoleAgency {
				return nil, cli.Usage("citizen enroll needs an agency identity, not a %s's (%s)", s.id.Role, s.id.Dir())
			}
			res := &enrollResult{Agency: s.id.ID, Enrolled: []enrolled{}}
			for _, k := range keys {
				resp, err := s.c.EnrollCitizen(s.ctx, k)
				if err != nil {
					return nil, s.fail(fmt.Errorf("citizen enroll %x: %w", k, err))
				}
				res.Enrolled = append(res.Enrolled, enrolled{PublicKey: hex.EncodeToString(k), Subject: hex.EncodeToString(ledger.SubjectID(k)),
					Height: resp.GetHeight(), TxHash: hex.EncodeToString(resp.GetTxHash())})
			}
			return res, nil
		}),
	}
}
