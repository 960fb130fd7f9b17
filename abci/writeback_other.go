//go:build !linux

package abci

import "os"

// startWriteback does nothing where sync_file_range is not available.
func startWriteback(*os.File) {}
