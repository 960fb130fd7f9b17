package gateway_test

import (
	"fmt"
	"strings"
	"testing"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"github.com/gobtechlab/notary/abci"
	"github.com/gobtechlab/notary/app/apptest"
	"github.com/gobtechlab/notary/app/gateway"
	"github.com/gobtechlab/notary/ledger"
	notaryv1 "github.com/gobtechlab/notary/proto/notary/v1"
)

// TestErrorsQuoteAPrefix sends megabyte-sized fields where short ones are
// expected: every error quotes at most a short prefix of them, with their
// length.
func TestErrorsQuoteAPrefix(t *testing.T) {
	n := apptest.Start(t, apptest.Options{})
	ctx := ctxT(t)
	public := n.Client(t, "")
	agency := n.Client(t, n.Agency)
	huge := strings.Repeat("\x01A", 700_000) // %q makes 4 bytes of each \x01
	big := strings.Repeat("a", 500_000)
	calls := []struct {
		name string
		call func() error
	}{
		{"ListBatches agency_id", func() error {
			_, err := public.ListBatches(ctx, &notaryv1.ListBatchesRequest{AgencyId: huge})
			return err
		}},
		{"GetConsent consent_id", func() error {
			_, err := public.GetConsent(ctx, &notaryv1.GetConsentRequest{ConsentId: huge})
			return err
		}},
		{"CheckCoverage requester", func() error {
			_, err := agency.CheckCoverage(ctx, &notaryv1.CheckCoverageRequest{RequesterAgencyId: huge, ProviderAgencyId: apptest.AgencyID,
				Subject: ledger.SubjectID([]byte("x")), Category: "tax", Purpose: "statistics"})
			return err
		}},
		{"CheckCoverage category", func() error {
			_, err := agency.CheckCoverage(ctx, &notaryv1.CheckCoverageRequest{RequesterAgencyId: apptest.AgencyID, ProviderAgencyId: apptest.AgencyID,
				Subject: ledger.SubjectID([]byte("x")), Category: big, Purpose: "statistics"})
			return err
		}},
		{"AnchorBatch agency_id", func() error {
			ag := &signer{id: n.Identity(t, n.Agency)}
			_, err := agency.Submit(ctx, &notaryv1.SubmitRequest{Tx: ag.sign(anchorBody(big, 0, digestsOf("q", 1)))})
			return err
		}},
	}
	for _, c := range calls {
		t.Run(c.name, func(t *testing.T) {
			err := c.call()
			st := status.Convert(err)
			if st.Code() != codes.InvalidArgument && st.Code() != codes.PermissionDenied {
				t.Fatalf("got %v", err)
			}
			if len(st.Message()) > 512 {
				t.Fatalf("the message is %d bytes: %.200q…", len(st.Message()), st.Message())
			}
			if !strings.Contains(st.Message(), "bytes)") {
				t.Fatalf("the message does not give the length of the input: %q", st.Message())
			}
		})
	}
}

// TestEarliestStateStatus: a state below the earliest a node holds (the
// snapshot it joined from by state sync, or the height its retention
// pruned to) is FAILED_PRECONDITION, naming receipt v2 and archive nodes;
// another height the node does not hold stays OUT_OF_RANGE.
func TestEarliestStateStatus(t *testing.T) {
	tests := []struct {
		name string
		err  error
		code codes.Code
	}{
		{"before the snapshot", fmt.Errorf("receipt: %w", &abci.EarliestStateError{Height: 7, Earliest: 1000, Restored: true}), codes.FailedPrecondition},
		{"pruned", fmt.Errorf("receipt: %w", &abci.EarliestStateError{Height: 7, Earliest: 1000}), codes.FailedPrecondition},
		{"not committed yet", fmt.Errorf("%w: height 9", ledger.ErrHeightUnavailable), codes.OutOfRange},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			st := status.Convert(gateway.StatusOf("/notary.v1.Gateway/GetReceipt", tt.err))
			if st.Code() != tt.code {
				t.Fatalf("code %v, want %v (%s)", st.Code(), tt.code, st.Message())
			}
			if tt.code == codes.FailedPrecondition && (!strings.Contains(st.Message(), "receipt v2") || !strings.Contains(st.Message(), "archive node")) {
				t.Fatalf("message %q", st.Message())
			}
		})
	}
}
