package ledger

import (
	"sort"
	"unicode"
	"unicode/utf8"

	notaryv1 "github.com/gobtechlab/notary/proto/notary/v1"
)

// Default vocabularies, DPV-style codes (https://w3id.org/dpv).
var (
	DefaultCategories = []string{"contact", "education", "employment", "health", "identity", "social-benefits", "tax"}
	DefaultPurposes   = []string{"eligibility-check", "fraud-prevention", "service-provision", "statistics"}
)

// Bounds that params themselves must respect.
const (
	maxDigestsBound = 100_000
	minTxBytesBound = 1 << 10
	maxTxBytesBound = 64 << 20
	maxTextBound    = 4096
	maxIDLen        = 64
)

// DefaultParams returns the parameters of a new chain.
func DefaultParams() *notaryv1.Params {
	return &notaryv1.Params{
		MaxDigestsPerBatch: 10_000,
		MaxTxBytes:         1 << 20,
		HashAlgorithms: []notaryv1.HashAlgorithm{
			notaryv1.HashAlgorithm_HASH_ALGORITHM_SHA2_256,
			notaryv1.HashAlgorithm_HASH_ALGORITHM_SHA3_256,
		},
		GovThreshold:                &notaryv1.Fraction{Numerator: 2, Denominator: 3},
		ProposalLifetimeBlocks:      20_000,
		MaxLabelBytes:               256,
		MaxTextBytes:                512,
		DataCategories:              append([]string(nil), DefaultCategories...),
		Purposes:                    append([]string(nil), DefaultPurposes...),
		MinValidators:               1,
		CitizenEnrollment:           notaryv1.CitizenEnrollment_CITIZEN_ENROLLMENT_ACCREDITED,
		MaxActiveConsentsPerSubject: DefaultMaxActiveConsents,
		MaxUnorderedWindow:          DefaultMaxUnorderedWindow,
		StatelessEmptyBlocks:        true,
		EvidenceLog:                 true,
		CheckpointInterval:          DefaultCheckpointInterval,
	}
}

// DefaultCheckpointInterval is the default of params.checkpoint_interval:
// a checkpoint point at most every 10 heights of a chain that anchors.
const DefaultCheckpointInterval = 10

// DefaultMaxActiveConsents is the default bound on one subject's active
// consents.
const DefaultMaxActiveConsents = 64

// EnrollmentOpen reports whether params let a new citizen key enrol itself:
// CITIZEN_ENROLLMENT_OPEN, or UNSPECIFIED, which is what the params of a
// chain created before the parameter decode to.
func EnrollmentOpen(p *notaryv1.Params) bool {
	return p.GetCitizenEnrollment() != notaryv1.CitizenEnrollment_CITIZEN_ENROLLMENT_ACCREDITED
}

