package main

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	mysqldriver "github.com/go-sql-driver/mysql"

	"docplat/internal/tcpcut"
	"docplat/internal/testdb"
	"docplat/internal/wait"
)

// TestDatabaseOutageAnswers503WithRetryAfterNeverInternal cuts the
// application's and the stats service's MariaDB connections (through a
// proxy this test owns; the shared server keeps running) while clients
// read, search, write, log in and ask for stats. Every refusal must be 503
// unavailable with Retry-After, never 500; a cached read keeps answering;
// once the database is back, writes succeed again.
func TestDatabaseOutageAnswers503WithRetryAfterNeverInternal(t *testing.T) {
	cfg := testConfig(t, testdb.MariaDB)
	var proxy *tcpcut.Proxy
	for _, dsn := range []*string{&cfg.Store.DB.MySQLDSN, &cfg.Stats.DB.MySQLDSN} {
		c, err := mysqldriver.ParseDSN(*dsn)
		if err != nil {
			t.Fatal(err)
		}
		if proxy == nil {
			if proxy, err = tcpcut.Start(c.Addr); err != nil {
				t.Fatal(err)
			}
			t.Cleanup(proxy.Close)
		}
		c.Addr = proxy.Addr
		*dsn = c.FormatDSN()
	}
	a := startApp(t, cfg)
	admin := a.admin()
	cached := admin.mustUpload("cached.txt", "served from the cache", map[string]string{"visibility": "public"})
	cold := admin.mustUpload("cold.txt", "never read before the outage", map[string]string{"visibility": "public"})
	victim := admin.mustUpload("victim.txt", "to delete", map[string]string{"visibility": "public"})
	for range 2 {
		if r := a.anon().do("GET", "/api/v1/documents/"+cached.ID+"/content", nil, nil); r.status != 200 {
			t.Fatalf("warm read: %d %s", r.status, r.body)
		}
	}

	type request struct {
		kind, method, path, body, contentType, token string
	}
	upload, uploadType := multipartBody("new.txt", []byte("written during the outage"), map[string]string{"visibility": "public"})
	uploadBytes, _ := io.ReadAll(upload)
	kinds := func(i int) []request {
		return []request{
			{kind: "cached read", method: "GET", path: "/api/v1/documents/" + cached.ID + "/content"},
			{kind: "cold read", method: "GET", path: "/api/v1/documents/" + cold.ID},
			{kind: "search", method: "GET", path: "/api/v1/documents?q=outage"},
			{kind: "list", method: "GET", path: "/api/v1/documents", token: admin.token},
			{kind: "upload", method: "POST", path: "/api/v1/documents", body: string(uploadBytes), contentType: uploadType, token: admin.token},
			{kind: "update", method: "PATCH", path: "/api/v1/documents/" + cold.ID, body: `{"description":"x` + strconv.Itoa(i) + `"}`, contentType: "application/json", token: admin.token},
			{kind: "delete", method: "DELETE", path: "/api/v1/documents/" + victim.ID, token: admin.token},
			{kind: "login", method: "POST", path: "/api/v1/auth/login", body: fmt.Sprintf(`{"username":"nobody%d","password":"whatever-password"}`, i), contentType: "application/json"},
			{kind: "stats", method: "GET", path: "/api/v1/stats/top", token: admin.token},
			{kind: "document stats", method: "GET", path: "/api/v1/documents/" + cached.ID + "/stats", token: admin.token},
			{kind: "departments", method: "GET", path: "/api/v1/stats/departments", token: admin.token},
		}
	}
	hc := &http.Client{Timeout: 30 * time.Second}
	send := func(r request) (int, string, string, error) {
		req, _ := http.NewRequest(r.method, a.srv.URL+r.path, strings.NewReader(r.body))
		if r.contentType != "" {
			req.Header.Set("Content-Type", r.contentType)
		}
		if r.token != "" {
			req.Header.Set("Authorization", "Bearer "+r.token)
		}
		res, err := hc.Do(req)
		if err != nil {
			return 0, "", "", err
		}
		defer res.Body.Close()
		var e struct{ Error struct{ Code string } }
		b, _ := io.ReadAll(res.Body)
		_ = json.Unmarshal(b, &e)
		return res.StatusCode, e.Error.Code, res.Header.Get("Retry-After"), nil
	}

	proxy.Cut()
	var (
		mu       sync.Mutex
		statuses = map[string]map[int]int{}
		wrong    []string
		wg       sync.WaitGroup
	)
	deadline := time.Now().Add(4 * time.Second)
	for w := range 6 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := w; time.Now().Before(deadline); i += 6 {
				for _, r := range kinds(i) {
					status, code, retry, err := send(r)
					mu.Lock()
					if statuses[r.kind] == nil {
						statuses[r.kind] = map[int]int{}
					}
					statuses[r.kind][status]++
					ra, _ := strconv.Atoi(retry)
					switch {
					case err != nil:
						wrong = append(wrong, fmt.Sprintf("%s: %v", r.kind, err))
					case status == 503 && (code != "unavailable" || ra < 1):
						wrong = append(wrong, fmt.Sprintf("%s: 503 %q Retry-After %q", r.kind, code, retry))
					case status >= 500 && status != 503:
						wrong = append(wrong, fmt.Sprintf("%s: %d %s", r.kind, status, code))
					case r.kind == "cached read" && status != 200:
						wrong = append(wrong, fmt.Sprintf("cached read: %d %s", status, code))
					}
					mu.Unlock()
				}
			}
		}()
	}
	wg.Wait()
	t.Logf("during the outage, status counts by request kind: %v", statuses)
	if len(wrong) > 0 {
		t.Fatalf("%d wrong answers during the outage, e.g. %v", len(wrong), wrong[:min(len(wrong), 10)])
	}
	for _, k := range []string{"cold read", "search", "upload", "update", "login"} {
		if statuses[k][503] == 0 {
			t.Errorf("%s never answered 503 during the outage: %v (was the database cut?)", k, statuses[k])
		}
	}
	if statuses["cached read"][200] == 0 {
		t.Fatal("no cached read was served")
	}

	if err := proxy.Restore(); err != nil {
		t.Fatal(err)
	}
	wait.For(t, wait.Limit, "an upload to succeed after the database is back", func() bool {
		status, _, _, err := send(kinds(0)[4])
		return err == nil && status == http.StatusCreated
	})
	if r := a.anon().do("GET", "/api/v1/documents/"+cold.ID, nil, nil); r.status != 200 {
		t.Fatalf("cold read after the outage: %d %s", r.status, r.body)
	}
}
