// Package vcode implements verification codes: the short code that an
// agency prints on a document so that whoever holds the paper can find and
// check its registration (docs/DESIGN.md, docs/receipt.md).
//
// A code is 20 symbols of the alphabet "23456789ABCDEFGHJKMNPQRSTUVWXYZ"
// (31 symbols, without 0, O, 1, I and L): 19 drawn uniformly by New from
// crypto/rand, 19*log2(31) = 94.1 bits, and a check symbol last. With v_i
// the value of symbol i (its index in the alphabet, i = 1..20),
//
//	sum_{i=1..20} i*v_i = 0 (mod 31)
//
// 31 is prime and the weights 1..20 are distinct and not 0 modulo 31, so a
// single symbol changed, or any two different symbols swapped (adjacent or
// not), changes the sum: Parse catches every such mistake before any lookup.
//
// People read and write a code as four groups of five (String):
// "7KQ4M-XW9TR-2HDNP-C8VE6". Parse drops spaces and hyphens and upper-cases;
// a refused code is an *Error whose Kind (empty, symbol, length, check,
// link) and fields the verifier's CLIs and web page put into words.
//
// What is derived from is the canonical form, the 20 upper-case ASCII
// symbols without separators (Canonical), stretched once (Derive):
//
//	s    = PBKDF2-HMAC-SHA256(canonical, "notary/code/kdf/v1", 10,000 iterations, 32 bytes)
//	salt = SHA-256("notary/code/salt/v1" || s)        32 bytes
//	key  = SHA-256("notary/code/key/v1"  || s)[:16]   16 bytes
//
// The salt takes the place of the salted commitment's salt, and the key is
// the chain's lookup key of the document; neither reveals the code, and the
// stretching makes each guess of a code against the chain's keys cost
// 10,000 HMACs. Known
// vector (testdata/vectors.json):
//
//	code  7KQ4M-XW9TR-2HDNP-C8VE6
//	key   ed6c57cd330b46767d8ceac622a2075a
//	salt  79b5541aac9f8c9e1ae9a795995896352bc323832312fd862603c9bd9f17094d
//
// The link in a QR code (Link) is the verifier's address with the code in
// its fragment, "https://verify.example/#code=7KQ4M-XW9TR-2HDNP-C8VE6": a
// browser never sends the fragment to a server. ParseLink reads it back.
//
// The package uses the standard library only and builds for js/wasm (the
// web verifier's core).
package vcode
