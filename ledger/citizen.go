package ledger

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"strconv"
	"time"

	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/timestamppb"

	notaryv1 "github.com/gobtechlab/notary/proto/notary/v1"
)

// Errors of consents and access histories (codes 70..79).
var (
	// ErrConsentExists is returned if the id derived for a new consent is
	// already taken; it never overwrites the existing consent.
	ErrConsentExists = register(70, "consent id already in use")
	// ErrAccessHistory is returned by VerifyAccessChain when a list of
	// entries is not exactly the history its head commits to.
	ErrAccessHistory = register(71, "access history does not match its head")
)

// ConsentIDLen is the length of a consent id: 32 lowercase hex characters.
const ConsentIDLen = 32

// zeroChain is the access chain value of an empty history.
var zeroChain [sha256.Size]byte

// ConsentID returns the id of the consent that subject grants in its
// transaction with the given sequence: the lowercase hex of the first 16
// bytes of SHA-256("notary/consent/v1" || subject || be64(sequence)).
func ConsentID(subject []byte, sequence uint64) string {
	h := sha256.New()
	h.Write([]byte(consentDomain))
	h.Write(subject)
	h.Write(be64(sequence))
	return hex.EncodeToString(h.Sum(nil)[:ConsentIDLen/2])
}

// ValidConsentID reports whether id has the form of a consent id
// (ConsentIDLen lowercase hex characters).
func ValidConsentID(id string) bool {
	if len(id) != ConsentIDLen {
		return false
	}
	for i := 0; i < len(id); i++ {
		if c := id[i]; !(c >= '0' && c <= '9' || c >= 'a' && c <= 'f') {
			return false
		}
	}
	return true
}

// ConsentStatusAt returns the status of a consent at time t, following
// ISO/IEC TS 27560 and W3C DPV: WITHDRAWN once withdrawn, PENDING before
// valid_from, EXPIRED at or after valid_until, GIVEN otherwise. A nil consent
// or a stored status other than GIVEN or WITHDRAWN gives UNSPECIFIED.
func ConsentStatusAt(c *notaryv1.Consent, t time.Time) notaryv1.ConsentStatus {
	switch {
	case c == nil:
		return notaryv1.ConsentStatus_CONSENT_STATUS_UNSPECIFIED
	case c.Status == notaryv1.ConsentStatus_CONSENT_STATUS_WITHDRAWN:
		return notaryv1.ConsentStatus_CONSENT_STATUS_WITHDRAWN
	case c.Status != notaryv1.ConsentStatus_CONSENT_STATUS_GIVEN:
		return notaryv1.ConsentStatus_CONSENT_STATUS_UNSPECIFIED
	case t.Before(c.ValidFrom.AsTime()):
		return notaryv1.ConsentStatus_CONSENT_STATUS_PENDING
	case !t.Before(c.ValidUntil.AsTime()):
		return notaryv1.ConsentStatus_CONSENT_STATUS_EXPIRED
	}
	return notaryv1.ConsentStatus_CONSENT_STATUS_GIVEN
}

// consentInForce returns nil if c is in force at t, or the registered error
// that says why not.
func consentInForce(c *notaryv1.Consent, t time.Time) error {
	switch s := ConsentStatusAt(c, t); s {
	case notaryv1.ConsentStatus_CONSENT_STATUS_GIVEN:
		return nil
	case notaryv1.ConsentStatus_CONSENT_STATUS_WITHDRAWN:
		return wrapf(ErrConsentWithdrawn, "consent %s was withdrawn at height %d", c.Id, c.WithdrawnHeight)
	case notaryv1.ConsentStatus_CONSENT_STATUS_PENDING:
		return wrapf(ErrConsentNotYetValid, "consent %s is in force from %s", c.Id, formatTime(c.ValidFrom))
	case notaryv1.ConsentStatus_CONSENT_STATUS_EXPIRED:
		return wrapf(ErrConsentExpired, "consent %s expired at %s", c.Id, formatTime(c.ValidUntil))
	default:
		return &StoreError{fmt.Errorf("consent %s has status %s", c.GetId(), c.GetStatus())}
	}
}

