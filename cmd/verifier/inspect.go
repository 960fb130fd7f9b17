package main

import (
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/gobtechlab/notary/cmd/internal/cli"
	"github.com/gobtechlab/notary/cmd/internal/safetext"
	"github.com/gobtechlab/notary/cmd/verifier/verify"
)

// claims is the inspect command's result.
type claims struct {
	*verify.Claims
	lang verify.Lang
}

var inspectWords = map[verify.Lang]map[string]string{
	verify.English: {
		"head":        "UNVERIFIED: what this receipt claims. Nothing below has been checked; use\n  verifier verify DOCUMENT RECEIPT --trust TRUST",
		"form":        "form",
		"strict":      "v%d receipt in strict form",
		"notStrict":   "NOT in strict form: %s",
		"chain":       "chain",
		"document":    "document",
		"salted":      "salted with %s",
		"bare":        "not salted",
		"docDigest":   "document digest",
		"anchored":    "anchored digest",
		"batch":       "batch",
		"batchLine":   "%s, leaf %d of %d, agency %s, %s",
		"label":       "label %q",
		"issuer":      "issuer",
		"anchor":      "anchor",
		"status":      "status",
		"cpLine":      "state %d, header %d of %s, %d signatures",
		"notRevoked":  "not revoked",
		"revoked":     "revoked at height %d on %s (%s) by %s",
		"chainLbl":    "validator chain",
		"none":        "none",
		"transitions": "%d transitions at headers %s",
		"log":         "log checkpoint",
		"logLine":     "leaf %d of the evidence log of size %d, %d signatures",
		"signers":     "signers",
		"cosigners":   "cosigners",
		"nobody":      "none",
		"problems":    "unreadable",
	},
	verify.Spanish: {
		"head":        "SIN VERIFICAR: lo que afirma este recibo. Nada de lo que sigue se ha comprobado; use\n  verifier verify DOCUMENTO RECIBO --trust CONFIANZA",
		"form":        "formato",
		"strict":      "recibo v%d en forma estricta",
		"notStrict":   "NO está en forma estricta: %s",
		"chain":       "cadena",
		"document":    "documento",
		"salted":      "con sal %s",
		"bare":        "sin sal",
		"docDigest":   "resumen del documento",
		"anchored":    "resumen anclado",
		"batch":       "lote",
		"batchLine":   "%s, hoja %d de %d, agencia %s, %s",
		"label":       "etiqueta %q",
		"issuer":      "emisor",
		"anchor":      "anclaje",
		"status":      "estado",
		"cpLine":      "estado %d, cabecera %d de %s, %d firmas",
		"notRevoked":  "no revocado",
		"revoked":     "revocado en la altura %d el %s (%s) por %s",
		"chainLbl":    "cadena de validadores",
		"none":        "ninguna",
		"transitions": "%d transiciones en las cabeceras %s",
		"log":         "punto de control",
		"logLine":     "hoja %d del registro de evidencias de tamaño %d, %d firmas",
		"signers":     "firmantes",
		"cosigners":   "cofirmantes",
		"nobody":      "ninguno",
		"problems":    "ilegible",
	},
}

func ts(t time.Time) string { return t.UTC().Format(time.RFC3339Nano) }

func (c claims) Text(w io.Writer) error {
	m := inspectWords[citizenLang(c.lang)]
	line := func(label, format string, args ...any) {
		fmt.Fprintf(w, "  %-22s %s\n", label+":", fmt.Sprintf(format, args...))
	}
	fmt.Fprintln(w, m["head"])
	if c.FormError != "" {
		line(m["form"], m["notStrict"], safetext.Escape(c.FormError))
	} else {
		line(m["form"], m["strict"], c.Version)
	}
	line(m["chain"], "%s", safe(c.ChainID))
	d := c.Document
	salt := m["bare"]
	if d.Salt != "" {
		salt = fmt.Sprintf(m["salted"], safe(d.Salt))
	}
	line(m["document"], "%s, %s", safe(d.HashAlgorithm), salt)
	if d.DocumentDigest != "" {
		line(m["docDigest"], "%s", safe(d.DocumentDigest))
	}
	line(m["anchored"], "%s", safe(d.AnchoredDigest))
	if b := c.Batch; b != nil {
		s := fmt.Sprintf(m["batchLine"], safe(b.ID), b.LeafIndex, b.Count, safe(b.AgencyID), ts(b.Time))
		if b.Label != "" {
			s += ", " + fmt.Sprintf(m["label"], b.Label)
		}
		line(m["batch"], "%s", s)
	}
	if i := c.Issuer; i != nil {
		line(m["issuer"], "%s (%s)", safe(i.Name), safe(i.ID))
	}
	if a := c.Anchor; a != nil {
		line(m["anchor"], m["cpLine"], a.Height, a.HeaderHeight, ts(a.Time), a.Signatures)
	}
	if s := c.Status; s != nil {
		st := m["notRevoked"]
		if r := c.Revocation; r != nil {
			st = fmt.Sprintf(m["revoked"], r.Height, ts(r.Time), safe(r.Reason), safe(r.RevokedBy))
		}
		line(m["status"], m["cpLine"]+"; %s", s.Height, s.HeaderHeight, ts(s.Time), s.Signatures, st)
	}
	if l := c.Log; l != nil {
		line(m["log"], m["logLine"], l.LeafIndex, l.Size, l.Signatures)
		line(m["signers"], "%s", names(m, l.Signers))
		line(m["cosigners"], "%s", names(m, l.Cosigners))
	}
	switch {
	case len(c.ValidatorChain) == 0 && c.Log != nil:
		// A receipt v2 carries no validator chain.
	case len(c.ValidatorChain) == 0:
		line(m["chainLbl"], "%s", m["none"])
	default:
		var hs []string
		for _, t := range c.ValidatorChain {
			hs = append(hs, fmt.Sprint(t.HeaderHeight))
		}
		line(m["chainLbl"], m["transitions"], len(c.ValidatorChain), strings.Join(hs, ", "))
	}
	for _, p := range c.Problems {
		line(m["problems"], "%s", safetext.Escape(p))
	}
	return nil
}

// names lists names read from a file, escaped, or says there are none.
func names(m map[string]string, ns []string) string {
	if len(ns) == 0 {
		return m["nobody"]
	}
	out := make([]string, len(ns))
	for i, n := range ns {
		out[i] = safe(n)
	}
	return strings.Join(out, ", ")
}

func newInspectCmd(env rootEnv) *cobra.Command {
	return &cobra.Command{
		Use:   "inspect RECEIPT",
		Short: "show what a receipt claims, without verifying it",
		Args:  cobra.ExactArgs(1),
		RunE: cli.Run(func(cmd *cobra.Command, args []string) (any, error) {
			lang, err := env.lang(cmd)
			if err != nil {
				return nil, err
			}
			b, err := readFile("receipt", args[0])
			if err != nil {
				return nil, err
			}
			c, err := verify.Inspect(b)
			if err != nil {
				return nil, cli.Fail(cli.ExitFailure, fmt.Errorf("%s: %w", args[0], err))
			}
			return claims{Claims: c, lang: lang}, nil
		}),
	}
}
