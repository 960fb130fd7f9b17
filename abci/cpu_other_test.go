//go:build !unix

package abci

import (
	"testing"
	"time"
)

// processCPU is zero where getrusage is not available.
func processCPU(*testing.B) time.Duration { return 0 }
