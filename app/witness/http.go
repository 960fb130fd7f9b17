package witness

import (
	"bytes"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"
)

// MaxRequestBytes bounds an add-checkpoint request body: a proof of 63
// hashes and a checkpoint signed by a few hundred keys fit well within it.
const MaxRequestBytes = 64 << 10

// PathAddCheckpoint is the C2SP tlog-witness submission path.
const PathAddCheckpoint = "/add-checkpoint"

// ContentTypeSize is the type of a 409 answer's body (the cosigned size).
const ContentTypeSize = "text/x.tlog.size"

// StatusOf is the HTTP status of an AddCheckpoint error (C2SP
// tlog-witness): 400 malformed or old size above the checkpoint's, 403 too
// few valid log signatures, 404 unknown origin, 409 conflict (stale old
// size, or a fork at the cosigned size), 422 bad consistency proof, 500
// anything else.
func StatusOf(err error) int {
	var conflict *ConflictError
	switch {
	case err == nil:
		return http.StatusOK
	case errors.As(err, &conflict), errors.Is(err, ErrRootMismatch):
		return http.StatusConflict
	case errors.Is(err, ErrMalformed), errors.Is(err, ErrOldSize):
		return http.StatusBadRequest
	case errors.Is(err, ErrUnknownLog):
		return http.StatusNotFound
	case errors.Is(err, ErrSignatures):
		return http.StatusForbidden
	case errors.Is(err, ErrProof):
		return http.StatusUnprocessableEntity
	default:
		return http.StatusInternalServerError
	}
}

// Handler serves the witness: POST /add-checkpoint (C2SP tlog-witness) and
// GET / (the witness's name and verifier key, text).
func (w *Witness) Handler(vkey string) http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("POST "+PathAddCheckpoint, w.serveAdd)
	mux.HandleFunc("GET /{$}", func(rw http.ResponseWriter, _ *http.Request) {
		rw.Header().Set("Content-Type", "text/plain; charset=utf-8")
		_, _ = fmt.Fprintf(rw, "C2SP tlog-witness %s\n%s\n", w.Name(), vkey)
	})
	return mux
}

func (w *Witness) serveAdd(rw http.ResponseWriter, r *http.Request) {
	body, err := io.ReadAll(http.MaxBytesReader(rw, r.Body, MaxRequestBytes))
	if err != nil {
		var tooBig *http.MaxBytesError
		if errors.As(err, &tooBig) {
			http.Error(rw, fmt.Sprintf("request larger than %d bytes", MaxRequestBytes), http.StatusRequestEntityTooLarge)
			return
		}
		http.Error(rw, "read request: "+err.Error(), http.StatusBadRequest)
		return
	}
	oldSize, consistency, cp, err := DecodeRequest(body)
	if err == nil {
		var cosig []byte
		cosig, err = w.AddCheckpoint(oldSize, consistency, cp)
		if err == nil {
			rw.Header().Set("Content-Type", "text/plain; charset=utf-8")
			_, _ = rw.Write(cosig)
			return
		}
	}
	var conflict *ConflictError
	if errors.As(err, &conflict) {
		rw.Header().Set("Content-Type", ContentTypeSize)
		rw.WriteHeader(http.StatusConflict)
		_, _ = fmt.Fprintf(rw, "%d\n", conflict.Size)
		return
	}
	status := StatusOf(err)
	msg := err.Error()
	if status == http.StatusInternalServerError {
		msg = "the witness could not record the checkpoint"
	}
	http.Error(rw, msg, status)
}

// EncodeRequest is the body of an add-checkpoint request: the old size
// line, one base64 line per consistency proof hash, an empty line and the
// checkpoint (a signed note).
func EncodeRequest(oldSize uint64, consistency [][]byte, checkpoint []byte) []byte {
	var b bytes.Buffer
	fmt.Fprintf(&b, "old %d\n", oldSize)
	for _, h := range consistency {
		b.WriteString(base64.StdEncoding.EncodeToString(h))
		b.WriteByte('\n')
	}
	b.WriteByte('\n')
	b.Write(checkpoint)
	return b.Bytes()
}

// DecodeRequest parses an add-checkpoint request body strictly: "old N"
// with N in canonical decimal, at most MaxProofLines hashes of 32 bytes,
// an empty line, then the checkpoint. Errors wrap ErrMalformed.
func DecodeRequest(body []byte) (oldSize uint64, consistency [][]byte, checkpoint []byte, err error) {
	line, rest, ok := bytes.Cut(body, []byte("\n"))
	if !ok {
		return 0, nil, nil, fmt.Errorf("%w: no old size line", ErrMalformed)
	}
	num, ok := strings.CutPrefix(string(line), "old ")
	if !ok {
		return 0, nil, nil, fmt.Errorf("%w: first line is not \"old <size>\"", ErrMalformed)
	}
	oldSize, err = strconv.ParseUint(num, 10, 64)
	if err != nil || strconv.FormatUint(oldSize, 10) != num {
		return 0, nil, nil, fmt.Errorf("%w: old size %q is not a canonical decimal", ErrMalformed, num)
	}
	for {
		line, rest, ok = bytes.Cut(rest, []byte("\n"))
		if !ok {
			return 0, nil, nil, fmt.Errorf("%w: no empty line before the checkpoint", ErrMalformed)
		}
		if len(line) == 0 {
			break
		}
		if len(consistency) == MaxProofLines {
			return 0, nil, nil, fmt.Errorf("%w: more than %d proof lines", ErrMalformed, MaxProofLines)
		}
		h, err := base64.StdEncoding.Strict().DecodeString(string(line))
		if err != nil || len(h) != 32 {
			return 0, nil, nil, fmt.Errorf("%w: proof line %d is not a base64 hash of 32 bytes", ErrMalformed, len(consistency)+1)
		}
		consistency = append(consistency, h)
	}
	if len(rest) == 0 {
		return 0, nil, nil, fmt.Errorf("%w: no checkpoint", ErrMalformed)
	}
	return oldSize, consistency, rest, nil
}
