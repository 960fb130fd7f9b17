//go:build unix

package inputfile

import (
	"path/filepath"
	"syscall"
	"testing"
	"time"
)

// TestOpenNonblocking: the open itself does not wait for a writer, so that
// a named pipe swapped in after the path was checked cannot block Open.
func TestOpenNonblocking(t *testing.T) {
	fifo := filepath.Join(t.TempDir(), "pipe")
	if err := syscall.Mkfifo(fifo, 0o644); err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() {
		f, err := openNonblocking(fifo)
		if err == nil {
			_ = f.Close()
		}
		done <- err
	}()
	select {
	case err := <-done:
		if err != nil {
			t.Fatal(err)
		}
	case <-time.After(5 * time.Second):
		// Release the blocked open.
		if fd, err := syscall.Open(fifo, syscall.O_WRONLY|syscall.O_NONBLOCK, 0); err == nil {
			_ = syscall.Close(fd)
		}
		t.Fatal("opening a named pipe blocked")
	}
}
