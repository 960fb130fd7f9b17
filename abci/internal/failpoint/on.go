//go:build failpoints

package failpoint

import (
	"fmt"
	"os"
	"strconv"
	"strings"
)

// Enabled reports whether failpoints are compiled in.
const Enabled = true

// ExitCode is the status of a process stopped by a failpoint.
const ExitCode = 99

var target, targetHeight = parse(os.Getenv("NOTARY_FAILPOINT"))

func parse(s string) (string, int64) {
	name, h, ok := strings.Cut(s, "@")
	if !ok {
		return name, 0
	}
	height, err := strconv.ParseInt(h, 10, 64)
	if err != nil {
		return name, -1
	}
	return name, height
}

// Hit exits the process if the configured failpoint is name at height.
func Hit(name string, height int64) {
	if name != target || (targetHeight != 0 && targetHeight != height) {
		return
	}
	fmt.Fprintf(os.Stderr, "failpoint %s reached at height %d: exiting\n", name, height)
	os.Exit(ExitCode)
}
