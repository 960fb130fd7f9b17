//go:build unix

package inputfile

import (
	"os"
	"syscall"
)

// openNonblocking opens path read-only with O_NONBLOCK, so that opening a
// named pipe does not wait for a writer. Reads of a regular file ignore
// the flag.
func openNonblocking(path string) (*os.File, error) {
	return os.OpenFile(path, os.O_RDONLY|syscall.O_NONBLOCK, 0)
}
