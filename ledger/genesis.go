package ledger

import (
	"bytes"
	"crypto/sha256"
	"fmt"
	"sort"

	"google.golang.org/protobuf/proto"

	notaryv1 "github.com/gobtechlab/notary/proto/notary/v1"
)

// ValidatorUpdate is a change of a validator's power (0 removes it), by its
// ed25519 consensus key.
type ValidatorUpdate struct {
	PubKey []byte
	Power  int64
}

// ValidateGenesis checks a genesis state.
func ValidateGenesis(g *notaryv1.GenesisState) error {
	if g == nil {
		return wrapf(ErrInvalidGenesis, "missing app state")
	}
	if err := ValidateParams(g.Params); err != nil {
		return fmt.Errorf("%w: %w", ErrInvalidGenesis, err)
	}
	if len(g.Ministries) == 0 {
		return wrapf(ErrInvalidGenesis, "no ministry")
	}
	keys := map[string]string{} // every key in use -> who uses it
	useKey := func(k []byte, who string) error {
		if len(k) != PublicKeySize {
			return wrapf(ErrInvalidGenesis, "%s: key of %d bytes", who, len(k))
		}
		if prev, ok := keys[string(k)]; ok {
			return wrapf(ErrInvalidGenesis, "%s reuses the key of %s", who, prev)
		}
		keys[string(k)] = who
		return nil
	}
	ids := map[string]bool{}
	for _, m := range g.Ministries {
		if err := validateMinistry(m, g.Params); err != nil {
			return fmt.Errorf("%w: %w", ErrInvalidGenesis, err)
		}
		if ids["m/"+m.Id] {
			return wrapf(ErrInvalidGenesis, "ministry %q twice", m.Id)
		}
		ids["m/"+m.Id] = true
		if err := useKey(m.GovPubKey, "ministry "+m.Id+" (governance)"); err != nil {
			return err
		}
		if err := useKey(m.ConsensusPubKey, "ministry "+m.Id+" (consensus)"); err != nil {
			return err
		}
	}
	if uint32(len(g.Ministries)) < g.Params.MinValidators {
		return wrapf(ErrInvalidGenesis, "%d ministries, min_validators is %d", len(g.Ministries), g.Params.MinValidators)
	}
	for _, a := range g.Agencies {
		if err := validateAgency(a, g.Params); err != nil {
			return fmt.Errorf("%w: %w", ErrInvalidGenesis, err)
		}
		if ids["a/"+a.Id] {
			return wrapf(ErrInvalidGenesis, "agency %q twice", a.Id)
		}
		ids["a/"+a.Id] = true
		if err := useKey(a.PubKey, "agency "+a.Id); err != nil {
			return err
		}
	}
	for i, k := range g.Citizens {
		who := fmt.Sprintf("citizen %d", i)
		if err := useKey(k, who); err != nil {
			return err
		}
		if !ValidPublicKey(k) {
			return wrapf(ErrInvalidGenesis, "%s: not an ed25519 public key", who)
		}
	}
	for _, md := range g.Mandates {
		if err := validateMandate(md, g.Params, func(id string) bool { return ids["a/"+id] }); err != nil {
			return fmt.Errorf("%w: %w", ErrInvalidGenesis, err)
		}
		if ids["d/"+md.Id] {
			return wrapf(ErrInvalidGenesis, "mandate %q twice", md.Id)
		}
		ids["d/"+md.Id] = true
	}
	return nil
}

