package main

import (
	"errors"
	"fmt"
	"net"
	"strings"

	"github.com/gobtechlab/notary/testnet/netlab"
)

// benchNet is the network of the validators under --net: one netlab host
// per validator, shared by the notary and kvstore chains in turn.
type benchNet struct {
	lab     *netlab.Lab
	profile netlab.Profile
}

// openNet makes the lab of --net, or returns nil without it.
func openNet(o options) (*benchNet, error) {
	if o.net == "" {
		return nil, nil
	}
	lab, err := netlab.New(netlab.Options{Hosts: o.validators, Logf: logf})
	if err != nil {
		return nil, fmt.Errorf("--net %s: %w", o.net, err)
	}
	n := &benchNet{lab: lab, profile: netlab.Profiles[o.net]}
	logf("net: %s; %s", n.profile, n.describe())
	return n, nil
}

// describe says where the hosts are: namespaces, or loopback and why.
func (n *benchNet) describe() string {
	if n.lab.Namespaces() {
		return fmt.Sprintf("%d hosts in network namespaces (%s..%s), p2p links through proxies on %s",
			n.lab.Hosts(), n.lab.Addr(0), n.lab.Addr(n.lab.Hosts()-1), n.lab.BridgeAddr())
	}
	return fmt.Sprintf("%d hosts on 127.0.0.1 with proxies, no bandwidth cap (%s)", n.lab.Hosts(), n.lab.Reason())
}

func (n *benchNet) close() {
	if n == nil {
		return
	}
	if err := n.lab.Close(); err != nil {
		logf("net: close the lab: %v", err)
	}
}

// hostsFlag is notaryd testnet's --hosts for the lab: its hosts' addresses
// with namespaces, none on loopback (every node on 127.0.0.1, ports apart).
func (n *benchNet) hostsFlag() []string {
	if n == nil || !n.lab.Namespaces() {
		return nil
	}
	hosts := make([]string, n.lab.Hosts())
	for i := range hosts {
		hosts[i] = n.lab.Addr(i)
	}
	return []string{"--hosts", strings.Join(hosts, ",")}
}

// connect puts a proxy on every p2p link (ports[j] is host j's p2p port)
// and applies the profile to the links and hosts.
func (n *benchNet) connect(ports []int) error {
	if err := n.lab.ConnectPeers(ports); err != nil {
		return err
	}
	if err := n.lab.Apply(n.profile); err != nil {
		if !errors.Is(err, netlab.ErrLoopback) {
			return err
		}
		logf("net: %v", err)
	}
	return nil
}

// listen is the address a node on host i listens on for the bench to reach
// it at port: every address of its namespace, or 127.0.0.1.
func (n *benchNet) listen(port int) string {
	if n.lab.Namespaces() {
		return fmt.Sprintf("0.0.0.0:%d", port)
	}
	return fmt.Sprintf("127.0.0.1:%d", port)
}

// reach is where the bench reaches addr ("host:port", as a node's
// configuration names it) of the node on host i.
func (n *benchNet) reach(i int, addr string) (string, error) {
	_, port, err := net.SplitHostPort(addr)
	if err != nil {
		return "", err
	}
	return net.JoinHostPort(n.lab.Addr(i), port), nil
}
