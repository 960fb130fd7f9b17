package main

import (
	"os"
	"strings"
	"time"
	_ "time/tzdata" // local times on machines without a zone database

	"github.com/spf13/cobra"

	"github.com/gobtechlab/notary/cmd/internal/cli"
	"github.com/gobtechlab/notary/cmd/verifier/verify"
	"github.com/gobtechlab/notary/cmd/verifier/verify/msg"
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
	// configDir is the user's configuration folder, where verify looks for
	// notary/trust.json; "": os.UserConfigDir().
	configDir string
	// releaseTrust replaces the built-in trust bundle (base64); nil: the
	// one linked in (releaseTrust).
	releaseTrust *string
	// timeout per node of the live status; 0: liveTimeout.
	timeout time.Duration
	// args are the command-line arguments, read for --lang before they are
	// parsed (help texts); nil: os.Args[1:].
	args []string
}

// liveTimeout is the time limit per node of the live status.
func (e rootEnv) liveTimeout() time.Duration {
	if e.timeout > 0 {
		return e.timeout
	}
	return liveTimeout
}

// helpLang is the language of the help texts, chosen before the flags are
// parsed: --lang if it is on the command line and valid, else the locale's.
func (e rootEnv) helpLang() verify.Lang {
	args := e.args
	if args == nil && len(os.Args) > 1 {
		args = os.Args[1:]
	}
	for i, a := range args {
		v, ok := strings.CutPrefix(a, "--"+FlagLang+"=")
		if !ok && a == "--"+FlagLang && i+1 < len(args) {
			v, ok = args[i+1], true
		}
		if ok {
			if l, err := verify.ParseLang(v); err == nil {
				return l
			}
		}
	}
	return e.defaultLang()
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
		return "", cli.Usage("%s", msg.T(e.defaultLang(), "cli.err.lang", "value", safe(s)))
	}
	return l, nil
}

func newRootCmd(env rootEnv) *cobra.Command {
	lang := env.helpLang()
	root := &cobra.Command{
		Use:   "verifier",
		Short: msg.T(lang, "cli.root.short"),
		Long:  msg.T(lang, "cli.root.long"),
	}
	root.AddCommand(newTrustCmd(env, lang))
	cli.AddOutputFlag(root)
	root.PersistentFlags().String(FlagLang, "", msg.T(lang, "cli.flag.lang"))
	root.AddCommand(newVerifyCmd(env, lang), newCodeCmd(env, lang), newInspectCmd(env), newCitizenCmd(env), newConsentCmd(env), newAccessesCmd(env), newWitnessCmd(env), newRenewCmd(env), newVersionCmd())
	root.SetUsageTemplate(usageTemplate(lang))
	return root
}

// usageTemplate is cobra's usage text with its headings in lang.
func usageTemplate(lang verify.Lang) string {
	return msg.T(lang, "cli.usage.usage") + `{{if .Runnable}}
  {{.UseLine}}{{end}}{{if .HasAvailableSubCommands}}
  {{.CommandPath}} [command]{{end}}{{if .HasAvailableSubCommands}}

` + msg.T(lang, "cli.usage.commands") + `{{range .Commands}}{{if (or .IsAvailableCommand (eq .Name "help"))}}
  {{rpad .Name .NamePadding }} {{.Short}}{{end}}{{end}}{{end}}{{if .HasAvailableLocalFlags}}

` + msg.T(lang, "cli.usage.flags") + `
{{.LocalFlags.FlagUsages | trimTrailingWhitespaces}}{{end}}{{if .HasAvailableInheritedFlags}}

` + msg.T(lang, "cli.usage.global_flags") + `
{{.InheritedFlags.FlagUsages | trimTrailingWhitespaces}}{{end}}{{if .HasAvailableSubCommands}}

` + msg.T(lang, "cli.usage.more", "command", "{{.CommandPath}}") + `{{end}}
`
}
