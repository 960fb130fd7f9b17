package blockdb

import (
	"encoding/binary"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"testing"

	"github.com/syndtr/goleveldb/leveldb"
)

// splitKey is the split layout's key for a CometBFT block store key with a
// height, as earlier releases wrote it.
func splitKey(t *testing.T, key string) []byte {
	t.Helper()
	parts := strings.Split(key, ":")
	kind := map[string]byte{"P": 1, "H": 2, "C": 3, "SC": 4, "EC": 5}[parts[0]]
	h, err := strconv.ParseUint(parts[1], 10, 64)
	if err != nil || kind == 0 {
		t.Fatalf("fixture key %q", key)
	}
	if kind == 3 {
		h++
	}
	out := binary.BigEndian.AppendUint64(nil, h)
	out = append(out, kind)
	if kind == 1 {
		p, _ := strconv.ParseUint(parts[2], 10, 32)
		out = binary.BigEndian.AppendUint32(out, uint32(p))
	}
	return out
}

// fixture is a block store's keys and values in CometBFT's layout.
func fixture(heights int) map[string]string {
	kv := map[string]string{"blockStore": `{"base":"1","height":"` + fmt.Sprint(heights) + `"}`}
	for h := 1; h <= heights; h++ {
		kv[fmt.Sprintf("H:%d", h)] = fmt.Sprintf("meta %d", h)
		kv[fmt.Sprintf("SC:%d", h)] = fmt.Sprintf("seen commit %d", h)
		kv[fmt.Sprintf("BH:%064x", h)] = fmt.Sprint(h)
		if h > 1 {
			kv[fmt.Sprintf("C:%d", h-1)] = fmt.Sprintf("commit %d", h-1)
		}
		for p := 0; p < h%3+1; p++ {
			kv[fmt.Sprintf("P:%d:%d", h, p)] = fmt.Sprintf("part %d/%d", h, p)
		}
	}
	kv[fmt.Sprintf("EC:%d", heights)] = "extended commit"
	return kv
}

// writeSplit writes kv into dataDir in the split layout.
func writeSplit(t *testing.T, dataDir string, kv map[string]string) {
	t.Helper()
	store, err := leveldb.OpenFile(filepath.Join(dataDir, storeName), nil)
	if err != nil {
		t.Fatal(err)
	}
	heights, err := leveldb.OpenFile(filepath.Join(dataDir, heightsName), nil)
	if err != nil {
		t.Fatal(err)
	}
	for k, v := range kv {
		db, key := store, []byte(k)
		if k != "blockStore" && !strings.HasPrefix(k, "BH:") {
			db, key = heights, splitKey(t, k)
		}
		if err := db.Put(key, []byte(v), nil); err != nil {
			t.Fatal(err)
		}
	}
	if err := store.Put(layoutKey, []byte("split-v1"), nil); err != nil {
		t.Fatal(err)
	}
	_ = store.Close()
	_ = heights.Close()
}

// contents reads every key of the block store in dataDir.
func contents(t *testing.T, dataDir string) map[string]string {
	t.Helper()
	db, err := leveldb.OpenFile(filepath.Join(dataDir, storeName), nil)
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = db.Close() }()
	out := map[string]string{}
	it := db.NewIterator(nil, nil)
	defer it.Release()
	for it.Next() {
		out[string(it.Key())] = string(it.Value())
	}
	return out
}

func equal(t *testing.T, got, want map[string]string) {
	t.Helper()
	var diffs []string
	for k, v := range want {
		if got[k] != v {
			diffs = append(diffs, fmt.Sprintf("%s: %q, want %q", k, got[k], v))
		}
	}
	for k := range got {
		if _, ok := want[k]; !ok {
			diffs = append(diffs, fmt.Sprintf("%s: unexpected", k))
		}
	}
	sort.Strings(diffs)
	if len(diffs) > 0 {
		t.Fatalf("%d differences: %s", len(diffs), strings.Join(diffs[:min(len(diffs), 10)], "; "))
	}
}

