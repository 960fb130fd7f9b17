package gateway

import (
	"bytes"
	"context"
	"encoding/binary"
	"fmt"
	"time"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/timestamppb"

	"github.com/gobtechlab/notary/abci"
	"github.com/gobtechlab/notary/ledger"
	notaryv1 "github.com/gobtechlab/notary/proto/notary/v1"
	"github.com/gobtechlab/notary/proto/notary/v1/gatewayv1"
)

// maxStateKeyBytes bounds QueryState keys (no state key is longer).
const maxStateKeyBytes = 256

// view returns the committed state at height (0: the latest).
func (s *Server) view(height int64) (*abci.StateView, error) {
	if height < 0 {
		return nil, invalidArg("height %d: use 0 for the latest committed height, or a committed height >= 1", height)
	}
	if last, _, _ := s.app.LastCommit(); last == 0 {
		return nil, status.Error(codes.Unavailable, "the chain has no committed block yet; retry shortly")
	}
	return s.app.StateAt(height)
}

// openPage starts a page of a reverse listing of prefix: the state view at
// the page token's height (the latest for the first page, token "") and the
// key the page iterates back from, exclusive.
func (s *Server) openPage(prefix []byte, token string) (*abci.StateView, []byte, error) {
	var tok pageToken
	if token != "" {
		last, _, _ := s.app.LastCommit()
		var err error
		if tok, err = decodePageToken(prefix, token, last); err != nil {
			return nil, nil, err
		}
	}
	view, err := s.view(tok.height)
	if err != nil {
		return nil, nil, err
	}
	end := ledger.PrefixEnd(prefix)
	if tok.key != nil {
		end = tok.key
	}
	return view, end, nil
}

// prove returns the value at key in view and its ICS23 proof bytes.
func prove(view *abci.StateView, key []byte) ([]byte, []byte, error) {
	value, p, err := view.Prove(key)
	if err != nil {
		return nil, nil, err
	}
	bz, err := p.Marshal()
	if err != nil {
		return nil, nil, fmt.Errorf("encode proof: %w", err)
	}
	return value, bz, nil
}

// proveRecord proves the record at key and decodes it into m; it reports
// whether the record exists.
func proveRecord(view *abci.StateView, key []byte, m proto.Message) (bool, []byte, error) {
	value, pf, err := prove(view, key)
	if err != nil {
		return false, nil, err
	}
	if value == nil {
		return false, pf, nil
	}
	if err := proto.Unmarshal(value, m); err != nil {
		return false, nil, &ledger.StoreError{Err: fmt.Errorf("decode %T at %q: %w", m, key, err)}
	}
	return true, pf, nil
}

// blockTime is the time of the block of view's height: its header's (the
// state holds no record of the block, so that a block that changes nothing
// leaves the app hash as it was).
func (s *Server) blockTime(view *abci.StateView) (time.Time, error) {
	h, err := s.chain.Header(view.Height())
	if err != nil {
		return time.Time{}, err
	}
	return h.Time, nil
}

func checkAlgorithm(alg notaryv1.HashAlgorithm) error {
	if ledger.AlgorithmName(alg) == "" {
		return invalidArg("hash_algorithm %s is not a known digest algorithm (use HASH_ALGORITHM_SHA2_256 or HASH_ALGORITHM_SHA3_256)", alg)
	}
	return nil
}

func checkDigest(d []byte) error {
	if len(d) != ledger.DigestSize {
		return invalidArg("digest is %d bytes; digests are %d bytes", len(d), ledger.DigestSize)
	}
	return nil
}

func checkSubject(subject []byte) error {
	if len(subject) != ledger.DigestSize {
		return invalidArg("subject is %d bytes; a subject id is %d bytes", len(subject), ledger.DigestSize)
	}
	return nil
}

func checkID(field, id string) error {
	if !ledger.ValidID(id) {
		return invalidArg("%s %s is not an id (1..64 of [a-z0-9-])", field, quote(id))
	}
	return nil
}

// maxVocabularyWord bounds the category and purpose of a question; the
// chain's vocabulary (params.data_categories, params.purposes) decides which
// words exist.
const maxVocabularyWord = 64

func checkVocabularyWord(field, w string) error {
	if len(w) > maxVocabularyWord {
		return invalidArg("%s %s is longer than any word of the chain's vocabulary (at most %d bytes; GetParams lists them)", field, quote(w), maxVocabularyWord)
	}
	return nil
}

