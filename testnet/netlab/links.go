package netlab

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"strconv"
	"time"

	"github.com/Shopify/toxiproxy/v2"
	"github.com/Shopify/toxiproxy/v2/toxics"
	"github.com/rs/zerolog"
)

// pair is a directed pair of hosts: the proxy of pair{i, j} is what host i
// dials to reach host j; as a link, pair{i, j} carries the bytes i sends j.
type pair struct{ from, to int }

// Delay is the one-way latency of a directed link, each chunk of bytes
// delayed by Latency plus a uniform jitter in [-Jitter, Jitter) (bytes keep
// their order).
type Delay struct {
	Latency, Jitter time.Duration
}

// Toxic names: a link's bytes cross two proxies' streams (see stream).
var toxicNames = []string{"latency_upstream", "latency_downstream", "cut_upstream", "cut_downstream"}

func init() {
	toxics.Register("netlab_cut", new(cutToxic))
}

// cutToxic holds every byte until it is removed: the sender's socket
// buffers fill as on a lost route, nothing is dropped or reset, and the
// held bytes go on when the link heals.
type cutToxic struct{}

func (cutToxic) Pipe(stub *toxics.ToxicStub) { <-stub.Interrupt }

func quietLogger() zerolog.Logger { return zerolog.Nop() }

