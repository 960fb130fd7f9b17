package ledger

import (
	"bytes"
	"errors"
	"fmt"
	"strings"
	"testing"

	notaryv1 "github.com/gobtechlab/notary/proto/notary/v1"
)

func TestValidateTLSKeys(t *testing.T) {
	k := func(b byte) []byte { return bytes.Repeat([]byte{b}, TLSKeySize) }
	cases := []struct {
		name string
		keys [][]byte
		ok   bool
	}{
		{"none", nil, true},
		{"one", [][]byte{k(1)}, true},
		{"ascending", [][]byte{k(1), k(2), k(3), k(4)}, true},
		{"too many", [][]byte{k(1), k(2), k(3), k(4), k(5)}, false},
		{"short", [][]byte{k(1)[:31]}, false},
		{"duplicate", [][]byte{k(1), k(1)}, false},
		{"descending", [][]byte{k(2), k(1)}, false},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			err := validateTLSKeys("agency a", c.keys)
			if (err == nil) != c.ok {
				t.Fatalf("got %v, want ok=%v", err, c.ok)
			}
			if err != nil && !errors.Is(err, ErrInvalidField) {
				t.Fatalf("%v does not wrap ErrInvalidField", err)
			}
		})
	}
}

// TestSetTLSKeys: set-tls-keys replaces an active agency's or ministry's
// keys; it is refused for a removed member, for the keys it already has,
// and with no key or both ids.
func TestSetTLSKeys(t *testing.T) {
	k := func(b byte) []byte { return bytes.Repeat([]byte{b}, TLSKeySize) }
	act := func(agency, ministry string, keys ...[]byte) *notaryv1.ProposalAction {
		return &notaryv1.ProposalAction{Action: &notaryv1.ProposalAction_SetTlsKeys{SetTlsKeys: &notaryv1.SetTLSKeys{
			AgencyId: agency, MinistryId: ministry, TlsKeys: keys}}}
	}
	h := newGovHarness(t, govGenesis(10, 10, 10, 10))
	_, height, _ := h.enactPassed(act("aeat", "", k(1), k(2)))
	if a := h.agency("aeat"); len(a.TlsKeys) != 2 || a.SinceHeight != height || !a.Active {
		t.Fatalf("agency after set-tls-keys: %v", a)
	}
	h.enactPassed(act("", "trabajo", k(3)))
	if m := h.ministry("trabajo"); len(m.TlsKeys) != 1 || !bytes.Equal(m.TlsKeys[0], k(3)) || m.Power != 10 {
		t.Fatalf("ministry after set-tls-keys: %v", m)
	}
	_, removedAt, _ := h.enactPassed(actRemoveAgency("sepe"))
	for _, c := range []struct {
		name string
		a    *notaryv1.ProposalAction
		want string
	}{
		{"a removed agency", act("sepe", "", k(1)), fmt.Sprintf(`agency "sepe" was removed at height %d`, removedAt)},
		{"the same keys", act("aeat", "", k(1), k(2)), "already has these tls_keys"},
		{"no key", act("aeat", ""), "names no key"},
		{"both ids", act("aeat", "trabajo", k(1)), "exactly one of agency_id and ministry_id"},
		{"keys out of order", act("aeat", "", k(2), k(1)), "ascending"},
	} {
		out, _ := h.run(h.propose("hacienda", c.a))
		if out[0].Err == nil || !strings.Contains(out[0].Err.Error(), c.want) {
			t.Fatalf("%s: %v, want %q", c.name, out[0].Err, c.want)
		}
	}
}
