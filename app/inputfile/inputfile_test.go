package inputfile_test

import (
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/gobtechlab/notary/app/inputfile"
)

// TestOpen: a regular file (also through a symbolic link) opens and reads;
// a named pipe, a device, a directory and a symbolic link to a pipe are
// refused at once, naming what they are; a missing file keeps its
// fs.ErrNotExist.
func TestOpen(t *testing.T) {
	dir := t.TempDir()
	file := filepath.Join(dir, "file")
	if err := os.WriteFile(file, []byte("contents"), 0o644); err != nil {
		t.Fatal(err)
	}
	fifo := filepath.Join(dir, "pipe")
	if err := syscall.Mkfifo(fifo, 0o644); err != nil {
		t.Fatal(err)
	}
	linkToFile, linkToFifo := filepath.Join(dir, "to-file"), filepath.Join(dir, "to-pipe")
	for link, target := range map[string]string{linkToFile: file, linkToFifo: fifo} {
		if err := os.Symlink(target, link); err != nil {
			t.Fatal(err)
		}
	}
	cases := []struct {
		path string
		kind string // "" for a readable file
	}{
		{file, ""},
		{linkToFile, ""},
		{fifo, "a named pipe (FIFO)"},
		{linkToFifo, "a named pipe (FIFO)"},
		{"/dev/zero", "a character device"},
		{dir, "a directory"},
	}
	for _, tc := range cases {
		t.Run(filepath.Base(tc.path), func(t *testing.T) {
			done := make(chan struct{})
			var b []byte
			var err error
			go func() {
				defer close(done)
				b, err = inputfile.ReadFile(tc.path)
			}()
			select {
			case <-done:
			case <-time.After(5 * time.Second):
				t.Fatal("blocked")
			}
			if tc.kind == "" {
				if err != nil || string(b) != "contents" {
					t.Fatalf("read %q, %v", b, err)
				}
				return
			}
			var nr *inputfile.NotRegularError
			if !errors.Is(err, inputfile.ErrNotRegular) || !errors.As(err, &nr) || nr.Path != tc.path ||
				!strings.Contains(err.Error(), tc.path+" is "+tc.kind+", not a regular file") {
				t.Fatalf("error %v", err)
			}
		})
	}
	if _, err := inputfile.Open(filepath.Join(dir, "missing")); !errors.Is(err, fs.ErrNotExist) {
		t.Fatalf("missing file: %v", err)
	}
}
