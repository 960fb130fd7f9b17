//go:build unix

package digestindex

import (
	"unsafe"

	"golang.org/x/sys/unix"
)

// allocWords returns n zeroed words outside the Go heap (an anonymous
// mapping) and the function that releases them, or ok false if the system
// refused the mapping. Memory the garbage collector does not own does not
// count towards its heap goal: a filter of hundreds of megabytes in the heap
// would let the heap grow by as much again between collections, and the
// node's resident memory swing with it under load.
//
// Madvise's error is ignored: without huge pages the filter works the same.
func allocWords(n int) (words []uint64, free func(), ok bool) {
	b, err := unix.Mmap(-1, 0, n*8, unix.PROT_READ|unix.PROT_WRITE, unix.MAP_ANON|unix.MAP_PRIVATE)
	if err != nil {
		return nil, nil, false
	}
	// Huge pages where the system allows them: digests land on random
	// pages, so the first hundred thousand fault in nearly every 4 kB page
	// of the mapping one by one, on the critical path of a new node's
	// first blocks; 2 MB pages fault 512 times fewer.
	_ = unix.Madvise(b, unix.MADV_HUGEPAGE)
	return unsafe.Slice((*uint64)(unsafe.Pointer(unsafe.SliceData(b))), n), func() { _ = unix.Munmap(b) }, true
}
