package public

import (
	"bytes"
	"encoding/json"

	"google.golang.org/protobuf/encoding/protojson"

	notaryv1 "github.com/gobtechlab/notary/proto/notary/v1"
)

// encodeLiveStatus is the body of a status answer: the canonical JSON of a
// LiveStatus, as the verifier's codec writes receipts (protojson with proto
// field names, compacted). It is the verifier's EncodeLiveStatus in
// substance; the two must give the same bytes.
func encodeLiveStatus(live *notaryv1.LiveStatus) ([]byte, error) {
	b, err := protojson.MarshalOptions{UseProtoNames: true}.Marshal(live)
	if err != nil {
		return nil, err
	}
	var buf bytes.Buffer
	if err := json.Compact(&buf, b); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}
