package ratelimit

import (
	"net"
	"testing"
	"time"
)

// TestTable: a full table evicts the least recently used key, never
// refuses for being full; an evicted key starts afresh; a refusal says when
// to retry.
func TestTable(t *testing.T) {
	type call struct {
		key       string
		want      bool
		retryOver time.Duration // if refused, the retry is over this
	}
	cases := []struct {
		name       string
		perSecond  float64
		burst      int
		size       int
		calls      []call
		wantEvicts int
	}{
		{name: "a full table evicts, never refuses", perSecond: 1, burst: 1, size: 2,
			calls:      []call{{"1", true, 0}, {"2", true, 0}, {"3", true, 0}, {"4", true, 0}, {"4", false, 500 * time.Millisecond}},
			wantEvicts: 2},
		{name: "an evicted key starts with a full bucket", perSecond: 1, burst: 1, size: 1,
			calls:      []call{{"1", true, 0}, {"1", false, 0}, {"2", true, 0}, {"1", true, 0}},
			wantEvicts: 2},
		{name: "burst", perSecond: 1, burst: 3, size: 4,
			calls: []call{{"1", true, 0}, {"1", true, 0}, {"1", true, 0}, {"1", false, 500 * time.Millisecond}, {"2", true, 0}}},
		{name: "retry", perSecond: 10, burst: 1, size: 4,
			calls: []call{{"1", true, 0}, {"1", false, 50 * time.Millisecond}}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			evicts := 0
			tb, err := New(tc.perSecond, tc.burst, tc.size, func() { evicts++ })
			if err != nil {
				t.Fatal(err)
			}
			for i, c := range tc.calls {
				ok, retry := tb.Allow(c.key)
				if ok != c.want {
					t.Fatalf("call %d (%s): allowed %v, want %v", i, c.key, ok, c.want)
				}
				if !ok && (retry <= c.retryOver || retry > time.Second) {
					t.Fatalf("call %d: retry in %v, want over %v and at most 1s", i, retry, c.retryOver)
				}
			}
			if evicts != tc.wantEvicts {
				t.Fatalf("%d evictions, want %d", evicts, tc.wantEvicts)
			}
			if tb.Len() > tc.size {
				t.Fatalf("%d keys kept in a table of %d", tb.Len(), tc.size)
			}
		})
	}
	var none *Table
	if ok, _ := none.Allow("x"); !ok || none.Len() != 0 {
		t.Fatal("no table refused")
	}
	if tb, err := New(0, 0, 0, nil); tb != nil || err != nil {
		t.Fatalf("rate 0: %v, %v; want no table", tb, err)
	}
	for _, bad := range [][2]int{{0, 10}, {1, 0}} {
		if _, err := New(1, bad[0], bad[1], nil); err == nil {
			t.Errorf("burst %d size %d: no error", bad[0], bad[1])
		}
	}
}

func TestAddrPrefix(t *testing.T) {
	cases := []struct {
		addr net.Addr
		want string
	}{
		{&net.TCPAddr{IP: net.ParseIP("127.10.0.1"), Port: 5}, "127.10.0.1"},
		{&net.TCPAddr{IP: net.ParseIP("::ffff:192.0.2.7"), Port: 5}, "192.0.2.7"},
		{&net.TCPAddr{IP: net.ParseIP("2001:db8:1:2:3:4:5:6"), Port: 5}, "2001:db8:1:2::/64"},
		{&net.UDPAddr{IP: net.ParseIP("2001:db8::1"), Port: 5}, "2001:db8::/64"},
		{&net.UnixAddr{Name: "/run/x.sock", Net: "unix"}, "/run/x.sock"},
		{nil, ""},
	}
	for _, tc := range cases {
		if got := AddrPrefix(tc.addr); got != tc.want {
			t.Errorf("AddrPrefix(%v) = %q, want %q", tc.addr, got, tc.want)
		}
	}
	for in, want := range map[string]string{
		"192.0.2.1:443":            "192.0.2.1",
		"[2001:db8:0:1::9]:80":     "2001:db8:0:1::/64",
		"example.org:80":           "example.org",
		"not an address":           "not an address",
		"[::ffff:198.51.100.4]:22": "198.51.100.4",
	} {
		if got := HostPortPrefix(in); got != want {
			t.Errorf("HostPortPrefix(%q) = %q, want %q", in, got, want)
		}
	}
}
