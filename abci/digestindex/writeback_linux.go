package digestindex

import (
	"os"

	"golang.org/x/sys/unix"
)

// startWriteback asks the kernel to start writing f's dirty pages now,
// without waiting: a merge writing a large run then does not leave a
// gigabyte for its final fsync, which on a shared disk also delays the
// small synced writes of every Commit behind it.
func startWriteback(f *os.File) {
	_ = unix.SyncFileRange(int(f.Fd()), 0, 0, unix.SYNC_FILE_RANGE_WRITE)
}

// openDirect creates (or truncates) path for writing around the page cache.
func openDirect(path string) (*os.File, error) {
	return os.OpenFile(path, os.O_CREATE|os.O_TRUNC|os.O_WRONLY|unix.O_DIRECT, 0o600)
}

// willNeed asks the kernel to read f into the page cache now, without
// waiting.
func willNeed(f *os.File) {
	_ = unix.Fadvise(int(f.Fd()), 0, 0, unix.FADV_WILLNEED)
}