// LookupDigest implements notary.v1.Gateway. Everything it returns is read
// from one state view, so every proof verifies against the app hash of the
// height it names. A document is named by its digest or by the key of its
// verification code.
func (s *Server) LookupDigest(_ context.Context, req *notaryv1.LookupDigestRequest) (*notaryv1.LookupDigestResponse, error) {
	byCode := len(req.CodeKey) > 0
	if err := checkDocumentName(req.HashAlgorithm, req.Digest, req.CodeKey); err != nil {
		return nil, err
	}
	view, err := s.view(req.Height)
	if err != nil {
		return nil, err
	}
	var loc ledger.Locator
	var ok bool
	if byCode {
		loc, ok, err = s.app.LookupCodeKey(req.CodeKey)
	} else {
		loc, ok, err = s.app.LookupDigest(req.HashAlgorithm, req.Digest)
	}
	if err != nil {
		return nil, err
	}
	if !ok || loc.Height > view.Height() {
		if byCode {
			return nil, status.Errorf(codes.NotFound, "no document is registered under code key %x at height %d", req.CodeKey, view.Height())
		}
		return nil, status.Errorf(codes.NotFound, "digest %x (%s) is not anchored at height %d",
			req.Digest, ledger.AlgorithmName(req.HashAlgorithm), view.Height())
	}
	resp := &notaryv1.LookupDigestResponse{Height: view.Height(), LeafIndex: loc.Leaf, Batch: &notaryv1.Batch{}}
	found, pf, err := proveRecord(view, ledger.BatchKey(loc.Height, loc.TxIndex), resp.Batch)
	if err != nil {
		return nil, err
	}
	if !found {
		return nil, &ledger.StoreError{Err: fmt.Errorf("the digest index names batch %s, which is not in the state at height %d", loc.BatchID(), view.Height())}
	}
	resp.BatchProof = pf
	digest, codeKey, path, err := s.merklePath(loc, resp.Batch)
	if err != nil {
		return nil, err
	}
	switch {
	case byCode && !bytes.Equal(codeKey, req.CodeKey),
		!byCode && (!bytes.Equal(digest, req.Digest) || resp.Batch.HashAlgorithm != req.HashAlgorithm):
		return nil, &ledger.StoreError{Err: fmt.Errorf("batch %s: leaf %d is not what the digest index names", loc.BatchID(), loc.Leaf)}
	}
	resp.MerklePath, resp.CodeKey = path, codeKey
	if byCode {
		resp.Digest = digest
	}
	resp.Issuer = &notaryv1.Agency{}
	found, pf, err = proveRecord(view, ledger.AgencyKey(resp.Batch.AgencyId), resp.Issuer)
	if err != nil {
		return nil, err
	}
	if !found {
		return nil, &ledger.StoreError{Err: fmt.Errorf("batch %s names agency %q, which is not in the state", loc.BatchID(), resp.Batch.AgencyId)}
	}
	resp.IssuerProof = pf
	rev := &notaryv1.Revocation{}
	found, pf, err = proveRecord(view, ledger.DocumentRevocationKey(resp.Batch.HashAlgorithm, digest, codeKey), rev)
	if err != nil {
		return nil, err
	}
	if found {
		resp.Revocation = rev
	}
	resp.StatusProof = pf
	return resp, nil
}

// checkDocumentName checks that a request names a document in exactly one
// way: hash_algorithm and digest, or code_key.
func checkDocumentName(alg notaryv1.HashAlgorithm, digest, codeKey []byte) error {
	if len(codeKey) > 0 {
		if alg != notaryv1.HashAlgorithm_HASH_ALGORITHM_UNSPECIFIED || len(digest) > 0 {
			return invalidArg("name the document by hash_algorithm and digest, or by code_key, not both")
		}
		if len(codeKey) != ledger.CodeKeySize {
			return invalidArg("code_key is %d bytes; a verification code's key is %d bytes", len(codeKey), ledger.CodeKeySize)
		}
		return nil
	}
	if err := checkAlgorithm(alg); err != nil {
		return err
	}
	return checkDigest(digest)
}

