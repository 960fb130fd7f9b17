// Package apptest is for tests only: it starts a real, in-process,
// single-validator notary node: CometBFT with the abci application over
// IAVL in a temporary directory, a short block interval, and the gRPC
// gateway with mutual TLS on a free loopback port. It is what gateway,
// client and command tests (app/... and cmd/...) run against instead of
// mocks, as net/http/httptest is for HTTP servers. Nothing outside tests
// imports it.
//
//	n := apptest.Start(t, apptest.Options{})
//	gw := n.Client(t, n.Agency)            // mTLS as the dev agency
//	pub := n.Client(t, "")                 // TLS without a client certificate
//	tx := n.Identity(t, n.Agency).SignTx(&notaryv1.TxBody{...})
//
// The node is stopped by t.Cleanup. Its log is kept in memory (Log) and
// printed if the test fails. Every node of a network made here has the
// identities of GenerateNetwork: the dev agency (all permissions, unless
// Options.NoDevAgency), the dev citizen and the ministry's governance key,
// each with a client certificate of the network's CA; Options adds agencies
// and citizens.
//
// FreePorts gives free loopback ports to tests that start nodes themselves.
package apptest