// TestMigrate: a split store becomes exactly the store CometBFT's own keys
// describe, the heights database goes, and a second run does nothing.
func TestMigrate(t *testing.T) {
	dir := t.TempDir()
	want := fixture(300)
	writeSplit(t, dir, want)
	done, err := Migrate(dir)
	if err != nil || !done {
		t.Fatalf("Migrate: %v, %v", done, err)
	}
	equal(t, contents(t, dir), want)
	if _, err := os.Stat(filepath.Join(dir, heightsName)); !os.IsNotExist(err) {
		t.Fatalf("the heights database is still there: %v", err)
	}
	if done, err := Migrate(dir); err != nil || done {
		t.Fatalf("second Migrate: %v, %v", done, err)
	}
	equal(t, contents(t, dir), want)
}

// TestMigrateResumes: after a crash between the copy and the removal of the
// mark, or between that and the removal of the heights database, the next
// Migrate finishes the job.
func TestMigrateResumes(t *testing.T) {
	want := fixture(20)
	t.Run("copied, still marked", func(t *testing.T) {
		dir := t.TempDir()
		writeSplit(t, dir, want)
		store, _ := leveldb.OpenFile(filepath.Join(dir, storeName), nil)
		heights, _ := leveldb.OpenFile(filepath.Join(dir, heightsName), nil)
		if err := copyKeys(heights, store); err != nil {
			t.Fatal(err)
		}
		_ = heights.Close()
		_ = store.Close()
		if done, err := Migrate(dir); err != nil || !done {
			t.Fatalf("Migrate: %v, %v", done, err)
		}
		equal(t, contents(t, dir), want)
	})
	t.Run("unmarked, heights left", func(t *testing.T) {
		dir := t.TempDir()
		writeSplit(t, dir, want)
		if _, err := Migrate(dir); err != nil {
			t.Fatal(err)
		}
		if err := os.MkdirAll(filepath.Join(dir, heightsName), 0o700); err != nil {
			t.Fatal(err)
		}
		if done, err := Migrate(dir); err != nil || !done {
			t.Fatalf("Migrate: %v, %v", done, err)
		}
		if _, err := os.Stat(filepath.Join(dir, heightsName)); !os.IsNotExist(err) {
			t.Fatal("the heights database is still there")
		}
		equal(t, contents(t, dir), want)
	})
	t.Run("not split", func(t *testing.T) {
		if done, err := Migrate(t.TempDir()); err != nil || done {
			t.Fatalf("Migrate of an empty data directory: %v, %v", done, err)
		}
	})
	t.Run("unknown layout", func(t *testing.T) {
		dir := t.TempDir()
		writeSplit(t, dir, want)
		store, _ := leveldb.OpenFile(filepath.Join(dir, storeName), nil)
		_ = store.Put(layoutKey, []byte("split-v9"), nil)
		_ = store.Close()
		if _, err := Migrate(dir); err == nil || !strings.Contains(err.Error(), "split-v9") {
			t.Fatalf("Migrate of an unknown layout: %v", err)
		}
	})
}

// TestDecodeKey: every kind maps back to CometBFT's key; keys that are not
// height keys are refused.
func TestDecodeKey(t *testing.T) {
	for _, k := range []string{"H:1", "P:1:0", "P:77:4294967295", "C:0", "C:41", "SC:9", "EC:999999999999999999"} {
		got, err := decodeKey(splitKey(t, k))
		if err != nil || string(got) != k {
			t.Errorf("%s: %q, %v", k, got, err)
		}
	}
	bad := [][]byte{
		nil, []byte("blockStore"),
		append(binary.BigEndian.AppendUint64(nil, 5), 9),             // unknown kind
		append(binary.BigEndian.AppendUint64(nil, 5), 1),             // a part without its number
		append(binary.BigEndian.AppendUint64(nil, 5), 2, 0, 0, 0, 1), // a meta with a number
		append(binary.BigEndian.AppendUint64(nil, 0), 3),             // the commit of height -1
	}
	for _, k := range bad {
		if got, err := decodeKey(k); err == nil {
			t.Errorf("%x: decoded as %q", k, got)
		}
	}
}
