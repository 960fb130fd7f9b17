package verify

import (
	"bytes"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"golang.org/x/mod/sumdb/note"
	"google.golang.org/protobuf/encoding/protojson"
	"google.golang.org/protobuf/proto"

	notaryv1 "github.com/gobtechlab/notary/proto/notary/v1"
)

// Claims is what a receipt says, read without verifying anything: for
// showing a receipt, never for trusting it.
type Claims struct {
	// Verified is always false.
	Verified bool `json:"verified"`
	// FormError says why the receipt is not in its strict form ("" if it is).
	FormError string `json:"form_error,omitempty"`
	Version   uint32 `json:"version"`
	ChainID   string `json:"chain_id"`
	Document  struct {
		HashAlgorithm  string `json:"hash_algorithm"`
		DocumentDigest string `json:"document_digest,omitempty"`
		Salt           string `json:"salt,omitempty"`
		AnchoredDigest string `json:"anchored_digest"`
		CodeKey        string `json:"code_key,omitempty"`
	} `json:"document"`
	Batch          *ClaimedBatch        `json:"batch,omitempty"`
	Issuer         *AgencyInfo          `json:"issuer,omitempty"`
	Anchor         *ClaimedCheckpoint   `json:"anchor,omitempty"`
	Status         *ClaimedCheckpoint   `json:"status,omitempty"`
	Revocation     *RevocationInfo      `json:"revocation,omitempty"`
	ValidatorChain []*ClaimedCheckpoint `json:"validator_chain"`
	// Log is a receipt v2's log inclusion.
	Log *ClaimedLog `json:"log,omitempty"`
	// Problems lists the parts that could not be read.
	Problems []string `json:"problems,omitempty"`
}

// ClaimedBatch is the batch a receipt names.
type ClaimedBatch struct {
	ID        string    `json:"id"`
	AgencyID  string    `json:"agency_id"`
	LeafIndex uint32    `json:"leaf_index"`
	Count     uint32    `json:"count"`
	Label     string    `json:"label,omitempty"`
	Time      time.Time `json:"time"`
}

// ClaimedLog is the evidence log checkpoint a receipt v2 names.
type ClaimedLog struct {
	LeafIndex uint64 `json:"leaf_index"`
	Size      uint64 `json:"size"`
	// Signatures counts the checkpoint note's signature lines (validators'
	// and witnesses').
	Signatures int `json:"signatures"`
	// Signers are the ministry ids of the signature lines whose key name is
	// a validator's of the receipt's chain (LogKeyName), in the note's
	// order; Cosigners the key names of the other lines (witnesses'). None
	// of them is verified.
	Signers   []string `json:"signers,omitempty"`
	Cosigners []string `json:"cosigners,omitempty"`
}

// ClaimedCheckpoint is a signed header a receipt carries.
type ClaimedCheckpoint struct {
	// Height is the state height (checkpoints) or the header height (transitions).
	Height       int64     `json:"height"`
	HeaderHeight int64     `json:"header_height"`
	Time         time.Time `json:"time"`
	Signatures   int       `json:"signatures"`
	// Validators is the size of the next set, for transitions.
	Validators int `json:"next_validators,omitempty"`
}

