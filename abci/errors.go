package abci

import (
	"github.com/gobtechlab/notary/ledger"
)

// internalLog replaces the text of every unregistered error in a result: such
// errors may carry internal, non-deterministic detail.
const internalLog = "internal error"

// resultOf maps an error to its ABCI code, codespace and log. This is the one
// place where ledger errors become ABCI results: a registered error keeps its
// stable code and its message; anything else is CodeInternal, redacted.
func resultOf(err error) (code uint32, codespace, log string) {
	if err == nil {
		return 0, "", ""
	}
	code = ledger.CodeOf(err)
	if code == ledger.CodeInternal {
		return code, ledger.Codespace, internalLog
	}
	return code, ledger.Codespace, err.Error()
}
