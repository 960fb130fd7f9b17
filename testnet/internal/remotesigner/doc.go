// Command remotesigner is CometBFT's own remote signer for tests: its privval
// signer server with a file key (privval.FilePV), dialing a node's
// priv_validator_laddr, as tmkms or Horcrux would. It signs until SIGTERM or
// SIGINT.
//
//	remotesigner --addr tcp://127.0.0.1:26659 --chain-id ID \
//	    --key priv_validator_key.json --state priv_validator_state.json
package main
