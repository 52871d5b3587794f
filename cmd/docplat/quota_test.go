package main

import (
	"encoding/json"
	"strings"
	"testing"

	"docplat/internal/testdb"
)

type quotaRefusal struct {
	Error struct {
		Code    string
		Details *struct {
			DepartmentID string `json:"department_id"`
			BytesUsed    *int64 `json:"bytes_used"`
			QuotaBytes   int64  `json:"quota_bytes"`
			Size         int64  `json:"size"`
		}
	}
}

// TestQuotaRefusalCarriesItsFigures: a 409 quota_exceeded on an upload or a
// new version says what the department uses, its quota and the size that
// did not fit, so that the UI can show them.
func TestQuotaRefusalCarriesItsFigures(t *testing.T) {
	forEachBackend(t, func(t *testing.T, b testdb.Backend) {
		a := newTestApp(t, b)
		dept, member := setupDepartment(a, "Full", 100)
		d := member.mustUpload("first.txt", strings.Repeat("a", 60), nil)

		check := func(what string, r response, size int64) {
			t.Helper()
			var got quotaRefusal
			if err := json.Unmarshal(r.body, &got); err != nil || r.status != 409 || got.Error.Code != "quota_exceeded" {
				t.Fatalf("%s: %d %s, want 409 quota_exceeded", what, r.status, r.body)
			}
			dt := got.Error.Details
			if dt == nil || dt.BytesUsed == nil || dt.DepartmentID != dept || *dt.BytesUsed != 60 || dt.QuotaBytes != 100 || dt.Size != size {
				t.Fatalf("%s: details in %s, want department %s, bytes_used 60, quota_bytes 100, size %d", what, r.body, dept, size)
			}
		}
		r, _ := member.upload("second.txt", []byte(strings.Repeat("b", 50)), nil)
		check("upload", r, 50)

		body, ct := multipartBody("bigger.txt", []byte(strings.Repeat("c", 45)), nil)
		check("new version", member.do("PUT", "/api/v1/documents/"+d.ID+"/content", body, map[string]string{"Content-Type": ct}), 45)
	})
}
