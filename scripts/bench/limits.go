package main

import (
	"crypto/ed25519"
	"crypto/sha256"
	"runtime"
	"sync"
	"time"
)

// measureLimits measures, on one core and on all cores at once, the
// SHA-256 rate of Merkle interior nodes (0x01 || left || right, 65 bytes,
// as ledger.MerkleRoot hashes them) and the ed25519 verification rate of a
// 32-byte message.
func measureLimits(d time.Duration) *limitsResult {
	node := func(stop func() bool) int64 {
		var buf [65]byte
		buf[0] = 0x01
		var n int64
		for !stop() {
			for range 1000 {
				s := sha256.Sum256(buf[:])
				copy(buf[1:33], s[:])
			}
			n += 1000
		}
		return n
	}
	pub, priv, err := ed25519.GenerateKey(nil)
	if err != nil {
		return &limitsResult{}
	}
	msg := make([]byte, 32)
	sig := ed25519.Sign(priv, msg)
	verify := func(stop func() bool) int64 {
		var n int64
		for !stop() {
			for range 50 {
				if !ed25519.Verify(pub, msg, sig) {
					return n
				}
			}
			n += 50
		}
		return n
	}
	cores := runtime.NumCPU()
	r := &limitsResult{Cores: cores}
	r.SHA256NodesPerSecCore = rate(node, 1, d)
	r.SHA256NodesPerSecAll = rate(node, cores, d)
	r.Ed25519VerifyPerSecCore = rate(verify, 1, d)
	r.Ed25519VerifyPerSecAll = rate(verify, cores, d)
	logf("limits: SHA-256 nodes %.2fM/s per core (%.2fM/s on %d cores), ed25519 verify %.0f/s per core",
		r.SHA256NodesPerSecCore/1e6, r.SHA256NodesPerSecAll/1e6, cores, r.Ed25519VerifyPerSecCore)
	return r
}

// rate runs f on g goroutines for d and returns operations per second.
func rate(f func(stop func() bool) int64, g int, d time.Duration) float64 {
	deadline := time.Now().Add(d)
	stop := func() bool { return time.Now().After(deadline) }
	var mu sync.Mutex
	var total int64
	var wg sync.WaitGroup
	start := time.Now()
	for range g {
		wg.Add(1)
		go func() {
			defer wg.Done()
			n := f(stop)
			mu.Lock()
			total += n
			mu.Unlock()
		}()
	}
	wg.Wait()
	return float64(total) / time.Since(start).Seconds()
}
