package logproof

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"

	"github.com/gobtechlab/notary/abci/tlogtiles"
)

// Tiles reads a log's tiles: hash tiles (Level >= 0) and entry bundles
// (Level tlogtiles.EntriesLevel). A tile it does not have is an error
// wrapping tlogtiles.ErrNotFound.
type Tiles interface {
	ReadTile(ctx context.Context, t tlogtiles.Tile) ([]byte, error)
}

// Reader is what StoreTiles reads: *tlogtiles.Store.
type Reader interface {
	Read(t tlogtiles.Tile) ([]byte, error)
}

// StoreTiles reads the tiles of a node's own store.
type StoreTiles struct{ Store Reader }

// ReadTile implements Tiles.
func (s StoreTiles) ReadTile(ctx context.Context, t tlogtiles.Tile) ([]byte, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	return s.Store.Read(t)
}

// Paths a public endpoint serves the log under (app/public).
const (
	logPrefix      = "/log/"
	checkpointPath = logPrefix + "checkpoint"
)

// Bounds of the answers HTTPTiles reads: a hash tile is at most 256 hashes;
// an entry bundle 256 leaves of at most 64 KiB each; a checkpoint note a
// few signature lines per validator and witness.
const (
	maxHashTile   = tlogtiles.TileWidth * tlogtiles.HashSize
	maxEntryTile  = tlogtiles.TileWidth * (2 + 1<<16)
	maxCheckpoint = 1 << 20
)

// HTTPTiles reads tiles and checkpoints from a public endpoint (or any web
// server mirroring its /log/ tree).
type HTTPTiles struct {
	// URL is the endpoint's base URL (scheme, host, optional path prefix).
	URL string
	// Client, if nil, is http.DefaultClient.
	Client *http.Client
}

// ReadTile implements Tiles: GET URL/log/<tile path>.
func (h HTTPTiles) ReadTile(ctx context.Context, t tlogtiles.Tile) ([]byte, error) {
	limit := int64(maxHashTile)
	if t.Level == tlogtiles.EntriesLevel {
		limit = maxEntryTile
	}
	return h.get(ctx, logPrefix+t.Path(), limit)
}

// Checkpoint returns the endpoint's latest valid checkpoint note
// (GET URL/log/checkpoint).
func (h HTTPTiles) Checkpoint(ctx context.Context) ([]byte, error) {
	return h.get(ctx, checkpointPath, maxCheckpoint)
}

func (h HTTPTiles) get(ctx context.Context, path string, limit int64) ([]byte, error) {
	url := strings.TrimSuffix(h.URL, "/") + path
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return nil, fmt.Errorf("logproof: %w", err)
	}
	c := h.Client
	if c == nil {
		c = http.DefaultClient
	}
	resp, err := c.Do(req)
	if err != nil {
		return nil, fmt.Errorf("logproof: %w", err)
	}
	defer func() { _ = resp.Body.Close() }() // read only
	b, err := io.ReadAll(io.LimitReader(resp.Body, limit+1))
	if err != nil {
		return nil, fmt.Errorf("logproof: GET %s: %w", url, err)
	}
	switch {
	case resp.StatusCode == http.StatusNotFound:
		return nil, fmt.Errorf("%w: GET %s: %s", tlogtiles.ErrNotFound, url, resp.Status)
	case resp.StatusCode != http.StatusOK:
		return nil, fmt.Errorf("logproof: GET %s: %s", url, resp.Status)
	case int64(len(b)) > limit:
		return nil, fmt.Errorf("logproof: GET %s: more than %d bytes", url, limit)
	}
	return b, nil
}

// readTile reads tile t, falling back for a partial tile the server no
// longer has to the first items of its full tile (C2SP tlog-tiles).
func readTile(ctx context.Context, tiles Tiles, t tlogtiles.Tile) ([]byte, error) {
	b, err := tiles.ReadTile(ctx, t)
	if err == nil || t.Full() || !errors.Is(err, tlogtiles.ErrNotFound) {
		return b, err
	}
	full, ferr := tiles.ReadTile(ctx, tlogtiles.Tile{Level: t.Level, Index: t.Index, Width: tlogtiles.TileWidth})
	if ferr != nil {
		return nil, err
	}
	if t.Level != tlogtiles.EntriesLevel {
		if len(full) < t.Width*tlogtiles.HashSize {
			return nil, fmt.Errorf("logproof: %s: %d bytes", t.Path(), len(full))
		}
		return full[:t.Width*tlogtiles.HashSize], nil
	}
	n := 0
	for i := 0; i < t.Width; i++ {
		if len(full) < n+2 {
			return nil, fmt.Errorf("logproof: %s: cut short", t.Path())
		}
		n += 2 + int(binary.BigEndian.Uint16(full[n:]))
	}
	if n > len(full) {
		return nil, fmt.Errorf("logproof: %s: cut short", t.Path())
	}
	return full[:n], nil
}