// merklePath returns the digest (a coded batch's entry) and code key (nil
// for a plain batch) at loc and its RFC 6962 inclusion path, from the
// batch's AnchorBatch transaction; it checks that its leaves are the
// batch's (count and root).
func (s *Server) merklePath(loc ledger.Locator, batch *notaryv1.Batch) (digest, codeKey []byte, path [][]byte, err error) {
	l, err := s.batchLeaves(batch)
	if err != nil {
		return nil, nil, nil, err
	}
	n := len(l.digests) / ledger.DigestSize
	if int(loc.Leaf) >= n || uint32(n) != batch.Count || l.coded != batch.Coded ||
		len(l.codeKeys) != 0 && len(l.codeKeys) != n*ledger.CodeKeySize ||
		!bytes.Equal(ledger.BatchRoot(l.codeKeys, l.digests), batch.Root) {
		return nil, nil, nil, &ledger.StoreError{Err: fmt.Errorf("batch %s: the block's leaves do not match the batch record or the digest index", loc.BatchID())}
	}
	digest = l.digests[int(loc.Leaf)*ledger.DigestSize : int(loc.Leaf+1)*ledger.DigestSize]
	switch {
	case l.coded:
		codeKey = digest[:ledger.CodeKeySize]
	case len(l.codeKeys) > 0:
		codeKey = l.codeKeys[int(loc.Leaf)*ledger.CodeKeySize : int(loc.Leaf+1)*ledger.CodeKeySize]
	}
	return digest, codeKey, ledger.BatchInclusionPath(l.codeKeys, l.digests, loc.Leaf), nil
}

// batchLeaves returns the digests and code keys of a batch record's
// AnchorBatch transaction (abci.Application.BatchTx: the transaction store
// or the block store; cached).
func (s *Server) batchLeaves(batch *notaryv1.Batch) (batchLeaves, error) {
	height, txIndex := batch.Height, batch.TxIndex
	ref := batchRef{height, txIndex}
	if l, ok := s.batches.Get(ref); ok {
		return l, nil
	}
	raw, err := s.app.BatchTx(batch)
	if err != nil {
		return batchLeaves{}, &ledger.StoreError{Err: fmt.Errorf("batch %s: %w", ledger.FormatBatchID(height, txIndex), err)}
	}
	var env notaryv1.Tx
	var body notaryv1.TxBody
	if err := proto.Unmarshal(raw, &env); err != nil {
		return batchLeaves{}, &ledger.StoreError{Err: fmt.Errorf("batch %s: %w", ledger.FormatBatchID(height, txIndex), err)}
	}
	if err := proto.Unmarshal(env.Body, &body); err != nil || body.GetAnchorBatch() == nil {
		return batchLeaves{}, &ledger.StoreError{Err: fmt.Errorf("batch %s: the transaction is not an AnchorBatch", ledger.FormatBatchID(height, txIndex))}
	}
	ab := body.GetAnchorBatch()
	l := batchLeaves{digests: ab.Digests, codeKeys: ab.CodeKeys, coded: ab.Coded}
	s.batches.Add(ref, l)
	return l, nil
}

// ListBatches implements notary.v1.Gateway: an agency's batches, newest
// first, paged at one height.
func (s *Server) ListBatches(_ context.Context, req *notaryv1.ListBatchesRequest) (*notaryv1.ListBatchesResponse, error) {
	if err := checkID("agency_id", req.AgencyId); err != nil {
		return nil, err
	}
	size, err := pageSize(req.PageSize)
	if err != nil {
		return nil, err
	}
	prefix := ledger.AgencyBatchPrefix(req.AgencyId)
	view, end, err := s.openPage(prefix, req.PageToken)
	if err != nil {
		return nil, err
	}
	var keys [][]byte
	if err := view.IterateReverse(prefix, end, func(k, _ []byte) bool {
		keys = append(keys, append([]byte(nil), k...))
		return len(keys) <= size
	}); err != nil {
		return nil, err
	}
	resp := &notaryv1.ListBatchesResponse{Height: view.Height()}
	if len(keys) > size {
		keys = keys[:size]
		resp.NextPageToken = encodePageToken(prefix, pageToken{height: view.Height(), key: keys[size-1]})
	}
	for _, k := range keys {
		rest := k[len(prefix):]
		if len(rest) != 12 {
			return nil, &ledger.StoreError{Err: fmt.Errorf("agency batch key %q has a bad suffix", k)}
		}
		h, i := int64(binary.BigEndian.Uint64(rest[:8])), binary.BigEndian.Uint32(rest[8:])
		b := &notaryv1.Batch{}
		ok, err := loadRecord(view, ledger.BatchKey(h, i), b)
		if err != nil {
			return nil, err
		}
		if !ok {
			return nil, &ledger.StoreError{Err: fmt.Errorf("agency %q lists batch %s, which is not in the state", req.AgencyId, ledger.FormatBatchID(h, i))}
		}
		resp.Batches = append(resp.Batches, b)
	}
	return resp, nil
}

