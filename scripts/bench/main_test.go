package main

import (
	"strings"
	"testing"
	"time"
)

func TestValidateNetFlags(t *testing.T) {
	ok := options{agencies: 8, procs: 1, batch: 10_000, inFlight: 4, duration: time.Second, sample: 0.01, commit: 100 * time.Millisecond, validators: 4}
	cases := []struct {
		name string
		edit func(*options)
		want string // "" for no error, else a part of it
	}{
		{"default", func(*options) {}, ""},
		{"wan 10", func(o *options) { o.net, o.validators = "wan", 10 }, ""},
		{"lan", func(o *options) { o.net = "lan" }, ""},
		{"wan-far", func(o *options) { o.net = "wan-far" }, ""},
		{"unknown profile", func(o *options) { o.net = "moon" }, "--net"},
		{"3 validators", func(o *options) { o.validators = 3 }, "--validators"},
		{"11 validators", func(o *options) { o.validators = 11 }, "--validators"},
		{"negative propose", func(o *options) { o.propose = -time.Second }, "--timeout-propose"},
		{"gomaxprocs 1", func(o *options) { o.nodeProcs = 1 }, ""},
		{"gomaxprocs -1", func(o *options) { o.nodeProcs = -1 }, "--node-gomaxprocs"},
		{"block 4 MiB", func(o *options) { o.blockMax = 4 << 20 }, ""},
		{"block under a batch", func(o *options) { o.blockMax = 300_000 }, "--block-max-bytes"},
		{"block over CometBFT's limit", func(o *options) { o.blockMax = 101 << 20 }, "--block-max-bytes"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			o := ok
			c.edit(&o)
			err := o.validate()
			switch {
			case c.want == "" && err != nil:
				t.Fatalf("unexpected error: %v", err)
			case c.want != "" && (err == nil || !strings.Contains(err.Error(), c.want)):
				t.Fatalf("error %v, want one about %s", err, c.want)
			}
		})
	}
}

func TestNetTargets(t *testing.T) {
	r := &report{Settings: settings{Net: "wan", Validators: 7}, Notary: &notaryResult{
		Peak:   windowResult{DigestsPerSec: 130_000},
		Half:   &windowResult{LatencyMs: latency{N: 10, P99: 2500}},
		Single: &singleResult{CommitMs: latency{N: 30, P99: 900}},
	}}
	var got []string
	add := func(name, measured, met string) { got = append(got, name+"|"+met) }
	yes := func(b bool) string {
		if b {
			return "yes"
		}
		return "no"
	}
	r.netTargets(add, yes)
	want := []string{
		"wan, 7 validators: >= 120,000 digests/s|yes",
		"wan, 7 validators: half-peak p99 <= 2.0 s|no",
		"wan, 7 validators: 1 doc/s p99 to committed <= 1.2 s|yes",
	}
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Fatalf("targets:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
	r.Settings = settings{Net: "lan", Validators: 4}
	got = nil
	r.netTargets(add, yes)
	if len(got) != 0 {
		t.Fatalf("lan has no targets, got %v", got)
	}
}

func TestAutoMemoryLimit(t *testing.T) {
	for _, c := range []struct {
		validators int
		want       string
	}{{4, "1024MiB"}, {7, "585MiB"}, {10, "409MiB"}} {
		if got := autoMemoryLimit(c.validators); got != c.want {
			t.Errorf("%d validators: %s, want %s", c.validators, got, c.want)
		}
	}
}

func TestQuorumIndex(t *testing.T) {
	// The precommit that completes more than two thirds of n equal votes.
	for n, want := range map[int]int{1: 0, 4: 2, 5: 3, 6: 4, 7: 4, 10: 6} {
		if got := quorumIndex(n); got != want {
			t.Errorf("quorumIndex(%d) = %d, want %d", n, got, want)
		}
		if votes := quorumIndex(n) + 1; 3*votes <= 2*n {
			t.Errorf("n=%d: %d votes are not more than two thirds", n, votes)
		}
	}
}

func TestSpread(t *testing.T) {
	for _, c := range []struct {
		agencies, procs, nodes int
		want                   string
	}{
		{8, 1, 4, "2 on each node"},
		{8, 2, 4, "4 on each node"},
		{10, 1, 10, "1 on each node"},
		{12, 1, 10, "uneven: 2, 2, 1, 1, 1, 1, 1, 1, 1, 1 on nodes 0..9"},
		{12, 1, 7, "uneven: 2, 2, 2, 2, 2, 1, 1 on nodes 0..6"},
		{3, 1, 4, "uneven: 1, 1, 1, 0 on nodes 0..3"},
	} {
		if got := spread(c.agencies, c.procs, c.nodes); got != c.want {
			t.Errorf("spread(%d, %d, %d) = %q, want %q", c.agencies, c.procs, c.nodes, got, c.want)
		}
	}
}
