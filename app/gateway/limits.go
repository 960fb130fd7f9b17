package gateway

import (
	"fmt"
	"net"
	"sync"
	"time"

	"github.com/hashicorp/golang-lru/v2/simplelru"
	"golang.org/x/time/rate"
)

// rateKey is what a caller is rate limited under: a member of the
// consortium the chain lists (role and id), or else an address prefix.
type rateKey struct {
	role, id string // a listed member; empty otherwise
	prefix   string // the address prefix (addrPrefix) otherwise
}

func (k rateKey) member() bool { return k.role != "" }

// describe names the caller in messages.
func (k rateKey) describe() string {
	if k.member() {
		return fmt.Sprintf("%s %q", k.role, k.id)
	}
	what := "address " + k.prefix
	if len(k.prefix) > 3 && k.prefix[len(k.prefix)-3:] == "/64" {
		what = "addresses " + k.prefix
	}
	return what + " (callers without the client certificate of a listed member are limited per address)"
}

// rateLimiter keeps a token bucket per caller, in two tables. Members the
// chain lists have their own table, which nothing else touches: it is
// bounded by the membership (a bucket idle for rateIdleAfter is dropped, so
// members that left do not stay). Every other caller is limited by its
// address prefix in a table of fixed size: a new prefix replaces the one
// used least recently, so that the table never refuses anyone for being
// full; a flood from many addresses only churns that table, and an evicted
// address that comes back starts with a full bucket.
type rateLimiter struct {
	limit rate.Limit
	burst int

	mu      sync.Mutex
	members map[string]*bucket
	swept   time.Time
	addrs   *simplelru.LRU[string, *rate.Limiter]
	evicted func() // called for each address evicted from the table
}

type bucket struct {
	lim  *rate.Limiter
	last time.Time
}

// rateIdleAfter is how long a member's bucket is kept unused.
const rateIdleAfter = 5 * time.Minute

// newRateLimiter returns a limiter of perSecond requests per second with
// burst, keeping at most tableSize address buckets; nil if perSecond is not
// positive (no limit). evicted, if not nil, is called for each address
// bucket evicted.
func newRateLimiter(perSecond float64, burst, tableSize int, evicted func()) (*rateLimiter, error) {
	if perSecond <= 0 {
		return nil, nil
	}
	r := &rateLimiter{limit: rate.Limit(perSecond), burst: burst, members: map[string]*bucket{}, swept: time.Now(), evicted: evicted}
	addrs, err := simplelru.NewLRU(tableSize, func(string, *rate.Limiter) {
		if r.evicted != nil {
			r.evicted()
		}
	})
	if err != nil {
		return nil, fmt.Errorf("gateway: rate table: %w", err)
	}
	r.addrs = addrs
	return r, nil
}

// allow takes a token from k's bucket. Without one it reports false and
// how long until the next token.
func (r *rateLimiter) allow(k rateKey) (bool, time.Duration) {
	if r == nil {
		return true, 0
	}
	now := time.Now()
	r.mu.Lock()
	lim := r.limiterLocked(k, now)
	r.mu.Unlock()
	if lim.AllowN(now, 1) {
		return true, 0
	}
	missing := 1 - lim.TokensAt(now)
	return false, time.Duration(missing / float64(r.limit) * float64(time.Second))
}

func (r *rateLimiter) limiterLocked(k rateKey, now time.Time) *rate.Limiter {
	if !k.member() {
		lim, ok := r.addrs.Get(k.prefix)
		if !ok {
			lim = rate.NewLimiter(r.limit, r.burst)
			r.addrs.Add(k.prefix, lim)
		}
		return lim
	}
	if now.Sub(r.swept) > rateIdleAfter {
		for key, b := range r.members {
			if now.Sub(b.last) > rateIdleAfter {
				delete(r.members, key)
			}
		}
		r.swept = now
	}
	key := k.role + "/" + k.id
	b, ok := r.members[key]
	if !ok {
		b = &bucket{lim: rate.NewLimiter(r.limit, r.burst)}
		r.members[key] = b
	}
	b.last = now
	return b.lim
}

// addrPrefix is the prefix a connection's remote address is limited under:
// an IPv4 address, or the /64 of an IPv6 address ("2001:db8::/64"); the
// address as a string for anything else.
func addrPrefix(a net.Addr) string {
	var ip net.IP
	switch v := a.(type) {
	case *net.TCPAddr:
		ip = v.IP
	case nil:
		return ""
	default:
		host, _, err := net.SplitHostPort(a.String())
		if err != nil {
			return a.String()
		}
		if ip = net.ParseIP(host); ip == nil {
			return host
		}
	}
	if ip4 := ip.To4(); ip4 != nil {
		return ip4.String()
	}
	if len(ip) == net.IPv6len {
		return ip.Mask(net.CIDRMask(64, 128)).String() + "/64"
	}
	return ip.String()
}
