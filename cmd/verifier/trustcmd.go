package main

import (
	"encoding/base64"
	"fmt"
	"io"
	"strings"

	"github.com/spf13/cobra"

	"github.com/gobtechlab/notary/cmd/internal/cli"
	"github.com/gobtechlab/notary/cmd/verifier/verify"
	"github.com/gobtechlab/notary/cmd/verifier/verify/msg"
	notaryv1 "github.com/gobtechlab/notary/proto/notary/v1"
)

// trustShown is the result of `verifier trust show`: the bundle, where it
// came from, its fingerprint, and its log checkpoint as verified.
type trustShown struct {
	Source      string                `json:"source"`
	Fingerprint string                `json:"fingerprint"`
	Bundle      *notaryv1.TrustBundle `json:"bundle"`
	// Checkpoint is the bundle's log checkpoint, verified against its
	// log_validators and witness policy; nil if it carries none.
	Checkpoint *trustCheckpoint `json:"checkpoint,omitempty"`
	lang       verify.Lang
}

// trustCheckpoint is what `verifier trust show` says of a bundle's
// checkpoint.
type trustCheckpoint struct {
	Origin string `json:"origin"`
	Size   uint64 `json:"size"`
	// Root is the standard base64 of the log root, as the note writes it.
	Root string `json:"root"`
	// Signers are the log validators whose signatures verified; Cosigners
	// the bundle's witnesses whose cosignatures verified (their names).
	Signers     []trustSigner `json:"signers"`
	SignedPower int64         `json:"signed_power"`
	TotalPower  int64         `json:"total_power"`
	Cosigners   []string      `json:"cosigners"`
}

// trustSigner is a log validator whose signature verified.
type trustSigner struct {
	MinistryID string `json:"ministry_id"`
	Name       string `json:"name"`
}

var trustWords = map[verify.Lang]map[string]string{
	verify.English: {
		"head":         "trust bundle %s",
		"fingerprint":  "fingerprint",
		"chain":        "chain",
		"chainLine":    "%s, initial height %d",
		"genesis":      "genesis sha256",
		"validator":    "genesis validator",
		"endpoint":     "public endpoint",
		"verifierURL":  "web verifier",
		"checkpoint":   "log checkpoint",
		"noCheckpoint": "none: receipts are checked from the genesis validators",
		"cpLine":       "size %d, root %s",
		"signedBy":     "signed by",
		"signedLine":   "%s (power %d of %d)",
		"cosignedBy":   "cosigned by",
		"logValidator": "log validator",
		"power":        "%s (%s), power %d",
		"policy":       "witness policy",
		"policyLine":   "cosignatures of %d of %d registered witnesses",
		"noWitness":    "none",
		"witness":      "witness",
		"witnessLine":  "%s, key %s",
		"receipts":     "receipts",
		"v1AndV2":      "versions 1 and 2",
		"v2Only":       "version 2 only",
		"nobody":       "none",
	},
	verify.Spanish: {
		"head":         "paquete de confianza %s",
		"fingerprint":  "huella",
		"chain":        "cadena",
		"chainLine":    "%s, altura inicial %d",
		"genesis":      "génesis sha256",
		"validator":    "validador del génesis",
		"endpoint":     "nodo público",
		"verifierURL":  "verificador web",
		"checkpoint":   "punto de control",
		"noCheckpoint": "ninguno: los recibos se comprueban desde los validadores del génesis",
		"cpLine":       "tamaño %d, raíz %s",
		"signedBy":     "firmado por",
		"signedLine":   "%s (poder %d de %d)",
		"cosignedBy":   "cofirmado por",
		"logValidator": "validador (registro)",
		"power":        "%s (%s), poder %d",
		"policy":       "política de testigos",
		"policyLine":   "cofirmas de %d de %d testigos registrados",
		"noWitness":    "ninguna",
		"witness":      "testigo",
		"witnessLine":  "%s, clave %s",
		"receipts":     "recibos",
		"v1AndV2":      "versiones 1 y 2",
		"v2Only":       "solo versión 2",
		"nobody":       "ninguno",
	},
}

