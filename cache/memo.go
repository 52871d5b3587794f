package cache

import (
	"bytes"
	"hash/maphash"
	"sync/atomic"
)

// Memo remembers the last decoded value per slot, so that a cache hit does
// not pay for decoding the same bytes again (JSON decoding was most of the
// domain's CPU on an L1 hit). It is not a cache level: a slot answers only
// when the bytes just returned by the cache are exactly the bytes it
// decoded, so it can never be staler than the cache. Direct-mapped with a
// fixed number of slots: memory is bounded, a collision only costs a decode.
type Memo[T any] struct {
	seed   maphash.Seed
	slots  [4096]atomic.Pointer[memoSlot[T]]
	decode func([]byte) (T, error)
	clone  func(T) T
}

type memoSlot[T any] struct {
	key string
	raw []byte
	val T
}

// NewMemo returns a memo over decode. clone copies what a caller may mutate
// (slices, maps) so that callers never share the remembered value.
func NewMemo[T any](decode func([]byte) (T, error), clone func(T) T) *Memo[T] {
	return &Memo[T]{seed: maphash.MakeSeed(), decode: decode, clone: clone}
}

// Decode returns the value of raw, cached under key.
func (m *Memo[T]) Decode(key string, raw []byte) (T, error) {
	slot := &m.slots[maphash.String(m.seed, key)%uint64(len(m.slots))]
	if s := slot.Load(); s != nil && s.key == key && bytes.Equal(s.raw, raw) {
		return m.clone(s.val), nil
	}
	v, err := m.decode(raw)
	if err != nil {
		var zero T
		return zero, err
	}
	slot.Store(&memoSlot[T]{key: key, raw: raw, val: m.clone(v)})
	return v, nil
}
