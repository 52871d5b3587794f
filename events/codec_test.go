package events_test

import (
	"encoding/json"
	"reflect"
	"testing"
	"time"

	"docplat/events"
)

// TestCodecRoundTripAndJSONRecords: an access survives Encode and Decode;
// JSON records written before the binary format still decode the same;
// a truncated or unknown record is an error, never a wrong access.
func TestCodecRoundTripAndJSONRecords(t *testing.T) {
	at := time.Date(2026, 12, 6, 9, 30, 0, 123456789, time.UTC)
	cases := []events.Access{
		{DocumentID: "01JD3QZ6Q4W5N8K2M7V9X0Y1Z2", Kind: "view", Bytes: 10240, At: at, Instance: "web-1", Count: 12},
		{DocumentID: "d", Kind: "download", At: at},
		{DocumentID: "文档-1", Kind: "view", Bytes: -1, Count: 1 << 40}, // no time
		{DocumentID: "d", Kind: "download", Bytes: 7, At: at, Count: 2,
			Reader: &events.Reader{ActorID: "u1", IP: "10.0.0.1", Visibility: "private", DepartmentID: "dep"}}, // audited: version 2
		{DocumentID: "d", Kind: "download", Bytes: 7, At: at, Reader: &events.Reader{IP: "10.0.0.2", Visibility: "public", ShareID: "s1"}},
	}
	for _, a := range cases {
		v, err := events.Encode(a)
		if err != nil {
			t.Fatal(err)
		}
		if want := byte(1 + btoi(a.Reader != nil)); v[0] != want {
			t.Errorf("%+v encoded as version %d, want %d (version 1 unless audited)", a, v[0], want)
		}
		got, err := events.Decode(v)
		if err != nil || !reflect.DeepEqual(got, a) {
			t.Errorf("binary round trip of %+v: %+v, %v", a, got, err)
		}
		old, _ := json.Marshal(a)
		got, err = events.Decode(old)
		if err != nil || !got.At.Equal(a.At) {
			t.Errorf("JSON record %s: %+v, %v", old, got, err)
		}
		got.At = a.At
		if !reflect.DeepEqual(got, a) {
			t.Errorf("JSON record %s decoded as %+v", old, got)
		}
		for n := range len(v) {
			if _, err := events.Decode(v[:n]); err == nil {
				t.Errorf("%d of %d bytes decoded without error", n, len(v))
			}
		}
		if _, err := events.Decode(append(v, 0)); err == nil {
			t.Error("a trailing byte decoded without error")
		}
	}
	if _, err := events.Decode([]byte{0x7f, 1, 'x'}); err == nil {
		t.Error("an unknown format decoded without error")
	}
}

func btoi(b bool) int {
	if b {
		return 1
	}
	return 0
}
