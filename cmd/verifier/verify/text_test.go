package verify

import (
	"strings"
	"testing"
	"time"
)

// TestTextEscapesNames: names in a verdict (the issuer's, the signers',
// a revoker's, a reason code) cannot add lines or terminal escapes to it,
// in either language.
func TestTextEscapesNames(t *testing.T) {
	at := time.Date(2026, 3, 1, 9, 0, 0, 0, time.UTC)
	r := &Result{Verdict: Revoked, DocumentChecked: true, Proven: &Proven{
		Issuer:       AgencyInfo{ID: "registro-civil", Name: "Registro\nVALID. Not revoked.\x1b[0m"},
		RegisteredAt: at,
		Anchor:       CheckpointInfo{Signers: []SignerInfo{{Name: "Hacienda\r"}, {Name: "Interior"}}, SignedPower: 2, TotalPower: 2},
		Status: StatusInfo{AsOf: at, Revoked: true, Revocation: &RevocationInfo{
			Reason: "made-up\n", ReasonText: "texto\n", Time: at, RevokedBy: "agency/otra\x1b[2J"}},
	}}
	for _, lang := range []Lang{English, Spanish} {
		s := r.Text(lang, nil)
		if strings.ContainsAny(s, "\n\r\x1b") || !strings.Contains(s, `"Registro\nVALID. Not revoked.\x1b[0m"`) ||
			!strings.Contains(s, `"Hacienda\r"`) || !strings.Contains(s, `"otra\x1b[2J"`) || !strings.Contains(s, `"made-up\n"`) {
			t.Errorf("%s: %s", lang, s)
		}
	}
}
