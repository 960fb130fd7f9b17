package gateway

import (
	"net"
	"sync"
	"sync/atomic"
	"time"

	"golang.org/x/time/rate"
)

// rateLimiter keeps a token bucket per client identity. Buckets idle for
// longer than idleAfter are dropped, so that the map stays bounded by the
// identities active recently; at maxKeys it refuses new identities until a
// sweep frees room.
type rateLimiter struct {
	limit rate.Limit
	burst int

	mu      sync.Mutex
	buckets map[string]*bucket
	swept   time.Time
}

type bucket struct {
	lim  *rate.Limiter
	last time.Time
}

const (
	rateIdleAfter = 5 * time.Minute
	rateMaxKeys   = 100_000
)

func newRateLimiter(perSecond float64, burst int) *rateLimiter {
	if perSecond <= 0 {
		return nil
	}
	return &rateLimiter{limit: rate.Limit(perSecond), burst: burst, buckets: map[string]*bucket{}, swept: time.Now()}
}

// allow takes a token from key's bucket; it reports false if there is none
// (or no room for a new identity).
func (r *rateLimiter) allow(key string) bool {
	if r == nil {
		return true
	}
	now := time.Now()
	r.mu.Lock()
	defer r.mu.Unlock()
	b, ok := r.buckets[key]
	if !ok {
		if len(r.buckets) >= rateMaxKeys || now.Sub(r.swept) > rateIdleAfter {
			r.sweepLocked(now)
		}
		if len(r.buckets) >= rateMaxKeys {
			return false
		}
		b = &bucket{lim: rate.NewLimiter(r.limit, r.burst)}
		r.buckets[key] = b
	}
	b.last = now
	return b.lim.AllowN(now, 1)
}

func (r *rateLimiter) sweepLocked(now time.Time) {
	for k, b := range r.buckets {
		if now.Sub(b.last) > rateIdleAfter {
			delete(r.buckets, k)
		}
	}
	r.swept = now
}

// limitListener bounds the open connections. A connection accepted over the
// limit is not dropped silently: it is marked, every call on it is refused
// with ResourceExhausted naming the limit, and it is closed after a grace
// period.
type limitListener struct {
	net.Listener
	max    int64
	grace  time.Duration
	active atomic.Int64
	over   sync.Map // remote address -> struct{}
}

func newLimitListener(l net.Listener, max int, grace time.Duration) *limitListener {
	return &limitListener{Listener: l, max: int64(max), grace: grace}
}

// Accept implements net.Listener.
func (l *limitListener) Accept() (net.Conn, error) {
	c, err := l.Listener.Accept()
	if err != nil {
		return nil, err
	}
	if l.active.Add(1) > l.max {
		l.active.Add(-1)
		key := c.RemoteAddr().String()
		l.over.Store(key, struct{}{})
		oc := &trackedConn{Conn: c, release: func() { l.over.Delete(key) }}
		time.AfterFunc(l.grace, func() { _ = oc.Close() })
		return oc, nil
	}
	return &trackedConn{Conn: c, release: func() { l.active.Add(-1) }}, nil
}

// isOver reports whether the connection from addr was accepted over the limit.
func (l *limitListener) isOver(addr string) bool {
	if l == nil {
		return false
	}
	_, ok := l.over.Load(addr)
	return ok
}

// Active is the number of connections within the limit.
func (l *limitListener) Active() int64 { return l.active.Load() }

type trackedConn struct {
	net.Conn
	once    sync.Once
	release func()
}

func (c *trackedConn) Close() error {
	err := c.Conn.Close()
	c.once.Do(c.release)
	return err
}
