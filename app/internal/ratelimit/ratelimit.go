package ratelimit

import (
	"fmt"
	"net"
	"sync"
	"time"

	"github.com/hashicorp/golang-lru/v2/simplelru"
	"golang.org/x/time/rate"
)

// Table keeps a token bucket per key in a table of fixed size. A nil
// *Table allows everything. It is safe for concurrent use.
type Table struct {
	limit rate.Limit
	burst int

	mu      sync.Mutex
	buckets *simplelru.LRU[string, *rate.Limiter]
}

// New returns a table of perSecond requests per second with burst per key,
// keeping at most size buckets; nil if perSecond is not positive (no
// limit). evicted, if not nil, is called for each bucket evicted to make
// room for a new key.
func New(perSecond float64, burst, size int, evicted func()) (*Table, error) {
	if perSecond <= 0 {
		return nil, nil
	}
	if burst < 1 {
		return nil, fmt.Errorf("ratelimit: burst %d, want at least 1", burst)
	}
	buckets, err := simplelru.NewLRU(size, func(string, *rate.Limiter) {
		if evicted != nil {
			evicted()
		}
	})
	if err != nil {
		return nil, fmt.Errorf("ratelimit: table of %d: %w", size, err)
	}
	return &Table{limit: rate.Limit(perSecond), burst: burst, buckets: buckets}, nil
}

// Allow takes a token from key's bucket (a new key starts with a full
// one). Without one it reports false and how long until the next token.
func (t *Table) Allow(key string) (bool, time.Duration) {
	if t == nil {
		return true, 0
	}
	t.mu.Lock()
	lim, ok := t.buckets.Get(key)
	if !ok {
		lim = t.NewLimiter()
		t.buckets.Add(key, lim)
	}
	t.mu.Unlock()
	return Take(lim, time.Now())
}

// NewLimiter returns a full bucket of the table's rate and burst.
func (t *Table) NewLimiter() *rate.Limiter { return rate.NewLimiter(t.limit, t.burst) }

// Len is the number of keys whose buckets are kept.
func (t *Table) Len() int {
	if t == nil {
		return 0
	}
	t.mu.Lock()
	defer t.mu.Unlock()
	return t.buckets.Len()
}

// Take takes a token from lim at now. Without one it reports false and how
// long until the next token.
func Take(lim *rate.Limiter, now time.Time) (bool, time.Duration) {
	if lim.AllowN(now, 1) {
		return true, 0
	}
	missing := 1 - lim.TokensAt(now)
	return false, time.Duration(missing / float64(lim.Limit()) * float64(time.Second))
}

// AddrPrefix is the prefix a remote address is limited under: an IPv4
// address, or the /64 of an IPv6 address ("2001:db8::/64"); the address as
// a string for anything else.
func AddrPrefix(a net.Addr) string {
	switch v := a.(type) {
	case *net.TCPAddr:
		return IPPrefix(v.IP)
	case nil:
		return ""
	default:
		return HostPortPrefix(a.String())
	}
}

// HostPortPrefix is AddrPrefix of a "host:port" string (as
// http.Request.RemoteAddr); the string itself if it holds no IP address.
func HostPortPrefix(hostport string) string {
	host, _, err := net.SplitHostPort(hostport)
	if err != nil {
		return hostport
	}
	ip := net.ParseIP(host)
	if ip == nil {
		return host
	}
	return IPPrefix(ip)
}

// IPPrefix is the prefix an IP address is limited under.
func IPPrefix(ip net.IP) string {
	if ip4 := ip.To4(); ip4 != nil {
		return ip4.String()
	}
	if len(ip) == net.IPv6len {
		return ip.Mask(net.CIDRMask(64, 128)).String() + "/64"
	}
	return ip.String()
}
