// Package join holds the join request of a consortium's formation: what a
// ministry (`notaryd init --ministry`) or an agency (`notaryctl identity
// new`) hands the coordinator so that the genesis registers it, signed by
// the key the chain will know it by. No private key leaves the host that
// made it: a request carries public keys, names and addresses only.
//
// A request is a JSON file (docs/operations.md, "Forming a consortium"):
//
//	{
//	  "format": "notary-join-request/1",
//	  "chain_id": "gob-notary-1",
//	  "role": "ministry",                  // or "agency"
//	  "id": "hacienda",
//	  "name": "Ministerio de Hacienda",
//	  "power": 10,                         // ministries: requested voting power
//	  "gov_pub_key": "<hex>",              // ministries: governance key (signs the request)
//	  "consensus_pub_key": "<hex>",        // ministries: consensus key
//	  "node_id": "<hex>",                  // ministries: p2p node id
//	  "p2p_address": "host:port",          // ministries
//	  "gateway_address": "host:port",      // ministries
//	  "pub_key": "<hex>",                  // agencies: signing key (signs the request)
//	  "permissions": ["anchor", "revoke"], // agencies
//	  "signature": "<hex>"
//	}
//
// The signature is ed25519 over the request's signing bytes (SignBytes):
// the prefix "notary-join-request/1\n" followed by the request encoded as
// JSON (fields in the order above, empty ones left out) without the
// signature.
package join
