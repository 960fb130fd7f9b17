package layout

// Names of files and directories relative to a node's home (the whole tree
// is described with package app's AppConfigFile).
const (
	// TrustFile is the trust bundle for verifiers.
	TrustFile = "trust.json"
	// TLSDir holds the consortium CA's certificate and the node's TLS
	// certificate and key.
	TLSDir = "tls"
	// IdentitiesDir holds one directory per participant identity (see
	// package identity); a dev home keeps the dev agency's and citizen's.
	IdentitiesDir = "identities"
)
