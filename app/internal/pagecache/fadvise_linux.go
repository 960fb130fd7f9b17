package pagecache

import (
	"os"

	"golang.org/x/sys/unix"
)

// dropCache asks the kernel to drop the file's cached pages (it starts
// writing dirty ones back; those stay until written).
func dropCache(path string) error {
	f, err := os.Open(path)
	if err != nil {
		return err
	}
	defer f.Close()
	return unix.Fadvise(int(f.Fd()), 0, 0, unix.FADV_DONTNEED)
}
