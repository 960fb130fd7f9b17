package netlab

import (
	"fmt"
	"strings"

	"github.com/gobtechlab/notary/app"
)

// WireHome rewrites the configuration of the notaryd home that runs on host
// i so that it reaches its persistent peers only through the lab: each peer
// "id@host:port" becomes "id@PeerAddr(i, j)", where j is the host whose
// CometBFT node id is ids[j]. Peer exchange is turned off (it would hand
// out the peers' own addresses), and with namespaces the node's CometBFT
// RPC, metrics and public endpoint listen on every address of its host, so
// that the caller reaches them at Addr(i). ConnectPeers must run first.
func (l *Lab) WireHome(home string, i int, ids []string) error {
	c, err := app.LoadConfig(home)
	if err != nil {
		return err
	}
	peers, err := l.RewritePeers(i, c.Comet.P2P.PersistentPeers, ids)
	if err != nil {
		return fmt.Errorf("netlab: %s: %w", home, err)
	}
	c.Comet.P2P.PersistentPeers = peers
	c.Comet.P2P.PexReactor = false
	c.Comet.P2P.AddrBookStrict = false
	c.Comet.P2P.AllowDuplicateIP = true
	if l.ns {
		all := func(addr string) string { return strings.Replace(addr, "127.0.0.1:", "0.0.0.0:", 1) }
		c.Comet.RPC.ListenAddress = all(c.Comet.RPC.ListenAddress)
		c.Comet.Instrumentation.PrometheusListenAddr = all(c.Comet.Instrumentation.PrometheusListenAddr)
		c.App.Public.Listen = all(c.App.Public.Listen)
	}
	return app.SaveConfig(c)
}

// RewritePeers rewrites a CometBFT persistent_peers list of the node on
// host i, "id@host:port,...", so that each peer is dialled through the lab:
// "id@PeerAddr(i, j)", where ids[j] is the node id of host j. It serves
// nodes whose configuration WireHome does not know (CometBFT's kvstore).
func (l *Lab) RewritePeers(i int, peers string, ids []string) (string, error) {
	index := map[string]int{}
	for j, id := range ids {
		index[id] = j
	}
	var out []string
	for _, p := range strings.Split(peers, ",") {
		p = strings.TrimSpace(p)
		if p == "" {
			continue
		}
		id, _, ok := strings.Cut(p, "@")
		j, known := index[id]
		if !ok || !known || j == i {
			return "", fmt.Errorf("persistent peer %q is no other host of the lab", p)
		}
		addr := l.PeerAddr(i, j)
		if addr == "" {
			return "", fmt.Errorf("no proxy from host %d to %d: call ConnectPeers first", i, j)
		}
		out = append(out, id+"@"+addr)
	}
	return strings.Join(out, ","), nil
}
