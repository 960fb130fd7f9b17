package witness

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"

	"golang.org/x/mod/sumdb/note"
)

// maxResponseBytes bounds a witness's answer.
const maxResponseBytes = 64 << 10

// Client asks one witness for cosignatures (C2SP tlog-witness).
type Client struct {
	// URL is the witness's submission prefix (e.g.
	// https://witness.audit.example); add-checkpoint is under it.
	URL string
	// HTTP is the client used; nil: http.DefaultClient.
	HTTP *http.Client
}

// StatusError is a witness's refusal other than a conflict: its HTTP
// status and message.
type StatusError struct {
	Status  int
	Message string
}

func (e *StatusError) Error() string {
	return fmt.Sprintf("witness answered %d %s: %s", e.Status, http.StatusText(e.Status), e.Message)
}

// AddCheckpoint submits checkpoint with the consistency proof from oldSize
// and returns the witness's cosignature lines, as the witness sent them
// (their form checked, not their signatures: see VerifyCosignatures).
// A 409 with the witness's size is returned as *ConflictError (submit again
// from that size, with a proof from it); other refusals as *StatusError.
func (c *Client) AddCheckpoint(ctx context.Context, oldSize uint64, consistency [][]byte, checkpoint []byte) ([]byte, error) {
	hc := c.HTTP
	if hc == nil {
		hc = http.DefaultClient
	}
	u := strings.TrimSuffix(c.URL, "/") + PathAddCheckpoint
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, u, bytes.NewReader(EncodeRequest(oldSize, consistency, checkpoint)))
	if err != nil {
		return nil, fmt.Errorf("witness request: %w", err)
	}
	resp, err := hc.Do(req)
	if err != nil {
		return nil, fmt.Errorf("witness %s: %w", c.URL, err)
	}
	defer func() { _ = resp.Body.Close() }()
	body, err := io.ReadAll(io.LimitReader(resp.Body, maxResponseBytes+1))
	if err != nil {
		return nil, fmt.Errorf("witness %s: read answer: %w", c.URL, err)
	}
	if len(body) > maxResponseBytes {
		return nil, fmt.Errorf("witness %s: answer larger than %d bytes", c.URL, maxResponseBytes)
	}
	switch {
	case resp.StatusCode == http.StatusOK:
		if _, err := DecodeCosignatures(body); err != nil {
			return nil, fmt.Errorf("witness %s: %w", c.URL, err)
		}
		return body, nil
	case resp.StatusCode == http.StatusConflict && strings.HasPrefix(resp.Header.Get("Content-Type"), ContentTypeSize):
		s := strings.TrimSuffix(string(body), "\n")
		n, err := strconv.ParseUint(s, 10, 64)
		if err != nil {
			return nil, fmt.Errorf("witness %s: 409 with a malformed size %q", c.URL, s)
		}
		return nil, &ConflictError{Size: n}
	default:
		return nil, &StatusError{Status: resp.StatusCode, Message: strings.TrimSpace(string(body))}
	}
}

// DecodeCosignatures parses a witness's answer: one or more signature
// lines "— name base64\n". It checks the form only; VerifyCosignatures
// checks the signatures.
func DecodeCosignatures(body []byte) ([]note.Signature, error) {
	if len(body) == 0 || body[len(body)-1] != '\n' {
		return nil, errors.New("cosignatures: empty or not ending in a newline")
	}
	var sigs []note.Signature
	for _, line := range strings.Split(strings.TrimSuffix(string(body), "\n"), "\n") {
		rest, ok := strings.CutPrefix(line, "— ")
		if !ok {
			return nil, fmt.Errorf("cosignatures: line %q is not a signature line", line)
		}
		name, b64, ok := strings.Cut(rest, " ")
		if !ok || name == "" || b64 == "" {
			return nil, fmt.Errorf("cosignatures: malformed line %q", line)
		}
		raw, err := base64.StdEncoding.DecodeString(b64)
		if err != nil || len(raw) < 5 {
			return nil, fmt.Errorf("cosignatures: malformed signature in line %q", line)
		}
		sigs = append(sigs, note.Signature{Name: name, Hash: binary.BigEndian.Uint32(raw), Base64: b64})
	}
	return sigs, nil
}

// VerifyCosignatures appends a witness's cosignature lines to checkpoint
// and returns the note with the signatures that verify under witnesses
// (cosignature/v1 verifiers, e.g. from
// github.com/transparency-dev/formats/note.NewVerifierForCosignatureV1);
// the log's own signatures are ignored (unverified).
func VerifyCosignatures(checkpoint, cosigs []byte, witnesses note.Verifiers) (*note.Note, error) {
	if _, err := DecodeCosignatures(cosigs); err != nil {
		return nil, err
	}
	n, err := note.Open(append(bytes.Clone(checkpoint), cosigs...), witnesses)
	if err != nil {
		return nil, fmt.Errorf("cosignatures: %w", err)
	}
	return n, nil
}
