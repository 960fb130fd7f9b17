package verify

import (
	"fmt"
	"math/bits"
	"strconv"
	"strings"
	"time"

	"github.com/gobtechlab/notary/cmd/internal/safetext"
)

// Lang is the language of a verdict text.
type Lang string

// Languages.
const (
	English Lang = "en"
	Spanish Lang = "es"
)

// ParseLang parses "en" or "es" (case-insensitive).
func ParseLang(s string) (Lang, error) {
	switch strings.ToLower(s) {
	case "en":
		return English, nil
	case "es":
		return Spanish, nil
	}
	return "", fmt.Errorf("language %q: want es or en", s)
}

// LangFromLocale chooses the language of a POSIX locale value (the first
// non-empty of LC_ALL, LC_MESSAGES and LANG): Spanish for es*, else English.
func LangFromLocale(values ...string) Lang {
	for _, v := range values {
		if v == "" {
			continue
		}
		if strings.HasPrefix(strings.ToLower(v), "es") {
			return Spanish
		}
		return English
	}
	return English
}

// maxNames bounds the ministries named in a verdict; the rest are counted.
const maxNames = 10

// Text is the verdict for a citizen: one short paragraph, in lang, with
// times in UTC and in loc (nil: UTC only). Every statement in it was proven.
// Names and codes that are not printable text are shown quoted with their
// control characters escaped, so that none can forge a line of the verdict.
func (r *Result) Text(lang Lang, loc *time.Location) string {
	w := words[lang]
	if w == nil {
		w = words[English]
	}
	if r.Verdict == NotValid || r.Proven == nil {
		return w.notValid + " " + w.reasons[r.Reason]
	}
	p := r.Proven
	var b strings.Builder
	if r.Verdict == Revoked {
		b.WriteString(w.revoked)
	} else {
		b.WriteString(w.valid)
	}
	b.WriteString(" ")
	if !r.DocumentChecked {
		b.WriteString(w.noDocument)
		b.WriteString(" ")
	}
	signers := make([]string, len(p.Anchor.Signers))
	for i, s := range p.Anchor.Signers {
		signers[i] = safetext.Quote(s.Name)
	}
	share := w.percent(p.Anchor.SignedPower, p.Anchor.TotalPower)
	fmt.Fprintf(&b, w.registered, safetext.Quote(p.Issuer.Name), w.when(p.RegisteredAt, loc))
	b.WriteString(" ")
	fmt.Fprintf(&b, w.confirmed, w.list(signers), share)
	b.WriteString(" ")
	if rv := p.Status.Revocation; rv != nil {
		by := w.revoker(rv.RevokedBy, p.Issuer)
		reason := w.revocationReasons[rv.Reason]
		if reason == "" {
			reason = safetext.Quote(rv.Reason)
		}
		if rv.ReasonText != "" {
			reason += " (" + strconv.Quote(rv.ReasonText) + ")"
		}
		fmt.Fprintf(&b, w.revokedOn, w.when(rv.Time, loc), by, reason)
		b.WriteString(" ")
		fmt.Fprintf(&b, w.statusAsOf, w.when(p.Status.AsOf, loc))
	} else {
		fmt.Fprintf(&b, w.notRevoked, w.when(p.Status.AsOf, loc))
	}
	return b.String()
}

type vocabulary struct {
	valid, revoked, notValid string
	noDocument               string
	registered               string // agency, when
	confirmed                string // names, share
	notRevoked               string // when
	revokedOn                string // when, by, reason
	statusAsOf               string // when
	and                      string
	others                   string // count
	governance               string // proposal id
	agency                   string // agency id
	localTime                string // time, zone
	localDateTime            string // date, time, zone
	months                   [12]string
	dateFormat               func(t time.Time, months [12]string) string
	at                       string // date, time
	decimalComma             bool
	percentSign              string
	reasons                  map[Reason]string
	revocationReasons        map[string]string
}

