package main

import (
	"time"

	"github.com/gobtechlab/notary/cmd/internal/cli"
	"github.com/gobtechlab/notary/cmd/internal/safetext"
	"github.com/gobtechlab/notary/cmd/verifier/verify"
	notaryv1 "github.com/gobtechlab/notary/proto/notary/v1"
)

// Words of the citizen commands' texts. Category and purpose codes are the
// chain's vocabularies (genesis params, changed by governance); a code
// without a translation here is shown as it is.

var categoryWords = map[verify.Lang]map[string]string{
	verify.English: {
		"identity": "identity", "contact": "contact details", "tax": "tax", "health": "health",
		"employment": "employment", "education": "education", "social-benefits": "social benefits",
	},
	verify.Spanish: {
		"identity": "identidad", "contact": "datos de contacto", "tax": "tributarios", "health": "salud",
		"employment": "empleo", "education": "educación", "social-benefits": "prestaciones sociales",
	},
}

var purposeWords = map[verify.Lang]map[string]string{
	verify.English: {
		"service-provision": "service provision", "eligibility-check": "eligibility check",
		"statistics": "statistics", "fraud-prevention": "fraud prevention",
	},
	verify.Spanish: {
		"service-provision": "prestación del servicio", "eligibility-check": "comprobación de requisitos",
		"statistics": "estadística", "fraud-prevention": "prevención del fraude",
	},
}

var statusWords = map[verify.Lang]map[notaryv1.ConsentStatus]string{
	verify.English: {
		notaryv1.ConsentStatus_CONSENT_STATUS_GIVEN: "given", notaryv1.ConsentStatus_CONSENT_STATUS_WITHDRAWN: "withdrawn",
		notaryv1.ConsentStatus_CONSENT_STATUS_EXPIRED: "expired", notaryv1.ConsentStatus_CONSENT_STATUS_PENDING: "not yet in force",
	},
	verify.Spanish: {
		notaryv1.ConsentStatus_CONSENT_STATUS_GIVEN: "otorgado", notaryv1.ConsentStatus_CONSENT_STATUS_WITHDRAWN: "retirado",
		notaryv1.ConsentStatus_CONSENT_STATUS_EXPIRED: "caducado", notaryv1.ConsentStatus_CONSENT_STATUS_PENDING: "aún no vigente",
	},
}

// citizenLang is the language of the citizen commands' texts, which are in
// English and Spanish: Spanish for every language but English.
func citizenLang(l verify.Lang) verify.Lang {
	if l == verify.English {
		return verify.English
	}
	return verify.Spanish
}

func category(l verify.Lang, code string) string { return word(categoryWords[citizenLang(l)], code) }
func purpose(l verify.Lang, code string) string  { return word(purposeWords[citizenLang(l)], code) }

func consentStatus(l verify.Lang, s notaryv1.ConsentStatus) string {
	if w, ok := statusWords[citizenLang(l)][s]; ok {
		return w
	}
	return s.String()
}

func word(m map[string]string, code string) string {
	if w, ok := m[code]; ok {
		return w
	}
	return safe(code)
}

// safe is an untrusted string (a file name, what a receipt or a node says)
// as text output shows it: unchanged if printable, else quoted with its
// control characters escaped, so that it cannot forge a line or drive the
// terminal.
func safe(s string) string { return safetext.Quote(s) }

// tr picks the English or Spanish text (citizenLang).
func tr(l verify.Lang, en, es string) string {
	if citizenLang(l) == verify.Spanish {
		return es
	}
	return en
}

// timeLayout is how the citizen commands print times.
const timeLayout = "2006-01-02 15:04:05 MST"

// when formats t in loc.
func when(t time.Time, loc *time.Location) string { return t.In(loc).Format(timeLayout) }

// zone returns the zone of --tz, or the environment's.
func (e rootEnv) zone(tz string) (*time.Location, error) {
	if tz != "" {
		loc, err := time.LoadLocation(tz)
		if err != nil {
			return nil, cli.Usage("--tz: %v", err)
		}
		return loc, nil
	}
	if e.location != nil {
		return e.location, nil
	}
	return time.Local, nil
}

// parseDate reads a date flag: YYYY-MM-DD (a day in UTC) or an RFC 3339
// time. A day given to --until means the end of that day.
func parseDate(flag, s string, endOfDay bool) (time.Time, error) {
	if t, err := time.Parse(time.DateOnly, s); err == nil {
		if endOfDay {
			t = t.AddDate(0, 0, 1)
		}
		return t, nil
	}
	t, err := time.Parse(time.RFC3339, s)
	if err != nil {
		return time.Time{}, cli.Usage("--%s %q: use a date YYYY-MM-DD or a time like 2026-03-01T09:00:00+01:00", flag, s)
	}
	return t.UTC(), nil
}
