// Package ledger is the notary's deterministic state machine: evidence
// (anchored digests and their revocations), citizens' consents, legal
// mandates, data-exchange logs and consortium governance.
//
// # Determinism contract
//
// Given the same store contents, the same digest index answers and the same
// inputs, every function of this package makes the same writes in the same
// order and returns the same results on every machine. To keep that true the
// package never reads the clock, never draws random numbers, never uses
// floating point and never lets map iteration order reach a result or a
// write: block height and time come in as arguments (BlockInfo), and the
// package imports neither CometBFT, gRPC, IAVL nor goleveldb. A test
// (TestDependencies) enforces the import rule.
//
// # Transactions
//
// DecodeTx checks what needs no state: size, canonical encoding, chain id and
// signature. Exec.Run then applies a transaction to a Store, through a
// per-transaction write buffer: a transaction that fails leaves nothing behind,
// not even its sequence number. Exec.End runs governance at the end of a block.
//
// # Verification codes
//
// A coded AnchorBatch (coded set) anchors documents under the keys of
// verification codes printed on them, as coded entries: 32 bytes each, a
// key and the document's code tag (CodeTag, computed by the agency). An
// AnchorBatch with code_keys, the earlier form, carries one
// CodeKeySize-byte key per digest instead, and its root is over key ||
// digest. A key is unique within its batch (ErrBadCodeKeys) and never
// anchored twice, in either form (ErrDuplicateCode, through the index paths
// digests use); the digest index gets an entry per key under CodeKeyIndex
// and none for the batch's digests or entries (BatchIndex). A coded
// document's digest is therefore not in the digest namespace: a plain batch
// may anchor the same 32 bytes as another document, and a lookup by digest
// does not find the coded one. A Revoke carries digests or code_keys
// (ErrRevokeTargets); a coded document's record is at
// RevocationKey(CodeKeyIndex, CodeKeyIndexDigest(key)), with code_key set
// and digest empty, where no revocation by digest writes. Code keys reach
// the state tree only in revocation records.
//
// # Ordered and unordered transactions
//
// An ordered transaction carries its signer's next sequence and consumes it.
// An unordered one carries a nonce (MinNonceBytes..MaxNonceBytes) and a
// valid_until_height instead: a block at height H includes it only if
// H < valid_until_height <= H + params.max_unordered_window, and only once
// per (signer, nonce). The state keeps each spent nonce (NonceKey) and an
// expiry index by height (NonceExpiryKey) until no later block could include
// its transaction; Exec.End forgets expired nonces, a bounded number per
// block. Any number of processes holding one key send unordered
// transactions concurrently; ProposalOrder and RunRelayed never hold them.
// A GrantConsent is always ordered (its consent id derives from the
// sequence). params.max_unordered_window 0, what chains created before it
// have, refuses unordered transactions.
//
// # Citizens and exchanges
//
// A citizen key gets its account from an agency holding PERMISSION_ENROLL
// (EnrollCitizen), from genesis, or, while params.citizen_enrollment is OPEN
// (or unset, as on chains created before it), from its own first consent.
// params.max_active_consents_per_subject bounds a subject's active consents
// (0: no bound). An exchange is marked provider_confirmed only when the
// providing agency's key co-signed it (ConfirmSignBytes).
//
// # Errors
//
// Every error a transaction can fail with is registered in errors.go with a
// stable code (codespace "notary"). Store failures are StoreErrors: they are
// never a transaction's fault, and a caller executing a block must stop on one.
//
// # Concurrency
//
// A Ledger holds no state and may be shared. An Exec is used by one goroutine.
package ledger
