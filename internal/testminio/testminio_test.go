package testminio

import (
	"net/http"
	"testing"
	"time"
)

func ready(s *Server) bool {
	c := http.Client{Timeout: time.Second}
	resp, err := c.Get("http://" + s.Endpoint() + "/minio/health/ready")
	if err != nil {
		return false
	}
	resp.Body.Close()
	return resp.StatusCode == http.StatusOK
}

// A killed server is down, and starts again on the same data and port.
func TestKillAndRestart(t *testing.T) {
	s := Start(t)
	if !ready(s) {
		t.Fatal("not ready after Start")
	}
	if err := s.Kill(); err != nil {
		t.Fatal(err)
	}
	if ready(s) {
		t.Fatal("still answering after Kill")
	}
	if err := s.Start(); err != nil {
		t.Fatal(err)
	}
	if !ready(s) {
		t.Fatal("not ready after restart")
	}
}
