// Package webapi is the web verifier's interface to package verify: plain
// values in, plain values out, with no networking (the page's JavaScript
// fetches receipts by verification code and live statuses, and passes their
// bodies in). The wasm module (cmd/verifier/wasm) exposes ReceiptInfo,
// Verify, ParseCode, VerifyCode and Messages to the page as
// notaryReceiptInfo, notaryVerify, notaryCode, notaryVerifyCode and
// notaryMessages; the tests run them natively.
//
// A verification code is parsed, and its key derived, in the core, before
// any request; the page asks the nodes for the receipt under the key
// (CodeInfo.CodePath: a receipt v2 when the trust bundle given to
// ParseCodeFor requires receipts v2, else v1) and VerifyCode checks it
// with the code's salt, which never leaves the core.
package webapi
