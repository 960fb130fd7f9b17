// Package witness is a transparency-log witness that follows C2SP
// tlog-witness (https://c2sp.org/tlog-witness), and the client the nodes use
// to ask witnesses for cosignatures.
//
// A witness is run by a body independent of the consortium (an audit
// office, a university). For each log it is configured with the log's
// origin, the note verifier keys of the log (the validators' keys) and a
// threshold k: a checkpoint is the log's when at least k of those keys
// signed it. The witness remembers, per origin, the size and root hash of
// the last checkpoint it cosigned, and cosigns a new checkpoint only when a
// consistency proof (RFC 6962) shows that the new tree extends that one.
// Its cosignatures are C2SP tlog-cosignature cosignature/v1 signatures
// (timestamped ed25519), so any tlog-cosignature verifier checks them, and
// a verifier that requires them detects a history rewritten after the
// witness saw it, even when the log's keys sign the rewrite.
//
// The witness's state is saved before it answers: a file written aside,
// synced and renamed into place, so that a crash never loses nor tears a
// cosigned size, and a witness never cosigns two trees of one size.
//
// Server side: New, Witness.AddCheckpoint, Witness.Handler. Client side:
// EncodeRequest, DecodeCosignatures, Client.AddCheckpoint. Keys:
// GenerateKey, LoadKey.
package witness