// GetStatus implements notary.v1.Gateway.
func (s *Server) GetStatus(context.Context, *notaryv1.GetStatusRequest) (*notaryv1.GetStatusResponse, error) {
	height, hash, t := s.app.LastCommit()
	resp := &notaryv1.GetStatusResponse{
		ChainId:       s.chainID,
		LatestHeight:  height,
		LatestAppHash: hash,
		CatchingUp:    s.chain.CatchingUp(),
		NodeId:        s.chain.NodeID(),
		Moniker:       s.chain.Moniker(),
		Version:       s.version,
	}
	if height == 0 {
		return resp, nil
	}
	resp.LatestBlockTime = timestamppb.New(t)
	view, err := s.app.StateAt(height)
	if err != nil {
		return nil, err
	}
	ministries, err := listRecords(view, ledger.MinistryPrefix(), func() *notaryv1.Ministry { return &notaryv1.Ministry{} })
	if err != nil {
		return nil, err
	}
	byKey := map[string]*notaryv1.Ministry{}
	for _, m := range ministries {
		byKey[string(m.ConsensusPubKey)] = m
	}
	// The validators that sign the next block, in CometBFT's order, with
	// their ministries.
	vals, err := s.chain.Validators(height + 1)
	if err != nil {
		return nil, fmt.Errorf("validators of height %d: %w", height+1, err)
	}
	for _, v := range vals.Validators {
		pk := v.PubKey.Bytes()
		m, ok := byKey[string(pk)]
		if !ok {
			m = &notaryv1.Ministry{ConsensusPubKey: pk}
		} else {
			m = proto.Clone(m).(*notaryv1.Ministry)
		}
		m.Power = v.VotingPower
		resp.Validators = append(resp.Validators, m)
	}
	return resp, nil
}

// listRecords decodes every record under prefix, in key order.
func listRecords[T proto.Message](view *abci.StateView, prefix []byte, mk func() T) ([]T, error) {
	var out []T
	var derr error
	err := view.Iterate(prefix, ledger.PrefixEnd(prefix), func(k, v []byte) bool {
		m := mk()
		if err := proto.Unmarshal(v, m); err != nil {
			derr = &ledger.StoreError{Err: fmt.Errorf("decode %T at %q: %w", m, k, err)}
			return false
		}
		out = append(out, m)
		return true
	})
	if err != nil {
		return nil, err
	}
	return out, derr
}

// listLatest decodes every record under prefix at the latest height, and
// returns that height.
func listLatest[T proto.Message](s *Server, prefix []byte, mk func() T) (int64, []T, error) {
	view, err := s.view(0)
	if err != nil {
		return 0, nil, err
	}
	out, err := listRecords(view, prefix, mk)
	return view.Height(), out, err
}

// GetAccount implements notary.v1.Gateway.
func (s *Server) GetAccount(_ context.Context, req *notaryv1.GetAccountRequest) (*notaryv1.GetAccountResponse, error) {
	if len(req.PubKey) != ledger.PublicKeySize {
		return nil, invalidArg("pub_key is %d bytes; an ed25519 public key is %d bytes", len(req.PubKey), ledger.PublicKeySize)
	}
	view, err := s.view(0)
	if err != nil {
		return nil, err
	}
	acct := &notaryv1.Account{}
	found, pf, err := proveRecord(view, ledger.AccountKey(req.PubKey), acct)
	if err != nil {
		return nil, err
	}
	if !found {
		acct = &notaryv1.Account{PubKey: req.PubKey}
	}
	return &notaryv1.GetAccountResponse{Height: view.Height(), Account: acct, Proof: pf}, nil
}

