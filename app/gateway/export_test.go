package gateway

import cmtlog "github.com/cometbft/cometbft/libs/log"

// StatusOf maps an error a handler returned to the status a client gets,
// as the gateway's interceptors do, for tests that call handlers directly.
func StatusOf(method string, err error) error {
	return toStatus(cmtlog.NewNopLogger(), method, err)
}
