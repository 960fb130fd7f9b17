//go:build !linux

package digestindex

import (
	"errors"
	"os"
)

// startWriteback does nothing where sync_file_range is not available.
func startWriteback(*os.File) {}

// openDirect reports that writing around the page cache is not available.
func openDirect(string) (*os.File, error) { return nil, errors.ErrUnsupported }

// willNeed does nothing where posix_fadvise is not available.
func willNeed(*os.File) {}
