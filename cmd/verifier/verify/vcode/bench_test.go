package vcode_test

import (
	"crypto/rand"
	"testing"

	"github.com/gobtechlab/notary/cmd/verifier/verify/vcode"
)

func BenchmarkNew(b *testing.B) {
	for b.Loop() {
		if _, err := vcode.New(rand.Reader); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkParse(b *testing.B) {
	c, err := vcode.New(rand.Reader)
	if err != nil {
		b.Fatal(err)
	}
	s := c.String()
	b.ReportAllocs()
	for b.Loop() {
		if _, err := vcode.Parse(s); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkDerive(b *testing.B) {
	c, err := vcode.New(rand.Reader)
	if err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	for b.Loop() {
		_ = c.Derive()
	}
}
