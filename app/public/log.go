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
