package main

import (
	"strings"
	"testing"
	"time"
)

func TestConfigFromEnvironmentAndFlags(t *testing.T) {
	cases := []struct {
		name    string
		env     map[string]string
		args    []string
		check   func(config) bool
		wantErr string
	}{
		{"defaults", nil, nil, func(c config) bool {
			return c.Addr == ":8080" && c.Store.DB.DataDir == "./data" && c.Store.DB.MySQLDSN == "" && c.Docs.MaxUploadBytes == 100<<20 && c.Accounts.SessionTTL == 12*time.Hour
		}, ""},
		{"environment", map[string]string{"DOCPLAT_ADDR": "127.0.0.1:9", "DOCPLAT_MAX_UPLOAD_BYTES": "1024", "DOCPLAT_MIGRATE": "true", "DOCPLAT_SESSION_TTL": "1h"}, nil,
			func(c config) bool {
				return c.Addr == "127.0.0.1:9" && c.Docs.MaxUploadBytes == 1024 && c.Store.Migrate && c.Accounts.SessionTTL == time.Hour
			}, ""},
		{"flags beat environment", map[string]string{"DOCPLAT_ADDR": ":1"}, []string{"--addr", ":2"},
			func(c config) bool { return c.Addr == ":2" }, ""},
		{"bad integer", map[string]string{"DOCPLAT_MAX_UPLOAD_BYTES": "lots"}, nil, nil, "DOCPLAT_MAX_UPLOAD_BYTES"},
		{"bad duration", map[string]string{"DOCPLAT_SESSION_TTL": "forever"}, nil, nil, "DOCPLAT_SESSION_TTL"},
		{"bad boolean", map[string]string{"DOCPLAT_MIGRATE": "perhaps"}, nil, nil, "DOCPLAT_MIGRATE"},
		{"upload limit out of range", nil, []string{"--max-upload-bytes", "0"}, nil, "max-upload-bytes"},
		{"short admin password", map[string]string{"DOCPLAT_ADMIN_PASSWORD": "short"}, nil, nil, "admin-password"},
		{"tiny blob grace", nil, []string{"--blob-grace", "1s"}, nil, "blob-grace"},
		{"bad trusted proxy", map[string]string{"DOCPLAT_TRUSTED_PROXIES": "10.0.0.1, nginx.local"}, nil, nil, "trusted-proxies"},
		{"bad log level", nil, []string{"--log-level", "loud"}, nil, "log-level"},
		{"hot path and pool defaults", nil, nil, func(c config) bool {
			return c.Store.DB.MaxOpenConns == 32 && c.SearchCacheTTL == 5*time.Second && c.Detector.Detector.HotRate == 200 && c.Detector.Detector.CoolRate == 100 &&
				c.HotDetector && len(c.nginxAdmins()) == 0 && c.Server.ReadTokenTTL == 5*time.Minute
		}, ""},
		{"nginx admins parsed", map[string]string{"DOCPLAT_NGINX_ADMIN": "http://127.0.0.1:8081/, http://127.0.0.1:8082", "DOCPLAT_INTERNAL_SECRET": "0123456789abcdef"}, nil,
			func(c config) bool { a := c.nginxAdmins(); return len(a) == 2 && a[0] == "http://127.0.0.1:8081" }, ""},
		{"db pool too small", nil, []string{"--db-max-conns", "1"}, nil, "db-max-conns"},
		{"negative search cache", nil, []string{"--search-cache-ttl", "-1s"}, nil, "search-cache-ttl"},
		{"nginx admin without secret", map[string]string{"DOCPLAT_NGINX_ADMIN": "http://127.0.0.1:8081"}, nil, nil, "internal-secret"},
		{"nginx admin not a URL", map[string]string{"DOCPLAT_NGINX_ADMIN": "127.0.0.1:8081", "DOCPLAT_INTERNAL_SECRET": "0123456789abcdef"}, nil, nil, "nginx-admin"},
		{"short read-token secret", map[string]string{"DOCPLAT_READ_TOKEN_SECRET": "short"}, nil, nil, "read-token-secret"},
		{"cool rate not below hot rate", nil, []string{"--hot-rate", "100", "--hot-cool-rate", "100"}, nil, "hot-document detector"},
		{"admission overrides", map[string]string{"DOCPLAT_ADMISSION": "search=3/400ms"}, nil, func(c config) bool {
			a := c.Server.Admission
			return a["search"].Concurrency == 3 && a["search"].MaxWait == 400*time.Millisecond && a["write"].Concurrency > 0
		}, ""},
		{"access aggregation defaults", nil, nil, func(c config) bool {
			return c.Reads.Window == 500*time.Millisecond && c.Reads.BurstCount == 25 && c.Reads.BurstInterval == 50*time.Millisecond
		}, ""},
		{"burst count follows the detector", nil, []string{"--hot-rate", "400", "--hot-cool-rate", "100", "--hot-window", "2s"}, func(c config) bool {
			return c.Reads.BurstCount == 100
		}, ""},
		{"access aggregation from the environment", map[string]string{"DOCPLAT_ACCESS_AGGREGATE_WINDOW": "1s", "DOCPLAT_ACCESS_BURST_COUNT": "7", "DOCPLAT_ACCESS_BURST_INTERVAL": "20ms"}, nil,
			func(c config) bool {
				return c.Reads.Window == time.Second && c.Reads.BurstCount == 7 && c.Reads.BurstInterval == 20*time.Millisecond
			}, ""},
		{"negative burst count", nil, []string{"--access-burst-count", "-1"}, nil, "access-burst-count"},
		{"zero burst interval", nil, []string{"--access-burst-interval", "0s"}, nil, "access-burst-interval"},
		{"bad admission", nil, []string{"--admission", "search=fast"}, nil, "admission"},
		{"every problem at once", map[string]string{"DOCPLAT_MIGRATE": "x"}, []string{"--log-format", "xml"}, nil, "log-format"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			env := func(k string) (string, bool) { v, ok := tc.env[k]; return v, ok }
			cfg, err := parseServe(tc.args, env)
			if tc.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
					t.Fatalf("parseServe() = %v, want an error naming %s", err, tc.wantErr)
				}
				return
			}
			if err != nil || !tc.check(cfg) {
				t.Fatalf("parseServe() = %v, config = %+v", err, cfg)
			}
		})
	}
}

func TestUnknownCommandFails(t *testing.T) {
	if err := run(t.Context(), []string{"frobnicate"}, func(string) (string, bool) { return "", false }); err == nil {
		t.Fatal("unknown command accepted")
	}
}