// ListAgencies implements notary.v1.Gateway.
func (s *Server) ListAgencies(context.Context, *notaryv1.ListAgenciesRequest) (*notaryv1.ListAgenciesResponse, error) {
	h, as, err := listLatest(s, ledger.AgencyPrefix(), func() *notaryv1.Agency { return &notaryv1.Agency{} })
	if err != nil {
		return nil, err
	}
	return &notaryv1.ListAgenciesResponse{Height: h, Agencies: as}, nil
}

// ListMinistries implements notary.v1.Gateway.
func (s *Server) ListMinistries(context.Context, *notaryv1.ListMinistriesRequest) (*notaryv1.ListMinistriesResponse, error) {
	h, ms, err := listLatest(s, ledger.MinistryPrefix(), func() *notaryv1.Ministry { return &notaryv1.Ministry{} })
	if err != nil {
		return nil, err
	}
	return &notaryv1.ListMinistriesResponse{Height: h, Ministries: ms}, nil
}

// GetParams implements notary.v1.Gateway.
func (s *Server) GetParams(context.Context, *notaryv1.GetParamsRequest) (*notaryv1.GetParamsResponse, error) {
	view, err := s.view(0)
	if err != nil {
		return nil, err
	}
	p := &notaryv1.Params{}
	ok, err := loadRecord(view, ledger.ParamsKey(), p)
	if err != nil {
		return nil, err
	}
	if !ok {
		return nil, &ledger.StoreError{Err: fmt.Errorf("no params in the state at height %d", view.Height())}
	}
	return &notaryv1.GetParamsResponse{Height: view.Height(), Params: p}, nil
}

// ListMandates implements notary.v1.Gateway.
func (s *Server) ListMandates(context.Context, *notaryv1.ListMandatesRequest) (*notaryv1.ListMandatesResponse, error) {
	h, ms, err := listLatest(s, ledger.MandatePrefix(), func() *notaryv1.Mandate { return &notaryv1.Mandate{} })
	if err != nil {
		return nil, err
	}
	return &notaryv1.ListMandatesResponse{Height: h, Mandates: ms}, nil
}

// consentView proves a consent and gives its status at t.
func consentView(view *abci.StateView, id string, t time.Time) (*notaryv1.ConsentView, bool, error) {
	c := &notaryv1.Consent{}
	found, pf, err := proveRecord(view, ledger.ConsentKey(id), c)
	if err != nil || !found {
		return nil, found, err
	}
	return &notaryv1.ConsentView{Consent: c, Status: ledger.ConsentStatusAt(c, t), Proof: pf}, true, nil
}

// ListConsents implements notary.v1.Gateway: a subject's consents, to the
// subject.
func (s *Server) ListConsents(ctx context.Context, req *notaryv1.ListConsentsRequest) (*notaryv1.ListConsentsResponse, error) {
	if err := checkSubject(req.Subject); err != nil {
		return nil, err
	}
	const method = gatewayv1.Gateway_ListConsents_FullMethodName
	r, err := s.readerOf(ctx, method, req)
	if err != nil {
		return nil, err
	}
	if err := s.ownSubject(r, method, "a subject's consents", req.Subject); err != nil {
		return nil, err
	}
	view, err := s.view(0)
	if err != nil {
		return nil, err
	}
	t, err := s.blockTime(view)
	if err != nil {
		return nil, err
	}
	prefix := ledger.SubjectConsentPrefix(req.Subject)
	var ids []string
	if err := view.Iterate(prefix, ledger.PrefixEnd(prefix), func(k, _ []byte) bool {
		ids = append(ids, string(k[len(prefix):]))
		return true
	}); err != nil {
		return nil, err
	}
	resp := &notaryv1.ListConsentsResponse{Height: view.Height(), Time: timestamppb.New(t)}
	for _, id := range ids {
		cv, found, err := consentView(view, id, t)
		if err != nil {
			return nil, err
		}
		if !found {
			return nil, &ledger.StoreError{Err: fmt.Errorf("the subject's consent list names consent %q, which is not in the state", id)}
		}
		resp.Consents = append(resp.Consents, cv)
	}
	return resp, nil
}

