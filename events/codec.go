package events

import (
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"time"
)

// The wire format is a compact binary record (version byte, then
// length-prefixed strings and varints): BenchmarkEncode showed JSON at
// several times its cost, paid once by the producer and once by each
// consumer group. Decode still reads the JSON records written before it
// (their first byte is '{'), so an old topic replays unchanged. Version 2
// appends the Reader of an audited read; an access without one is still
// written as version 1, byte for byte as before, so only audited reads
// need a reader that knows version 2.
const (
	binaryV1 = 0x01
	binaryV2 = 0x02
)

// Encode is the record value of an access.
func Encode(a Access) ([]byte, error) {
	if len(a.DocumentID) > 1<<16 || len(a.Kind) > 255 || len(a.Instance) > 255 {
		return nil, errors.New("encoding an access event: a field is too long")
	}
	r := a.Reader
	if r != nil && (len(r.ActorID) > 255 || len(r.IP) > 255 || len(r.Visibility) > 255 || len(r.DepartmentID) > 255 || len(r.ShareID) > 255) {
		return nil, errors.New("encoding an access event: a reader's field is too long")
	}
	b := make([]byte, 0, 1+2+len(a.DocumentID)+1+len(a.Kind)+1+len(a.Instance)+3*binary.MaxVarintLen64)
	if r == nil {
		b = append(b, binaryV1)
	} else {
		b = append(b, binaryV2)
	}
	b = binary.AppendUvarint(b, uint64(len(a.DocumentID)))
	b = append(b, a.DocumentID...)
	b = append(b, byte(len(a.Kind)))
	b = append(b, a.Kind...)
	b = append(b, byte(len(a.Instance)))
	b = append(b, a.Instance...)
	b = binary.AppendVarint(b, a.Bytes)
	var at int64
	if !a.At.IsZero() {
		at = a.At.UnixNano()
	}
	b = binary.AppendVarint(b, at)
	b = binary.AppendVarint(b, a.Count)
	if r != nil {
		for _, f := range []string{r.ActorID, r.IP, r.Visibility, r.DepartmentID, r.ShareID} {
			b = append(b, byte(len(f)))
			b = append(b, f...)
		}
	}
	return b, nil
}

// Decode parses a record value written by Encode (or by the JSON encoder
// that came before it).
func Decode(b []byte) (Access, error) {
	if len(b) > 0 && b[0] == '{' {
		var a Access
		if err := json.Unmarshal(b, &a); err != nil {
			return Access{}, fmt.Errorf("decoding an access event: %w", err)
		}
		return a, nil
	}
	d := decoder{b: b}
	version := d.byte()
	if version != binaryV1 && version != binaryV2 {
		return Access{}, errors.New("decoding an access event: unknown format")
	}
	var a Access
	a.DocumentID = d.str(int(d.uvarint()))
	a.Kind = d.str(int(d.byte()))
	a.Instance = d.str(int(d.byte()))
	a.Bytes = d.varint()
	if at := d.varint(); at != 0 {
		a.At = time.Unix(0, at).UTC()
	}
	a.Count = d.varint()
	if version == binaryV2 {
		a.Reader = &Reader{ActorID: d.str(int(d.byte())), IP: d.str(int(d.byte())), Visibility: d.str(int(d.byte())),
			DepartmentID: d.str(int(d.byte())), ShareID: d.str(int(d.byte()))}
	}
	if d.err != nil || len(d.b) != 0 {
		return Access{}, errors.New("decoding an access event: truncated or trailing bytes")
	}
	return a, nil
}

// decoder reads b front to back; the first short read sets err and every
// later read returns zero.
type decoder struct {
	b   []byte
	err error
}

var errShort = errors.New("short")

func (d *decoder) byte() byte {
	if d.err != nil || len(d.b) < 1 {
		d.err = errShort
		return 0
	}
	c := d.b[0]
	d.b = d.b[1:]
	return c
}

func (d *decoder) str(n int) string {
	if d.err != nil || n < 0 || len(d.b) < n {
		d.err = errShort
		return ""
	}
	s := string(d.b[:n])
	d.b = d.b[n:]
	return s
}

func (d *decoder) uvarint() uint64 {
	if d.err != nil {
		return 0
	}
	v, n := binary.Uvarint(d.b)
	if n <= 0 {
		d.err = errShort
		return 0
	}
	d.b = d.b[n:]
	return v
}

func (d *decoder) varint() int64 {
	if d.err != nil {
		return 0
	}
	v, n := binary.Varint(d.b)
	if n <= 0 {
		d.err = errShort
		return 0
	}
	d.b = d.b[n:]
	return v
}
