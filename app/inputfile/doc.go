// Package inputfile opens the files that the tools read as input
// (documents, receipts, trust bundles, identities and their TLS files) so
// that a named pipe, a device, a socket or a directory given in their place
// is refused with an error that says what it is, and never blocks: the
// path is checked before it is opened, it is opened without waiting for a
// writer, and the open file is checked again, so that a pipe swapped in
// between cannot block either.
//
// It imports only the standard library, so that clients (notaryctl, the
// verifier) use it without linking the node.
package inputfile
