package gateway

import (
	"fmt"
	"sync"
	"time"

	"golang.org/x/time/rate"

	"github.com/gobtechlab/notary/app/internal/ratelimit"
)

// rateKey is what a caller is rate limited under: a member of the
// consortium the chain lists (role and id), or else an address prefix.
type rateKey struct {
	role, id string // a listed member; empty otherwise
	prefix   string // the address prefix (ratelimit.AddrPrefix) otherwise
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
// address prefix in a ratelimit.Table of fixed size: a new prefix replaces
// the one used least recently, so that the table never refuses anyone for
// being full; a flood from many addresses only churns that table, and an
// evicted address that comes back starts with a full bucket.
type rateLimiter struct {
	addrs *ratelimit.Table

	mu      sync.Mutex
	members map[string]*bucket
	swept   time.Time
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
	addrs, err := ratelimit.New(perSecond, burst, tableSize, evicted)
	if err != nil {
		return nil, fmt.Errorf("gateway: rate table: %w", err)
	}
	if addrs == nil {
		return nil, nil
	}
	return &rateLimiter{addrs: addrs, members: map[string]*bucket{}, swept: time.Now()}, nil
}

// allow takes a token from k's bucket. Without one it reports false and
// how long until the next token.
func (r *rateLimiter) allow(k rateKey) (bool, time.Duration) {
	if r == nil {
		return true, 0
	}
	if !k.member() {
		return r.addrs.Allow(k.prefix)
	}
	now := time.Now()
	r.mu.Lock()
	lim := r.memberLocked(k, now)
	r.mu.Unlock()
	return ratelimit.Take(lim, now)
}

func (r *rateLimiter) memberLocked(k rateKey, now time.Time) *rate.Limiter {
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
		b = &bucket{lim: r.addrs.NewLimiter()}
		r.members[key] = b
	}
	b.last = now
	return b.lim
}