// ConnectPeers starts a proxy for every directed pair of hosts (i, j),
// listening on the bridge address and forwarding to port[j] on host j.
// Hosts reach each other's port at PeerAddr.
func (l *Lab) ConnectPeers(port []int) error {
	if len(port) != len(l.hosts) {
		return fmt.Errorf("netlab: %d ports for %d hosts", len(port), len(l.hosts))
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.closed {
		return fmt.Errorf("netlab: lab %s is closed", l.name)
	}
	for i := range l.hosts {
		for j := range l.hosts {
			if i == j {
				continue
			}
			k := pair{i, j}
			if old := l.proxies[k]; old != nil {
				old.Stop()
			}
			p := toxiproxy.NewProxy(l.server, fmt.Sprintf("%s %d>%d", l.name, i, j), l.BridgeAddr()+":0",
				l.hosts[j].addr+":"+strconv.Itoa(port[j]))
			if err := p.Start(); err != nil {
				return fmt.Errorf("netlab: proxy %d>%d: %w", i, j, err)
			}
			l.proxies[k] = p
		}
	}
	for k := range l.proxies {
		l.applyLocked(k)
	}
	return nil
}

// PeerAddr is the address host i dials to reach host j's port (as given to
// ConnectPeers) through the link the lab controls: host:port of a proxy.
func (l *Lab) PeerAddr(i, j int) string {
	l.mu.Lock()
	defer l.mu.Unlock()
	p := l.proxies[pair{i, j}]
	if p == nil {
		return ""
	}
	return p.Listen
}

// SetDelay sets the one-way delay of the bytes host from sends host to.
func (l *Lab) SetDelay(from, to int, d Delay) {
	l.mu.Lock()
	defer l.mu.Unlock()
	k := pair{from, to}
	if d == (Delay{}) {
		delete(l.delay, k)
	} else {
		l.delay[k] = d
	}
	l.applyLink(k)
}

// SetDelayAll sets the one-way delay of every directed link.
func (l *Lab) SetDelayAll(d Delay) {
	for i := range l.hosts {
		for j := range l.hosts {
			if i != j {
				l.SetDelay(i, j, d)
			}
		}
	}
}

// SetHostDelay sets the one-way delay of every link to and from host i.
func (l *Lab) SetHostDelay(i int, d Delay) {
	for j := range l.hosts {
		if j != i {
			l.SetDelay(i, j, d)
			l.SetDelay(j, i, d)
		}
	}
}

// Cut stops the bytes host from sends host to (one direction: to's bytes
// still reach from); Heal lets them through again.
func (l *Lab) Cut(from, to int) { l.setCut(from, to, true) }

// Heal reopens the link from host from to host to.
func (l *Lab) Heal(from, to int) { l.setCut(from, to, false) }

// CutBoth cuts the links between hosts a and b in both directions.
func (l *Lab) CutBoth(a, b int) {
	l.Cut(a, b)
	l.Cut(b, a)
}

// HealBoth reopens the links between a and b in both directions.
func (l *Lab) HealBoth(a, b int) {
	l.Heal(a, b)
	l.Heal(b, a)
}

// Isolate cuts every link to and from host i.
func (l *Lab) Isolate(i int) {
	for j := range l.hosts {
		if j != i {
			l.CutBoth(i, j)
		}
	}
}

// Partition cuts every link between hosts of different groups, in both
// directions, and reopens those within a group. Hosts in no group keep
// their links as they are.
func (l *Lab) Partition(groups ...[]int) {
	group := map[int]int{}
	for g, hs := range groups {
		for _, h := range hs {
			group[h] = g
		}
	}
	for i := range l.hosts {
		for j := range l.hosts {
			gi, oki := group[i]
			gj, okj := group[j]
			if i == j || !oki || !okj {
				continue
			}
			l.setCut(i, j, gi != gj)
		}
	}
}

// HealAll reopens every link (delays stay).
func (l *Lab) HealAll() {
	for i := range l.hosts {
		for j := range l.hosts {
			if i != j {
				l.Heal(i, j)
			}
		}
	}
}

// IsCut reports whether the link from host from to host to is cut.
func (l *Lab) IsCut(from, to int) bool {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.cut[pair{from, to}]
}

func (l *Lab) setCut(from, to int, cut bool) {
	l.mu.Lock()
	defer l.mu.Unlock()
	k := pair{from, to}
	if l.cut[k] == cut {
		return
	}
	if cut {
		l.cut[k] = true
	} else {
		delete(l.cut, k)
	}
	l.applyLink(k)
}

// applyLink puts directed link k's toxics on the two proxies whose
// connections carry its bytes: k's own, upstream (from dialled to), and
// the reverse pair's, downstream (to dialled from).
func (l *Lab) applyLink(k pair) {
	l.applyStream(l.proxies[k], "upstream", k)
	l.applyStream(l.proxies[pair{k.to, k.from}], "downstream", k)
}

// applyLocked puts the toxics of both directions on proxy k.
func (l *Lab) applyLocked(k pair) {
	l.applyStream(l.proxies[k], "upstream", k)
	l.applyStream(l.proxies[k], "downstream", pair{k.to, k.from})
}

func (l *Lab) applyStream(p *toxiproxy.Proxy, stream string, link pair) {
	if p == nil {
		return
	}
	ctx := context.Background()
	lat, cut := "latency_"+stream, "cut_"+stream
	d, delayed := l.delay[link]
	if old := p.Toxics.GetToxic(lat); old != nil {
		if o, ok := old.Toxic.(*toxics.LatencyToxic); !delayed || !ok || o.Latency != d.Latency.Milliseconds() || o.Jitter != d.Jitter.Milliseconds() {
			_ = p.Toxics.RemoveToxic(ctx, lat)
		}
	}
	if delayed && p.Toxics.GetToxic(lat) == nil {
		addToxic(p, lat, "latency", stream, map[string]int64{"latency": d.Latency.Milliseconds(), "jitter": d.Jitter.Milliseconds()})
	}
	switch has := p.Toxics.GetToxic(cut) != nil; {
	case l.cut[link] && !has:
		addToxic(p, cut, "netlab_cut", stream, map[string]int64{})
	case !l.cut[link] && has:
		_ = p.Toxics.RemoveToxic(ctx, cut)
	}
}

func addToxic(p *toxiproxy.Proxy, name, typ, stream string, attrs map[string]int64) {
	b, err := json.Marshal(map[string]any{"name": name, "type": typ, "stream": stream, "toxicity": 1.0, "attributes": attrs})
	if err != nil {
		panic(err)
	}
	if _, err := p.Toxics.AddToxicJson(bytes.NewReader(b)); err != nil {
		// The names are fixed and removed before they are added again:
		// a failure is a broken invariant of this package.
		panic(fmt.Sprintf("netlab: add toxic %s to %s: %v", name, p.Name, err))
	}
}
