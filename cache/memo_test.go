package cache

import (
	"encoding/json"
	"slices"
	"testing"
)

func TestMemoAnswersOnlyForIdenticalBytes(t *testing.T) {
	type doc struct {
		Title string
		Tags  []string
	}
	decodes := 0
	m := NewMemo(func(b []byte) (doc, error) {
		decodes++
		var d doc
		return d, json.Unmarshal(b, &d)
	}, func(d doc) doc { d.Tags = slices.Clone(d.Tags); return d })
	enc := func(d doc) []byte { b, _ := json.Marshal(d); return b }
	v1, v2 := enc(doc{"one", []string{"x"}}), enc(doc{"two", []string{"y"}})
	cases := []struct {
		key, title string
		raw        []byte
		decodes    int
	}{
		{"doc:a", "one", v1, 1},
		{"doc:a", "one", v1, 1}, // remembered
		{"doc:a", "two", v2, 2}, // new bytes for the key: decoded again
		{"doc:b", "one", v1, 3}, // another key has its own answer
	}
	for i, tc := range cases {
		d, err := m.Decode(tc.key, tc.raw)
		if err != nil || d.Title != tc.title || decodes != tc.decodes {
			t.Fatalf("case %d: %+v, %v, %d decodes", i, d, err, decodes)
		}
		d.Tags[0] = "mutated" // must not reach the memo
	}
	if d, _ := m.Decode("doc:a", v2); d.Tags[0] != "y" {
		t.Fatalf("a caller's mutation reached the memo: %v", d.Tags)
	}
	if _, err := m.Decode("doc:c", []byte("{broken")); err == nil {
		t.Fatal("corrupt bytes decoded")
	}
}