// MandateInForce returns nil if the legal mandate m is in force at t, or
// ErrMandateExpired (expired by governance, or at or after valid_until) or
// ErrMandateNotYetValid (before valid_from). A nil mandate gives
// ErrMandateNotFound.
func MandateInForce(m *notaryv1.Mandate, t time.Time) error {
	switch {
	case m == nil:
		return wrapf(ErrMandateNotFound, "no mandate")
	case m.ExpiredHeight != 0:
		return wrapf(ErrMandateExpired, "mandate %s was expired by governance at height %d", m.Id, m.ExpiredHeight)
	case t.Before(m.ValidFrom.AsTime()):
		return wrapf(ErrMandateNotYetValid, "mandate %s is in force from %s", m.Id, formatTime(m.ValidFrom))
	case !t.Before(m.ValidUntil.AsTime()):
		return wrapf(ErrMandateExpired, "mandate %s expired at %s", m.Id, formatTime(m.ValidUntil))
	}
	return nil
}

func formatTime(ts *timestamppb.Timestamp) string { return ts.AsTime().Format(time.RFC3339Nano) }

// checkConsentValidity checks the validity period of a grant at block time now.
func checkConsentValidity(from, until *timestamppb.Timestamp, now time.Time) error {
	if from == nil || until == nil {
		return wrapf(ErrInvalidValidity, "valid_from and valid_until are required")
	}
	if err := from.CheckValid(); err != nil {
		return wrapf(ErrInvalidValidity, "valid_from: %v", err)
	}
	if err := until.CheckValid(); err != nil {
		return wrapf(ErrInvalidValidity, "valid_until: %v", err)
	}
	if !until.AsTime().After(from.AsTime()) {
		return wrapf(ErrInvalidValidity, "valid_until %s is not after valid_from %s", formatTime(until), formatTime(from))
	}
	if !until.AsTime().After(now) {
		return wrapf(ErrInvalidValidity, "valid_until %s is not after the block time %s", formatTime(until), now.UTC().Format(time.RFC3339Nano))
	}
	return nil
}

// checkVocabulary checks category and purpose against the params' vocabularies.
func checkVocabulary(p *notaryv1.Params, category, purpose string) error {
	if !inSorted(p.DataCategories, category) {
		return wrapf(ErrUnknownCategory, "%q", category)
	}
	if !inSorted(p.Purposes, purpose) {
		return wrapf(ErrUnknownPurpose, "%q", purpose)
	}
	return nil
}

// activeAgencyNamed returns the agency id if it exists and is active, else
// ErrUnknownAgency naming field.
func activeAgencyNamed(st Store, field, id string) (*notaryv1.Agency, error) {
	a, err := loadAgency(st, id)
	if err != nil {
		return nil, err
	}
	if a == nil || !a.Active {
		return nil, wrapf(ErrUnknownAgency, "%s %q is not an active agency", field, id)
	}
	return a, nil
}

// loadConsent returns the consent id, or nil if there is none.
func loadConsent(st Store, id string) (*notaryv1.Consent, error) {
	c := &notaryv1.Consent{}
	ok, err := load(st, ConsentKey(id), c)
	if !ok {
		return nil, err
	}
	return c, nil
}

// mandateByID returns the mandate id, or nil if there is none.
func mandateByID(st Store, id string) (*notaryv1.Mandate, error) {
	m := &notaryv1.Mandate{}
	ok, err := load(st, MandateKey(id), m)
	if !ok {
		return nil, err
	}
	return m, nil
}

