package main

import (
	"encoding/hex"
	"strings"
	"time"

	"google.golang.org/protobuf/types/known/timestamppb"

	"github.com/gobtechlab/notary/app/client"
	"github.com/gobtechlab/notary/cmd/internal/safetext"
	"github.com/gobtechlab/notary/ledger"
	notaryv1 "github.com/gobtechlab/notary/proto/notary/v1"
)

// Views shared by several commands' results. Times are UTC; digests and keys
// lowercase hex; codes short lowercase words.

// documentView is a document's digest and the value anchored for it.
type documentView struct {
	HashAlgorithm  string `json:"hash_algorithm"`
	DocumentDigest string `json:"document_digest,omitempty"`
	Salted         bool   `json:"salted"`
	AnchoredDigest string `json:"anchored_digest"`
	// CodeKey is the key of the verification code the document is
	// anchored under, if any.
	CodeKey string `json:"code_key,omitempty"`
}

// anchoring names how the document is anchored: under a verification code
// (its coded entry), as a salted commitment, or as its bare digest.
func (d documentView) anchoring() string {
	switch {
	case d.CodeKey != "":
		return "under a verification code"
	case d.Salted:
		return "salted commitment"
	}
	return "bare digest"
}

func viewDocument(d client.Document) documentView {
	return documentView{
		HashAlgorithm:  ledger.AlgorithmName(d.Algorithm),
		DocumentDigest: hex.EncodeToString(d.Digest),
		Salted:         d.Salted(),
		AnchoredDigest: hex.EncodeToString(d.Anchored),
		CodeKey:        hex.EncodeToString(d.CodeKey),
	}
}

// batchView locates an anchored value.
type batchView struct {
	ID      string    `json:"id"`
	Height  int64     `json:"height"`
	TxIndex uint32    `json:"tx_index"`
	Leaf    uint32    `json:"leaf_index"`
	Count   uint32    `json:"count"`
	Label   string    `json:"label,omitempty"`
	Time    time.Time `json:"time"`
	TxHash  string    `json:"tx_hash"`
	Agency  string    `json:"agency_id"`
}

func viewAnchored(a *client.Anchored) batchView {
	return batchView{
		ID: a.BatchID(), Height: a.Height, TxIndex: a.TxIndex, Leaf: a.Leaf, Count: a.Count,
		Label: a.Label, Time: a.Time.UTC(), TxHash: hex.EncodeToString(a.TxHash), Agency: a.AgencyID,
	}
}

func viewBatch(b *notaryv1.Batch, leaf uint32) batchView {
	return batchView{
		ID: ledger.FormatBatchID(b.GetHeight(), b.GetTxIndex()), Height: b.GetHeight(), TxIndex: b.GetTxIndex(),
		Leaf: leaf, Count: b.GetCount(), Label: b.GetLabel(), Time: utc(b.GetTime()),
		TxHash: hex.EncodeToString(b.GetTxHash()), Agency: b.GetAgencyId(),
	}
}

// agencyView is an agency's registry record.
type agencyView struct {
	ID          string   `json:"id"`
	Name        string   `json:"name"`
	PubKey      string   `json:"pub_key"`
	Permissions []string `json:"permissions"`
	Active      bool     `json:"active"`
	Since       int64    `json:"since_height"`
}

func viewAgency(a *notaryv1.Agency) *agencyView {
	if a == nil {
		return nil
	}
	v := &agencyView{ID: a.Id, Name: a.Name, PubKey: hex.EncodeToString(a.PubKey), Permissions: []string{}, Active: a.Active, Since: a.SinceHeight}
	for _, p := range a.Permissions {
		v.Permissions = append(v.Permissions, permissionName(p))
	}
	return v
}

// revocationView is a revocation record.
type revocationView struct {
	Reason     string    `json:"reason"`
	ReasonText string    `json:"reason_text,omitempty"`
	Height     int64     `json:"height"`
	Time       time.Time `json:"time"`
	RevokedBy  string    `json:"revoked_by"`
}

func viewRevocation(r *notaryv1.Revocation) *revocationView {
	if r == nil {
		return nil
	}
	return &revocationView{Reason: reasonName(r.Reason), ReasonText: r.ReasonText, Height: r.Height, Time: utc(r.Time), RevokedBy: r.RevokedBy}
}

// utc converts a timestamp (nil: the zero time).
func utc(ts *timestamppb.Timestamp) time.Time {
	if ts == nil {
		return time.Time{}
	}
	return ts.AsTime().UTC()
}

// safe is an untrusted string (a file name, a name or text from the chain,
// a node's message) as text output shows it: unchanged if printable, else
// quoted with its control characters escaped, so that it cannot forge a
// line or drive the terminal.
func safe(s string) string { return safetext.Quote(s) }

// stamp formats a time for text output.
func stamp(t time.Time) string {
	if t.IsZero() {
		return "-"
	}
	return t.UTC().Format(time.RFC3339)
}

// enumName turns an enum value name into a code: its prefix dropped,
// lowercase, dashes ("REVOCATION_REASON_ISSUED_IN_ERROR" -> "issued-in-error").
func enumName(s, prefix string) string {
	return strings.ToLower(strings.ReplaceAll(strings.TrimPrefix(s, prefix), "_", "-"))
}

func reasonName(r notaryv1.RevocationReason) string {
	return enumName(r.String(), "REVOCATION_REASON_")
}

func permissionName(p notaryv1.Permission) string { return enumName(p.String(), "PERMISSION_") }

// parseEnum finds the value of a code among an enum's names (UNSPECIFIED
// excluded); it also lists the accepted codes for messages.
func parseEnum(code, prefix string, names map[int32]string) (int32, []string, bool) {
	var codes []string
	found, ok := int32(0), false
	for v := int32(1); ; v++ {
		n, exists := names[v]
		if !exists {
			break
		}
		c := enumName(n, prefix)
		codes = append(codes, c)
		if c == strings.ToLower(strings.ReplaceAll(code, "_", "-")) {
			found, ok = v, true
		}
	}
	return found, codes, ok
}
