package abci

import (
	"errors"
	"fmt"

	"github.com/cosmos/iavl"
	ics23 "github.com/cosmos/ics23/go"

	"github.com/gobtechlab/notary/ledger"
)

// ErrReadOnly is returned by writes to a committed state view.
var ErrReadOnly = errors.New("state view is read-only")

// workingStore is the ledger.Store over the IAVL working tree: the writes of
// the block being executed, persisted by Commit.
type workingStore struct{ tree *iavl.MutableTree }

func (s workingStore) Get(key []byte) ([]byte, error) { return s.tree.Get(key) }

func (s workingStore) Set(key, value []byte) error {
	_, err := s.tree.Set(key, value)
	return err
}

func (s workingStore) Delete(key []byte) error {
	_, _, err := s.tree.Remove(key)
	return err
}

func (s workingStore) Iterate(start, end []byte, fn func(key, value []byte) bool) error {
	it, err := s.tree.Iterator(start, end, true)
	if err != nil {
		return err
	}
	defer func() { _ = it.Close() }()
	for ; it.Valid(); it.Next() {
		if !fn(it.Key(), it.Value()) {
			break
		}
	}
	return it.Error()
}

// StateView is the state committed at one height: read-only, safe for
// concurrent use, and the source of every proof.
type StateView struct {
	tree   *iavl.ImmutableTree
	height int64
}

// Height is the state version (block height) of the view.
func (v *StateView) Height() int64 { return v.height }

// Hash is the app hash of the view: the one in the header of Height()+1.
func (v *StateView) Hash() []byte { return v.tree.Hash() }

// ErrDamaged is returned when reading the state fails in a way only a
// damaged database explains; the node must not serve that height.
var ErrDamaged = errors.New("state database damaged: restore a backup or resync")

// guard turns a panic inside IAVL (which dereferences nodes it failed to
// read, e.g. on a corrupted database) into an ErrDamaged error.
func guard(err *error) {
	if r := recover(); r != nil {
		*err = fmt.Errorf("%w (%v)", ErrDamaged, r)
	}
}

// Get returns the value at key, or nil.
func (v *StateView) Get(key []byte) (value []byte, err error) {
	defer guard(&err)
	return v.tree.Get(key)
}

// Set implements ledger.Store; a view is read-only.
func (v *StateView) Set([]byte, []byte) error { return ErrReadOnly }

// Delete implements ledger.Store; a view is read-only.
func (v *StateView) Delete([]byte) error { return ErrReadOnly }

// Iterate implements ledger.Store.
func (v *StateView) Iterate(start, end []byte, fn func(key, value []byte) bool) (err error) {
	defer guard(&err)
	it, err := v.tree.Iterator(start, end, true)
	if err != nil {
		return err
	}
	defer func() { _ = it.Close() }()
	for ; it.Valid(); it.Next() {
		if !fn(it.Key(), it.Value()) {
			break
		}
	}
	return it.Error()
}

// IterateReverse visits keys in [start, end) in descending order.
func (v *StateView) IterateReverse(start, end []byte, fn func(key, value []byte) bool) (err error) {
	defer guard(&err)
	it, err := v.tree.Iterator(start, end, false)
	if err != nil {
		return err
	}
	defer func() { _ = it.Close() }()
	for ; it.Valid(); it.Next() {
		if !fn(it.Key(), it.Value()) {
			break
		}
	}
	return it.Error()
}

// Prove returns the value at key (nil if absent) and an ICS23 proof: of
// existence if present, of non-existence if not. Both verify against Hash()
// with ics23.IavlSpec.
func (v *StateView) Prove(key []byte) (value []byte, proof *ics23.CommitmentProof, err error) {
	defer guard(&err)
	value, err = v.tree.Get(key)
	if err != nil {
		return nil, nil, err
	}
	if value != nil {
		proof, err = v.tree.GetMembershipProof(key)
	} else {
		proof, err = v.tree.GetNonMembershipProof(key)
	}
	if err != nil {
		return nil, nil, fmt.Errorf("proof of %q at height %d: %w", key, v.height, err)
	}
	return value, proof, nil
}

var (
	_ ledger.Store = workingStore{}
	_ ledger.Store = (*StateView)(nil)
)
