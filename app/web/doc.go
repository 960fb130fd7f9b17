// Package web is the web verifier: a static page (index.html, style.css,
// app.js) that checks a document and its receipt in the browser with the
// verification core compiled to WebAssembly (cmd/verifier/wasm, generated
// into static/verifier.wasm.gz by scripts/wasmgen.sh together with the Go
// runtime's wasm_exec.js). Everything the page needs is in these files:
// no external resources, no fonts or scripts from elsewhere.
//
// The page reads the consortium's trust bundle from trust.json beside it.
// FS returns the page without one; Site adds a trust bundle, for a node
// that serves the page on its public endpoint; Export writes the page and
// the trust bundle into a folder for any static web server
// (`notaryd web export`).
//
// The document never leaves the page: it is hashed there (WebCrypto for
// SHA-256, the wasm core for SHA3-256). Online, the page asks each public
// endpoint the trust bundle lists for the live status of the receipt's
// document (GET {endpoint}/v1/status/{alg}/{digest}, or
// GET {endpoint}/v1/status/code/{code_key} for a document anchored under a
// verification code; 5 s each) and
// passes the answers to the core, which verifies them as it verifies the
// receipt; offline it asks nothing and says that the status is the
// receipt's. docs/verify-web.md describes the page and its tests.
package web