// GetConsent implements notary.v1.Gateway: a consent, to its subject and
// to the agency it is given to.
func (s *Server) GetConsent(ctx context.Context, req *notaryv1.GetConsentRequest) (*notaryv1.GetConsentResponse, error) {
	if !ledger.ValidConsentID(req.ConsentId) {
		return nil, invalidArg("consent_id %s is not a consent id (%d lowercase hex characters)", quote(req.ConsentId), ledger.ConsentIDLen)
	}
	const method = gatewayv1.Gateway_GetConsent_FullMethodName
	r, err := s.readerOf(ctx, method, req)
	if err != nil {
		return nil, err
	}
	switch {
	case r.anonymous():
		return nil, s.unauthenticated("GetConsent returns a consent only to its subject (a request signed with the subject's key: read_auth, see notary.v1.ReadAuth) and to the agency it is given to (its client certificate); the request has neither")
	case r.subject == nil && r.role != "agency":
		return nil, s.forbidden("GetConsent returns a consent only to its subject and to the agency it is given to; the request presents %s", r.describe())
	}
	view, err := s.view(req.Height)
	if err != nil {
		return nil, err
	}
	t, err := s.blockTime(view)
	if err != nil {
		return nil, err
	}
	cv, found, err := consentView(view, req.ConsentId, t)
	if err != nil {
		return nil, err
	}
	if !found {
		return nil, status.Errorf(codes.NotFound, "consent %s does not exist at height %d", req.ConsentId, view.Height())
	}
	if !r.signedBy(cv.Consent.Subject) && !r.agency(cv.Consent.AgencyId) {
		return nil, s.forbidden("GetConsent returns consent %s only to its subject and to the agency it is given to; the request presents %s", req.ConsentId, r.describe())
	}
	return &notaryv1.GetConsentResponse{Height: view.Height(), Time: timestamppb.New(t), Consent: cv}, nil
}

// CheckCoverage implements notary.v1.Gateway: whether the exchange would be
// covered at the latest block's time, and by what; a reason if not. It
// answers the requesting and the providing agency, and the subject; the
// providing agency alone gets no reason that would describe the subject's
// consents.
func (s *Server) CheckCoverage(ctx context.Context, req *notaryv1.CheckCoverageRequest) (*notaryv1.CheckCoverageResponse, error) {
	if err := checkID("requester_agency_id", req.RequesterAgencyId); err != nil {
		return nil, err
	}
	if err := checkID("provider_agency_id", req.ProviderAgencyId); err != nil {
		return nil, err
	}
	if err := checkSubject(req.Subject); err != nil {
		return nil, err
	}
	if err := checkVocabularyWord("category", req.Category); err != nil {
		return nil, err
	}
	if err := checkVocabularyWord("purpose", req.Purpose); err != nil {
		return nil, err
	}
	const method = gatewayv1.Gateway_CheckCoverage_FullMethodName
	r, err := s.readerOf(ctx, method, req)
	if err != nil {
		return nil, err
	}
	switch {
	case r.agency(req.RequesterAgencyId) || r.agency(req.ProviderAgencyId) || r.signedBy(req.Subject):
	case r.anonymous():
		return nil, s.unauthenticated("CheckCoverage answers only the agencies of the exchange (the client certificate of the requesting or the providing agency) and its subject (a request signed with the subject's key: read_auth, see notary.v1.ReadAuth); the request has neither")
	case r.role == "agency":
		return nil, s.forbidden("CheckCoverage answers an agency only about exchanges it takes part in: the request presents %s and asks about requester %q and provider %q", r.describe(), req.RequesterAgencyId, req.ProviderAgencyId)
	default:
		return nil, s.forbidden("CheckCoverage answers only the agencies of the exchange and its subject; the request presents %s", r.describe())
	}
	view, err := s.view(0)
	if err != nil {
		return nil, err
	}
	t, err := s.blockTime(view)
	if err != nil {
		return nil, err
	}
	resp := &notaryv1.CheckCoverageResponse{Height: view.Height()}
	consentID, mandateID, err := ledger.Coverage(view, t, req.RequesterAgencyId, req.ProviderAgencyId, req.Subject, req.Category, req.Purpose)
	if err != nil {
		switch CodeForLedger(ledger.CodeOf(err)) {
		case codes.InvalidArgument, codes.NotFound, codes.Internal:
			// A malformed question, an unknown agency or a failure.
			return nil, err
		}
		resp.Reason = clip(err.Error())
		if !r.agency(req.RequesterAgencyId) && !r.signedBy(req.Subject) {
			// The providing agency learns that the exchange is not
			// covered, not what the subject consented to.
			resp.Reason = fmt.Sprintf("no consent of the subject to agency %q and no mandate covers this exchange now (the reason goes to the requesting agency and to the subject)", req.RequesterAgencyId)
		}
		return resp, nil
	}
	resp.Covered, resp.ConsentId, resp.MandateId = true, consentID, mandateID
	return resp, nil
}