// ValidateParams checks a parameter set.
func ValidateParams(p *notaryv1.Params) error {
	if p == nil {
		return wrapf(ErrInvalidParams, "missing")
	}
	if p.MaxDigestsPerBatch < 1 || p.MaxDigestsPerBatch > maxDigestsBound {
		return wrapf(ErrInvalidParams, "max_digests_per_batch %d not in 1..%d", p.MaxDigestsPerBatch, maxDigestsBound)
	}
	if p.MaxTxBytes < minTxBytesBound || p.MaxTxBytes > maxTxBytesBound {
		return wrapf(ErrInvalidParams, "max_tx_bytes %d not in %d..%d", p.MaxTxBytes, minTxBytesBound, maxTxBytesBound)
	}
	if len(p.HashAlgorithms) == 0 {
		return wrapf(ErrInvalidParams, "no hash algorithm")
	}
	for i, a := range p.HashAlgorithms {
		if AlgorithmName(a) == "" {
			return wrapf(ErrInvalidParams, "unknown hash algorithm %d", a)
		}
		if i > 0 && a <= p.HashAlgorithms[i-1] {
			return wrapf(ErrInvalidParams, "hash_algorithms must be ascending without duplicates")
		}
	}
	t := p.GovThreshold
	if t == nil || t.Denominator == 0 || t.Numerator >= t.Denominator || 2*t.Numerator < t.Denominator {
		return wrapf(ErrInvalidParams, "gov_threshold must be a fraction in [1/2, 1)")
	}
	if p.ProposalLifetimeBlocks < 1 || p.ProposalLifetimeBlocks > 10_000_000 {
		return wrapf(ErrInvalidParams, "proposal_lifetime_blocks %d not in 1..10000000", p.ProposalLifetimeBlocks)
	}
	if p.MaxLabelBytes > maxTextBound || p.MaxTextBytes < 16 || p.MaxTextBytes > maxTextBound {
		return wrapf(ErrInvalidParams, "max_label_bytes must be <= %d and max_text_bytes in 16..%d", maxTextBound, maxTextBound)
	}
	if err := validateVocabulary("data_categories", p.DataCategories); err != nil {
		return err
	}
	if err := validateVocabulary("purposes", p.Purposes); err != nil {
		return err
	}
	if p.MinValidators < 1 {
		return wrapf(ErrInvalidParams, "min_validators must be at least 1")
	}
	if _, ok := notaryv1.CitizenEnrollment_name[int32(p.CitizenEnrollment)]; !ok {
		return wrapf(ErrInvalidParams, "citizen_enrollment %d is not OPEN or ACCREDITED", p.CitizenEnrollment)
	}
	if p.MaxUnorderedWindow > maxUnorderedWindowBound {
		return wrapf(ErrInvalidParams, "max_unordered_window %d not in 0..%d", p.MaxUnorderedWindow, maxUnorderedWindowBound)
	}
	return validateWitnesses(p)
}

func validateVocabulary(name string, codes []string) error {
	if len(codes) == 0 {
		return wrapf(ErrInvalidParams, "%s is empty", name)
	}
	for i, c := range codes {
		if !ValidID(c) {
			return wrapf(ErrInvalidParams, "%s: bad code %q", name, c)
		}
		if i > 0 && c <= codes[i-1] {
			return wrapf(ErrInvalidParams, "%s must be sorted without duplicates", name)
		}
	}
	return nil
}

// ValidID reports whether s is a valid id: 1..64 bytes of [a-z0-9-], not
// starting with '-'.
func ValidID(s string) bool {
	if len(s) == 0 || len(s) > maxIDLen || s[0] == '-' {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !(c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '-') {
			return false
		}
	}
	return true
}

// checkText validates free text: valid UTF-8, no control characters, at most
// max bytes.
func checkText(field, s string, max uint32) error {
	if uint64(len(s)) > uint64(max) {
		return wrapf(ErrTextTooLong, "%s: %d bytes, limit %d", field, len(s), max)
	}
	if !utf8.ValidString(s) {
		return wrapf(ErrInvalidText, "%s", field)
	}
	for _, r := range s {
		if unicode.IsControl(r) {
			return wrapf(ErrInvalidText, "%s has a control character", field)
		}
	}
	return nil
}

// inSorted reports whether s is in the sorted list.
func inSorted(list []string, s string) bool {
	i := sort.SearchStrings(list, s)
	return i < len(list) && list[i] == s
}

// algorithmAccepted reports whether params accept alg.
func algorithmAccepted(p *notaryv1.Params, alg HashAlgorithm) bool {
	for _, a := range p.HashAlgorithms {
		if a == alg {
			return true
		}
	}
	return false
}

// validPermissions checks that perms are known, ascending and unique.
func validPermissions(perms []notaryv1.Permission) bool {
	for i, p := range perms {
		if p <= notaryv1.Permission_PERMISSION_UNSPECIFIED || p > notaryv1.Permission_PERMISSION_ENROLL {
			return false
		}
		if i > 0 && p <= perms[i-1] {
			return false
		}
	}
	return true
}

func hasPermission(a *notaryv1.Agency, p notaryv1.Permission) bool {
	for _, q := range a.Permissions {
		if q == p {
			return true
		}
	}
	return false
}
