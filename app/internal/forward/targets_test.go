package forward

import (
	"slices"
	"testing"
)

// TestTargets: a transaction goes to the proposers of the next Ahead
// heights whose proposal this node has not seen.
func TestTargets(t *testing.T) {
	u := &upcoming{base: 10, addrs: []string{"p10", "p11", "p12", "p13"}}
	for _, tc := range []struct {
		proposed int64
		want     []string
	}{
		{0, []string{"p10", "p11"}},  // no proposal seen yet
		{9, []string{"p10", "p11"}},  // the last height's proposal
		{10, []string{"p11", "p12"}}, // the proposal of the height in progress
		{11, []string{"p12", "p13"}}, // the state lags the proposals by one height
		{12, []string{"p13"}},
		{20, []string{}},
	} {
		if got := u.targets(tc.proposed); !slices.Equal(got, tc.want) {
			t.Errorf("proposed %d: %v, want %v", tc.proposed, got, tc.want)
		}
	}
}
