package verify

// Internals the external tests (package verify_test) exercise directly.
var (
	DecodeProof         = decodeProof
	VerifyMembership    = verifyMembership
	VerifyNonMembership = verifyNonMembership
)
