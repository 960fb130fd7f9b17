// Package safetext makes untrusted strings safe to print on a terminal:
// file names, names and texts read from the chain or from a receipt, a
// node's messages. Control characters, ANSI escape sequences, other
// non-printable runes (bidirectional overrides, zero-width characters) and
// invalid UTF-8 are shown escaped, so that such a string cannot start a
// line of its own, move the cursor or recolour the terminal: a file name
// cannot forge an "anchored" line.
//
// JSON output needs none of this: encoding/json escapes control characters.
package safetext
