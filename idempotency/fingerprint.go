package idempotency

import (
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"hash"
)

// fingerprintScheme prefixes every fingerprint. Change it whenever what a
// caller digests changes: a retry is then compared by method and path only
// against records of the old scheme (still kept for the retention), instead
// of being refused because the digest is made differently.
const fingerprintScheme = "v1:"

// Fingerprint digests what determines a write: its request (method and
// path) and every named value the caller adds (a content's sha256, the
// metadata fields, precondition headers). Values are digested, never kept,
// so an upload of any size is fingerprinted by the sha256 computed while it
// streams. Two requests have the same fingerprint if and only if they have
// the same request and add the same names with the same values in the same
// order (each name and value is length-prefixed: no concatenation of two
// values can pass for another).
type Fingerprint struct {
	h hash.Hash
}

// NewFingerprint starts the fingerprint of request ("METHOD /path").
func NewFingerprint(request string) *Fingerprint {
	f := &Fingerprint{h: sha256.New()}
	f.write(request)
	return f
}

// Add digests a named value; absent and empty are the same.
func (f *Fingerprint) Add(name, value string) *Fingerprint {
	f.write(name)
	f.write(value)
	return f
}

func (f *Fingerprint) write(s string) {
	var n [8]byte
	binary.BigEndian.PutUint64(n[:], uint64(len(s)))
	f.h.Write(n[:])
	f.h.Write([]byte(s))
}

// Sum is the fingerprint as stored with a key's record.
func (f *Fingerprint) Sum() string {
	return fingerprintScheme + hex.EncodeToString(f.h.Sum(nil))
}