func (c *txContext) grantConsent(m *notaryv1.GrantConsent) error {
	subject := SubjectID(c.tx.Signer)
	if !bytes.Equal(m.Subject, subject) {
		return wrapf(ErrSubjectMismatch, "subject %x, the signer's is %x", m.Subject, subject)
	}
	if _, err := activeAgencyNamed(c.st, "agency_id", m.AgencyId); err != nil {
		return err
	}
	if err := checkVocabulary(c.e.params, m.Category, m.Purpose); err != nil {
		return err
	}
	if err := checkConsentValidity(m.ValidFrom, m.ValidUntil, c.e.block.Time); err != nil {
		return err
	}
	id := ConsentID(subject, c.tx.Body.Sequence)
	prev, err := c.st.Get(ConsentKey(id))
	if err != nil {
		return err
	}
	if prev != nil {
		return wrapf(ErrConsentExists, "%s", id)
	}
	if max := c.e.params.MaxActiveConsentsPerSubject; max > 0 {
		if err := c.checkConsentLimit(subject, max); err != nil {
			return err
		}
		if err := c.st.Set(ActiveConsentKey(subject, id), marker()); err != nil {
			return err
		}
	}
	cons := &notaryv1.Consent{
		Id:            id,
		Subject:       subject,
		AgencyId:      m.AgencyId,
		Category:      m.Category,
		Purpose:       m.Purpose,
		ValidFrom:     m.ValidFrom,
		ValidUntil:    m.ValidUntil,
		Status:        notaryv1.ConsentStatus_CONSENT_STATUS_GIVEN,
		GrantedHeight: c.e.block.Height,
		GrantedTime:   c.now(),
	}
	if err := c.st.Set(ConsentKey(id), Encode(cons)); err != nil {
		return err
	}
	if err := c.st.Set(SubjectConsentKey(subject, id), marker()); err != nil {
		return err
	}
	c.result = &notaryv1.TxResult{Created: &notaryv1.TxResult_ConsentId{ConsentId: id}}
	c.emit("notary.consent.grant",
		"id", id,
		"agency", cons.AgencyId,
		"category", cons.Category,
		"purpose", cons.Purpose)
	return nil
}

func (c *txContext) withdrawConsent(m *notaryv1.WithdrawConsent) error {
	if !ValidConsentID(m.ConsentId) {
		return wrapf(ErrConsentNotFound, "%q is not a consent id", m.ConsentId)
	}
	cons, err := loadConsent(c.st, m.ConsentId)
	if err != nil {
		return err
	}
	if cons == nil {
		return wrapf(ErrConsentNotFound, "%s", m.ConsentId)
	}
	if !bytes.Equal(cons.Subject, SubjectID(c.tx.Signer)) {
		return wrapf(ErrNotConsentOwner, "consent %s", cons.Id)
	}
	if cons.Status != notaryv1.ConsentStatus_CONSENT_STATUS_GIVEN {
		return wrapf(ErrConsentWithdrawn, "consent %s was withdrawn at height %d", cons.Id, cons.WithdrawnHeight)
	}
	cons.Status = notaryv1.ConsentStatus_CONSENT_STATUS_WITHDRAWN
	cons.WithdrawnHeight = c.e.block.Height
	cons.WithdrawnTime = c.now()
	if err := c.st.Set(ConsentKey(cons.Id), Encode(cons)); err != nil {
		return err
	}
	// A consent granted under a limit leaves the active-consent index.
	ak := ActiveConsentKey(cons.Subject, cons.Id)
	if v, err := c.st.Get(ak); err != nil {
		return err
	} else if v != nil {
		if err := c.st.Delete(ak); err != nil {
			return err
		}
	}
	c.emit("notary.consent.withdraw",
		"id", cons.Id,
		"agency", cons.AgencyId,
		"category", cons.Category,
		"purpose", cons.Purpose)
	return nil
}

