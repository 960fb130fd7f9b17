package main

import (
	"os"
	"time"
	_ "time/tzdata" // local times on machines without a zone database

	"github.com/spf13/cobra"

	"github.com/gobtechlab/notary/cmd/internal/cli"
	"github.com/gobtechlab/notary/cmd/verifier/verify"
)

// FlagLang selects the language of verdicts.
const FlagLang = "lang"

// rootEnv is what the commands take from the environment; tests set it.
type rootEnv struct {
	// locale values in POSIX precedence (LC_ALL, LC_MESSAGES, LANG); nil:
	// read the process environment.
	locale []string
	// location of local times; nil: time.Local.
	location *time.Location
	// home is the directory the default identity and trust bundle are
	// under (~/.notary-dev/...); "": the user's home directory.
	home string
}

func (e rootEnv) defaultLang() verify.Lang {
	if e.locale != nil {
		return verify.LangFromLocale(e.locale...)
	}
	return verify.LangFromLocale(os.Getenv("LC_ALL"), os.Getenv("LC_MESSAGES"), os.Getenv("LANG"))
}

// lang returns the language of --lang, or the locale's.
func (e rootEnv) lang(cmd *cobra.Command) (verify.Lang, error) {
	s, _ := cmd.Flags().GetString(FlagLang)
	if s == "" {
		return e.defaultLang(), nil
	}
	l, err := verify.ParseLang(s)
	if err != nil {
		return "", cli.Usage("--lang: %v", err)
	}
	return l, nil
}

func newRootCmd(env rootEnv) *cobra.Command {
	root := &cobra.Command{
		Use:   "verifier",
		Short: "check a notarized document offline; see and control who uses your data",
		Long: `verifier checks documents registered on the GobTechLab Notary consortium
chain, offline: a document, its receipt (*.receipt.json) and the consortium's
trust bundle (trust.json) are all it needs. It trusts no node, only the
signatures of more than two thirds of the voting power of validator sets that
chain back to the trust bundle.

  verifier verify DOCUMENT RECEIPT --trust TRUST   check a document
  verifier inspect RECEIPT                         show what a receipt claims (unverified)
  verifier version                                 release, commit and CometBFT version

As a citizen, with your own key, talking to a node (--node):

  verifier citizen keygen [--out DIR]              create your citizen identity
  verifier consent grant|withdraw|list             manage your consents
  verifier accesses --trust TRUST                  who obtained data about you, verified

Exit codes of verify: 0 valid and not revoked, 3 valid but revoked, 1 not
valid, 2 usage error or unreadable file. Of the citizen commands: 0 done,
1 refused or not verified, 2 usage error, 4 node unreachable. Any command
interrupted by SIGINT (Ctrl-C) or SIGTERM stops at once with exit 130.
Inputs (documents, receipts, trust bundles, identity files) must be regular
files: a named pipe, a device or a directory is refused (exit 2). The citizen
commands default to the dev chain of notaryd dev (~/.notary-dev: identity
identities/dev-citizen, trust bundle trust.json). Texts follow LANG (es or
en) unless --lang says otherwise. Every flag can also be set with
NOTARY_<FLAG>.`,
	}
	cli.AddOutputFlag(root)
	root.PersistentFlags().String(FlagLang, "", "language of the text: es or en (default: from LANG)")
	root.AddCommand(newVerifyCmd(env), newInspectCmd(env), newCitizenCmd(env), newConsentCmd(env), newAccessesCmd(env), newVersionCmd())
	return root
}
