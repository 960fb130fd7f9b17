//go:build !unix

package inputfile

import "os"

// openNonblocking opens path read-only; systems without named pipes in the
// file system need nothing more.
func openNonblocking(path string) (*os.File, error) {
	return os.Open(path)
}
