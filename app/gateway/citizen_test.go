package gateway_test

import (
	"strings"
	"testing"
	"time"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/types/known/timestamppb"

	"github.com/gobtechlab/notary/app"
	"github.com/gobtechlab/notary/app/apptest"
	"github.com/gobtechlab/notary/app/identity"
	"github.com/gobtechlab/notary/ledger"
	notaryv1 "github.com/gobtechlab/notary/proto/notary/v1"
)

// grantTx is a consent of id's key to the dev agency, for a day.
func grantTx(id *identity.Identity, seq uint64) []byte {
	now := time.Now()
	return id.SignTx(&notaryv1.TxBody{Sequence: seq, Msg: &notaryv1.TxBody_GrantConsent{GrantConsent: &notaryv1.GrantConsent{
		Subject: id.Subject(), AgencyId: apptest.AgencyID, Category: "tax", Purpose: "statistics",
		ValidFrom: timestamppb.New(now.Add(-time.Hour)), ValidUntil: timestamppb.New(now.Add(24 * time.Hour))}}})
}

func freshCitizen(t *testing.T) *identity.Identity {
	t.Helper()
	id, err := identity.Generate(identity.RoleCitizen, "", apptest.ChainID)
	if err != nil {
		t.Fatal(err)
	}
	return id
}

// TestFreshCitizenKeys is the attack of writing to the chain with fresh
// citizen keys and no certificate: on a new chain every such consent is
// refused (PermissionDenied, not enrolled) and nothing is written; a key
// the dev agency enrolls, and the citizen enrolled in genesis, grant
// consents. On a chain whose citizen enrolment is open, as on chains
// created before the parameter, fresh keys still enrol themselves.
func TestFreshCitizenKeys(t *testing.T) {
	if testing.Short() {
		t.Skip("starts nodes")
	}
	t.Run("accredited", func(t *testing.T) {
		n := apptest.Start(t, apptest.Options{Agencies: []app.AgencySpec{
			{ID: "no-enrol", Name: "Agencia sin alta", Permissions: []notaryv1.Permission{notaryv1.Permission_PERMISSION_EXCHANGE}},
		}})
		ctx := ctxT(t)
		public := n.Client(t, "")
		var fresh []*identity.Identity
		for i := 0; i < 20; i++ {
			id := freshCitizen(t)
			fresh = append(fresh, id)
			_, err := public.Submit(ctx, &notaryv1.SubmitRequest{Tx: grantTx(id, 0)})
			wantCode(t, err, codes.PermissionDenied, "a fresh key's consent")
			if !strings.Contains(status.Convert(err).Message(), "not enrolled") {
				t.Fatalf("refusal does not say why: %v", err)
			}
		}
		// Nothing was written.
		n.WaitHeight(t, n.Height()+1)
		for _, id := range fresh {
			acc, err := public.GetAccount(ctx, &notaryv1.GetAccountRequest{PubKey: id.Public()})
			if err != nil || acc.Account.Role != notaryv1.Role_ROLE_UNSPECIFIED {
				t.Fatalf("a refused key has an account: %v %v", acc, err)
			}
		}

		// The genesis citizen grants.
		citizen := n.Identity(t, n.Citizen)
		if _, err := public.Submit(ctx, &notaryv1.SubmitRequest{Tx: grantTx(citizen, 0)}); err != nil {
			t.Fatalf("the genesis citizen's consent: %v", err)
		}

		// The dev agency enrols a key, which then grants.
		ana := freshCitizen(t)
		agID := n.Identity(t, n.Agency)
		enroll := func(seq uint64, agency string, key []byte) []byte {
			return agID.SignTx(&notaryv1.TxBody{Sequence: seq, Msg: &notaryv1.TxBody_EnrollCitizen{EnrollCitizen: &notaryv1.EnrollCitizen{AgencyId: agency, PubKey: key}}})
		}
		_, err := public.Submit(ctx, &notaryv1.SubmitRequest{Tx: enroll(0, apptest.AgencyID, ana.Public())})
		wantCode(t, err, codes.PermissionDenied, "an enrolment without the agency's certificate")
		_, err = n.Client(t, n.Agency).Submit(ctx, &notaryv1.SubmitRequest{Tx: enroll(0, apptest.AgencyID, ana.Public())})
		if err != nil {
			t.Fatalf("enrolment: %v", err)
		}
		acc, err := public.GetAccount(ctx, &notaryv1.GetAccountRequest{PubKey: ana.Public()})
		if err != nil || acc.Account.Role != notaryv1.Role_ROLE_CITIZEN || acc.Account.EnrolledBy != apptest.AgencyID {
			t.Fatalf("enrolled account: %v %v", acc, err)
		}
		if _, err := public.Submit(ctx, &notaryv1.SubmitRequest{Tx: grantTx(ana, 0)}); err != nil {
			t.Fatalf("an enrolled key's consent: %v", err)
		}
		_, err = n.Client(t, n.Agency).Submit(ctx, &notaryv1.SubmitRequest{Tx: enroll(1, apptest.AgencyID, ana.Public())})
		wantCode(t, err, codes.AlreadyExists, "a second enrolment of a key")

		// An agency without PERMISSION_ENROLL is refused at the gateway.
		other := n.Identity(t, n.Network.Agencies["no-enrol"])
		tx := other.SignTx(&notaryv1.TxBody{Msg: &notaryv1.TxBody_EnrollCitizen{EnrollCitizen: &notaryv1.EnrollCitizen{AgencyId: "no-enrol", PubKey: freshCitizen(t).Public()}}})
		_, err = n.Client(t, n.Network.Agencies["no-enrol"]).Submit(ctx, &notaryv1.SubmitRequest{Tx: tx})
		wantCode(t, err, codes.PermissionDenied, "an enrolment by an agency without the permission")
		if !strings.Contains(status.Convert(err).Message(), "PERMISSION_ENROLL") {
			t.Fatalf("refusal does not name the permission: %v", err)
		}
	})
	t.Run("open", func(t *testing.T) {
		p := ledger.DefaultParams()
		p.CitizenEnrollment = notaryv1.CitizenEnrollment_CITIZEN_ENROLLMENT_OPEN
		n := apptest.Start(t, apptest.Options{Params: p})
		public := n.Client(t, "")
		for i := 0; i < 3; i++ {
			if _, err := public.Submit(ctxT(t), &notaryv1.SubmitRequest{Tx: grantTx(freshCitizen(t), 0)}); err != nil {
				t.Fatalf("a fresh key's consent on an open chain: %v", err)
			}
		}
	})
}

