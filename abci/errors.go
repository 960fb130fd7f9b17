package abci

import (
	"fmt"

	"github.com/gobtechlab/notary/ledger"
)

// EarliestStateError is StateAt's error for a height below the earliest
// state this node holds: the snapshot it joined from by state sync (it
// never held the state before), or the height its retention pruned to
// (retention.go). It is a ledger.ErrHeightUnavailable; the gateway answers
// it FAILED_PRECONDITION, since no retry on this node succeeds.
type EarliestStateError struct {
	Height   int64 // the height asked for
	Earliest int64 // the earliest state version the node holds
	Restored bool  // Earliest is the height of the snapshot it joined from
}

func (e *EarliestStateError) Error() string {
	why := "this node prunes old heights (retention)"
	if e.Restored {
		why = "this node joined by state sync from a snapshot of that height"
	}
	return fmt.Sprintf("%v: height %d is before the earliest state this node holds, height %d (%s): a receipt v2 proves an anchor of that height, or ask an archive node",
		ledger.ErrHeightUnavailable, e.Height, e.Earliest, why)
}

// Unwrap makes it a ledger.ErrHeightUnavailable.
func (e *EarliestStateError) Unwrap() error { return ledger.ErrHeightUnavailable }

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