var words = map[Lang]*vocabulary{
	English: {
		valid:         "VALID.",
		revoked:       "REVOKED.",
		notValid:      "NOT VALID.",
		noDocument:    "(The receipt was checked without the document.)",
		registered:    "This document was registered by %s on %s.",
		confirmed:     "The registration was confirmed by %s, holding %s of the voting power.",
		notRevoked:    "It was not revoked as of %s.",
		revokedOn:     "It was revoked on %s by %s: %s.",
		statusAsOf:    "Status as of %s.",
		and:           " and ",
		others:        "%d other ministries",
		governance:    "decision of the consortium (proposal %s)",
		agency:        "agency %s",
		localTime:     "%s %s local time",
		localDateTime: "%s %s %s local time",
		months:        [12]string{"January", "February", "March", "April", "May", "June", "July", "August", "September", "October", "November", "December"},
		dateFormat: func(t time.Time, m [12]string) string {
			return fmt.Sprintf("%d %s %d", t.Day(), m[t.Month()-1], t.Year())
		},
		at:          "%s at %s UTC",
		percentSign: "%",
		reasons: map[Reason]string{
			ReasonMalformed:              "The receipt file is damaged or is not a notary receipt, so it proves nothing.",
			ReasonWrongChain:             "The receipt belongs to a different notary network than the one your trust bundle describes.",
			ReasonDocumentMismatch:       "The document does not match the receipt: it is not the registered document, or it has been changed.",
			ReasonProofInvalid:           "The receipt's proof that the document is recorded on the notary network does not check out.",
			ReasonSignatureInvalid:       "A ministry's signature in the receipt is not valid: the receipt has been altered or forged.",
			ReasonInsufficientSignatures: "The receipt is not signed by enough ministries: more than two thirds of the voting power must confirm it.",
			ReasonValidatorSetNotReached: "The receipt is signed by validators that cannot be traced back to the consortium members in your trust bundle.",
		},
		revocationReasons: map[string]string{
			"superseded":      "superseded by a newer document",
			"issued-in-error": "issued in error",
			"fraud":           "obtained by fraud",
			"expired":         "its validity ended",
			"court-order":     "by court order",
			"other":           "other reason",
		},
	},
	Spanish: {
		valid:         "VÁLIDO.",
		revoked:       "REVOCADO.",
		notValid:      "NO VÁLIDO.",
		noDocument:    "(Se comprobó el recibo sin el documento.)",
		registered:    "Este documento fue registrado por %s el %s.",
		confirmed:     "Confirmaron el registro %s, con el %s del poder de voto.",
		notRevoked:    "No constaba como revocado a fecha de %s.",
		revokedOn:     "Fue revocado el %s por %s: %s.",
		statusAsOf:    "Estado a fecha de %s.",
		and:           " y ",
		others:        "otros %d ministerios",
		governance:    "decisión del consorcio (propuesta %s)",
		agency:        "la agencia %s",
		localTime:     "%s %s, hora local",
		localDateTime: "%s %s %s, hora local",
		months:        [12]string{"enero", "febrero", "marzo", "abril", "mayo", "junio", "julio", "agosto", "septiembre", "octubre", "noviembre", "diciembre"},
		dateFormat: func(t time.Time, m [12]string) string {
			return fmt.Sprintf("%d de %s de %d", t.Day(), m[t.Month()-1], t.Year())
		},
		at:           "%s a las %s UTC",
		decimalComma: true,
		percentSign:  " %",
		reasons: map[Reason]string{
			ReasonMalformed:              "El archivo del recibo está dañado o no es un recibo del notario, así que no prueba nada.",
			ReasonWrongChain:             "El recibo pertenece a una red notarial distinta de la que describe su paquete de confianza.",
			ReasonDocumentMismatch:       "El documento no coincide con el recibo: no es el documento registrado o ha sido modificado.",
			ReasonProofInvalid:           "La prueba del recibo de que el documento consta en la red notarial no es correcta.",
			ReasonSignatureInvalid:       "Una firma de un ministerio en el recibo no es válida: el recibo ha sido alterado o falsificado.",
			ReasonInsufficientSignatures: "El recibo no está firmado por suficientes ministerios: debe confirmarlo más de dos tercios del poder de voto.",
			ReasonValidatorSetNotReached: "El recibo está firmado por validadores que no se pueden vincular con los miembros del consorcio de su paquete de confianza.",
		},
		revocationReasons: map[string]string{
			"superseded":      "sustituido por un documento más reciente",
			"issued-in-error": "emitido por error",
			"fraud":           "obtenido de forma fraudulenta",
			"expired":         "su validez terminó",
			"court-order":     "por orden judicial",
			"other":           "otro motivo",
		},
	},
}

// when formats t as a date and time in UTC, with the local time in loc.
func (w *vocabulary) when(t time.Time, loc *time.Location) string {
	u := t.UTC()
	s := fmt.Sprintf(w.at, w.dateFormat(u, w.months), u.Format("15:04:05"))
	if loc == nil || loc == time.UTC {
		return s
	}
	l := t.In(loc)
	zone, off := l.Zone()
	if off == 0 && (zone == "UTC" || zone == "") {
		return s
	}
	if l.YearDay() == u.YearDay() && l.Year() == u.Year() {
		return s + " (" + fmt.Sprintf(w.localTime, l.Format("15:04:05"), zone) + ")"
	}
	return s + " (" + fmt.Sprintf(w.localDateTime, w.dateFormat(l, w.months), l.Format("15:04:05"), zone) + ")"
}

// percent formats signed/total rounded down to a tenth, without a trailing
// ".0", so that a share is never overstated.
func (w *vocabulary) percent(signed, total int64) string {
	if total <= 0 {
		return "0" + w.percentSign
	}
	if signed < 0 || signed > total {
		signed = total
	}
	// signed*1000/total in 128 bits: the quotient is at most 1000.
	hi, lo := bits.Mul64(uint64(signed), 1000)
	q, _ := bits.Div64(hi, lo, uint64(total))
	tenths := int64(q)
	s := strconv.FormatInt(tenths/10, 10)
	if d := tenths % 10; d != 0 {
		sep := "."
		if w.decimalComma {
			sep = ","
		}
		s += sep + strconv.FormatInt(d, 10)
	}
	return s + w.percentSign
}

// list joins names ("A, B and C"), naming at most maxNames.
func (w *vocabulary) list(names []string) string {
	if len(names) > maxNames {
		rest := len(names) - (maxNames - 1)
		names = append(append([]string(nil), names[:maxNames-1]...), fmt.Sprintf(w.others, rest))
	}
	switch len(names) {
	case 0:
		return ""
	case 1:
		return names[0]
	}
	return strings.Join(names[:len(names)-1], ", ") + w.and + names[len(names)-1]
}

// revoker names who revoked: the issuer by its proven name, the consortium,
// or an agency by its id.
func (w *vocabulary) revoker(by string, issuer AgencyInfo) string {
	if id, ok := strings.CutPrefix(by, "agency/"); ok {
		if id == issuer.ID {
			return safetext.Quote(issuer.Name)
		}
		return fmt.Sprintf(w.agency, safetext.Quote(id))
	}
	if id, ok := strings.CutPrefix(by, "governance/"); ok {
		return fmt.Sprintf(w.governance, safetext.Quote(id))
	}
	return safetext.Quote(by)
}
