// Package app wires a notary node: its home and configuration (CometBFT's
// config.toml and the notary's app.toml), new networks with their keys,
// genesis, consortium CA and trust bundle (GenerateNetwork), and a running
// node: CometBFT in-process with the abci application and the services
// around it, such as the gRPC gateway (NewNode).
//
// Subpackages: identity (participants' keys and client certificates),
// gateway (the gRPC service), client (the agencies' client library),
// layout (the home's names that clients share) and version (the build's
// release, commit and CometBFT version).
package app