// GetAccessHistory implements notary.v1.Gateway: the head of a subject's
// access history and a page of its entries, each with its proof, from one
// state view; with with_checkpoint, at a height with a signed header, and
// with that checkpoint and the validator chain. It answers the subject only.
func (s *Server) GetAccessHistory(ctx context.Context, req *notaryv1.GetAccessHistoryRequest) (*notaryv1.GetAccessHistoryResponse, error) {
	if err := checkSubject(req.Subject); err != nil {
		return nil, err
	}
	const method = gatewayv1.Gateway_GetAccessHistory_FullMethodName
	r, err := s.readerOf(ctx, method, req)
	if err != nil {
		return nil, err
	}
	if err := s.ownSubject(r, method, "a subject's access history", req.Subject); err != nil {
		return nil, err
	}
	size, err := pageSize(req.PageSize)
	if err != nil {
		return nil, err
	}
	height := req.Height
	var cp *notaryv1.GetCheckpointResponse
	if req.WithCheckpoint {
		if req.Height < 0 {
			return nil, invalidArg("height %d: use 0 for the newest height with a signed header, or a committed height >= 1", req.Height)
		}
		if s.receipts == nil {
			return nil, status.Error(codes.Unimplemented, "GetAccessHistory with_checkpoint: this node builds no checkpoints")
		}
		if cp, err = s.receipts.GetCheckpoint(ctx, &notaryv1.GetCheckpointRequest{Height: req.Height}); err != nil {
			return nil, err
		}
		if cp.GetCheckpoint() == nil {
			return nil, &ledger.StoreError{Err: fmt.Errorf("the checkpoint builder returned no checkpoint for height %d", req.Height)}
		}
		height = cp.Checkpoint.Height
	}
	view, err := s.view(height)
	if err != nil {
		return nil, err
	}
	headBytes, headProof, err := prove(view, ledger.AccessHeadKey(req.Subject))
	if err != nil {
		return nil, err
	}
	resp := &notaryv1.GetAccessHistoryResponse{Height: view.Height(), Head: headBytes, HeadProof: headProof, Checkpoint: cp}
	var head notaryv1.AccessHead
	if headBytes != nil {
		if err := proto.Unmarshal(headBytes, &head); err != nil {
			return nil, &ledger.StoreError{Err: fmt.Errorf("decode access head: %w", err)}
		}
	}
	if req.Start > head.Count {
		return nil, status.Errorf(codes.OutOfRange, "start %d is past the end of the history (%d entries at height %d)", req.Start, head.Count, view.Height())
	}
	for i := req.Start; i < head.Count && i < req.Start+uint64(size); i++ {
		rec, pf, err := prove(view, ledger.ExchangeKey(req.Subject, i))
		if err != nil {
			return nil, err
		}
		if rec == nil {
			return nil, &ledger.StoreError{Err: fmt.Errorf("access history entry %d of %d is missing at height %d", i, head.Count, view.Height())}
		}
		resp.Entries = append(resp.Entries, &notaryv1.AccessEntry{Record: rec, Proof: pf})
	}
	return resp, nil
}

// ListProposals implements notary.v1.Gateway: proposals newest first, paged
// at one height.
func (s *Server) ListProposals(_ context.Context, req *notaryv1.ListProposalsRequest) (*notaryv1.ListProposalsResponse, error) {
	size, err := pageSize(req.PageSize)
	if err != nil {
		return nil, err
	}
	prefix := ledger.ProposalPrefix()
	view, end, err := s.openPage(prefix, req.PageToken)
	if err != nil {
		return nil, err
	}
	resp := &notaryv1.ListProposalsResponse{Height: view.Height()}
	var lastKey []byte
	var derr error
	more := false
	if err := view.IterateReverse(prefix, end, func(k, v []byte) bool {
		if len(resp.Proposals) == size {
			more = true
			return false
		}
		p := &notaryv1.Proposal{}
		if err := proto.Unmarshal(v, p); err != nil {
			derr = &ledger.StoreError{Err: fmt.Errorf("decode proposal at %q: %w", k, err)}
			return false
		}
		resp.Proposals = append(resp.Proposals, p)
		lastKey = append(lastKey[:0], k...)
		return true
	}); err != nil {
		return nil, err
	}
	if derr != nil {
		return nil, derr
	}
	if more {
		resp.NextPageToken = encodePageToken(prefix, pageToken{height: view.Height(), key: lastKey})
	}
	return resp, nil
}

