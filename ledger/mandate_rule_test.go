package ledger

import (
	"testing"

	notaryv1 "github.com/gobtechlab/notary/proto/notary/v1"
)

// TestMandateWithoutPassedProposal completes the rule table of exchanges
// (TestCitizenRules) with the mandates that governance has not registered:
// a mandate is only what a passed proposal registered, so an exchange that
// names the mandate of a proposal still open, or of one rejected, is
// refused with ErrMandateNotFound and stores nothing; once a proposal
// passes, the same exchange is accepted.
func TestMandateWithoutPassedProposal(t *testing.T) {
	h := newGovHarness(t, testGenesis())
	aeat := agencyKey("aeat")
	subject := SubjectID(pub(citizenKey("ana")))
	under := func(id string) *notaryv1.TxBody {
		return xchg{requester: "aeat", provider: "sepe", subject: subject, category: "tax", purpose: "eligibility-check", mandate: id}.body()
	}

	// Two proposals: one stays open (one YES of four equal votes), one is
	// rejected (three NO).
	open, rejected := h.nextID(), h.nextID()+1
	h.runOK(
		h.propose("hacienda", actRegisterMandate(govMandate("ley-en-tramite"))),
		h.propose("interior", actRegisterMandate(govMandate("ley-rechazada"))),
		h.vote("hacienda", open, yes),
	)
	h.runOK(h.vote("interior", rejected, no), h.vote("sanidad", rejected, no), h.vote("trabajo", rejected, no))
	if !h.isOpen(open) || h.proposal(rejected).Status != notaryv1.ProposalStatus_PROPOSAL_STATUS_REJECTED {
		t.Fatalf("proposal %d open: %v; proposal %d: %s", open, h.isOpen(open), rejected, h.proposal(rejected).Status)
	}

	tests := []struct {
		name    string
		mandate string
		want    *Error
	}{
		{"mandate of a proposal still open", "ley-en-tramite", ErrMandateNotFound},
		{"mandate of a rejected proposal", "ley-rechazada", ErrMandateNotFound},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			out := h.block(h.tx(aeat, under(tc.mandate)))[0]
			mustFail(t, out, tc.want)
			if out.Result != nil || len(out.Events) != 0 {
				t.Fatalf("a refused exchange has a result or events: %v %v", out.Result, out.Events)
			}
			if ok, _ := load(h.st, AccessHeadKey(subject), &notaryv1.AccessHead{}); ok {
				t.Fatalf("a refused exchange started a history")
			}
		})
	}

	// The same mandate once its proposal passes: accepted.
	h.enactPassed(actRegisterMandate(govMandate("ley-aprobada")))
	out := h.block(h.tx(aeat, under("ley-aprobada")))[0]
	mustOK(t, out)
	if out.Result.GetExchangeIndex() != 0 {
		t.Fatalf("result %v", out.Result)
	}
}
