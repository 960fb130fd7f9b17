package ledger

import (
	"encoding/binary"
	"fmt"
	"strconv"
	"strings"

	notaryv1 "github.com/gobtechlab/notary/proto/notary/v1"
)

// HashAlgorithm is the protobuf enum, re-exported for brevity.
type HashAlgorithm = notaryv1.HashAlgorithm

// DigestSize is the length of every accepted digest.
const DigestSize = 32

// State keys. Every key starts with a short ASCII prefix ending in '/'; ids
// are restricted to [a-z0-9-] so that '/' never appears inside one. The layout
// is part of the receipt format (docs/receipt.md) and never changes within v1.
var (
	keyParams         = []byte("params")
	keyMeta           = []byte("meta")
	prefixAccount     = []byte("acct/")     // + pub key (32)
	prefixAgency      = []byte("agency/")   // + agency id
	prefixMinistry    = []byte("ministry/") // + ministry id
	prefixBatch       = []byte("batch/")    // + be64 height + be32 tx index
	prefixAgencyBatch = []byte("abatch/")   // + agency id + '/' + be64 height + be32 tx index
	prefixRevocation  = []byte("rev/")      // + algorithm (1) + digest (32)
	prefixConsent     = []byte("consent/")  // + consent id
	prefixSubjConsent = []byte("sconsent/") // + subject (32) + consent id
	prefixMandate     = []byte("mandate/")  // + mandate id
	prefixExchange    = []byte("xchg/")     // + subject (32) + be64 index
	prefixAccessHead  = []byte("xhead/")    // + subject (32)
	prefixProposal    = []byte("prop/")     // + be64 proposal id
	prefixVote        = []byte("vote/")     // + be64 proposal id + ministry id
	prefixOpen        = []byte("popen/")    // + be64 proposal id (open proposals)
	prefixValsetChg   = []byte("valchg/")   // + be64 height
	prefixActive      = []byte("sactive/")  // + subject (32) + consent id (active consents, with a limit)
	prefixConfirm     = []byte("xconf/")    // + SHA-256 of a provider confirmation's signed bytes
	prefixNonce       = []byte("nonce/")    // + signer pub key (32) + nonce (16..32): be64 valid_until_height
	prefixNonceExpiry = []byte("nexp/")     // + be64 valid_until_height: the nonces spent until then
	keyUpgradePlan    = []byte("upgplan")   // the scheduled upgrade
	prefixUpgradeDone = []byte("upgdone/")  // + upgrade name: the applied upgrades
)

// marker is the value of index entries whose key says everything (an
// agency's batch list, a subject's consents, the open proposals). It is not
// empty because ICS23 cannot prove a key with an empty value.
func marker() []byte { return []byte{1} }

func cat(parts ...[]byte) []byte {
	n := 0
	for _, p := range parts {
		n += len(p)
	}
	out := make([]byte, 0, n)
	for _, p := range parts {
		out = append(out, p...)
	}
	return out
}

func be64(v uint64) []byte {
	var b [8]byte
	binary.BigEndian.PutUint64(b[:], v)
	return b[:]
}

func be32(v uint32) []byte {
	var b [4]byte
	binary.BigEndian.PutUint32(b[:], v)
	return b[:]
}

// ParamsKey is the key of the chain parameters.
func ParamsKey() []byte { return append([]byte(nil), keyParams...) }

// MetaKey is the key of the chain counters.
func MetaKey() []byte { return append([]byte(nil), keyMeta...) }

// AccountKey is the key of the account of an ed25519 public key.
func AccountKey(pub []byte) []byte { return cat(prefixAccount, pub) }

// AgencyKey is the key of an agency record.
func AgencyKey(id string) []byte { return cat(prefixAgency, []byte(id)) }

// AgencyPrefix is the prefix of all agency records.
func AgencyPrefix() []byte { return append([]byte(nil), prefixAgency...) }

// MinistryKey is the key of a ministry record.
func MinistryKey(id string) []byte { return cat(prefixMinistry, []byte(id)) }

// MinistryPrefix is the prefix of all ministry records.
func MinistryPrefix() []byte { return append([]byte(nil), prefixMinistry...) }

// BatchKey is the key of the batch anchored by transaction txIndex of height.
func BatchKey(height int64, txIndex uint32) []byte {
	return cat(prefixBatch, be64(uint64(height)), be32(txIndex))
}

// AgencyBatchPrefix is the prefix of an agency's batch list.
func AgencyBatchPrefix(agencyID string) []byte {
	return cat(prefixAgencyBatch, []byte(agencyID), []byte("/"))
}

// AgencyBatchKey is the key of one entry of an agency's batch list.
func AgencyBatchKey(agencyID string, height int64, txIndex uint32) []byte {
	return cat(AgencyBatchPrefix(agencyID), be64(uint64(height)), be32(txIndex))
}

// RevocationKey is the key of a digest's revocation record.
func RevocationKey(alg HashAlgorithm, digest []byte) []byte {
	return cat(prefixRevocation, []byte{byte(alg)}, digest)
}

// ConsentKey is the key of a consent.
func ConsentKey(id string) []byte { return cat(prefixConsent, []byte(id)) }

// SubjectConsentPrefix is the prefix of a subject's consent list.
func SubjectConsentPrefix(subject []byte) []byte { return cat(prefixSubjConsent, subject) }

// SubjectConsentKey is the key of one entry of a subject's consent list.
func SubjectConsentKey(subject []byte, id string) []byte {
	return cat(prefixSubjConsent, subject, []byte(id))
}

// ActiveConsentPrefix is the prefix of a subject's active-consent index,
// kept while params.max_active_consents_per_subject is set.
func ActiveConsentPrefix(subject []byte) []byte { return cat(prefixActive, subject) }