// GetProposal implements notary.v1.Gateway.
func (s *Server) GetProposal(_ context.Context, req *notaryv1.GetProposalRequest) (*notaryv1.GetProposalResponse, error) {
	if req.Id == 0 {
		return nil, invalidArg("id: proposal ids start at 1")
	}
	view, err := s.view(req.Height)
	if err != nil {
		return nil, err
	}
	p := &notaryv1.Proposal{}
	found, pf, err := proveRecord(view, ledger.ProposalKey(req.Id), p)
	if err != nil {
		return nil, err
	}
	if !found {
		return nil, status.Errorf(codes.NotFound, "proposal %d does not exist at height %d", req.Id, view.Height())
	}
	votes, err := listRecords(view, ledger.VotePrefix(req.Id), func() *notaryv1.VoteRecord { return &notaryv1.VoteRecord{} })
	if err != nil {
		return nil, err
	}
	return &notaryv1.GetProposalResponse{Height: view.Height(), Proposal: p, Proof: pf, Votes: votes}, nil
}

// QueryState implements notary.v1.Gateway. It refuses the keys of
// citizens' records, which the signed reads return to whom they belong.
func (s *Server) QueryState(_ context.Context, req *notaryv1.QueryStateRequest) (*notaryv1.QueryStateResponse, error) {
	if len(req.Key) == 0 || len(req.Key) > maxStateKeyBytes {
		return nil, invalidArg("key is %d bytes; a state key is 1..%d bytes", len(req.Key), maxStateKeyBytes)
	}
	for _, p := range ledger.SubjectPrefixes() {
		if bytes.HasPrefix(req.Key, p) {
			return nil, s.forbidden("QueryState does not return keys under %q, a citizen's records: ListConsents, GetConsent and GetAccessHistory return them, with their proofs, to the citizen (a request signed with the citizen's key)", p)
		}
	}
	view, err := s.view(req.Height)
	if err != nil {
		return nil, err
	}
	value, pf, err := prove(view, req.Key)
	if err != nil {
		return nil, err
	}
	return &notaryv1.QueryStateResponse{Height: view.Height(), Value: value, Proof: pf}, nil
}

// GetReceipt implements notary.v1.Gateway through the ReceiptBuilder: by
// digest, or by the key of a verification code; a v1 receipt, or a v2 one
// (version 2).
func (s *Server) GetReceipt(ctx context.Context, req *notaryv1.GetReceiptRequest) (*notaryv1.GetReceiptResponse, error) {
	if err := checkDocumentName(req.HashAlgorithm, req.Digest, req.CodeKey); err != nil {
		return nil, err
	}
	if req.StatusHeight < 0 {
		return nil, invalidArg("status_height %d: use 0 for the latest, or a committed height >= 1", req.StatusHeight)
	}
	switch {
	case req.Version > 2:
		return nil, invalidArg("version %d: 0 or 1 for a v1 receipt, 2 for a v2 receipt", req.Version)
	case req.Version == 2 && req.StatusHeight != 0:
		return nil, invalidArg("status_height %d: a v2 receipt carries no status; leave it 0", req.StatusHeight)
	}
	if s.receipts == nil {
		return nil, status.Error(codes.Unimplemented, "GetReceipt: this node builds no receipts yet; use LookupDigest for the proofs")
	}
	return s.receipts.GetReceipt(ctx, req)
}

// GetCheckpoint implements notary.v1.Gateway through the ReceiptBuilder.
func (s *Server) GetCheckpoint(ctx context.Context, req *notaryv1.GetCheckpointRequest) (*notaryv1.GetCheckpointResponse, error) {
	if req.Height < 0 {
		return nil, invalidArg("height %d: use 0 for the latest, or a committed height >= 1", req.Height)
	}
	if s.receipts == nil {
		return nil, status.Error(codes.Unimplemented, "GetCheckpoint: this node builds no checkpoints yet")
	}
	return s.receipts.GetCheckpoint(ctx, req)
}
