package cache

import (
	"encoding/binary"
	"errors"
	"fmt"
	"strconv"
)

// kind is what an entry holds.
type kind byte

const (
	kindValue     kind = 'V'
	kindTombstone kind = 'T' // "anything older than Version is stale"
	kindMissing   kind = 'N' // negative entry: the source had no such key
)

// l2 layout: 20 decimal digits of version, one kind byte, then the value.
// Fixed-width decimal lets the Lua fence compare versions with tonumber.
const l2Header = 21

func encodeL2(version int64, k kind, value []byte) []byte {
	b := make([]byte, 0, l2Header+len(value))
	b = fmt.Appendf(b, "%020d", version)
	b = append(b, byte(k))
	return append(b, value...)
}

var errCorrupt = errors.New("cache: corrupt entry")

func decodeL2(b []byte) (int64, kind, []byte, error) {
	if len(b) < l2Header {
		return 0, 0, nil, errCorrupt
	}
	v, err := strconv.ParseInt(string(b[:20]), 10, 64)
	if err != nil {
		return 0, 0, nil, errCorrupt
	}
	return v, kind(b[20]), b[l2Header:], nil
}

// l1 layout: version, fresh-until and stale-until (unix nanoseconds), kind,
// key length and key (bigcache overwrites on hash collision, so the key is
// checked on read), then the value.
const l1Fixed = 8 + 8 + 8 + 1 + 2

type l1Entry struct {
	version    int64
	freshUntil int64
	staleUntil int64
	kind       kind
	value      []byte
}

func encodeL1(key string, e l1Entry) []byte {
	b := make([]byte, l1Fixed+len(key)+len(e.value))
	binary.LittleEndian.PutUint64(b[0:], uint64(e.version))
	binary.LittleEndian.PutUint64(b[8:], uint64(e.freshUntil))
	binary.LittleEndian.PutUint64(b[16:], uint64(e.staleUntil))
	b[24] = byte(e.kind)
	binary.LittleEndian.PutUint16(b[25:], uint16(len(key)))
	copy(b[l1Fixed:], key)
	copy(b[l1Fixed+len(key):], e.value)
	return b
}

// decodeL1 returns the entry if b holds key (and not a colliding key).
func decodeL1(key string, b []byte) (l1Entry, bool) {
	if len(b) < l1Fixed {
		return l1Entry{}, false
	}
	n := int(binary.LittleEndian.Uint16(b[25:]))
	if len(b) < l1Fixed+n || string(b[l1Fixed:l1Fixed+n]) != key {
		return l1Entry{}, false
	}
	return l1Entry{
		version:    int64(binary.LittleEndian.Uint64(b[0:])),
		freshUntil: int64(binary.LittleEndian.Uint64(b[8:])),
		staleUntil: int64(binary.LittleEndian.Uint64(b[16:])),
		kind:       kind(b[24]),
		value:      b[l1Fixed+n:],
	}, true
}
