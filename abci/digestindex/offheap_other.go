//go:build !unix

package digestindex

// allocWords: without anonymous mappings the words live in the Go heap.
func allocWords(n int) (words []uint64, free func(), ok bool) {
	return nil, nil, false
}
