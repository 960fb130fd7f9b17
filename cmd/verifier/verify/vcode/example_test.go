package vcode_test

import (
	"crypto/rand"
	"fmt"

	"github.com/gobtechlab/notary/cmd/verifier/verify/vcode"
)

func Example() {
	// An agency draws a code before the document is finished and prints it.
	c, err := vcode.New(rand.Reader)
	if err != nil {
		panic(err)
	}
	_ = c.Link("https://verify.example") // the QR code's content

	// A reader types it back, in any case, with or without hyphens.
	c, err = vcode.Parse("7kq4m xw9tr 2hdnp c8ve6")
	fmt.Println(c, err)
	key := c.Key()
	fmt.Printf("key %x\n", key)

	// One character mistyped: refused before any lookup.
	_, err = vcode.Parse("7KQ4M-XW9TR-2HDNP-C8VE7")
	fmt.Println(vcode.KindOf(err))
	// Output:
	// 7KQ4M-XW9TR-2HDNP-C8VE6 <nil>
	// key ed6c57cd330b46767d8ceac622a2075a
	// check
}
