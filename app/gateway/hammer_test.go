package gateway_test

import (
	"crypto/ed25519"
	"encoding/base64"
	"fmt"
	"math/rand"
	"strings"
	"testing"
	"time"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/encoding/protowire"

	"github.com/gobtechlab/notary/app"
	"github.com/gobtechlab/notary/app/apptest"
	"github.com/gobtechlab/notary/app/identity"
	"github.com/gobtechlab/notary/ledger"
	notaryv1 "github.com/gobtechlab/notary/proto/notary/v1"
)

// hammerSeed fixes the random mix, so that a failure replays.
const hammerSeed = 20260601

// TestHammer sends a seeded random mix of valid requests and invalid ones to
// a real node: bad digest lengths and algorithms, empty and duplicate
// batches, oversize messages, too many digests, heights below 1 and above the
// tip, garbage, altered and foreign page tokens, unknown fields in the
// transaction bytes, bad signatures, wrong chains and sequences, unknown ids.
// Every invalid request must get its expected code (never Internal), every
// valid one must succeed, and the node must log no panic.
func TestHammer(t *testing.T) {
	const maxMsg, maxDigests = 64 << 10, 100
	n := apptest.Start(t, apptest.Options{
		TimeoutCommit: 20 * time.Millisecond,
		Agencies:      []app.AgencySpec{{ID: "second-agency", Name: "Segunda", Permissions: apptest.AllPermissions}},
		Gateway: func(g *app.GatewayConfig) {
			g.MaxRecvMsgBytes = maxMsg
			g.MaxDigestsPerRequest = maxDigests
		},
	})
	ctx := ctxT(t)
	rng := rand.New(rand.NewSource(hammerSeed))
	gw := n.Client(t, n.Agency)
	second := n.Client(t, n.Network.Agencies["second-agency"])
	public := n.Client(t, "")
	reader := newCitizen(t, apptest.ChainID) // signs reads of its own (empty) records
	ag := &signer{id: n.Identity(t, n.Agency)}
	ag2 := &signer{id: n.Identity(t, n.Network.Agencies["second-agency"])}

	type anchored struct {
		digest []byte
		height int64
	}
	var digests []anchored
	var tokens []string // valid page tokens of dev-agency's listing
	agency2Token := ""
	// signRawBody signs body bytes as given (possibly non-canonical).
	signRawBody := func(bodyBytes []byte) []byte {
		sig := ed25519.Sign(ag.id.Key(), ledger.SignBytes(apptest.ChainID, bodyBytes))
		return ledger.Encode(&notaryv1.Tx{Body: bodyBytes, PubKey: ag.id.Public(), Signature: sig})
	}
	submit := func(tx []byte) error {
		_, err := gw.Submit(ctx, &notaryv1.SubmitRequest{Tx: tx})
		return err
	}

	type op struct {
		name string
		want codes.Code
		run  func() error
	}
	ops := []struct {
		weight int
		make   func() op
	}{
		// Valid writes.
		{6, func() op {
			k := 1 + rng.Intn(40)
			ds := randomDigests(rng, k)
			return op{"anchor", codes.OK, func() error {
				r, err := gw.Submit(ctx, &notaryv1.SubmitRequest{Tx: ag.sign(anchorBody(apptest.AgencyID, 0, ds))})
				if err != nil {
					ag.seq--
					return err
				}
				for i := 0; i < k; i++ {
					digests = append(digests, anchored{digestAt(ds, i), r.Height})
				}
				return nil
			}}
		}},
		{1, func() op {
			ds := randomDigests(rng, 3)
			return op{"anchor by a second agency", codes.OK, func() error {
				_, err := second.Submit(ctx, &notaryv1.SubmitRequest{Tx: ag2.sign(anchorBody("second-agency", 0, ds))})
				if err != nil {
					ag2.seq--
				}
				return err
			}}
		}},
		// Valid reads.
		{4, func() op {
			return op{"lookup anchored", codes.OK, func() error {
				if len(digests) == 0 {
					_, err := public.GetStatus(ctx, &notaryv1.GetStatusRequest{})
					return err
				}
				d := digests[rng.Intn(len(digests))]
				_, err := public.LookupDigest(ctx, &notaryv1.LookupDigestRequest{HashAlgorithm: sha2, Digest: d.digest})
				return err
			}}
		}},
		{2, func() op {
			return op{"lookup at the anchoring height", codes.OK, func() error {
				if len(digests) == 0 {
					return nil
				}
				d := digests[rng.Intn(len(digests))]
				_, err := public.LookupDigest(ctx, &notaryv1.LookupDigestRequest{HashAlgorithm: sha2, Digest: d.digest, Height: d.height})
				return err
			}}
		}},
		{1, func() op {
			return op{"lookup before the anchoring height", codes.NotFound, func() error {
				if len(digests) == 0 || digests[0].height < 2 {
					return status.Error(codes.NotFound, "skip")
				}
				d := digests[rng.Intn(len(digests))]
				_, err := public.LookupDigest(ctx, &notaryv1.LookupDigestRequest{HashAlgorithm: sha2, Digest: d.digest, Height: d.height - 1})
				return err
			}}
		}},
		{3, func() op {
			return op{"list batches", codes.OK, func() error {
				tok := ""
				if len(tokens) > 0 && rng.Intn(2) == 0 {
					tok = tokens[rng.Intn(len(tokens))]
				}
				r, err := public.ListBatches(ctx, &notaryv1.ListBatchesRequest{AgencyId: apptest.AgencyID, PageSize: uint32(1 + rng.Intn(5)), PageToken: tok})
				if err == nil && r.NextPageToken != "" {
					tokens = append(tokens, r.NextPageToken)
				}
				return err
			}}
		}},
		{1, func() op {
			return op{"list batches of the second agency", codes.OK, func() error {
				r, err := public.ListBatches(ctx, &notaryv1.ListBatchesRequest{AgencyId: "second-agency", PageSize: 1})
				if err == nil && r.NextPageToken != "" {
					agency2Token = r.NextPageToken
				}
				return err
			}}
		}},
		{1, func() op {
			return op{"list batches of an unknown agency", codes.OK, func() error {
				r, err := public.ListBatches(ctx, &notaryv1.ListBatchesRequest{AgencyId: "no-such-agency"})
				if err == nil && len(r.Batches) != 0 {
					return fmt.Errorf("batches of an unknown agency: %v", r)
				}
				return err
			}}
		}},
		{2, func() op {
			return op{"status, params, agencies, ministries", codes.OK, func() error {
				if _, err := public.GetStatus(ctx, &notaryv1.GetStatusRequest{}); err != nil {
					return err
				}
				if _, err := public.GetParams(ctx, &notaryv1.GetParamsRequest{}); err != nil {
					return err
				}
				if _, err := public.ListAgencies(ctx, &notaryv1.ListAgenciesRequest{}); err != nil {
					return err
				}
				_, err := public.ListMinistries(ctx, &notaryv1.ListMinistriesRequest{})
				return err
			}}
		}},
		{1, func() op {
			h := int64(1 + rng.Intn(int(n.Height())))
			return op{"query state at a committed height", codes.OK, func() error {
				_, err := public.QueryState(ctx, &notaryv1.QueryStateRequest{Key: ledger.ParamsKey(), Height: h})
				return err
			}}
		}},
		{1, func() op {
			key := make([]byte, 32)
			rng.Read(key)
			return op{"account of a random key", codes.OK, func() error {
				_, err := public.GetAccount(ctx, &notaryv1.GetAccountRequest{PubKey: key})
				return err
			}}
		}},

		// Invalid writes: refused by the gateway or by CheckTx; the
		// sequence is not consumed.
		{1, func() op {
			ds := randomDigests(rng, 2)
			ds = ds[:len(ds)-1-rng.Intn(31)]
			return op{"bad digest length", codes.InvalidArgument, func() error {
				err := submit(ag.sign(anchorBody(apptest.AgencyID, 0, ds)))
				ag.seq--
				return err
			}}
		}},
		{1, func() op {
			alg := notaryv1.HashAlgorithm(3 + rng.Intn(100))
			return op{"unknown algorithm", codes.InvalidArgument, func() error {
				b := anchorBody(apptest.AgencyID, 0, randomDigests(rng, 1))
				b.GetAnchorBatch().HashAlgorithm = alg
				err := submit(ag.sign(b))
				ag.seq--
				return err
			}}
		}},
		{1, func() op {
			return op{"empty batch", codes.InvalidArgument, func() error {
				err := submit(ag.sign(anchorBody(apptest.AgencyID, 0, nil)))
				ag.seq--
				return err
			}}
		}},
		{1, func() op {
			return op{"duplicate digest inside a batch", codes.InvalidArgument, func() error {
				d := randomDigests(rng, 1)
				err := submit(ag.sign(anchorBody(apptest.AgencyID, 0, append(append([]byte(nil), d...), d...))))
				ag.seq--
				return err
			}}
		}},
		{1, func() op {
			return op{"too many digests", codes.InvalidArgument, func() error {
				err := submit(ag.sign(anchorBody(apptest.AgencyID, 0, randomDigests(rng, maxDigests+1+rng.Intn(50)))))
				ag.seq--
				return err
			}}
		}},
		{1, func() op {
			return op{"oversize message", codes.ResourceExhausted, func() error {
				big := make([]byte, maxMsg+rng.Intn(1000))
				rng.Read(big)
				return submit(big)
			}}
		}},
		{1, func() op {
			return op{"already anchored", codes.AlreadyExists, func() error {
				if len(digests) == 0 {
					return status.Error(codes.AlreadyExists, "skip")
				}
				err := submit(ag.sign(anchorBody(apptest.AgencyID, 0, digests[rng.Intn(len(digests))].digest)))
				ag.seq--
				return err
			}}
		}},
		{1, func() op {
			return op{"revoke a digest never anchored", codes.NotFound, func() error {
				err := submit(ag.sign(revokeBody(0, randomDigests(rng, 1), "x")))
				ag.seq--
				return err
			}}
		}},
		{1, func() op {
			return op{"unknown field in the envelope", codes.InvalidArgument, func() error {
				raw := ag.sign(anchorBody(apptest.AgencyID, 0, randomDigests(rng, 1)))
				ag.seq--
				raw = protowire.AppendVarint(protowire.AppendTag(raw, 99, protowire.VarintType), 1)
				return submit(raw)
			}}
		}},
		{1, func() op {
			return op{"unknown field in the body", codes.InvalidArgument, func() error {
				b := anchorBody(apptest.AgencyID, ag.seq, randomDigests(rng, 1))
				b.ChainId = apptest.ChainID
				bb := protowire.AppendBytes(protowire.AppendTag(ledger.Encode(b), 77, protowire.BytesType), []byte("x"))
				return submit(signRawBody(bb))
			}}
		}},
		{1, func() op {
			return op{"garbage bytes", codes.InvalidArgument, func() error {
				g := make([]byte, 1+rng.Intn(300))
				rng.Read(g)
				return submit(g)
			}}
		}},
		{1, func() op {
			return op{"bad signature", codes.InvalidArgument, func() error {
				raw := ag.sign(anchorBody(apptest.AgencyID, 0, randomDigests(rng, 1)))
				ag.seq--
				raw[len(raw)-1-rng.Intn(60)] ^= 0x01
				return submit(raw)
			}}
		}},
		{1, func() op {
			return op{"wrong chain", codes.InvalidArgument, func() error {
				b := anchorBody(apptest.AgencyID, ag.seq, randomDigests(rng, 1))
				return submit(identity.SignTx("another-chain", ag.id.Key(), b))
			}}
		}},
		{1, func() op {
			skip := uint64(1 + rng.Intn(5))
			return op{"skipped sequence", codes.FailedPrecondition, func() error {
				b := anchorBody(apptest.AgencyID, 0, randomDigests(rng, 1))
				b.Sequence = ag.seq + skip
				return submit(ag.id.SignTx(b))
			}}
		}},
		{1, func() op {
			return op{"replayed sequence", codes.FailedPrecondition, func() error {
				if ag.seq == 0 {
					return status.Error(codes.FailedPrecondition, "skip")
				}
				b := anchorBody(apptest.AgencyID, 0, randomDigests(rng, 1))
				b.Sequence = ag.seq - 1
				return submit(ag.id.SignTx(b))
			}}
		}},
		{1, func() op {
			return op{"empty tx", codes.InvalidArgument, func() error { return submit(nil) }}
		}},

		// Invalid reads.
		{1, func() op {
			l := rng.Intn(65)
			if l == 32 {
				l = 33
			}
			d := make([]byte, l)
			return op{"lookup with a bad digest length", codes.InvalidArgument, func() error {
				_, err := public.LookupDigest(ctx, &notaryv1.LookupDigestRequest{HashAlgorithm: sha2, Digest: d})
				return err
			}}
		}},
		{1, func() op {
			alg := notaryv1.HashAlgorithm([]int32{0, 3, 9, -1}[rng.Intn(4)])
			return op{"lookup with an unknown algorithm", codes.InvalidArgument, func() error {
				_, err := public.LookupDigest(ctx, &notaryv1.LookupDigestRequest{HashAlgorithm: alg, Digest: randomDigests(rng, 1)})
				return err
			}}
		}},
		{1, func() op {
			h := -1 - rng.Int63n(1<<40)
			return op{"height below 1", codes.InvalidArgument, func() error {
				_, err := public.LookupDigest(ctx, &notaryv1.LookupDigestRequest{HashAlgorithm: sha2, Digest: randomDigests(rng, 1), Height: h})
				return err
			}}
		}},
		{1, func() op {
			return op{"height above the tip", codes.OutOfRange, func() error {
				h := n.Height() + 1000 + rng.Int63n(1<<40)
				if rng.Intn(2) == 0 {
					_, err := public.QueryState(ctx, &notaryv1.QueryStateRequest{Key: ledger.ParamsKey(), Height: h})
					return err
				}
				_, err := public.GetAccessHistory(ctx, signedRead(t, reader, &notaryv1.GetAccessHistoryRequest{Subject: reader.Subject(), Height: h}))
				return err
			}}
		}},
		{1, func() op {
			return op{"lookup of an unknown digest", codes.NotFound, func() error {
				_, err := public.LookupDigest(ctx, &notaryv1.LookupDigestRequest{HashAlgorithm: sha2, Digest: randomDigests(rng, 1)})
				return err
			}}
		}},
		{1, func() op {
			g := make([]byte, rng.Intn(80))
			rng.Read(g)
			tok := base64.RawURLEncoding.EncodeToString(g)
			if rng.Intn(3) == 0 {
				tok = strings.Repeat("%", 1+rng.Intn(20))
			}
			if tok == "" {
				tok = "x"
			}
			return op{"garbage page token", codes.InvalidArgument, func() error {
				_, err := public.ListBatches(ctx, &notaryv1.ListBatchesRequest{AgencyId: apptest.AgencyID, PageToken: tok})
				return err
			}}
		}},
		{1, func() op {
			return op{"altered page token", codes.InvalidArgument, func() error {
				if len(tokens) == 0 {
					return status.Error(codes.InvalidArgument, "skip")
				}
				b, _ := base64.RawURLEncoding.DecodeString(tokens[rng.Intn(len(tokens))])
				b[rng.Intn(len(b))] ^= byte(1 + rng.Intn(255))
				_, err := public.ListBatches(ctx, &notaryv1.ListBatchesRequest{AgencyId: apptest.AgencyID, PageToken: base64.RawURLEncoding.EncodeToString(b)})
				return err
			}}
		}},
		{1, func() op {
			return op{"page token of another listing", codes.InvalidArgument, func() error {
				if len(tokens) == 0 {
					return status.Error(codes.InvalidArgument, "skip")
				}
				if agency2Token != "" && rng.Intn(2) == 0 {
					_, err := public.ListBatches(ctx, &notaryv1.ListBatchesRequest{AgencyId: apptest.AgencyID, PageToken: agency2Token})
					return err
				}
				if rng.Intn(2) == 0 {
					_, err := public.ListProposals(ctx, &notaryv1.ListProposalsRequest{PageToken: tokens[rng.Intn(len(tokens))]})
					return err
				}
				_, err := public.ListBatches(ctx, &notaryv1.ListBatchesRequest{AgencyId: "second-agency", PageToken: tokens[rng.Intn(len(tokens))]})
				return err
			}}
		}},
		{1, func() op {
			size := uint32(maxPage + 1 + rng.Intn(1<<20))
			return op{"page size over the limit", codes.InvalidArgument, func() error {
				if rng.Intn(2) == 0 {
					_, err := public.ListBatches(ctx, &notaryv1.ListBatchesRequest{AgencyId: apptest.AgencyID, PageSize: size})
					return err
				}
				_, err := public.GetAccessHistory(ctx, signedRead(t, reader, &notaryv1.GetAccessHistoryRequest{Subject: reader.Subject(), PageSize: size}))
				return err
			}}
		}},
		{1, func() op {
			id := []string{"", "UPPER", "has space", "-lead", strings.Repeat("a", 65), "ágencia"}[rng.Intn(6)]
			return op{"bad agency id", codes.InvalidArgument, func() error {
				_, err := public.ListBatches(ctx, &notaryv1.ListBatchesRequest{AgencyId: id})
				return err
			}}
		}},
		{1, func() op {
			return op{"unknown ids", codes.NotFound, func() error {
				var err error
				switch rng.Intn(3) {
				case 0:
					_, err = public.GetProposal(ctx, &notaryv1.GetProposalRequest{Id: uint64(1 + rng.Intn(1000))})
				case 1:
					_, err = public.GetConsent(ctx, signedRead(t, reader, &notaryv1.GetConsentRequest{ConsentId: fmt.Sprintf("%032x", rng.Int63())}))
				case 2:
					_, err = gw.CheckCoverage(ctx, &notaryv1.CheckCoverageRequest{RequesterAgencyId: "no-such-agency", ProviderAgencyId: apptest.AgencyID,
						Subject: randomDigests(rng, 1), Category: "tax", Purpose: "statistics"})
				}
				return err
			}}
		}},
		{1, func() op {
			return op{"malformed ids and keys", codes.InvalidArgument, func() error {
				var err error
				switch rng.Intn(5) {
				case 0:
					_, err = public.GetConsent(ctx, &notaryv1.GetConsentRequest{ConsentId: "not-a-consent-id"})
				case 1:
					_, err = public.GetProposal(ctx, &notaryv1.GetProposalRequest{Id: 0})
				case 2:
					_, err = public.GetAccount(ctx, &notaryv1.GetAccountRequest{PubKey: make([]byte, rng.Intn(32))})
				case 3:
					_, err = public.QueryState(ctx, &notaryv1.QueryStateRequest{})
				case 4:
					_, err = public.ListConsents(ctx, &notaryv1.ListConsentsRequest{Subject: make([]byte, 31)})
				}
				return err
			}}
		}},
	}
	total := 0
	for _, o := range ops {
		total += o.weight
	}
	pick := func() op {
		r := rng.Intn(total)
		for _, o := range ops {
			if r < o.weight {
				return o.make()
			}
			r -= o.weight
		}
		panic("unreachable")
	}
	const rounds = 400
	counts := map[string]int{}
	for i := 0; i < rounds; i++ {
		o := pick()
		err := o.run()
		got := status.Code(err)
		counts[o.name]++
		switch {
		case got == codes.Internal || got == codes.Unknown:
			t.Fatalf("round %d, %s: %v", i, o.name, err)
		case got == codes.OK && o.want != codes.OK:
			t.Fatalf("round %d, %s: unexpected success (want %v)", i, o.name, o.want)
		case got != o.want:
			t.Fatalf("round %d, %s: got %v (%v), want %v", i, o.name, got, err, o.want)
		}
		if o.want != codes.OK && status.Convert(err).Message() == "" {
			t.Fatalf("round %d, %s: refusal without a message", i, o.name)
		}
	}
	if n.HasPanic() {
		t.Fatalf("panic in the node log:\n%s", n.Log())
	}
	t.Logf("%d requests (seed %d), %d digests anchored, by kind: %v", rounds, hammerSeed, len(digests), counts)
}

// maxPage is the gateway's page size limit.
const maxPage = 1000
