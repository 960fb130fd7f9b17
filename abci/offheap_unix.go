//go:build unix

package abci

import (
	"unsafe"

	"golang.org/x/sys/unix"
)

// allocWords returns n zeroed words outside the Go heap (an anonymous
// mapping) and the function that releases them, or ok false if the system
// refused the mapping. Memory the garbage collector does not own does not
// count towards its heap goal: a filter of hundreds of megabytes in the heap
// let the heap grow by as much again between collections, which showed as
// node RSS swinging by 40 % under load (docs/performance.md).
func allocWords(n int) (words []uint64, free func(), ok bool) {
	b, err := unix.Mmap(-1, 0, n*8, unix.PROT_READ|unix.PROT_WRITE, unix.MAP_ANON|unix.MAP_PRIVATE)
	if err != nil {
		return nil, nil, false
	}
	return unsafe.Slice((*uint64)(unsafe.Pointer(unsafe.SliceData(b))), n), func() { _ = unix.Munmap(b) }, true
}