func (r trustShown) Text(w io.Writer) error {
	m := trustWords[citizenLang(r.lang)]
	line := func(label, format string, args ...any) {
		fmt.Fprintf(w, "  %-22s %s\n", label+":", fmt.Sprintf(format, args...))
	}
	b := r.Bundle
	fmt.Fprintf(w, m["head"]+"\n", safe(r.Source))
	line(m["fingerprint"], "%s", r.Fingerprint)
	line(m["chain"], m["chainLine"], safe(b.ChainId), b.InitialHeight)
	line(m["genesis"], "%s", safe(b.GenesisHash))
	for _, v := range b.Validators {
		line(m["validator"], m["power"], safe(v.Name), safe(v.MinistryId), v.Power)
	}
	for _, e := range b.PublicEndpoints {
		line(m["endpoint"], "%s", safe(e))
	}
	if b.VerifierUrl != "" {
		line(m["verifierURL"], "%s", safe(b.VerifierUrl))
	}
	if c := r.Checkpoint; c != nil {
		line(m["checkpoint"], m["cpLine"], c.Size, c.Root)
		signers := make([]string, len(c.Signers))
		for i, s := range c.Signers {
			signers[i] = safe(s.Name)
		}
		line(m["signedBy"], m["signedLine"], strings.Join(signers, ", "), c.SignedPower, c.TotalPower)
		line(m["cosignedBy"], "%s", names(m, c.Cosigners))
		for _, v := range b.LogValidators {
			line(m["logValidator"], m["power"], safe(v.Name), safe(v.MinistryId), v.Power)
		}
	} else {
		line(m["checkpoint"], "%s", m["noCheckpoint"])
	}
	if len(b.Witnesses) == 0 && b.WitnessThreshold == 0 {
		line(m["policy"], "%s", m["noWitness"])
	} else {
		line(m["policy"], m["policyLine"], b.WitnessThreshold, len(b.Witnesses))
	}
	for _, wt := range b.Witnesses {
		line(m["witness"], m["witnessLine"], safe(wt.Name), safe(wt.Key))
	}
	accepts := m["v1AndV2"]
	if verify.RequiresV2(b) {
		accepts = m["v2Only"]
	}
	line(m["receipts"], "%s", accepts)
	return nil
}

// trustFingerprinted is the result of `verifier trust fingerprint`.
type trustFingerprinted struct {
	Source      string `json:"source"`
	Fingerprint string `json:"fingerprint"`
}

func (r trustFingerprinted) Text(w io.Writer) error {
	_, err := fmt.Fprintln(w, r.Fingerprint)
	return err
}

// showTrust reads the bundle's checkpoint for trust show.
func showTrust(ts *trustSource, lang verify.Lang) (*trustShown, error) {
	fp, err := trustFingerprint(ts.trust)
	if err != nil {
		return nil, err
	}
	out := &trustShown{Source: ts.describe(), Fingerprint: fp, Bundle: ts.trust, lang: lang}
	c, cosigners, err := verify.VerifyBundleCheckpoint(ts.trust)
	if err != nil {
		// DecodeTrustBundle verified it already.
		return nil, fmt.Errorf("a decoded trust bundle's checkpoint: %w", err)
	}
	if c == nil {
		return out, nil
	}
	names := map[string]string{}
	for _, v := range ts.trust.LogValidators {
		names[v.MinistryId] = v.Name
	}
	tc := &trustCheckpoint{Origin: c.Origin, Size: c.Size, Root: base64.StdEncoding.EncodeToString(c.Root),
		Signers: []trustSigner{}, SignedPower: c.SignedPower, TotalPower: c.TotalPower, Cosigners: []string{}}
	for _, id := range c.Signers {
		tc.Signers = append(tc.Signers, trustSigner{MinistryID: id, Name: names[id]})
	}
	tc.Cosigners = append(tc.Cosigners, cosigners...)
	out.Checkpoint = tc
	return out, nil
}

func newTrustCmd(env rootEnv, lang msg.Lang) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "trust",
		Short: "show the trust bundle verify uses, and its fingerprint",
		Long: `trust shows the trust bundle that verify would use: --trust, the
NOTARY_TRUST variable, ` + env.configTrust() + `, or the one built into the
program at release, in that order.

  verifier trust show          the bundle: chain, genesis validators, public
                               endpoints, and, for receipts v2, its log
                               checkpoint (size, root, signers, cosigners),
                               the checkpoint's validators and the witness
                               policy
  verifier trust fingerprint   its SHA-256 fingerprint, for comparison with
                               the one the consortium publishes

The bundle's checkpoint is verified when the bundle is read. Exit codes: 0
done, 2 usage error or a bundle that cannot be read or is not valid.`,
	}
	var trustPath string
	show := &cobra.Command{
		Use:   "show [--trust TRUST]",
		Short: "show the trust bundle, its log checkpoint and witness policy",
		Args:  cobra.NoArgs,
		RunE: cli.Run(func(cmd *cobra.Command, _ []string) (any, error) {
			lang, ts, err := env.trustFor(cmd, trustPath)
			if err != nil {
				return nil, err
			}
			return showTrust(ts, lang)
		}),
	}
	fingerprint := &cobra.Command{
		Use:   "fingerprint [--trust TRUST]",
		Short: "print the trust bundle's SHA-256 fingerprint",
		Args:  cobra.NoArgs,
		RunE: cli.Run(func(cmd *cobra.Command, _ []string) (any, error) {
			_, ts, err := env.trustFor(cmd, trustPath)
			if err != nil {
				return nil, err
			}
			fp, err := trustFingerprint(ts.trust)
			if err != nil {
				return nil, err
			}
			return trustFingerprinted{Source: ts.describe(), Fingerprint: fp}, nil
		}),
	}
	for _, c := range []*cobra.Command{show, fingerprint} {
		c.Flags().StringVar(&trustPath, "trust", "", msg.T(lang, "cli.flag.trust"))
	}
	cmd.AddCommand(show, fingerprint)
	return cmd
}
