package cli

import (
	"os"
	"path/filepath"
)

// WriteFileAtomic writes b to path (mode 0644) through a temporary file in
// the same directory renamed into place, so that a reader sees the old
// file or the new one, never a part. The temporary file is removed on
// failure.
func WriteFileAtomic(path string, b []byte) error {
	f, err := os.CreateTemp(filepath.Dir(path), "."+filepath.Base(path)+".*")
	if err != nil {
		return err
	}
	tmp := f.Name()
	_, werr := f.Write(b)
	if cerr := f.Close(); werr == nil {
		werr = cerr
	}
	if werr == nil {
		werr = os.Chmod(tmp, 0o644)
	}
	if werr == nil {
		werr = os.Rename(tmp, path)
	}
	if werr != nil {
		_ = os.Remove(tmp) // the error returned is werr's
	}
	return werr
}
