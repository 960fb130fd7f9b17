// Package netlab gives test and bench nodes hosts of their own on a network
// it builds and controls: each host is a Linux network namespace with one
// veth link to a bridge in the caller's namespace, with its own address
// (10.77.N.h/24, N free on this machine). The bridge ports are isolated from
// each other, so hosts reach only the bridge's address, where the lab runs a
// Shopify toxiproxy proxy for every directed pair of hosts: a node that
// dials PeerAddr(i, j) reaches host j through a proxy the lab controls, and
// hosts reach each other only that way.
//
// On those proxies the lab adds one-way latency and jitter (toxiproxy's
// latency toxic: the kernel here has no netem qdisc) and cuts links, in both
// directions or in one (a cut holds the bytes, as a lost route does: the
// sender's TCP window fills; Heal lets them through). A host's bandwidth is
// capped with a tbf qdisc on both ends of its veth link.
//
// Where namespaces cannot be made (not root, no ip(8), or New is told so by
// Options.Loopback or NETLAB_LOOPBACK in the environment) the lab falls back
// to every host on 127.0.0.1 with the same proxies: latency and cuts work,
// bandwidth caps do not, and hosts could reach each other directly if they
// dialled each other's ports.
//
// A network of notaryd nodes on a lab, as testnet's harness makes it:
//
//	lab, err := netlab.New(netlab.Options{Hosts: n})
//	defer lab.Close()
//	// notaryd testnet --hosts lab.Addr(0),...,lab.Addr(n-1) (with namespaces)
//	lab.ConnectPeers(p2pPorts)            // a proxy for every directed pair
//	lab.WireHome(home[i], i, nodeIDs)     // each home: peers through the proxies
//	lab.Command(i, notaryd, "start", "--home", home[i]).Start()
//	lab.Apply(netlab.Profiles["wan"])     // or SetDelay, Cut, Partition, ...
//
// and the node's RPC and gateway are at lab.Addr(i) with the ports of its
// home.
//
// Everything a lab makes is named after it (interfaces nl<pid><letter>...,
// namespaces nl<pid><letter>-<host>) and removed by Close. A lab holds an
// flock on a file under /run/netlab for its lifetime; New first removes the
// leftovers of labs whose lock is free, that is of processes that died
// without closing them, and their processes.
package netlab
