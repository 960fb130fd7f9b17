package public

import (
	"encoding/base64"
	"encoding/json"
	"errors"
	"net/http"
	"strconv"
	"strings"

	"github.com/gobtechlab/notary/abci/tlogtiles"
)

// LogPrefix is the path under which the evidence log is served: its tiles
// as C2SP tlog-tiles (LogPrefix + "tile/<L>/<N>[.p/<W>]" and LogPrefix +
// "tile/entries/<N>[.p/<W>]") and its size and root (LogTreePath).
const LogPrefix = "/log/"

// LogTreePath answers the size and root of the log the tiles hold, as JSON
// (LogTree). It is not signed: signed checkpoints come with the validators'
// cosignatures.
const LogTreePath = LogPrefix + "tree"

// LogCheckpointPath answers the latest checkpoint of the log whose
// validators' signatures carry more than 2/3 of their power, as a C2SP
// signed note; LogCheckpointPath + "/<size>" the checkpoint of a log size
// the chain recorded, with every signature gathered so far.
const LogCheckpointPath = LogPrefix + "checkpoint"

// CheckpointSource answers the checkpoint routes (*checkpoint.Notes).
type CheckpointSource interface {
	Latest() ([]byte, bool, error)
	At(size uint64) ([]byte, bool, error)
}

// cacheCheckpoint is the Cache-Control of a checkpoint: a newer one, or
// more signatures, come with the next blocks.
const cacheCheckpoint = "public, max-age=5"

// LogSource is the evidence log a public endpoint serves
// (*tlogtiles.Store).
type LogSource interface {
	Tree() tlogtiles.Tree
	Read(t tlogtiles.Tile) ([]byte, error)
}

// LogTree is the answer of LogTreePath: the log holds Size leaves whose
// RFC 6962 root is Root (base64, as a C2SP checkpoint writes it); Height is
// the block that appended the last of them.
type LogTree struct {
	Size   uint64 `json:"size"`
	Root   string `json:"root"`
	Height int64  `json:"height"`
}

// Cache-Control of the log's answers: a full tile never changes; a partial
// tile's bytes do not either, but it is removed once its tile is full.
const (
	cacheFullTile    = "public, max-age=31536000, immutable"
	cachePartialTile = "public, max-age=60"
)

func (s *Server) serveLog(w http.ResponseWriter, r *http.Request) {
	if r.URL.Path == LogCheckpointPath || strings.HasPrefix(r.URL.Path, LogCheckpointPath+"/") {
		s.serveCheckpoint(w, r)
		return
	}
	h := w.Header()
	if s.logSrc == nil {
		writeError(w, http.StatusNotFound, "no_log", "This node does not serve the evidence log.")
		return
	}
	p := strings.TrimPrefix(r.URL.Path, LogPrefix)
	if r.URL.Path == LogTreePath {
		t := s.logSrc.Tree()
		b, _ := json.Marshal(LogTree{Size: t.Size, Root: base64.StdEncoding.EncodeToString(t.Root[:]), Height: t.Height})
		h.Set("Content-Type", "application/json")
		h.Set("Cache-Control", "no-cache")
		h.Set("Content-Length", strconv.Itoa(len(b)+1))
		_, _ = w.Write(append(b, '\n'))
		return
	}
	t, err := tlogtiles.ParsePath(p)
	if err != nil {
		writeError(w, http.StatusBadRequest, "bad_tile_path", "Not a tile path: the log's tiles are at /log/tile/<level>/<index>[.p/<width>] and its entry bundles at /log/tile/entries/<index>[.p/<width>] (C2SP tlog-tiles); its size and root at /log/tree.")
		return
	}
	b, err := s.logSrc.Read(t)
	switch {
	case errors.Is(err, tlogtiles.ErrNotFound):
		writeError(w, http.StatusNotFound, "no_tile", "The log has no such tile (yet): a partial tile is replaced by its full tile once full.")
		return
	case err != nil:
		s.log.Error("public: read tile", "path", p, "err", err)
		writeError(w, http.StatusInternalServerError, "internal", "The tile could not be read.")
		return
	}
	h.Set("Content-Type", "application/octet-stream")
	if t.Full() {
		h.Set("Cache-Control", cacheFullTile)
	} else {
		h.Set("Cache-Control", cachePartialTile)
	}
	h.Set("Content-Length", strconv.Itoa(len(b)))
	if r.Method == http.MethodHead {
		return
	}
	_, _ = w.Write(b)
}

func (s *Server) serveCheckpoint(w http.ResponseWriter, r *http.Request) {
	if s.ckpts == nil {
		writeError(w, http.StatusNotFound, "no_checkpoints", "This node does not serve the log's checkpoints.")
		return
	}
	var (
		b   []byte
		ok  bool
		err error
	)
	if r.URL.Path == LogCheckpointPath {
		b, ok, err = s.ckpts.Latest()
	} else {
		arg := strings.TrimPrefix(r.URL.Path, LogCheckpointPath+"/")
		size, perr := strconv.ParseUint(arg, 10, 64)
		if perr != nil || strconv.FormatUint(size, 10) != arg {
			writeError(w, http.StatusBadRequest, "bad_size", "A checkpoint is at /log/checkpoint/<size>, the size in decimal.")
			return
		}
		b, ok, err = s.ckpts.At(size)
	}
	switch {
	case err != nil:
		s.log.Error("public: checkpoint", "path", r.URL.Path, "err", err)
		writeError(w, http.StatusInternalServerError, "internal", "The checkpoint could not be read.")
		return
	case !ok:
		writeError(w, http.StatusNotFound, "no_checkpoint", "No such checkpoint (yet): the chain records a checkpoint every checkpoint_interval heights of a log that grew, and /log/checkpoint waits for signatures of more than 2/3 of the validators' power.")
		return
	}
	h := w.Header()
	h.Set("Content-Type", "text/plain; charset=utf-8")
	h.Set("Cache-Control", cacheCheckpoint)
	h.Set("Content-Length", strconv.Itoa(len(b)))
	if r.Method == http.MethodHead {
		return
	}
	_, _ = w.Write(b)
}
