package ledger

import (
	"errors"
	"fmt"
	"sort"
)

// Codespace is the ABCI codespace of every registered ledger error.
const Codespace = "notary"

// CodeInternal is the code of every error that is not registered. Its text is
// never shown to clients (it may carry internal, non-deterministic detail).
const CodeInternal uint32 = 1

// Error is a registered ledger error with a stable code. Codes are part of the
// public API: they are never renumbered or reused. Wrap a registered error
// with fmt.Errorf("...: %w", ErrX) to add detail; CodeOf still finds it.
type Error struct {
	code uint32
	desc string
}

// Error implements error.
func (e *Error) Error() string { return e.desc }

// Code returns the stable code.
func (e *Error) Code() uint32 { return e.code }

var registry = map[uint32]*Error{}

// register adds a stable error. A duplicate code is a programming error,
// caught at init.
func register(code uint32, desc string) *Error {
	if code <= CodeInternal {
		panic(fmt.Sprintf("ledger: error code %d is reserved", code))
	}
	if prev, ok := registry[code]; ok {
		panic(fmt.Sprintf("ledger: error code %d registered twice (%q, %q)", code, prev.desc, desc))
	}
	e := &Error{code: code, desc: desc}
	registry[code] = e
	return e
}

// Registered errors. The number is the ABCI code in codespace "notary".
var (
	// Encoding and envelope.
	ErrMalformedTx      = register(2, "malformed transaction")
	ErrNonCanonical     = register(3, "non-canonical encoding")
	ErrTxTooLarge       = register(4, "transaction too large")
	ErrWrongChain       = register(5, "wrong chain id")
	ErrBadSignature     = register(6, "bad signature")
	ErrSequenceReplayed = register(7, "sequence already used")
	ErrSequenceSkipped  = register(8, "sequence skipped")
	ErrNoMessage        = register(9, "transaction carries no message")
	ErrInvalidField     = register(10, "invalid field")
	ErrBadPublicKey     = register(11, "bad public key")
	ErrNonceUsed        = register(12, "nonce already used")
	ErrTxExpired        = register(13, "unordered transaction expired")
	ErrUnorderedWindow  = register(14, "valid_until_height beyond the unordered window")

	// Identity and permissions.
	ErrUnknownSigner  = register(20, "signer is not a registered participant")
	ErrUnauthorized   = register(21, "signer lacks the permission")
	ErrSignerMismatch = register(22, "message names another participant than the signer")
	ErrInactive       = register(23, "participant is not active")

	// Evidence.
	ErrEmptyBatch           = register(30, "empty batch")
	ErrBatchTooLarge        = register(31, "too many digests")
	ErrUnknownHashAlgorithm = register(32, "hash algorithm not accepted")
	ErrBadDigestLength      = register(33, "wrong digest length")
	ErrDuplicateInBatch     = register(34, "duplicate digest in batch")
	ErrAlreadyAnchored      = register(35, "digest already anchored")
	ErrTextTooLong          = register(36, "text too long")
	ErrNotAnchored          = register(37, "digest not anchored")
	ErrNotIssuer            = register(38, "digest anchored by another agency")
	ErrAlreadyRevoked       = register(39, "digest already revoked")
	ErrInvalidReason        = register(40, "invalid revocation reason")
	ErrInvalidText          = register(41, "text is not valid UTF-8 or has control characters")
	ErrBadCodeKeys          = register(42, "malformed code keys")
	ErrDuplicateCode        = register(43, "verification code already used")
	ErrRevokeTargets        = register(44, "revoke carries both digests and code keys")
	ErrAlgorithmMismatch    = register(45, "hash algorithm differs from the anchoring batch's")

	// Consent, mandates and exchanges.
	ErrUnknownCategory    = register(50, "unknown data category")
	ErrUnknownPurpose     = register(51, "unknown purpose")
	ErrSubjectMismatch    = register(52, "subject is not the signer's subject id")
	ErrInvalidValidity    = register(53, "invalid validity period")
	ErrConsentNotFound    = register(54, "consent not found")
	ErrNotConsentOwner    = register(55, "consent belongs to another subject")
	ErrConsentWithdrawn   = register(56, "consent withdrawn")
	ErrConsentExpired     = register(57, "consent expired")
	ErrConsentNotYetValid = register(58, "consent not yet in force")
	ErrBasisSubject       = register(59, "basis does not cover the subject")
	ErrBasisRequester     = register(60, "basis does not cover the requesting agency")
	ErrBasisProvider      = register(61, "basis does not cover the providing agency")
	ErrBasisCategory      = register(62, "basis does not cover the data category")
	ErrBasisPurpose       = register(63, "basis does not cover the purpose")
	ErrMandateNotFound    = register(64, "mandate not found")
	ErrMandateExpired     = register(65, "mandate expired")
	ErrMandateNotYetValid = register(66, "mandate not yet in force")
	ErrNoBasis            = register(67, "exchange names no consent or mandate")
	ErrUnknownAgency      = register(68, "unknown agency")
	ErrNotCitizen         = register(69, "only a citizen key may do this")

	// Governance.
	ErrProposalNotFound = register(80, "proposal not found")
	ErrProposalClosed   = register(81, "proposal is not open for votes")
	ErrAlreadyVoted     = register(82, "ministry already voted")
	ErrNotMinistry      = register(83, "signer is not a ministry")
	ErrUnsafeValidators = register(84, "validator change would leave an unsafe set")
	ErrInvalidProposal  = register(85, "invalid proposal")
	ErrAgencyExists     = register(86, "agency already exists")
	ErrMinistryExists   = register(87, "ministry already exists")
	ErrMinistryNotFound = register(88, "ministry not found")
	ErrMandateExists    = register(89, "mandate already exists")
	ErrInvalidParams    = register(90, "invalid params")
	ErrKeyInUse         = register(91, "key already in use")
	ErrInvalidVote      = register(92, "invalid vote option")
	ErrInvalidUpgrade   = register(93, "invalid upgrade plan")
	ErrUpgradeNotFound  = register(94, "upgrade not scheduled")

	// Genesis.
	ErrInvalidGenesis = register(100, "invalid genesis")

	// Queries.
	ErrHeightUnavailable = register(110, "height not available")
	ErrUnknownQuery      = register(111, "unknown query path")
	ErrNotFound          = register(112, "not found")

	// Bounded writes by citizens, two-sided exchanges.
	ErrNotEnrolled      = register(120, "citizen key is not enrolled")
	ErrConsentLimit     = register(121, "too many active consents for the subject")
	ErrBadConfirmation  = register(122, "bad provider confirmation")
	ErrConfirmationUsed = register(123, "provider confirmation already used")

	// Checkpoints of the evidence log.
	ErrCheckpointNotFound     = register(130, "no checkpoint of that log size")
	ErrNotCheckpointValidator = register(131, "key is not a validator of the checkpoint")
	ErrCheckpointSigned       = register(132, "validator already signed the checkpoint")
	ErrBadCheckpointSignature = register(133, "bad checkpoint signature")
)

