// Package verify checks notary receipts offline (docs/receipt.md): a
// document, its receipt and the consortium's trust bundle are all it needs.
// It trusts no node, only the signatures of more than 2/3 of the voting
// power of validator sets that chain back to the trust bundle.
//
// Verify runs the steps in order, each relying only on what the steps before
// it established: the receipt's strict form (DecodeReceipt), its chain id,
// the validator transitions from the trust bundle's set, the two signed
// checkpoints (anchor and status: header hash, validator-set hash, commit
// signed by more than 2/3), then against their app hashes the ICS23 proofs
// of the batch record, the issuing agency and the revocation status, the
// RFC 6962 path of the anchored digest, and last the document. The Result
// lists every step, the verdict (valid, revoked, not valid with one
// Reason), what was proven, and the fingerprint of the trust bundle;
// Result.Text phrases it for a citizen in the languages of the catalogue
// (package msg: Spanish, English, Catalan, Galician, Basque).
//
// A receipt v2 (verifyv2.go; docs/receipt.md, "Receipt v2") proves the
// same document through the evidence log instead: the batch's leaf, its
// RFC 6962 inclusion in the log of a checkpoint's size, and that
// checkpoint, a signed note valid under the trust bundle's policy
// (logtrust.go): signed by more than 2/3 of the bundle's log validators
// (or genesis validators), not contradicting the bundle's own checkpoint,
// and cosigned by the witnesses it requires. It carries no revocation
// status; a bundle with a checkpoint or a witness threshold refuses
// receipts v1.
//
// A receipt's status is as of the height it was fetched at. CheckLiveStatus
// checks a node's LiveStatus (its status part at a newer height) exactly as
// the receipt's own, and Combine gives the final verdict from the receipt's
// Result and the answers of the nodes asked (live.go); the package does no
// networking itself, its callers fetch.
//
// The package links no networking code and no CometBFT (whose types package
// brings gRPC and net/http), and builds for js/wasm (the web verifier): the
// CometBFT light-client checks are written here from the wire formats
// (comet.go), with the standard library's crypto/ed25519 (ADR 0018), and
// cross-checked against CometBFT in the tests. ICS23 proofs are checked with
// the unmodified github.com/cosmos/ics23/go and ics23.IavlSpec, Merkle paths
// with github.com/transparency-dev/merkle.
//
// AccessHistory checks a citizen's access history as a gateway returns it
// (GetAccessHistory with with_checkpoint; MergeAccessPages joins pages) with
// the same checkpoint and quorum rules: the head (count and hash chain) and
// every entry proven by ICS23 against a signed app hash, and the entries
// exactly those the head commits to, so that an entry left out, added,
// altered or out of order is caught.
//
// EncodeReceipt, DecodeReceipt, EncodeLiveStatus and DecodeLiveStatus are
// the canonical JSON codecs of *.receipt.json and of a node's live status;
// EncodeTrustBundle and DecodeTrustBundle write and accept trust.json's one
// byte form, whose SHA-256 is TrustFingerprint.
package verify
