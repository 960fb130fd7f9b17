package abci

import (
	"encoding/hex"
	"testing"
	"time"

	"google.golang.org/protobuf/encoding/protojson"
	"google.golang.org/protobuf/types/known/timestamppb"

	"github.com/gobtechlab/notary/app/identity"
	"github.com/gobtechlab/notary/ledger"
	notaryv1 "github.com/gobtechlab/notary/proto/notary/v1"
)

// existingChain is the genesis of a chain created before citizen enrolment
// and the consent limit: its params leave both unset.
func existingChain(t *testing.T) []byte {
	t.Helper()
	exchange := []notaryv1.Permission{notaryv1.Permission_PERMISSION_ANCHOR, notaryv1.Permission_PERMISSION_REVOKE, notaryv1.Permission_PERMISSION_EXCHANGE}
	g := &notaryv1.GenesisState{
		Params: &notaryv1.Params{
			MaxDigestsPerBatch:     10_000,
			MaxTxBytes:             1 << 20,
			HashAlgorithms:         []notaryv1.HashAlgorithm{notaryv1.HashAlgorithm_HASH_ALGORITHM_SHA2_256, notaryv1.HashAlgorithm_HASH_ALGORITHM_SHA3_256},
			GovThreshold:           &notaryv1.Fraction{Numerator: 2, Denominator: 3},
			ProposalLifetimeBlocks: 20_000,
			MaxLabelBytes:          256,
			MaxTextBytes:           512,
			DataCategories:         ledger.DefaultCategories,
			Purposes:               ledger.DefaultPurposes,
			MinValidators:          1,
		},
		Ministries: []*notaryv1.Ministry{{
			Id: "hacienda", Name: "Ministerio de Hacienda",
			GovPubKey: pubOf(key("gov")), ConsensusPubKey: pubOf(key("cons")), Power: 10,
		}},
		Agencies: []*notaryv1.Agency{
			{Id: "aeat", Name: "Agencia Tributaria", PubKey: pubOf(key("aeat")), Permissions: exchange},
			{Id: "sepe", Name: "Servicio Público de Empleo Estatal", PubKey: pubOf(key("sepe")), Permissions: exchange},
		},
	}
	b, err := protojson.Marshal(g)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// TestExistingChainAppHashes: on a chain created before citizen enrolment,
// the consent limit and provider confirmations, the transactions of that
// time give the app hashes the ledger computed then, height by height: a
// self-enrolling citizen's consents and their withdrawal, an exchange
// declared by the requester alone, anchoring and revocation.
func TestExistingChainAppHashes(t *testing.T) {
	a := openApp(t, t.TempDir())
	defer func() { _ = a.Close() }()
	initChainWith(t, a, existingChain(t))
	ana := key("citizen/ana")
	sub := ledger.SubjectID(pubOf(ana))
	grant := func(seq uint64, purpose string) []byte {
		return identity.SignTx(testChain, ana, &notaryv1.TxBody{Sequence: seq, Msg: &notaryv1.TxBody_GrantConsent{GrantConsent: &notaryv1.GrantConsent{
			Subject: sub, AgencyId: "aeat", Category: "tax", Purpose: purpose,
			ValidFrom: timestamppb.New(t0), ValidUntil: timestamppb.New(t0.Add(365 * 24 * time.Hour)),
		}}})
	}
	ds := digestsOf("existing-chain", 3)
	blocks := [][][]byte{
		{anchorTx(0, ds), grant(0, "eligibility-check")},
		{identity.SignTx(testChain, key("aeat"), &notaryv1.TxBody{Sequence: 1, Msg: &notaryv1.TxBody_RecordExchange{RecordExchange: &notaryv1.RecordExchange{
			RequesterAgencyId: "aeat", ProviderAgencyId: "sepe", Subject: sub, Category: "tax", Purpose: "eligibility-check",
			Basis: &notaryv1.RecordExchange_ConsentId{ConsentId: ledger.ConsentID(sub, 0)},
		}}}), grant(1, "statistics")},
		{identity.SignTx(testChain, ana, &notaryv1.TxBody{Sequence: 2, Msg: &notaryv1.TxBody_WithdrawConsent{WithdrawConsent: &notaryv1.WithdrawConsent{ConsentId: ledger.ConsentID(sub, 1)}}}),
			identity.SignTx(testChain, key("aeat"), &notaryv1.TxBody{Sequence: 2, Msg: &notaryv1.TxBody_Revoke{Revoke: &notaryv1.Revoke{
				HashAlgorithm: notaryv1.HashAlgorithm_HASH_ALGORITHM_SHA2_256, Digests: ds[:32],
				Reason: notaryv1.RevocationReason_REVOCATION_REASON_SUPERSEDED, ReasonText: "sustituido",
			}}})},
	}
	want := []string{
		"0af3c7b84faf0e1765735f38af4fa8b4af452d74ee0f8c84055f31779fc6ec12",
		"dfbee041d5cafa3fe0f4f8001113dafdd42519e748a0c71147a02ec928a312bf",
		"e6cc950e6776ab01e36172d251f19dce1a44a27cb1c2fd074750207c47245ace",
	}
	for i, txs := range blocks {
		fin := finalizeCommit(t, a, int64(i+1), txs)
		for j, r := range fin.TxResults {
			if r.Code != 0 {
				t.Fatalf("height %d tx %d: %s", i+1, j, r.Log)
			}
		}
		if got := hex.EncodeToString(fin.AppHash); got != want[i] {
			t.Errorf("height %d: app hash %s, the ledger before the change computed %s", i+1, got, want[i])
		}
	}
}
