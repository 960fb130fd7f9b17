// Package vcodetest makes verification codes for tests: the same code for
// the same label, so that tests and their golden files are deterministic.
package vcodetest

import (
	"bytes"
	"crypto/sha512"
	"fmt"

	"github.com/gobtechlab/notary/cmd/verifier/verify/vcode"
)

// Code returns label itself when it is a valid code, and otherwise a code
// drawn with the label's SHA-512 as its random bytes.
func Code(label string) vcode.Code {
	if c, err := vcode.Parse(label); err == nil {
		return c
	}
	sum := sha512.Sum512([]byte(label))
	c, err := vcode.New(bytes.NewReader(sum[:]))
	if err != nil {
		panic(fmt.Sprintf("vcodetest: 64 bytes did not make a code of %q: %v", label, err))
	}
	return c
}

// Secrets returns the salt and key of Code(label).
func Secrets(label string) (salt, key []byte) {
	s := Code(label).Derive()
	return s.Salt[:], s.Key[:]
}
