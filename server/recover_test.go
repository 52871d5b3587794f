package server

import (
	"bytes"
	"encoding/json"
	"log/slog"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/gin-gonic/gin"
)

// TestPanicBecomesLogged500WithContractBody: a handler bug answers 500 with
// the request id, logs the stack, and the server keeps serving.
func TestPanicBecomesLogged500WithContractBody(t *testing.T) {
	var logs bytes.Buffer
	s := New(Deps{Logger: slog.New(slog.NewJSONHandler(&logs, nil))}, Options{})
	r := gin.New()
	r.Use(s.requestID, s.recover)
	r.GET("/boom", func(*gin.Context) { panic("handler bug") })
	for i := 0; i < 2; i++ {
		w := httptest.NewRecorder()
		r.ServeHTTP(w, httptest.NewRequest("GET", "/boom", nil))
		var body errorBody
		_ = json.Unmarshal(w.Body.Bytes(), &body)
		id := w.Header().Get("X-Request-Id")
		if w.Code != 500 || body.Error.Code != "internal" || id == "" || !strings.Contains(body.Error.Message, id) {
			t.Fatalf("got %d %s (request id %q)", w.Code, w.Body, id)
		}
	}
	if !strings.Contains(logs.String(), "handler bug") || !strings.Contains(logs.String(), "stack") {
		t.Fatalf("panic not logged with its stack: %s", logs.String())
	}
}
