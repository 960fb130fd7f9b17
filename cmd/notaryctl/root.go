package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"time"

	"github.com/spf13/cobra"

	"github.com/gobtechlab/notary/app/client"
	"github.com/gobtechlab/notary/app/identity"
	"github.com/gobtechlab/notary/app/layout"
	"github.com/gobtechlab/notary/cmd/internal/cli"
)

// Global flags.
const (
	flagNode     = "node"
	flagIdentity = "identity"
	flagTimeout  = "timeout"
	flagOrdered  = "ordered"
)

// Exit codes of notaryctl besides cli's (0 ok, 1 failed, 2 usage, 4
// unavailable).
const (
	// exitRevoked: `get` found the document, revoked (as the verifier's 3).
	exitRevoked = cli.ExitRevoked
	// exitAlreadyAnchored: `anchor` failed nowhere but found at least one
	// document anchored before.
	exitAlreadyAnchored = 5
)

// devAgency is the agency `notaryd dev` creates, and devHome its default
// home (under the user's home directory).
const (
	devAgency = "dev-agency"
	devHome   = ".notary-dev"
)

func newRootCmd() *cobra.Command {
	root := &cobra.Command{
		Use:   "notaryctl",
		Short: "anchor, look up and revoke documents; consent checks, exchanges and governance",
		Long: `notaryctl is the agencies' and ministries' client of the GobTechLab Notary
consortium chain. It talks to a node's gateway (--node) as an identity
(--identity): an agency's or a ministry's key with its client certificate.
Documents never leave the machine: only their digests (by default salted
commitments) are anchored.

  notaryctl code new [--qr FILE]            draw verification codes to print on documents
  notaryctl anchor PATH...                  anchor files (folders: recursively), write receipts
  notaryctl anchor --code CODE FILE         anchor a file under its verification code (--codes MANIFEST)
  notaryctl get FILE|DIGEST                 batch, issuer, block time and status of a document
  notaryctl revoke FILE|DIGEST...           revoke documents (--reason-code, --reason; or --code CODE)
  notaryctl receipt FILE|DIGEST             fetch a receipt, or refresh the status of one
  notaryctl status                          chain id, height, validators
  notaryctl consent check ...               is an exchange covered, and by what
  notaryctl exchange record ...             record a data exchange (--confirmation FILE)
  notaryctl exchange confirm ...            confirm, as the provider, an exchange another agency records
  notaryctl citizen enroll KEY...           enrol citizen keys (identity agencies)
  notaryctl gov propose ACTION ...          propose a governance action (ministries)
  notaryctl gov vote ID yes|no|abstain      vote on a proposal (ministries)
  notaryctl gov list                        list proposals
  notaryctl identity new --agency ID ...    make an agency's keys, join request and certificate request
  notaryctl version                         release, commit and CometBFT version

The default identity is the dev agency of ` + "`notaryd dev`" + `:
$NOTARY_HOME/identities/dev-agency, else ~/.notary-dev/identities/dev-agency,
so that on a dev chain ` + "`notaryctl anchor FILE`" + ` works with no flags. The default
node is the identity's, else 127.0.0.1:9090.

Exit codes:
  0    ok
  1    the operation failed or was refused (get: not anchored;
       consent check: not covered)
  2    usage error, or unreadable input (missing file, bad digest, bad flag)
  3    get: the document is anchored but revoked
  4    the node could not be reached, or is not ready (or --timeout passed)
  5    anchor: nothing failed, but at least one document was already
       anchored (its original record is reported and its receipt written)
  130  interrupted by SIGINT (Ctrl-C) or SIGTERM: the command stopped at
       once (documents already anchored stay anchored; anchor them again
       to get their receipts)

Agencies and ministries sign unordered transactions (a random nonce, valid
for half the chain's max_unordered_window): any number of notaryctl
processes, on any number of hosts, may write with one key at once.
--ordered signs with the key's consecutive sequences instead, which allows
one writer at a time.

--timeout bounds the whole command, hashing included. Inputs (documents,
receipts, identity files) must be regular files: a named pipe, a device or
a directory in their place is refused (exit 2).

Every flag can also be set with NOTARY_<FLAG> (for example NOTARY_NODE,
NOTARY_IDENTITY, NOTARY_OUTPUT).`,
	}
	root.PersistentPreRunE = func(cmd *cobra.Command, _ []string) error {
		timeout, _ := cmd.Flags().GetDuration(flagTimeout)
		if timeout <= 0 {
			return cli.Usage("--timeout must be positive, not %s", timeout)
		}
		cli.SetTimeout(cmd, timeout)
		return nil
	}
	cli.AddOutputFlag(root)
	pf := root.PersistentFlags()
	pf.String(flagNode, "", "gateway address host:port (default: the identity's node, else "+client.DefaultNode+")")
	pf.String(flagIdentity, "", "identity directory (default: the dev agency of `notaryd dev`)")
	pf.Duration(flagTimeout, 2*time.Minute, "how long the whole command may take")
	pf.Bool(flagOrdered, false, "sign with the key's consecutive sequences instead of random nonces (unordered transactions, the default for agencies and ministries: any number of processes of one key submit at once)")
	root.AddCommand(newCodeCmd(), newAnchorCmd(), newGetCmd(), newRevokeCmd(), newReceiptCmd(), newStatusCmd(),
		newConsentCmd(), newExchangeCmd(), newCitizenCmd(), newGovCmd(), newIdentityCmd(), newVersionCmd())
	return root
}

