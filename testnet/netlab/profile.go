package netlab

import (
	"fmt"
	"time"
)

// Profile is a network between hosts: a one-way delay on every link and a
// bandwidth cap on every host (0: none).
type Profile struct {
	Name  string
	Delay Delay
	Rate  int64 // bits per second, each way
}

// Profiles are the networks the bench and the long tests name: lan, the
// ministries' WAN (wan) and a far one (wan-far).
var Profiles = map[string]Profile{
	"lan":     {Name: "lan", Delay: Delay{Latency: time.Millisecond}},
	"wan":     {Name: "wan", Delay: Delay{Latency: 25 * time.Millisecond, Jitter: 5 * time.Millisecond}, Rate: 1_000_000_000},
	"wan-far": {Name: "wan-far", Delay: Delay{Latency: 60 * time.Millisecond, Jitter: 10 * time.Millisecond}, Rate: 200_000_000},
}

// Apply sets the profile's delay on every link and its cap on every host.
// On loopback the delays are set and the cap is not: it returns an error
// wrapping ErrLoopback if the profile has one.
func (l *Lab) Apply(p Profile) error {
	l.SetDelayAll(p.Delay)
	if !l.ns {
		if p.Rate > 0 {
			return fmt.Errorf("profile %s: no cap of %d bit/s: %w", p.Name, p.Rate, ErrLoopback)
		}
		return nil
	}
	return l.SetRateAll(p.Rate)
}

// String describes the profile ("wan: 25ms ± 5ms one way, 1000 Mbit/s").
func (p Profile) String() string {
	s := fmt.Sprintf("%s: %v", p.Name, p.Delay.Latency)
	if p.Delay.Jitter > 0 {
		s += fmt.Sprintf(" ± %v", p.Delay.Jitter)
	}
	s += " one way"
	if p.Rate > 0 {
		s += fmt.Sprintf(", %d Mbit/s", p.Rate/1_000_000)
	}
	return s
}
