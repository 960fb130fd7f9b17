package tlogtiles

import (
	"errors"
	"fmt"
	"strconv"
	"strings"
)

// Tile geometry: tiles of height 8, 256 hashes or entries wide.
const (
	TileHeight = 8
	TileWidth  = 1 << TileHeight
	HashSize   = 32
)

// EntriesLevel is the Level of an entry bundle in a Tile.
const EntriesLevel = -1

// maxLevel bounds a hash tile's level: 8 levels of tiles cover 2^64 leaves.
const maxLevel = 7

// Tile names one file of the store: a hash tile (Level >= 0) or an entry
// bundle (Level EntriesLevel), at Index, Width entries wide (TileWidth for
// a full one).
type Tile struct {
	Level int
	Index uint64
	Width int
}

// Full reports whether the tile is full (and so immutable).
func (t Tile) Full() bool { return t.Width == TileWidth }

// Path returns the tile's path under the store's directory, as C2SP
// tlog-tiles names it (tile/0/x001/234.p/5, tile/entries/000).
func (t Tile) Path() string {
	var b strings.Builder
	b.WriteString("tile/")
	if t.Level == EntriesLevel {
		b.WriteString("entries")
	} else {
		b.WriteString(strconv.Itoa(t.Level))
	}
	b.WriteByte('/')
	b.WriteString(encodeIndex(t.Index))
	if !t.Full() {
		b.WriteString(".p/")
		b.WriteString(strconv.Itoa(t.Width))
	}
	return b.String()
}

func encodeIndex(n uint64) string {
	s := fmt.Sprintf("%03d", n%1000)
	for n /= 1000; n > 0; n /= 1000 {
		s = fmt.Sprintf("x%03d/", n%1000) + s
	}
	return s
}

// ErrBadPath is returned by ParsePath for a path that names no tile.
var ErrBadPath = errors.New("not a tile path")

// ParsePath parses a tile path as Path writes it, and only as it writes it:
// no leading zeros, no empty or zero leading group, a width of 1..255.
func ParsePath(p string) (Tile, error) {
	bad := func(why string) (Tile, error) { return Tile{}, fmt.Errorf("%w: %q: %s", ErrBadPath, p, why) }
	parts := strings.Split(p, "/")
	if len(parts) < 3 || parts[0] != "tile" {
		return bad("want tile/<L>/<N>[.p/<W>] or tile/entries/<N>[.p/<W>]")
	}
	t := Tile{Width: TileWidth}
	switch l := parts[1]; {
	case l == "entries":
		t.Level = EntriesLevel
	case len(l) == 1 && l[0] >= '0' && l[0] <= '0'+maxLevel:
		t.Level = int(l[0] - '0')
	default:
		return bad("bad level")
	}
	groups := parts[2:]
	if n := len(groups); n >= 2 && strings.HasSuffix(groups[n-2], ".p") {
		w, err := strconv.Atoi(groups[n-1])
		if err != nil || w < 1 || w >= TileWidth || strconv.Itoa(w) != groups[n-1] {
			return bad("bad partial width")
		}
		t.Width = w
		groups = append(groups[:n-2:n-2], strings.TrimSuffix(groups[n-2], ".p"))
	}
	if len(groups) > 7 {
		return bad("index too long")
	}
	for i, g := range groups {
		last := i == len(groups)-1
		if !last {
			if !strings.HasPrefix(g, "x") {
				return bad("a group before the last must start with x")
			}
			g = g[1:]
		}
		if len(g) != 3 || g[0] < '0' || g[0] > '9' || g[1] < '0' || g[1] > '9' || g[2] < '0' || g[2] > '9' {
			return bad("groups are three decimal digits")
		}
		if i == 0 && !last && g == "000" {
			return bad("a leading group of zeros")
		}
		d := uint64(g[0]-'0')*100 + uint64(g[1]-'0')*10 + uint64(g[2]-'0')
		if t.Index > (1<<64-1-d)/1000 {
			return bad("index overflows")
		}
		t.Index = t.Index*1000 + d
	}
	return t, nil
}