// defaultIdentityDir is the dev agency's identity directory of `notaryd dev`:
// in $NOTARY_HOME if set (notaryd's --home), else in ~/.notary-dev.
func defaultIdentityDir() string {
	home := os.Getenv("NOTARY_HOME")
	if home == "" {
		h, err := os.UserHomeDir()
		if err != nil {
			h = "."
		}
		home = filepath.Join(h, devHome)
	}
	return filepath.Join(home, layout.IdentitiesDir, devAgency)
}

// loadIdentity loads --identity (or the default one). A missing or broken
// identity is a usage error.
func loadIdentity(cmd *cobra.Command) (*identity.Identity, error) {
	dir, _ := cmd.Flags().GetString(flagIdentity)
	given := dir != ""
	if !given {
		dir = defaultIdentityDir()
	}
	id, err := identity.Load(dir)
	if err != nil {
		if !given && errors.Is(err, os.ErrNotExist) {
			return nil, cli.Usage("no identity given and no dev agency at %s: give --identity DIR (or run `notaryd dev`)", dir)
		}
		return nil, cli.Usage("--identity %s: %w", dir, err)
	}
	return id, nil
}

// session is an open connection of a command: its identity, client and
// context (the command's, which ends at --timeout or on SIGINT/SIGTERM).
type session struct {
	id  *identity.Identity
	c   *client.Client
	ctx context.Context
}

// connect loads the identity and dials the node; the caller closes the
// session. It does not wait for the connection: the first call does.
func connect(cmd *cobra.Command, opts ...client.Option) (*session, error) {
	id, err := loadIdentity(cmd)
	if err != nil {
		return nil, err
	}
	node, _ := cmd.Flags().GetString(flagNode)
	if ordered, _ := cmd.Flags().GetBool(flagOrdered); ordered {
		opts = append(opts, client.WithOrdered())
	}
	c, err := client.Dial(node, id, opts...)
	if err != nil {
		return nil, cli.Usage("%w", err)
	}
	return &session{id: id, c: c, ctx: cmd.Context()}, nil
}

// close flushes and closes the client, waiting for pending work only as
// long as the command's context lasts: a command ends at --timeout
// however much is left.
func (s *session) close() { _ = s.c.Close(s.ctx) }

// fail gives err the exit code it deserves: unchanged if it has one, 4 when
// the node could not be reached or did not answer in time, else 1.
func (s *session) fail(err error) error {
	if err == nil {
		return nil
	}
	var ee *cli.ExitError
	if errors.As(err, &ee) {
		return err
	}
	if client.IsUnavailable(err) {
		return cli.Fail(cli.ExitUnavail, fmt.Errorf("node %s: %w", s.c.Addr(), err))
	}
	return cli.Fail(cli.ExitFailure, err)
}
