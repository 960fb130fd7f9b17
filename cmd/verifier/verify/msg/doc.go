// Package msg is the verifier's message catalogue: every sentence a citizen
// reads, from the command line (verdicts, help, errors) or from the web
// verifier (its labels, through the wasm module), in Spanish (the
// default), English, Catalan, Galician and Basque.
//
// A message has a key ("verdict.valid") and named placeholders
// ("{issuer}"), so that each language orders a sentence its own way. Every
// key exists in every language with the same placeholders (the tests check
// it). Dates are written by Date, which inflects Basque years and days.
package msg