// checkConsentLimit refuses a new consent of subject if the subject already
// has max active consents: not withdrawn and valid_until after the block
// time (a consent not yet in force counts). It counts the subject's
// active-consent index, in which every consent granted while a limit is in
// force is entered and which a withdrawal leaves; entries of consents that
// expired are removed here. A consent granted while no limit was in force
// is not in the index and does not count.
func (c *txContext) checkConsentLimit(subject []byte, max uint32) error {
	prefix := ActiveConsentPrefix(subject)
	var ids []string
	if err := c.st.Iterate(prefix, PrefixEnd(prefix), func(k, _ []byte) bool {
		ids = append(ids, string(k[len(prefix):]))
		return true
	}); err != nil {
		return err
	}
	now := c.e.block.Time
	var active uint32
	for _, id := range ids {
		cons, err := loadConsent(c.st, id)
		if err != nil {
			return err
		}
		if cons == nil {
			return &StoreError{fmt.Errorf("active-consent index names consent %q, which is not in the state", id)}
		}
		if cons.Status == notaryv1.ConsentStatus_CONSENT_STATUS_GIVEN && now.Before(cons.ValidUntil.AsTime()) {
			active++
			continue
		}
		if err := c.st.Delete(ActiveConsentKey(subject, id)); err != nil {
			return err
		}
	}
	if active >= max {
		return wrapf(ErrConsentLimit, "subject %x has %d active consents, the limit (max_active_consents_per_subject) is %d: withdraw one, or wait until one expires",
			subject, active, max)
	}
	return nil
}

// enrollCitizen creates the citizen account of a key on behalf of c.agency,
// which holds PERMISSION_ENROLL.
func (c *txContext) enrollCitizen(m *notaryv1.EnrollCitizen) error {
	if m.AgencyId == "" {
		return wrapf(ErrInvalidField, "agency_id is required")
	}
	if !ValidPublicKey(m.PubKey) {
		return wrapf(ErrBadPublicKey, "pub_key: %d bytes, not a 32-byte ed25519 public key", len(m.PubKey))
	}
	who, err := keyUser(c.st, m.PubKey)
	if err != nil {
		return err
	}
	if who != "" {
		return wrapf(ErrKeyInUse, "key %x is used by %s", m.PubKey, who)
	}
	acct := &notaryv1.Account{
		PubKey:         m.PubKey,
		Role:           notaryv1.Role_ROLE_CITIZEN,
		Owner:          fmt.Sprintf("%x", SubjectID(m.PubKey)),
		EnrolledBy:     c.agency.Id,
		EnrolledHeight: c.e.block.Height,
	}
	if err := c.st.Set(AccountKey(m.PubKey), Encode(acct)); err != nil {
		return err
	}
	c.emit("notary.citizen.enroll", "agency", c.agency.Id)
	return nil
}

// checkConfirmation checks the providing agency's confirmation of exchange
// m and marks it used: the key must be the registered signing key of the
// active agency m names as provider, the signature must verify over
// ConfirmSignBytes, and the confirmation must not have been used before.
func (c *txContext) checkConfirmation(m *notaryv1.RecordExchange) error {
	pc := m.ProviderConfirmation
	if len(pc.PubKey) != PublicKeySize || len(pc.Signature) != SignatureSize {
		return wrapf(ErrBadConfirmation, "want a %d-byte key and a %d-byte signature, got %d and %d bytes",
			PublicKeySize, SignatureSize, len(pc.PubKey), len(pc.Signature))
	}
	acct, err := loadAccount(c.st, pc.PubKey)
	if err != nil {
		return err
	}
	if acct == nil || acct.Role != notaryv1.Role_ROLE_AGENCY || acct.Owner != m.ProviderAgencyId {
		return wrapf(ErrBadConfirmation, "key %x is not the signing key of agency %q, the provider", pc.PubKey, m.ProviderAgencyId)
	}
	msg := ConfirmSignBytes(c.e.l.chainID, m)
	if !VerifySignature(pc.PubKey, msg, pc.Signature) {
		return wrapf(ErrBadConfirmation, "the signature of agency %q does not verify over this exchange on chain %q", m.ProviderAgencyId, c.e.l.chainID)
	}
	h := sha256.Sum256(msg)
	key := ConfirmationKey(h[:])
	prev, err := c.st.Get(key)
	if err != nil {
		return err
	}
	if prev != nil {
		return wrapf(ErrConfirmationUsed, "agency %q confirmed these exact bytes for an exchange recorded before; exchanges that are alike differ by their reference", m.ProviderAgencyId)
	}
	return c.st.Set(key, marker())
}

