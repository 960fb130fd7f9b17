package logproof

import (
	"bytes"
	"encoding/json"
	"fmt"

	"google.golang.org/protobuf/encoding/protojson"

	"github.com/gobtechlab/notary/cmd/verifier/verify"
	notaryv1 "github.com/gobtechlab/notary/proto/notary/v1"
)

// DecodeReceipt decodes a receipt file of version 1 or 2 strictly: a v1
// receipt as verify.DecodeReceipt does; a v2 receipt must be canonical JSON
// (verify.EncodeReceipt's form, whitespace aside) with a log part and a
// checkpoint note whose body parses.
func DecodeReceipt(b []byte) (*notaryv1.Receipt, error) {
	r, err := verify.DecodeReceipt(b)
	if err == nil {
		return r, nil
	}
	v2 := &notaryv1.Receipt{}
	if len(b) > verify.MaxFileSize || protojson.Unmarshal(b, v2) != nil || v2.GetVersion() != 2 {
		return nil, err
	}
	var compact bytes.Buffer
	if err := json.Compact(&compact, b); err != nil {
		return nil, fmt.Errorf("receipt: not JSON: %w", err)
	}
	canon, err := verify.EncodeReceipt(v2)
	if err != nil {
		return nil, fmt.Errorf("receipt: %w", err)
	}
	if !bytes.Equal(compact.Bytes(), canon) {
		return nil, fmt.Errorf("receipt: not in canonical form")
	}
	switch {
	case v2.GetChainId() == "" || v2.GetDocument() == nil || v2.GetInclusion() == nil:
		return nil, fmt.Errorf("receipt: v2 without chain_id, document or inclusion")
	case v2.GetLog() == nil || len(v2.GetLog().GetLeaf()) == 0:
		return nil, fmt.Errorf("receipt: v2 without its log leaf")
	}
	if _, err := ParseCheckpoint(v2.GetLog().GetCheckpoint()); err != nil {
		return nil, fmt.Errorf("receipt: log: %w", err)
	}
	return v2, nil
}