// Inspect reads what a receipt file claims. It fails only if the file is not
// a receipt at all; a receipt that is not in its strict form is read as far
// as possible, with FormError set.
func Inspect(b []byte) (*Claims, error) {
	c := &Claims{ValidatorChain: []*ClaimedCheckpoint{}}
	r := &notaryv1.Receipt{}
	if _, err := DecodeReceipt(b); err != nil {
		c.FormError = err.Error()
		if err := (protojson.UnmarshalOptions{DiscardUnknown: true}).Unmarshal(b, r); err != nil {
			return nil, fmt.Errorf("not a receipt: %w", err)
		}
	} else if err := protojson.Unmarshal(b, r); err != nil {
		return nil, err
	}
	c.Version, c.ChainID = r.Version, r.ChainId
	if d := r.Document; d != nil {
		c.Document.HashAlgorithm, c.Document.DocumentDigest, c.Document.Salt, c.Document.AnchoredDigest = d.HashAlgorithm, d.DocumentDigest, d.Salt, d.AnchoredDigest
		c.Document.CodeKey = d.CodeKey
	}
	if in := r.Inclusion; in != nil {
		bt := &notaryv1.Batch{}
		raw := in.Batch
		if r.Log != nil {
			if _, v, err := decodeLeaf(r.Log.Leaf); err == nil {
				raw = v
			}
		}
		if err := proto.Unmarshal(raw, bt); err != nil {
			c.Problems = append(c.Problems, "batch record: "+err.Error())
		} else {
			c.Batch = &ClaimedBatch{ID: fmt.Sprintf("%d-%d", bt.Height, bt.TxIndex), AgencyID: bt.AgencyId, LeafIndex: in.LeafIndex,
				Count: bt.Count, Label: bt.Label, Time: bt.Time.AsTime().UTC()}
		}
	}
	if r.Issuer != nil {
		a := &notaryv1.Agency{}
		if err := proto.Unmarshal(r.Issuer.Record, a); err != nil {
			c.Problems = append(c.Problems, "issuer record: "+err.Error())
		} else {
			c.Issuer = &AgencyInfo{ID: a.Id, Name: a.Name}
		}
	}
	c.Anchor = c.checkpoint("anchor", r.Anchor)
	if st := r.Status; st != nil {
		c.Status = c.checkpoint("status", st.Checkpoint)
		if len(st.Revocation) > 0 {
			rv := &notaryv1.Revocation{}
			if err := proto.Unmarshal(st.Revocation, rv); err != nil {
				c.Problems = append(c.Problems, "revocation record: "+err.Error())
			} else {
				c.Revocation = &RevocationInfo{Reason: reasonCode(rv.Reason), ReasonText: rv.ReasonText, Height: rv.Height,
					Time: rv.Time.AsTime().UTC(), RevokedBy: rv.RevokedBy}
			}
		}
	}
	if l := r.Log; l != nil {
		c.Log = &ClaimedLog{LeafIndex: l.LeafIndex, Signatures: bytes.Count(l.Checkpoint, []byte("\n\u2014 "))}
		if body := noteBody(l.Checkpoint); body != nil {
			if lines := strings.Split(string(body), "\n"); len(lines) > 1 {
				c.Log.Size, _ = strconv.ParseUint(lines[1], 10, 64)
			}
		}
		c.Log.Signers, c.Log.Cosigners = noteSigners(r.ChainId, l.Checkpoint)
	}
	for i, t := range r.ValidatorChain {
		h := &notaryv1.CometHeader{}
		if err := proto.Unmarshal(t.Header, h); err != nil {
			c.Problems = append(c.Problems, fmt.Sprintf("validator_chain[%d] header: %v", i, err))
			continue
		}
		c.ValidatorChain = append(c.ValidatorChain, &ClaimedCheckpoint{Height: h.Height, HeaderHeight: h.Height, Time: h.Time.AsTime().UTC(),
			Signatures: len(t.GetCommit().GetSignatures()), Validators: len(t.NextValidators)})
	}
	return c, nil
}

func (c *Claims) checkpoint(what string, cp *notaryv1.Checkpoint) *ClaimedCheckpoint {
	if cp == nil {
		return nil
	}
	h := &notaryv1.CometHeader{}
	if err := proto.Unmarshal(cp.Header, h); err != nil {
		c.Problems = append(c.Problems, what+" header: "+err.Error())
		return nil
	}
	return &ClaimedCheckpoint{Height: cp.Height, HeaderHeight: h.Height, Time: h.Time.AsTime().UTC(), Signatures: len(cp.GetCommit().GetSignatures())}
}

// noteSigners reads the key names of a checkpoint note's signature lines,
// without verifying them: the ministry ids of chainID's validators' keys
// (LogKeyName), and the other key names. A note that is not well formed
// has none.
func noteSigners(chainID string, signed []byte) (signers, cosigners []string) {
	var unverified *note.UnverifiedNoteError
	if _, err := note.Open(signed, note.VerifierList()); !errors.As(err, &unverified) {
		return nil, nil
	}
	prefix := LogKeyName(chainID, "")
	for _, sig := range unverified.Note.UnverifiedSigs {
		if id, ok := strings.CutPrefix(sig.Name, prefix); ok {
			signers = append(signers, id)
		} else {
			cosigners = append(cosigners, sig.Name)
		}
	}
	return signers, cosigners
}
