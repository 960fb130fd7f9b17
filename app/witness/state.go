package witness

import (
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"maps"
	"os"
	"path/filepath"
)

// stateVersion is the version of the state file's format.
const stateVersion = 1

// Record is what the witness keeps of a log: the last checkpoint it
// cosigned.
type Record struct {
	Size uint64 `json:"size"`
	Root []byte `json:"root"`
	// Checkpoint is the body of the cosigned note, kept as evidence.
	Checkpoint string `json:"checkpoint"`
}

// State is a witness's memory: the last cosigned checkpoint of each log,
// by origin.
type State struct {
	Version int               `json:"version"`
	Logs    map[string]Record `json:"logs"`
}

// LoadState reads the state file at path; a missing file is an empty state
// (a new witness).
func LoadState(path string) (*State, error) {
	b, err := os.ReadFile(path)
	if errors.Is(err, fs.ErrNotExist) {
		return &State{Version: stateVersion, Logs: map[string]Record{}}, nil
	}
	if err != nil {
		return nil, fmt.Errorf("read witness state: %w", err)
	}
	var s State
	if err := json.Unmarshal(b, &s); err != nil {
		return nil, fmt.Errorf("decode witness state %s: %w", path, err)
	}
	if s.Version != stateVersion {
		return nil, fmt.Errorf("witness state %s: version %d, this witness reads %d", path, s.Version, stateVersion)
	}
	if s.Logs == nil {
		s.Logs = map[string]Record{}
	}
	return &s, nil
}

// Save writes the state to path crash-safely: to a file beside it, synced,
// renamed over path, and the directory synced, so that path holds either
// the old state or the new one, whole.
func (s *State) Save(path string) error {
	b, err := json.MarshalIndent(s, "", "  ")
	if err != nil {
		return fmt.Errorf("encode witness state: %w", err)
	}
	dir := filepath.Dir(path)
	f, err := os.CreateTemp(dir, "."+filepath.Base(path)+".*")
	if err != nil {
		return fmt.Errorf("create state file: %w", err)
	}
	tmp := f.Name()
	defer func() { _ = os.Remove(tmp) }()
	if _, err := f.Write(append(b, '\n')); err != nil {
		_ = f.Close()
		return fmt.Errorf("write state file: %w", err)
	}
	if err := f.Sync(); err != nil {
		_ = f.Close()
		return fmt.Errorf("sync state file: %w", err)
	}
	if err := f.Close(); err != nil {
		return fmt.Errorf("close state file: %w", err)
	}
	if err := os.Rename(tmp, path); err != nil {
		return fmt.Errorf("rename state file: %w", err)
	}
	d, err := os.Open(dir)
	if err != nil {
		return fmt.Errorf("open state directory: %w", err)
	}
	defer func() { _ = d.Close() }()
	if err := d.Sync(); err != nil {
		return fmt.Errorf("sync state directory: %w", err)
	}
	return nil
}

func (s *State) clone() *State {
	return &State{Version: stateVersion, Logs: maps.Clone(s.Logs)}
}
