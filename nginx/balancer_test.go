package nginx

import (
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"sync/atomic"
	"testing"
	"time"
)

// restartable is a fake app instance that can be stopped and started again
// on the same address.
type restartable struct {
	t    *testing.T
	name string
	addr string
	srv  *httptest.Server
}

func (r *restartable) start() {
	l, err := net.Listen("tcp", r.addr)
	if err != nil {
		r.t.Fatal(err)
	}
	r.addr = l.Addr().String()
	r.srv = &httptest.Server{Listener: l, Config: &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("X-App", r.name)
		_, _ = w.Write([]byte(r.name))
	})}}
	r.srv.Start()
}

func (r *restartable) stop() { r.srv.CloseClientConnections(); r.srv.Close() }

func whoAnswers(t *testing.T, base, id string) (string, int) {
	t.Helper()
	a := fetch(t, "GET", base+"/api/v1/documents/"+id+"/content", nil)
	return a.header.Get("X-App"), a.status
}

// TestConsistentHashWithFallback: one document always reaches one
// instance; with that instance down its reads still succeed elsewhere; once
// it is back (and the failure window has decayed) they return to it.
func TestConsistentHashWithFallback(t *testing.T) {
	requireNginx(t)
	apps := make([]*restartable, 3)
	fakes := make([]*fakeApp, 3)
	for i := range apps {
		apps[i] = &restartable{t: t, name: fmt.Sprintf("app%d", i), addr: "127.0.0.1:0"}
		apps[i].start()
		fakes[i] = &fakeApp{name: apps[i].name, srv: apps[i].srv}
	}
	t.Cleanup(func() {
		for _, a := range apps {
			a.srv.Close()
		}
	})
	tier := startTier(t, Config{Workers: 2, FailTimeout: 300 * time.Millisecond, MaxFails: 1}, fakes...)

	owner := map[string]string{}
	used := map[string]bool{}
	for i := range 30 {
		id := fmt.Sprintf("DOC%02d", i)
		for range 4 {
			who, status := whoAnswers(t, tier.base, id)
			if status != 200 {
				t.Fatalf("%s: status %d", id, status)
			}
			if owner[id] != "" && owner[id] != who {
				t.Fatalf("%s reached %s then %s while all were healthy", id, owner[id], who)
			}
			owner[id] = who
		}
		used[owner[id]] = true
	}
	if len(used) != 3 {
		t.Fatalf("30 documents used only %v: the ring is not spreading", used)
	}

	down := apps[0]
	var victim string
	for id, who := range owner {
		if who == down.name {
			victim = id
			break
		}
	}
	down.stop()
	for range 20 {
		who, status := whoAnswers(t, tier.base, victim)
		if status != 200 || who == down.name || who == "" {
			t.Fatalf("with %s down, %s answered %d from %q", down.name, victim, status, who)
		}
	}
	// Documents owned by healthy instances stay put.
	for id, who := range owner {
		if who != down.name {
			if got, _ := whoAnswers(t, tier.base, id); got != who {
				t.Fatalf("%s moved from %s to %s though its owner is healthy", id, who, got)
			}
		}
	}

	down.start()
	deadline := time.Now().Add(10 * time.Second)
	for {
		who, status := whoAnswers(t, tier.base, victim)
		if status != 200 {
			t.Fatalf("status %d after %s came back", status, down.name)
		}
		if who == down.name {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s never returned to %s after it came back", victim, down.name)
		}
		time.Sleep(50 * time.Millisecond)
	}
	for range 10 {
		if who, _ := whoAnswers(t, tier.base, victim); who != down.name {
			t.Fatalf("%s went to %s after returning to its owner", victim, who)
		}
	}
}

// TestServerErrorMarksTheOwnerFailing: a 5xx from a document's owner (one
// try, nothing retried) counts as a failure, so with MaxFails 1 the next
// reads of that document go to another instance; once the failure window
// has passed and the owner answers again, the document returns to it.
func TestServerErrorMarksTheOwnerFailing(t *testing.T) {
	requireNginx(t)
	var failing atomic.Bool
	apps := make([]*fakeApp, 3)
	for i := range apps {
		name := fmt.Sprintf("app%d", i)
		a := &fakeApp{name: name}
		a.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
			w.Header().Set("X-App", name)
			if name == "app0" && failing.Load() {
				w.WriteHeader(http.StatusInternalServerError)
				return
			}
			_, _ = w.Write([]byte(name))
		}))
		t.Cleanup(a.srv.Close)
		apps[i] = a
	}
	tier := startTier(t, Config{Workers: 1, FailTimeout: 300 * time.Millisecond, MaxFails: 1}, apps...)

	var victim string
	for i := range 60 {
		id := fmt.Sprintf("DOC%02d", i)
		if who, _ := whoAnswers(t, tier.base, id); who == "app0" {
			victim = id
			break
		}
	}
	if victim == "" {
		t.Fatal("app0 owns none of 60 documents")
	}
	failing.Store(true)
	if who, status := whoAnswers(t, tier.base, victim); who != "app0" || status != http.StatusInternalServerError {
		t.Fatalf("the owner's 5xx: %s answered %d, want app0 with 500 (5xx are not retried)", who, status)
	}
	for range 5 {
		if who, status := whoAnswers(t, tier.base, victim); who == "app0" || status != http.StatusOK {
			t.Fatalf("after the owner's 5xx, %s answered %d: the failure was not counted", who, status)
		}
	}
	failing.Store(false)
	deadline := time.Now().Add(5 * time.Second)
	for {
		who, status := whoAnswers(t, tier.base, victim)
		if status != http.StatusOK {
			t.Fatalf("status %d while app0 recovers", status)
		}
		if who == "app0" {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("the document never returned to app0 after its failure window")
		}
		time.Sleep(50 * time.Millisecond)
	}
}