// CodeOf returns the stable code of err, or CodeInternal if err wraps no
// registered error. It returns 0 for a nil error.
func CodeOf(err error) uint32 {
	if err == nil {
		return 0
	}
	var e *Error
	if errors.As(err, &e) {
		return e.code
	}
	return CodeInternal
}

// Registered returns every registered error, ordered by code.
func Registered() []*Error {
	out := make([]*Error, 0, len(registry))
	for _, e := range registry {
		out = append(out, e)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].code < out[j].code })
	return out
}

// ErrorForCode returns the registered error with code, if any.
func ErrorForCode(code uint32) (*Error, bool) {
	e, ok := registry[code]
	return e, ok
}

// DuplicateError is returned when a digest is already anchored; it names the
// existing record and wraps ErrAlreadyAnchored.
type DuplicateError struct {
	Algorithm HashAlgorithm
	Digest    []byte
	Existing  Locator
}

// Error implements error.
func (e *DuplicateError) Error() string {
	return fmt.Sprintf("%s: %x is in batch %s at leaf %d", ErrAlreadyAnchored.desc, e.Digest, e.Existing.BatchID(), e.Existing.Leaf)
}

// Unwrap lets errors.Is(err, ErrAlreadyAnchored) hold.
func (e *DuplicateError) Unwrap() error { return ErrAlreadyAnchored }

// wrapf adds detail to a registered error.
func wrapf(e *Error, format string, args ...any) error {
	return fmt.Errorf("%w: %s", e, fmt.Sprintf(format, args...))
}
