// Package webapi is the web verifier's interface to package verify: plain
// values in, plain values out, with no networking (the page's JavaScript
// fetches live statuses and passes their bodies in). The wasm module
// (cmd/verifier/wasm) exposes ReceiptInfo, Verify and Messages to the page
// as notaryReceiptInfo, notaryVerify and notaryMessages; the tests run them
// natively.
package webapi