// TestCitizenTxRate: gateway.citizen_tx_rate_per_second bounds the
// citizens' transactions the node relays, all citizens together, and names
// itself when it refuses; agencies are not bound by it.
func TestCitizenTxRate(t *testing.T) {
	if testing.Short() {
		t.Skip("starts a node")
	}
	const burst = 3
	n := apptest.Start(t, apptest.Options{Gateway: func(c *app.GatewayConfig) {
		c.CitizenTxRatePerSecond, c.CitizenTxBurst = 0.2, burst
	}})
	ctx := ctxT(t)
	public := n.Client(t, "")
	citizen := n.Identity(t, n.Citizen)
	for seq := uint64(0); seq < burst; seq++ {
		if _, err := public.Submit(ctx, &notaryv1.SubmitRequest{Tx: grantTx(citizen, seq)}); err != nil {
			t.Fatalf("consent %d within the burst: %v", seq, err)
		}
	}
	// Past the burst: this citizen, other citizens and fresh keys alike.
	for _, tx := range [][]byte{grantTx(citizen, burst), grantTx(freshCitizen(t), 0)} {
		_, err := public.Submit(ctx, &notaryv1.SubmitRequest{Tx: tx})
		wantCode(t, err, codes.ResourceExhausted, "a citizen's transaction past the burst")
		if msg := status.Convert(err).Message(); !strings.Contains(msg, "citizen_tx_rate_per_second") || !strings.Contains(msg, "retry in") {
			t.Fatalf("the refusal does not name the setting: %s", msg)
		}
	}
	// An agency anchors meanwhile.
	agID := n.Identity(t, n.Agency)
	tx := agID.SignTx(&notaryv1.TxBody{Msg: &notaryv1.TxBody_AnchorBatch{AnchorBatch: &notaryv1.AnchorBatch{
		AgencyId: apptest.AgencyID, HashAlgorithm: notaryv1.HashAlgorithm_HASH_ALGORITHM_SHA2_256, Digests: digestsOf("citizen-rate", 1)}}})
	if _, err := n.Client(t, n.Agency).Submit(ctx, &notaryv1.SubmitRequest{Tx: tx}); err != nil {
		t.Fatalf("the agency's anchoring: %v", err)
	}
}