// exchangeScope is what a basis must cover for an exchange.
type exchangeScope struct {
	subject                                []byte
	requester, provider, category, purpose string
}

// consentGaps says, for each dimension of s in rule order (subject,
// requester, category, purpose), why the consent does not cover it; nil
// where it does. A consent does not restrict the provider.
func (s exchangeScope) consentGaps(cons *notaryv1.Consent) [4]error {
	var g [4]error
	if !bytes.Equal(cons.Subject, s.subject) {
		g[0] = wrapf(ErrBasisSubject, "consent %s is another subject's", cons.Id)
	}
	if cons.AgencyId != s.requester {
		g[1] = wrapf(ErrBasisRequester, "consent %s is given to %q, not %q", cons.Id, cons.AgencyId, s.requester)
	}
	if cons.Category != s.category {
		g[2] = wrapf(ErrBasisCategory, "consent %s covers category %q, not %q", cons.Id, cons.Category, s.category)
	}
	if cons.Purpose != s.purpose {
		g[3] = wrapf(ErrBasisPurpose, "consent %s covers purpose %q, not %q", cons.Id, cons.Purpose, s.purpose)
	}
	return g
}

// mandateGaps says, for each dimension of s in rule order (requester,
// provider, category, purpose), why the mandate does not cover it; nil where
// it does.
func (s exchangeScope) mandateGaps(m *notaryv1.Mandate) [4]error {
	var g [4]error
	if !listHas(m.RequestingAgencies, s.requester) {
		g[0] = wrapf(ErrBasisRequester, "mandate %s does not name %q as a requesting agency", m.Id, s.requester)
	}
	if !listHas(m.ProvidingAgencies, s.provider) {
		g[1] = wrapf(ErrBasisProvider, "mandate %s does not name %q as a providing agency", m.Id, s.provider)
	}
	if !listHas(m.Categories, s.category) {
		g[2] = wrapf(ErrBasisCategory, "mandate %s does not cover category %q", m.Id, s.category)
	}
	if !listHas(m.Purposes, s.purpose) {
		g[3] = wrapf(ErrBasisPurpose, "mandate %s does not cover purpose %q", m.Id, s.purpose)
	}
	return g
}

