package forward

import (
	"bytes"
	"testing"

	protomem "github.com/cometbft/cometbft/proto/tendermint/mempool"
	"github.com/cosmos/gogoproto/proto"
)

// TestEncoded: what a peer sends for an encoded message is the encoding of
// the message carrying the transaction, and it decodes to that transaction.
func TestEncoded(t *testing.T) {
	for _, tx := range [][]byte{{0}, bytes.Repeat([]byte{7}, 1<<16), []byte("a=b")} {
		msg, err := encode(tx)
		if err != nil {
			t.Fatal(err)
		}
		got, err := proto.Marshal(msg)
		if err != nil {
			t.Fatal(err)
		}
		want, err := proto.Marshal((&protomem.Txs{Txs: [][]byte{tx}}).Wrap())
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(got, want) {
			t.Fatalf("%d-byte transaction: encoded differently from the message", len(tx))
		}
		var m protomem.Message
		if err := proto.Unmarshal(got, &m); err != nil {
			t.Fatal(err)
		}
		if txs := m.GetTxs().GetTxs(); len(txs) != 1 || !bytes.Equal(txs[0], tx) {
			t.Fatalf("%d-byte transaction: decodes to %d transactions", len(tx), len(txs))
		}
	}
}
