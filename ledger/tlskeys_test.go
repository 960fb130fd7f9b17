package ledger

import (
	"bytes"
	"errors"
	"testing"
)

func TestValidateTLSKeys(t *testing.T) {
	k := func(b byte) []byte { return bytes.Repeat([]byte{b}, TLSKeySize) }
	cases := []struct {
		name string
		keys [][]byte
		ok   bool
	}{
		{"none", nil, true},
		{"one", [][]byte{k(1)}, true},
		{"ascending", [][]byte{k(1), k(2), k(3), k(4)}, true},
		{"too many", [][]byte{k(1), k(2), k(3), k(4), k(5)}, false},
		{"short", [][]byte{k(1)[:31]}, false},
		{"duplicate", [][]byte{k(1), k(1)}, false},
		{"descending", [][]byte{k(2), k(1)}, false},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			err := validateTLSKeys("agency a", c.keys)
			if (err == nil) != c.ok {
				t.Fatalf("got %v, want ok=%v", err, c.ok)
			}
			if err != nil && !errors.Is(err, ErrInvalidField) {
				t.Fatalf("%v does not wrap ErrInvalidField", err)
			}
		})
	}
}