func listHas(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

func firstGap(g [4]error) error {
	for _, err := range g {
		if err != nil {
			return err
		}
	}
	return nil
}

// consentBasis checks that consent id is in force at t and covers s, in the
// order of the rules.
func consentBasis(st Store, id string, t time.Time, s exchangeScope) error {
	if id == "" {
		return wrapf(ErrNoBasis, "empty consent id")
	}
	if !ValidConsentID(id) {
		return wrapf(ErrConsentNotFound, "%q is not a consent id", id)
	}
	cons, err := loadConsent(st, id)
	if err != nil {
		return err
	}
	if cons == nil {
		return wrapf(ErrConsentNotFound, "%s", id)
	}
	if err := consentInForce(cons, t); err != nil {
		return err
	}
	return firstGap(s.consentGaps(cons))
}

// mandateBasis checks that mandate id is in force at t and covers s, in the
// order of the rules.
func mandateBasis(st Store, id string, t time.Time, s exchangeScope) error {
	if id == "" {
		return wrapf(ErrNoBasis, "empty mandate id")
	}
	if !ValidID(id) {
		return wrapf(ErrMandateNotFound, "%q is not a mandate id", id)
	}
	m, err := mandateByID(st, id)
	if err != nil {
		return err
	}
	if m == nil {
		return wrapf(ErrMandateNotFound, "%s", id)
	}
	if err := MandateInForce(m, t); err != nil {
		return err
	}
	return firstGap(s.mandateGaps(m))
}

func (c *txContext) recordExchange(m *notaryv1.RecordExchange) error {
	p := c.e.params
	if m.RequesterAgencyId == "" {
		return wrapf(ErrInvalidField, "requester_agency_id is required")
	}
	requester := c.agency.Id
	if _, err := activeAgencyNamed(c.st, "provider_agency_id", m.ProviderAgencyId); err != nil {
		return err
	}
	if len(m.Subject) != DigestSize {
		return wrapf(ErrInvalidField, "subject: %d bytes, want %d", len(m.Subject), DigestSize)
	}
	if err := checkVocabulary(p, m.Category, m.Purpose); err != nil {
		return err
	}
	if len(m.Reference) != 0 && len(m.Reference) != DigestSize {
		return wrapf(ErrInvalidField, "reference: %d bytes, want none or %d", len(m.Reference), DigestSize)
	}
	scope := exchangeScope{subject: m.Subject, requester: requester, provider: m.ProviderAgencyId, category: m.Category, purpose: m.Purpose}
	t := c.e.block.Time
	entry := &notaryv1.Exchange{
		Subject:           m.Subject,
		RequesterAgencyId: requester,
		ProviderAgencyId:  m.ProviderAgencyId,
		Category:          m.Category,
		Purpose:           m.Purpose,
		Reference:         m.Reference,
		Height:            c.e.block.Height,
		Time:              c.now(),
		TxHash:            c.tx.Hash[:],
	}
	var basisType, basisID string
	switch b := m.Basis.(type) {
	case *notaryv1.RecordExchange_ConsentId:
		if err := consentBasis(c.st, b.ConsentId, t, scope); err != nil {
			return err
		}
		entry.Basis = &notaryv1.Exchange_ConsentId{ConsentId: b.ConsentId}
		basisType, basisID = "consent", b.ConsentId
	case *notaryv1.RecordExchange_MandateId:
		if err := mandateBasis(c.st, b.MandateId, t, scope); err != nil {
			return err
		}
		entry.Basis = &notaryv1.Exchange_MandateId{MandateId: b.MandateId}
		basisType, basisID = "mandate", b.MandateId
	default:
		return wrapf(ErrNoBasis, "set consent_id or mandate_id")
	}
	if m.ProviderConfirmation != nil {
		if err := c.checkConfirmation(m); err != nil {
			return err
		}
		entry.ProviderConfirmed = true
	}

	head := &notaryv1.AccessHead{}
	found, err := load(c.st, AccessHeadKey(m.Subject), head)
	if err != nil {
		return err
	}
	if !found {
		head.Chain = zeroChain[:]
	}
	entry.Index = head.Count
	b := Encode(entry)
	if err := c.st.Set(ExchangeKey(m.Subject, entry.Index), b); err != nil {
		return err
	}
	head.Count++
	head.Chain = NextAccessChain(head.Chain, b)
	if err := c.st.Set(AccessHeadKey(m.Subject), Encode(head)); err != nil {
		return err
	}
	c.result = &notaryv1.TxResult{Created: &notaryv1.TxResult_ExchangeIndex{ExchangeIndex: entry.Index}}
	c.emit("notary.exchange",
		"requester", requester,
		"provider", entry.ProviderAgencyId,
		"category", entry.Category,
		"purpose", entry.Purpose,
		"basis_type", basisType,
		"basis_id", basisID,
		"provider_confirmed", strconv.FormatBool(entry.ProviderConfirmed),
		"index", strconv.FormatUint(entry.Index, 10))
	return nil
}

// NextAccessChain returns the access chain value after appending an entry
// whose canonical bytes are entryBytes to a history whose chain value is
// prev: SHA-256("notary/access/v1" || prev || SHA-256(entryBytes)). The chain
// value of an empty history is 32 zero bytes; an empty prev stands for it.
func NextAccessChain(prev, entryBytes []byte) []byte {
	if len(prev) == 0 {
		prev = zeroChain[:]
	}
	eh := sha256.Sum256(entryBytes)
	h := sha256.New()
	h.Write([]byte(accessDomain))
	h.Write(prev)
	h.Write(eh[:])
	return h.Sum(nil)
}

// VerifyAccessChain checks that entries, the stored bytes of Exchange
// records, are exactly a subject's whole access history as committed to by
// head: head.count entries with indexes 0..count-1 in order, all about one
// subject, whose hash chain ends at head.chain. A missing, extra, altered or
// reordered entry fails with ErrAccessHistory. A nil-chain head with count 0
// stands for a subject without history.
//
// The head does not name its subject: a caller holding a head proven at
// AccessHeadKey(subject) should use VerifyAccessHistory, which also checks
// that the entries are about that subject.
func VerifyAccessChain(head *notaryv1.AccessHead, entries [][]byte) error {
	return verifyAccess(nil, head, entries)
}

// VerifyAccessHistory is VerifyAccessChain for the history of subject: it
// also checks that every entry is about subject.
func VerifyAccessHistory(subject []byte, head *notaryv1.AccessHead, entries [][]byte) error {
	if len(subject) != DigestSize {
		return wrapf(ErrAccessHistory, "subject: %d bytes, want %d", len(subject), DigestSize)
	}
	return verifyAccess(subject, head, entries)
}

func verifyAccess(subject []byte, head *notaryv1.AccessHead, entries [][]byte) error {
	if head == nil {
		return wrapf(ErrAccessHistory, "no head")
	}
	if uint64(len(entries)) != head.Count {
		return wrapf(ErrAccessHistory, "%d entries, the head counts %d", len(entries), head.Count)
	}
	chain := zeroChain[:]
	for i, b := range entries {
		var e notaryv1.Exchange
		if err := proto.Unmarshal(b, &e); err != nil {
			return wrapf(ErrAccessHistory, "entry %d does not decode: %v", i, err)
		}
		if e.Index != uint64(i) {
			return wrapf(ErrAccessHistory, "entry %d has index %d", i, e.Index)
		}
		if len(e.Subject) != DigestSize {
			return wrapf(ErrAccessHistory, "entry %d: subject of %d bytes", i, len(e.Subject))
		}
		if subject == nil {
			subject = e.Subject
		}
		if !bytes.Equal(e.Subject, subject) {
			return wrapf(ErrAccessHistory, "entry %d is about another subject", i)
		}
		chain = NextAccessChain(chain, b)
	}
	want := head.Chain
	if head.Count == 0 && len(want) == 0 {
		want = zeroChain[:]
	}
	if !bytes.Equal(chain, want) {
		return wrapf(ErrAccessHistory, "the entries hash to %x, the head's chain is %x", chain, want)
	}
	return nil
}

// Coverage says whether an exchange in which requester obtains data of
// category about subject from provider for purpose would have a basis at
// time t: the id of a consent of the subject in force that covers it
// (preferred, the first in key order), else the id of a mandate in force that
// covers it (the first in id order). If nothing covers it, err is a
// registered error giving the most specific reason found: that of the basis
// that comes closest, first one that covers the exchange but is not in force
// (ErrConsentWithdrawn, ErrMandateExpired, ...), then one that misses a
// single dimension (ErrBasisPurpose, ErrBasisProvider, ...; a consent only
// if it is given to the requester), consents before mandates among equals;
// else ErrNoBasis. Malformed arguments give ErrInvalidField,
// ErrUnknownCategory, ErrUnknownPurpose or ErrUnknownAgency. Coverage only
// reads st; store failures are StoreErrors.
func Coverage(st Store, t time.Time, requester, provider string, subject []byte, category, purpose string) (consentID, mandateID string, err error) {
	st = wrapStore(st)
	p, err := loadParams(st)
	if err != nil {
		return "", "", err
	}
	if len(subject) != DigestSize {
		return "", "", wrapf(ErrInvalidField, "subject: %d bytes, want %d", len(subject), DigestSize)
	}
	if err := checkVocabulary(p, category, purpose); err != nil {
		return "", "", err
	}
	if _, err := activeAgencyNamed(st, "requester", requester); err != nil {
		return "", "", err
	}
	if _, err := activeAgencyNamed(st, "provider", provider); err != nil {
		return "", "", err
	}
	s := exchangeScope{subject: subject, requester: requester, provider: provider, category: category, purpose: purpose}
	best := closest{}

	// The subject's consents, in key order (collected first: no reads
	// while iterating).
	prefix := SubjectConsentPrefix(subject)
	var ids []string
	if err := st.Iterate(prefix, PrefixEnd(prefix), func(k, _ []byte) bool {
		ids = append(ids, string(k[len(prefix):]))
		return true
	}); err != nil {
		return "", "", err
	}
	for _, id := range ids {
		cons, err := loadConsent(st, id)
		if err != nil {
			return "", "", err
		}
		if cons == nil {
			return "", "", &StoreError{fmt.Errorf("subject consent list names consent %q, which is not in the state", id)}
		}
		g := s.consentGaps(cons)
		if firstGap(g) == nil {
			inForce := consentInForce(cons, t)
			if inForce == nil {
				return cons.Id, "", nil
			}
			if err := storeFault(inForce); err != nil {
				return "", "", err
			}
			best.offer(5, inForce)
			continue
		}
		// A consent to another agency is no near miss. The subject
		// stands for the provider, which a consent does not restrict.
		if g[1] == nil && matched(g) >= nearMiss {
			best.offer(matched(g), firstGap(g))
		}
	}

	// Mandates, in id order.
	var mandates []*notaryv1.Mandate
	var decodeErr error
	mp := MandatePrefix()
	if err := st.Iterate(mp, PrefixEnd(mp), func(k, v []byte) bool {
		m := &notaryv1.Mandate{}
		if err := proto.Unmarshal(v, m); err != nil {
			decodeErr = &StoreError{fmt.Errorf("decode mandate at %q: %w", k, err)}
			return false
		}
		mandates = append(mandates, m)
		return true
	}); err != nil {
		return "", "", err
	}
	if decodeErr != nil {
		return "", "", decodeErr
	}
	for _, m := range mandates {
		g := s.mandateGaps(m)
		if firstGap(g) == nil {
			inForce := MandateInForce(m, t)
			if inForce == nil {
				return "", m.Id, nil
			}
			best.offer(5, inForce)
			continue
		}
		if matched(g) >= nearMiss {
			best.offer(matched(g), firstGap(g))
		}
	}
	if best.err != nil {
		return "", "", best.err
	}
	return "", "", wrapf(ErrNoBasis, "no consent of the subject and no mandate covers requester %q for category %q and purpose %q", requester, category, purpose)
}

// nearMiss is how many of the four dimensions of an exchange a basis must
// cover for Coverage to report why it falls short, rather than ErrNoBasis.
const nearMiss = 3

// closest keeps the reason of the basis that came closest to covering an
// exchange: the highest score, the first one offered among equals.
type closest struct {
	score int
	err   error
}

func (c *closest) offer(score int, err error) {
	if c.err == nil || score > c.score {
		c.score, c.err = score, err
	}
}

// matched counts the dimensions a basis covers.
func matched(g [4]error) int {
	n := 0
	for _, err := range g {
		if err == nil {
			n++
		}
	}
	return n
}

// storeFault returns err if it is a StoreError.
func storeFault(err error) error {
	if _, ok := err.(*StoreError); ok {
		return err
	}
	return nil
}