// ActiveConsentKey is the key of one entry of a subject's active-consent
// index.
func ActiveConsentKey(subject []byte, id string) []byte {
	return cat(prefixActive, subject, []byte(id))
}

// MandateKey is the key of a legal mandate.
func MandateKey(id string) []byte { return cat(prefixMandate, []byte(id)) }

// MandatePrefix is the prefix of all mandates.
func MandatePrefix() []byte { return append([]byte(nil), prefixMandate...) }

// ExchangeKey is the key of entry index of a subject's access history.
func ExchangeKey(subject []byte, index uint64) []byte {
	return cat(prefixExchange, subject, be64(index))
}

// AccessHeadKey is the key of a subject's access history head.
func AccessHeadKey(subject []byte) []byte { return cat(prefixAccessHead, subject) }

// ConfirmationKey is the key that marks a provider confirmation as used:
// confirmSignBytesHash is SHA-256 of the bytes it signs (ConfirmSignBytes).
func ConfirmationKey(confirmSignBytesHash []byte) []byte {
	return cat(prefixConfirm, confirmSignBytesHash)
}

// NonceKey is the key of a spent nonce of an unordered transaction: its
// value is the transaction's valid_until_height (8 bytes, big-endian).
func NonceKey(signer, nonce []byte) []byte { return cat(prefixNonce, signer, nonce) }

// NonceExpiryKey is the key of the expiry index entry of a height: the
// nonces spent by transactions valid until that height, each as signer pub
// key (32) || uint8 length || nonce, in the order the blocks spent them.
func NonceExpiryKey(validUntil int64) []byte {
	return cat(prefixNonceExpiry, be64(uint64(validUntil)))
}

// NonceExpiryPrefix is the prefix of the expiry index of spent nonces.
func NonceExpiryPrefix() []byte { return append([]byte(nil), prefixNonceExpiry...) }

// ProposalKey is the key of a proposal.
func ProposalKey(id uint64) []byte { return cat(prefixProposal, be64(id)) }

// ProposalPrefix is the prefix of all proposals.
func ProposalPrefix() []byte { return append([]byte(nil), prefixProposal...) }

// VoteKey is the key of a ministry's vote on a proposal.
func VoteKey(proposalID uint64, ministryID string) []byte {
	return cat(prefixVote, be64(proposalID), []byte(ministryID))
}

// VotePrefix is the prefix of the votes on a proposal.
func VotePrefix(proposalID uint64) []byte { return cat(prefixVote, be64(proposalID)) }

// OpenProposalKey marks a proposal as open for votes.
func OpenProposalKey(id uint64) []byte { return cat(prefixOpen, be64(id)) }

// UpgradePlanKey is the key of the scheduled upgrade (UpgradePlan).
func UpgradePlanKey() []byte { return append([]byte(nil), keyUpgradePlan...) }

// UpgradeDoneKey is the key of applied upgrade name (UpgradeDone).
func UpgradeDoneKey(name string) []byte { return cat(prefixUpgradeDone, []byte(name)) }

// ValsetChangeKey is the key of a validator-set change record.
func ValsetChangeKey(height int64) []byte { return cat(prefixValsetChg, be64(uint64(height))) }

// PrefixEnd returns the smallest key greater than every key with prefix p
// (nil if there is none), for range iteration.
func PrefixEnd(p []byte) []byte {
	end := append([]byte(nil), p...)
	for i := len(end) - 1; i >= 0; i-- {
		if end[i] < 0xff {
			end[i]++
			return end[:i+1]
		}
	}
	return nil
}

// Locator says where an anchored digest is.
type Locator struct {
	Height  int64
	TxIndex uint32
	Leaf    uint32
}

// BatchID is the human-readable batch id "<height>-<tx index>".
func (l Locator) BatchID() string { return FormatBatchID(l.Height, l.TxIndex) }

// FormatBatchID formats a batch id.
func FormatBatchID(height int64, txIndex uint32) string {
	return strconv.FormatInt(height, 10) + "-" + strconv.FormatUint(uint64(txIndex), 10)
}

// ParseBatchID parses "<height>-<tx index>".
func ParseBatchID(s string) (int64, uint32, error) {
	h, i, ok := strings.Cut(s, "-")
	if !ok {
		return 0, 0, fmt.Errorf("batch id %q: want <height>-<tx index>", s)
	}
	height, err := strconv.ParseInt(h, 10, 64)
	if err != nil || height < 1 {
		return 0, 0, fmt.Errorf("batch id %q: bad height", s)
	}
	idx, err := strconv.ParseUint(i, 10, 32)
	if err != nil {
		return 0, 0, fmt.Errorf("batch id %q: bad tx index", s)
	}
	return height, uint32(idx), nil
}

// LocatorSize is the length of an encoded Locator.
const LocatorSize = 16

// Encode returns the fixed 16-byte encoding: be64 height, be32 tx index, be32 leaf.
func (l Locator) Encode() []byte {
	out := make([]byte, 0, LocatorSize)
	out = append(out, be64(uint64(l.Height))...)
	out = append(out, be32(l.TxIndex)...)
	return append(out, be32(l.Leaf)...)
}

// DecodeLocator decodes Locator.Encode's output.
func DecodeLocator(b []byte) (Locator, error) {
	if len(b) != LocatorSize {
		return Locator{}, fmt.Errorf("locator: %d bytes, want %d", len(b), LocatorSize)
	}
	return Locator{
		Height:  int64(binary.BigEndian.Uint64(b[0:8])),
		TxIndex: binary.BigEndian.Uint32(b[8:12]),
		Leaf:    binary.BigEndian.Uint32(b[12:16]),
	}, nil
}
