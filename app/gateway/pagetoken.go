package gateway

import (
	"bytes"
	"crypto/sha256"
	"encoding/base64"
	"encoding/binary"
)

// Page tokens are opaque to clients. A token pins the state version the
// listing reads (so that its pages are consistent while blocks are added)
// and holds the last key returned; a check value over the listing's scope
// (its key prefix) and the contents makes a token of another listing, a
// truncated or an edited one invalid. It is an integrity check, not a secret:
// a token may be used on any node of the chain that holds that height.
//
//	version (1) || be64 height || uvarint len(key) || key || check (8)
const (
	pageTokenVersion = 1
	maxPageTokenLen  = 512
	checkLen         = 8

	defaultPageSize = 100
	maxPageSize     = 1000
)

type pageToken struct {
	height int64
	key    []byte
}

func tokenCheck(scope []byte, body []byte) []byte {
	h := sha256.New()
	h.Write([]byte("notary/pagetoken/v1"))
	var n [binary.MaxVarintLen64]byte
	h.Write(n[:binary.PutUvarint(n[:], uint64(len(scope)))])
	h.Write(scope)
	h.Write(body)
	return h.Sum(nil)[:checkLen]
}

// encodePageToken returns the token of a listing of scope read at height,
// continuing after key.
func encodePageToken(scope []byte, t pageToken) string {
	body := []byte{pageTokenVersion}
	body = binary.BigEndian.AppendUint64(body, uint64(t.height))
	body = binary.AppendUvarint(body, uint64(len(t.key)))
	body = append(body, t.key...)
	body = append(body, tokenCheck(scope, body)...)
	return base64.RawURLEncoding.EncodeToString(body)
}

// decodePageToken checks and decodes a token of a listing of scope; latest is
// the newest committed height. The key must lie inside scope.
func decodePageToken(scope []byte, s string, latest int64) (pageToken, error) {
	bad := func(why string) (pageToken, error) {
		return pageToken{}, invalidArg("invalid page_token: %s (use the next_page_token of a previous response of the same listing)", why)
	}
	if len(s) > maxPageTokenLen {
		return bad("too long")
	}
	b, err := base64.RawURLEncoding.DecodeString(s)
	if err != nil {
		return bad("not a token")
	}
	if len(b) < 1+8+1+checkLen || b[0] != pageTokenVersion {
		return bad("not a token")
	}
	body, check := b[:len(b)-checkLen], b[len(b)-checkLen:]
	if !bytes.Equal(check, tokenCheck(scope, body)) {
		return bad("it does not belong to this listing or was altered")
	}
	height := int64(binary.BigEndian.Uint64(body[1:9]))
	n, m := binary.Uvarint(body[9:])
	if m <= 0 || uint64(len(body)-9-m) != n {
		return bad("not a token")
	}
	key := body[9+m:]
	switch {
	case height < 1 || height > latest:
		return bad("its height is not a committed height of this node")
	case !bytes.HasPrefix(key, scope) || len(key) == len(scope):
		return bad("its position is outside the listing")
	}
	return pageToken{height: height, key: append([]byte(nil), key...)}, nil
}

// pageSize applies the default and the bound of page_size.
func pageSize(n uint32) (int, error) {
	switch {
	case n == 0:
		return defaultPageSize, nil
	case n > maxPageSize:
		return 0, invalidArg("page_size %d exceeds the limit of %d", n, maxPageSize)
	}
	return int(n), nil
}
