package gateway

import (
	"github.com/gobtechlab/notary/app"
	"github.com/gobtechlab/notary/app/receipt"
)

// Receipts is the receipt hook of a node's gateway (Options.Receipts):
// app/receipt's builder over the node, for verifiers holding the trust
// bundle of the node's genesis. Factory uses it.
func Receipts(n *app.Node) (ReceiptBuilder, error) {
	b, err := receipt.FromNode(n)
	if err != nil {
		return nil, err
	}
	return b, nil
}

// ReceiptsWith is Receipts whose v2 receipts carry the checkpoints of
// ckpts (a node's checkpoint.Witnesses, with the witnesses' cosignatures
// held), if it is not nil.
func ReceiptsWith(ckpts interface {
	Latest() ([]byte, bool, error)
}) func(n *app.Node) (ReceiptBuilder, error) {
	return func(n *app.Node) (ReceiptBuilder, error) {
		b, err := receipt.FromNode(n)
		if err != nil {
			return nil, err
		}
		if b.Log != nil && ckpts != nil {
			b.Log.Checkpoints = ckpts
		}
		return b, nil
	}
}
