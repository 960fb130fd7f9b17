package vcode

import (
	"errors"
	"fmt"
	"strings"
)

// Kind says what is wrong with a code that Parse or ParseLink refuses. Its
// String is a stable name, not a sentence: the verifier's CLIs and web page
// phrase each kind in the reader's language from the Error's fields.
type Kind int

const (
	// KindEmpty: no code at all (only spaces and hyphens, or nothing).
	KindEmpty Kind = iota + 1
	// KindSymbol: a character that is not a symbol of the alphabet; Error.Pos
	// and Error.Char name it.
	KindSymbol
	// KindLength: not 20 symbols; Error.Len is how many there are.
	KindLength
	// KindCheck: 20 symbols whose check does not hold: a character was
	// mistyped or two were swapped.
	KindCheck
	// KindLink: a link without a "code=" parameter in its fragment.
	KindLink
)

var kindNames = map[Kind]string{
	KindEmpty:  "empty",
	KindSymbol: "symbol",
	KindLength: "length",
	KindCheck:  "check",
	KindLink:   "link",
}

// String is the kind's stable name: empty, symbol, length, check or link.
func (k Kind) String() string {
	if s, ok := kindNames[k]; ok {
		return s
	}
	return fmt.Sprintf("Kind(%d)", int(k))
}

// Error is a code refused by Parse or ParseLink.
type Error struct {
	Kind Kind
	// Pos is the 1-based position of the wrong character among the code's
	// characters, spaces and hyphens not counted (KindSymbol).
	Pos int
	// Char is the wrong character as typed (KindSymbol).
	Char rune
	// Len is the number of symbols given (KindLength).
	Len int
}

// Error says in plain words what is wrong.
func (e *Error) Error() string {
	switch e.Kind {
	case KindEmpty:
		return "verification code: no code given"
	case KindSymbol:
		msg := fmt.Sprintf("verification code: character %d, %q, is not used in codes", e.Pos, e.Char)
		if Confusable(e.Char) {
			msg += " (codes never use 0, O, 1, I or L)"
		}
		return msg
	case KindLength:
		return fmt.Sprintf("verification code: %d characters, a code has %d (spaces and hyphens not counted)", e.Len, Len)
	case KindCheck:
		return "verification code: the check character does not match: a character was mistyped or two were swapped"
	case KindLink:
		return "verification code: the link holds no code (no #code= in it)"
	}
	return fmt.Sprintf("verification code: refused (%v)", e.Kind)
}

// Confusable reports the characters that codes leave out because they are
// read as one another: 0, O, 1, I and L, in either case. A message about
// one of them tells the reader that codes never use them.
func Confusable(r rune) bool {
	return r < 0x80 && strings.ContainsRune("0Oo1IiLl", r)
}

// KindOf is the Kind of the *Error in err's chain, or 0 if there is none.
func KindOf(err error) Kind {
	var e *Error
	if errors.As(err, &e) {
		return e.Kind
	}
	return 0
}
