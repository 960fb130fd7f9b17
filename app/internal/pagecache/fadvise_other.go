//go:build !linux

package pagecache

func dropCache(string) error { return nil }
