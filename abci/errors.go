package abci

import (
	"fmt"

	"github.com/gobtechlab/notary/ledger"
)

// BeforeSnapshotError is StateAt's error for a height below the snapshot
// this node joined from by state sync: it never held that state. It is a
// ledger.ErrHeightUnavailable; the gateway answers it FAILED_PRECONDITION,
// since no retry on this node succeeds.
type BeforeSnapshotError struct {
	Height   int64 // the height asked for
	Snapshot int64 // the height of the snapshot the node joined from
}

func (e *BeforeSnapshotError) Error() string {
	return fmt.Sprintf("%v: height %d is before the snapshot this node joined from (height %d): a receipt v2 proves an anchor of that height, or ask an archive node",
		ledger.ErrHeightUnavailable, e.Height, e.Snapshot)
}

// Unwrap makes it a ledger.ErrHeightUnavailable.
func (e *BeforeSnapshotError) Unwrap() error { return ledger.ErrHeightUnavailable }

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
