package pagecache

import (
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/cometbft/cometbft/libs/log"
)

func TestPass(t *testing.T) {
	dir := t.TempDir()
	write := func(name string, n int, age time.Duration) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, make([]byte, n), 0o600); err != nil {
			t.Fatal(err)
		}
		when := time.Now().Add(-age)
		if err := os.Chtimes(p, when, when); err != nil {
			t.Fatal(err)
		}
		return p
	}
	old := write("000001.ldb", 1<<20, 2*time.Minute)
	write("000002.ldb", 1<<20, 0)         // too young
	write("000003.log", 1<<20, time.Hour) // not matched
	tr := New(log.NewNopLogger(), filepath.Join(dir, "*.ldb"), filepath.Join(dir, "[") /* malformed */)
	now := time.Now()
	if n := tr.Pass(now); n != 1 {
		t.Fatalf("first pass advised %d files, want 1", n)
	}
	if n := tr.Pass(now); n != 0 {
		t.Fatalf("second pass advised %d files, want 0", n)
	}
	write("000001.ldb", 2<<20, 2*time.Minute) // grown
	if n := tr.Pass(now); n != 1 {
		t.Fatalf("after growth advised %d files, want 1", n)
	}
	if n := tr.Pass(now.Add(2 * time.Minute)); n != 1 {
		t.Fatalf("later pass advised %d files, want 1 (the younger file)", n)
	}
	os.Remove(old)
	tr.Pass(now)
	if _, ok := tr.done[old]; ok {
		t.Fatal("a removed file is still remembered")
	}
	if err := tr.Start(); err != nil {
		t.Fatal(err)
	}
	if err := tr.Stop(); err != nil {
		t.Fatal(err)
	}
}