func validateMinistry(m *notaryv1.Ministry, p *notaryv1.Params) error {
	if m == nil || !ValidID(m.Id) {
		return wrapf(ErrInvalidField, "ministry id must be 1..64 of [a-z0-9-]")
	}
	if err := checkText("ministry name", m.Name, p.MaxTextBytes); err != nil {
		return err
	}
	if m.Name == "" {
		return wrapf(ErrInvalidField, "ministry %s has no name", m.Id)
	}
	if len(m.GovPubKey) != PublicKeySize || len(m.ConsensusPubKey) != PublicKeySize {
		return wrapf(ErrBadPublicKey, "ministry %s: keys must be 32-byte ed25519 keys", m.Id)
	}
	if string(m.GovPubKey) == string(m.ConsensusPubKey) {
		return wrapf(ErrInvalidField, "ministry %s: governance key must differ from consensus key", m.Id)
	}
	if m.Power <= 0 || m.Power > 1<<40 {
		return wrapf(ErrInvalidField, "ministry %s: power %d not in 1..2^40", m.Id, m.Power)
	}
	return validateTLSKeys("ministry "+m.Id, m.TlsKeys)
}

func validateAgency(a *notaryv1.Agency, p *notaryv1.Params) error {
	if a == nil || !ValidID(a.Id) {
		return wrapf(ErrInvalidField, "agency id must be 1..64 of [a-z0-9-]")
	}
	if a.Name == "" {
		return wrapf(ErrInvalidField, "agency %s has no name", a.Id)
	}
	if err := checkText("agency name", a.Name, p.MaxTextBytes); err != nil {
		return err
	}
	if len(a.PubKey) != PublicKeySize {
		return wrapf(ErrBadPublicKey, "agency %s: key must be a 32-byte ed25519 key", a.Id)
	}
	if !validPermissions(a.Permissions) {
		return wrapf(ErrInvalidField, "agency %s: permissions must be known, ascending, unique", a.Id)
	}
	return validateTLSKeys("agency "+a.Id, a.TlsKeys)
}

// MaxTLSKeys bounds the certificate keys registered for one member: room for
// the certificate in use and its successor during a renewal.
const MaxTLSKeys = 4

// TLSKeySize is the size of a registered certificate key (TLSKeyHash).
const TLSKeySize = sha256.Size

// TLSKeyHash is how the chain registers a client certificate's key: the
// SHA-256 of its DER SubjectPublicKeyInfo, the same for a certificate and
// for the request it was issued from.
func TLSKeyHash(spki []byte) []byte {
	h := sha256.Sum256(spki)
	return h[:]
}

func validateTLSKeys(who string, keys [][]byte) error {
	if len(keys) > MaxTLSKeys {
		return wrapf(ErrInvalidField, "%s: %d tls_keys, at most %d", who, len(keys), MaxTLSKeys)
	}
	for i, k := range keys {
		if len(k) != TLSKeySize {
			return wrapf(ErrInvalidField, "%s: tls_keys[%d] is %d bytes; want the %d-byte SHA-256 of a certificate's public key", who, i, len(k), TLSKeySize)
		}
		if i > 0 && bytes.Compare(keys[i-1], k) >= 0 {
			return wrapf(ErrInvalidField, "%s: tls_keys must be ascending without duplicates", who)
		}
	}
	return nil
}

func validateSortedIDs(field string, ids []string, exists func(string) bool) error {
	if len(ids) == 0 {
		return wrapf(ErrInvalidField, "%s is empty", field)
	}
	for i, id := range ids {
		if i > 0 && id <= ids[i-1] {
			return wrapf(ErrInvalidField, "%s must be sorted without duplicates", field)
		}
		if !exists(id) {
			return wrapf(ErrInvalidField, "%s: unknown %q", field, id)
		}
	}
	return nil
}

