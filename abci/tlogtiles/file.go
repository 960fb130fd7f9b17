package tlogtiles

import (
	"bytes"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
)

// syncer writes tiles and syncs their directories once, at the end.
type syncer struct {
	dirs []string
}

// write writes tile t. A full tile that exists already must have the same
// bytes: full tiles never change.
func (w *syncer) write(root string, t Tile, data []byte) error {
	p := filepath.Join(root, filepath.FromSlash(t.Path()))
	if t.Full() {
		old, err := os.ReadFile(p)
		switch {
		case err == nil && bytes.Equal(old, data):
			return nil
		case err == nil:
			return fmt.Errorf("tlogtiles: full tile %s exists with other bytes", t.Path())
		case !errors.Is(err, fs.ErrNotExist):
			return fmt.Errorf("tlogtiles: %w", err)
		}
	}
	dir := filepath.Dir(p)
	// The directories this write creates, and the one above the first of
	// them, are synced too.
	for d := dir; d != root; d = filepath.Dir(d) {
		w.add(filepath.Dir(d))
		if _, err := os.Stat(d); err == nil {
			break
		}
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return fmt.Errorf("tlogtiles: %w", err)
	}
	if err := writeFile(dir, filepath.Base(p), data); err != nil {
		return err
	}
	w.add(dir)
	return nil
}

func (w *syncer) add(dir string) {
	for _, d := range w.dirs {
		if d == dir {
			return
		}
	}
	w.dirs = append(w.dirs, dir)
}

// sync syncs the directories written to.
func (w *syncer) sync() error {
	for _, d := range w.dirs {
		if err := syncDir(d); err != nil {
			return err
		}
	}
	return nil
}

// writeFile writes dir/name through a synced temporary file renamed into
// place, without syncing dir.
func writeFile(dir, name string, data []byte) error {
	f, err := os.CreateTemp(dir, "."+name+".tmp*")
	if err != nil {
		return fmt.Errorf("tlogtiles: %w", err)
	}
	tmp := f.Name()
	_, err = f.Write(data)
	if err == nil {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Chmod(tmp, 0o644)
	}
	if err == nil {
		err = os.Rename(tmp, filepath.Join(dir, name))
	}
	if err != nil {
		_ = os.Remove(tmp)
		return fmt.Errorf("tlogtiles: write %s: %w", filepath.Join(dir, name), err)
	}
	return nil
}

// writeFileSync is writeFile followed by a sync of dir.
func writeFileSync(dir, name string, data []byte) error {
	if err := writeFile(dir, name, data); err != nil {
		return err
	}
	return syncDir(dir)
}

func syncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return fmt.Errorf("tlogtiles: %w", err)
	}
	err = d.Sync()
	if cerr := d.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return fmt.Errorf("tlogtiles: sync %s: %w", dir, err)
	}
	return nil
}
