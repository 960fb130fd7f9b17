package pagecache

import (
	"os"
	"path/filepath"
	"testing"
	"time"
	"unsafe"

	"github.com/cometbft/cometbft/libs/log"
	"golang.org/x/sys/unix"
)

// resident counts the file's pages in the page cache (mincore).
func resident(t *testing.T, path string) int {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	fi, _ := f.Stat()
	b, err := unix.Mmap(int(f.Fd()), 0, int(fi.Size()), unix.PROT_READ, unix.MAP_SHARED)
	if err != nil {
		t.Fatal(err)
	}
	defer unix.Munmap(b)
	vec := make([]byte, (len(b)+os.Getpagesize()-1)/os.Getpagesize())
	if _, _, errno := unix.Syscall(unix.SYS_MINCORE, uintptr(unsafe.Pointer(&b[0])), uintptr(len(b)), uintptr(unsafe.Pointer(&vec[0]))); errno != 0 {
		t.Fatal(errno)
	}
	n := 0
	for _, v := range vec {
		n += int(v & 1)
	}
	return n
}

// TestPagesDropped: the kernel drops the cached pages of a file the Trimmer
// advises on.
func TestPagesDropped(t *testing.T) {
	p := filepath.Join(t.TempDir(), "000001.ldb")
	data := make([]byte, 8<<20)
	for i := range data {
		data[i] = byte(i)
	}
	f, err := os.Create(p)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := f.Write(data); err != nil {
		t.Fatal(err)
	}
	if err := f.Sync(); err != nil { // clean pages, which the kernel may drop
		t.Fatal(err)
	}
	f.Close()
	before := resident(t, p)
	if before == 0 {
		t.Skip("the file's pages are not cached here (tmpfs or no page cache)")
	}
	tr := New(log.NewNopLogger(), filepath.Join(filepath.Dir(p), "*.ldb"))
	if n := tr.Pass(time.Now().Add(time.Hour)); n != 1 {
		t.Fatalf("advised %d files", n)
	}
	after := resident(t, p)
	t.Logf("resident pages: %d -> %d", before, after)
	if after > before/10 {
		t.Fatalf("resident pages: %d -> %d", before, after)
	}
}