// validateMandate checks a mandate against params; agencyExists says whether
// an agency id is registered.
func validateMandate(m *notaryv1.Mandate, p *notaryv1.Params, agencyExists func(string) bool) error {
	if m == nil || !ValidID(m.Id) {
		return wrapf(ErrInvalidField, "mandate id must be 1..64 of [a-z0-9-]")
	}
	if m.LegalReference == "" {
		return wrapf(ErrInvalidField, "mandate %s has no legal reference", m.Id)
	}
	if err := checkText("legal reference", m.LegalReference, p.MaxTextBytes); err != nil {
		return err
	}
	if err := validateSortedIDs("requesting_agencies", m.RequestingAgencies, agencyExists); err != nil {
		return err
	}
	if err := validateSortedIDs("providing_agencies", m.ProvidingAgencies, agencyExists); err != nil {
		return err
	}
	if err := validateSortedIDs("categories", m.Categories, func(c string) bool { return inSorted(p.DataCategories, c) }); err != nil {
		return fmt.Errorf("%w (%w)", err, ErrUnknownCategory)
	}
	if err := validateSortedIDs("purposes", m.Purposes, func(c string) bool { return inSorted(p.Purposes, c) }); err != nil {
		return fmt.Errorf("%w (%w)", err, ErrUnknownPurpose)
	}
	if m.ValidFrom == nil || m.ValidUntil == nil || m.ValidFrom.CheckValid() != nil || m.ValidUntil.CheckValid() != nil ||
		!m.ValidUntil.AsTime().After(m.ValidFrom.AsTime()) {
		return wrapf(ErrInvalidValidity, "mandate %s: valid_until must be after valid_from", m.Id)
	}
	return nil
}

// InitGenesis writes the genesis state into an empty store and returns the
// initial validators, ordered by ministry id.
func (l *Ledger) InitGenesis(st Store, g *notaryv1.GenesisState, height int64) ([]ValidatorUpdate, error) {
	if err := ValidateGenesis(g); err != nil {
		return nil, err
	}
	g = proto.Clone(g).(*notaryv1.GenesisState)
	ms := g.Ministries
	sort.Slice(ms, func(i, j int) bool { return ms[i].Id < ms[j].Id })
	as := g.Agencies
	sort.Slice(as, func(i, j int) bool { return as[i].Id < as[j].Id })
	ds := g.Mandates
	sort.Slice(ds, func(i, j int) bool { return ds[i].Id < ds[j].Id })
	cs := g.Citizens
	sort.Slice(cs, func(i, j int) bool { return bytes.Compare(cs[i], cs[j]) < 0 })

	s := wrapStore(st)
	if err := s.Set(ParamsKey(), Encode(g.Params)); err != nil {
		return nil, err
	}
	if err := s.Set(MetaKey(), Encode(&notaryv1.ChainMeta{ChainId: l.chainID, NextProposalId: 1})); err != nil {
		return nil, err
	}
	var vals []ValidatorUpdate
	for _, m := range ms {
		m.Active, m.SinceHeight = true, height
		if err := s.Set(MinistryKey(m.Id), Encode(m)); err != nil {
			return nil, err
		}
		acct := &notaryv1.Account{PubKey: m.GovPubKey, Role: notaryv1.Role_ROLE_MINISTRY, Owner: m.Id}
		if err := s.Set(AccountKey(m.GovPubKey), Encode(acct)); err != nil {
			return nil, err
		}
		vals = append(vals, ValidatorUpdate{PubKey: m.ConsensusPubKey, Power: m.Power})
	}
	for _, a := range as {
		a.Active, a.SinceHeight = true, height
		if err := s.Set(AgencyKey(a.Id), Encode(a)); err != nil {
			return nil, err
		}
		acct := &notaryv1.Account{PubKey: a.PubKey, Role: notaryv1.Role_ROLE_AGENCY, Owner: a.Id}
		if err := s.Set(AccountKey(a.PubKey), Encode(acct)); err != nil {
			return nil, err
		}
	}
	for _, k := range cs {
		acct := &notaryv1.Account{PubKey: k, Role: notaryv1.Role_ROLE_CITIZEN, Owner: fmt.Sprintf("%x", SubjectID(k))}
		if err := s.Set(AccountKey(k), Encode(acct)); err != nil {
			return nil, err
		}
	}
	for _, d := range ds {
		d.RegisteredHeight = height
		if err := s.Set(MandateKey(d.Id), Encode(d)); err != nil {
			return nil, err
		}
	}
	return vals, nil
}
