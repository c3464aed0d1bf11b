package gateway

import (
	"encoding/base64"
	"encoding/binary"
	"hash/crc32"
	"hash/fnv"
	"slices"

	"github.com/recmesh/recmesh/pkg/apierr"
)

// A cursor carries a pagination session: whose it is and every item its
// pages have shown, so the next page excludes them. It is stateless (no
// gateway keeps sessions), so it survives a gateway restart, another
// replica, a model reload or a popular-list refresh.
//
// Encoding, base64url without padding:
//
//	version (1 byte, 1) | FNV-64a of the user id (8 bytes) |
//	count (uvarint) | ids ascending, delta-coded (uvarints) | CRC-32 (4 bytes)
const cursorVersion = 1

// MaxSessionItems is the most items one pagination session can page
// through; the page that reaches it carries no next_cursor.
const MaxSessionItems = 1000

// maxCursorLen bounds a cursor's text: MaxSessionItems ids of up to ten
// bytes each, encoded.
const maxCursorLen = 16 * 1024

func userHash(user string) uint64 {
	h := fnv.New64a()
	_, _ = h.Write([]byte(user))
	return h.Sum64()
}

// encodeCursor is the cursor of user's session after it has shown ids.
func encodeCursor(user string, ids []int64) string {
	sorted := slices.Clone(ids)
	slices.Sort(sorted)
	sorted = slices.Compact(sorted)
	b := make([]byte, 0, 16+len(sorted)*3)
	b = append(b, cursorVersion)
	b = binary.BigEndian.AppendUint64(b, userHash(user))
	b = binary.AppendUvarint(b, uint64(len(sorted)))
	var prev int64
	for _, id := range sorted {
		b = binary.AppendUvarint(b, uint64(id-prev))
		prev = id
	}
	b = binary.BigEndian.AppendUint32(b, crc32.ChecksumIEEE(b))
	return base64.RawURLEncoding.EncodeToString(b)
}

func badCursor() error {
	return apierr.Invalid("cursor is malformed or belongs to another user; start again without one")
}

// decodeCursor returns the items user's session has shown; "" is a new
// session.
func decodeCursor(user, s string) ([]int64, error) {
	if s == "" {
		return nil, nil
	}
	if len(s) > maxCursorLen {
		return nil, badCursor()
	}
	b, err := base64.RawURLEncoding.DecodeString(s)
	if err != nil || len(b) < 1+8+1+4 || b[0] != cursorVersion {
		return nil, badCursor()
	}
	body, sum := b[:len(b)-4], binary.BigEndian.Uint32(b[len(b)-4:])
	if crc32.ChecksumIEEE(body) != sum || binary.BigEndian.Uint64(body[1:9]) != userHash(user) {
		return nil, badCursor()
	}
	rest := body[9:]
	n, k := binary.Uvarint(rest)
	if k <= 0 || n > MaxSessionItems {
		return nil, badCursor()
	}
	rest = rest[k:]
	ids := make([]int64, 0, n)
	var prev int64
	for range n {
		d, k := binary.Uvarint(rest)
		if k <= 0 {
			return nil, badCursor()
		}
		rest = rest[k:]
		prev += int64(d)
		ids = append(ids, prev)
	}
	if len(rest) != 0 {
		return nil, badCursor()
	}
	return ids, nil
}
