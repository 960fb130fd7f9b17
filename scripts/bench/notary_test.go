package main

import (
	"os"
	"path/filepath"
	"testing"
	"time"

	cmted25519 "github.com/cometbft/cometbft/crypto/ed25519"
	cmttypes "github.com/cometbft/cometbft/types"

	"github.com/gobtechlab/notary/app/identity"
	"github.com/gobtechlab/notary/ledger"
)

// BenchmarkNextTx measures what the load generator spends per document to
// build and sign its AnchorBatches of 10,000 documents (the CPU it takes
// from the nodes it shares a machine with), plain and --codes. It
// reports ns/doc and the transaction's bytes per document.
func BenchmarkNextTx(b *testing.B) {
	const batch = 10_000
	for _, codes := range []bool{false, true} {
		name := "plain"
		if codes {
			name = "coded"
		}
		b.Run(name, func(b *testing.B) {
			id, err := identity.Generate("agency", "aeat", "bench-chain")
			if err != nil {
				b.Fatal(err)
			}
			a := &agencyClient{codes: codes, id: id, batch: batch}
			var digests, raw []byte
			for i := 0; b.Loop(); i++ {
				raw, digests, err = a.nextTx(uint64(i), digests)
				if err != nil {
					b.Fatal(err)
				}
			}
			b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*batch), "ns/doc")
			b.ReportMetric(float64(len(raw))/batch, "tx-bytes/doc")
		})
	}
}

// TestNextTx: a client's transactions decode and pass the ledger's
// state-independent checks, plain and coded, and carry consecutive
// documents.
func TestNextTx(t *testing.T) {
	for _, codes := range []bool{false, true} {
		id, err := identity.Generate("agency", "aeat", "bench-chain")
		if err != nil {
			t.Fatal(err)
		}
		a := &agencyClient{codes: codes, id: id, batch: 100}
		var digests []byte
		for seq := uint64(0); seq < 2; seq++ {
			var raw []byte
			raw, digests, err = a.nextTx(seq, digests)
			if err != nil {
				t.Fatal(err)
			}
			tx, err := ledger.DecodeTx("bench-chain", raw, 0)
			if err != nil {
				t.Fatal(err)
			}
			if err := ledger.ValidateBasic(tx); err != nil {
				t.Fatal(err)
			}
			m := tx.Body.GetAnchorBatch()
			d := digestOf(0, seq*100+99)
			want := d[:]
			if codes {
				want = append(benchCodeKey(d), d[ledger.CodeKeySize:]...)
			}
			if got := m.Digests[99*ledger.DigestSize:]; string(got) != string(want) {
				t.Fatalf("codes %v, tx %d: last value %x, want %x", codes, seq, got, want)
			}
			if m.Coded != codes || len(m.CodeKeys) != 0 {
				t.Fatalf("codes %v, tx %d: coded %v, %d bytes of code_keys", codes, seq, m.Coded, len(m.CodeKeys))
			}
		}
	}
}

// TestSetBlockMaxBytes checks that --block-max-bytes lands in a genesis
// CometBFT loads, and that 0 leaves the genesis as it was.
func TestSetBlockMaxBytes(t *testing.T) {
	home := t.TempDir()
	if err := os.Mkdir(filepath.Join(home, "config"), 0o755); err != nil {
		t.Fatal(err)
	}
	file := filepath.Join(home, "config", "genesis.json")
	pk := cmted25519.GenPrivKey().PubKey()
	doc := &cmttypes.GenesisDoc{ChainID: "bench", Validators: []cmttypes.GenesisValidator{{PubKey: pk, Power: 1}}}
	if err := doc.SaveAs(file); err != nil {
		t.Fatal(err)
	}
	before, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	if err := setBlockMaxBytes(home, 0); err != nil {
		t.Fatal(err)
	}
	if after, _ := os.ReadFile(file); string(after) != string(before) {
		t.Fatal("--block-max-bytes 0 rewrote the genesis")
	}
	if err := setBlockMaxBytes(home, 4<<20); err != nil {
		t.Fatal(err)
	}
	got, err := cmttypes.GenesisDocFromFile(file)
	if err != nil {
		t.Fatal(err)
	}
	if got.ConsensusParams.Block.MaxBytes != 4<<20 {
		t.Fatalf("block.max_bytes %d, want %d", got.ConsensusParams.Block.MaxBytes, 4<<20)
	}
}

func TestAnsweredSince(t *testing.T) {
	t0 := time.Date(2026, 12, 7, 15, 0, 0, 0, time.UTC)
	at := func(s float64) time.Time { return t0.Add(time.Duration(s * float64(time.Second))) }
	st := newLoadStats(0)
	// Answered at a, submitted latency seconds before.
	for _, b := range []struct {
		agency     int
		a, latency float64
	}{
		{0, -1, 2},  // before the change
		{1, 0.5, 3}, // submitted before it, answered after
		{0, 1, 0.5}, // submitted at 0.5: counts
		{2, 2, 2},   // submitted at 0: counts
		{1, 2.5, 1}, // submitted at 1.5: counts
		{3, 3, 3.5}, // submitted before it
	} {
		st.commit(committedBatch{at: at(b.a), agency: b.agency, count: 1, latency: time.Duration(b.latency * float64(time.Second))})
	}
	if got := st.answeredSince(t0); got != 3 {
		t.Errorf("answeredSince = %d clients, want 3 (0, 1 and 2)", got)
	}
	if got := st.answeredSince(at(4)); got != 0 {
		t.Errorf("answeredSince after the last answer = %d, want 0", got)
	}
}
