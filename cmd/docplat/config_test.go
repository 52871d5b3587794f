package main

import (
	"bytes"
	"errors"
	"flag"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"docplat/hotspot"
	"docplat/internal/envflag"
	"docplat/stats"
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
		{"profiler off by default", nil, nil, func(c config) bool { return c.DebugAddr == "" }, ""},
		{"profiler on loopback", map[string]string{"DOCPLAT_DEBUG_ADDR": "127.0.0.1:6060"}, nil,
			func(c config) bool { return c.DebugAddr == "127.0.0.1:6060" }, ""},
		{"profiler on IPv6 loopback", nil, []string{"--debug-addr", "[::1]:6060"}, func(c config) bool { return c.DebugAddr == "[::1]:6060" }, ""},
		{"profiler on every interface", nil, []string{"--debug-addr", ":6060"}, nil, "debug-addr"},
		{"profiler on a public address", map[string]string{"DOCPLAT_DEBUG_ADDR": "10.0.0.5:6060"}, nil, nil, "debug-addr"},
		{"profiler on a host name", nil, []string{"--debug-addr", "localhost:6060"}, nil, "debug-addr"},
		{"hot path and pool defaults", nil, nil, func(c config) bool {
			return c.Store.DB.MaxOpenConns == 32 && c.SearchCacheTTL == 5*time.Second && c.Detector.Detector.HotRate == 200 && c.Detector.Detector.CoolRate == 100 &&
				c.HotDetector && len(c.Hot.Admins) == 0 && c.Server.ReadTokenTTL == 5*time.Minute
		}, ""},
		{"nginx admins parsed", map[string]string{"DOCPLAT_NGINX_ADMIN": "http://127.0.0.1:8081/, http://127.0.0.1:8082", "DOCPLAT_INTERNAL_SECRET": "0123456789abcdef"}, nil,
			func(c config) bool { a := c.Hot.Admins; return len(a) == 2 && a[0] == "http://127.0.0.1:8081" }, ""},
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
			return c.Stream.Reads.Window == 500*time.Millisecond && c.Stream.Reads.BurstCount == 25 && c.Stream.Reads.BurstInterval == 50*time.Millisecond
		}, ""},
		{"burst count follows the detector", nil, []string{"--hot-rate", "400", "--hot-cool-rate", "100", "--hot-window", "2s"}, func(c config) bool {
			return c.Stream.Reads.BurstCount == 100
		}, ""},
		{"access aggregation from the environment", map[string]string{"DOCPLAT_ACCESS_AGGREGATE_WINDOW": "1s", "DOCPLAT_ACCESS_BURST_COUNT": "7", "DOCPLAT_ACCESS_BURST_INTERVAL": "20ms"}, nil,
			func(c config) bool {
				return c.Stream.Reads.Window == time.Second && c.Stream.Reads.BurstCount == 7 && c.Stream.Reads.BurstInterval == 20*time.Millisecond
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

// TestEachCommandAcceptsOnlyItsOwnFlags: a flag of another command is an
// error, not silently ignored.
func TestEachCommandAcceptsOnlyItsOwnFlags(t *testing.T) {
	cases := []struct {
		cmd   string
		flags func(envSource) *envflag.Set
		args  []string
		ok    bool
	}{
		{"serve", serveBinder, []string{"--stats-addr", ":1"}, false},
		{"serve", serveBinder, []string{"--kafka-addr", "127.0.0.1:1"}, false},
		{"serve", serveBinder, []string{"--hotspot-addr", "127.0.0.1:1"}, false},
		{"serve", serveBinder, []string{"--coordinator-url", "http://127.0.0.1:1"}, false},
		{"serve", serveBinder, []string{"--kafka-brokers", "127.0.0.1:1", "--hot-rate", "300"}, true},
		{"migrate", commandBinder("migrate"), []string{"--redis-addr", "127.0.0.1:1"}, false},
		{"migrate", commandBinder("migrate"), []string{"--mysql-dsn", "u@tcp(127.0.0.1:3306)/d"}, true},
		{"stats", commandBinder("stats"), []string{"--stats-addr", ":1", "--coordinator-url", "http://x"}, true},
		{"stats", commandBinder("stats"), []string{"--redis-addr", "127.0.0.1:1"}, false},
		{"kafka", commandBinder("kafka"), []string{"--kafka-addr", "127.0.0.1:1"}, true},
		{"kafka", commandBinder("kafka"), []string{"--mysql-dsn", "x"}, false},
		{"hotspot", commandBinder("hotspot"), []string{"--hotspot-addr", "127.0.0.1:1"}, true},
		{"hotspot", commandBinder("hotspot"), []string{"--addr", ":1"}, false},
		{"gc", commandBinder("gc"), []string{"--blob-grace", "2h"}, true},
		{"gc", commandBinder("gc"), []string{"--session-ttl", "2h"}, false},
	}
	for _, tc := range cases {
		b := tc.flags(noEnv)
		b.FlagSet.SetOutput(io.Discard)
		err := b.Parse(tc.args)
		if (err == nil) != tc.ok {
			t.Errorf("%s %v: parse = %v, want accepted %v", tc.cmd, tc.args, err, tc.ok)
		}
	}
}

func serveBinder(env envSource) *envflag.Set { b, _ := serveFlags(env); return b }

// commandBinder is the flag set of the named command in the reference.
func commandBinder(name string) func(envSource) *envflag.Set {
	for _, c := range commands {
		if c.name == name {
			return c.flags
		}
	}
	panic("no command " + name)
}

// TestPackageOptionErrorsNameTheFlag: the packages validate their own
// options in their own terms; the command's error names the flag.
func TestPackageOptionErrorsNameTheFlag(t *testing.T) {
	cases := map[string][]string{
		"cache-l1-ttl must be at least 1s":                   {"--cache-l1-ttl", "10ms"},
		"kafka-session-timeout must be between 500ms and 5m": {"--kafka-session-timeout", "1ms"},
		"hot-lease must be at least 1s":                      {"--hot-lease", "1ms"},
		"read-token-ttl must be between 1s and 24h":          {"--read-token-ttl", "48h"},
		"kafka-topic \"a b\" must be":                        {"--kafka-topic", "a b"},
	}
	for want, args := range cases {
		_, err := parseServe(args, noEnv)
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("%v: %v, want an error with %q", args, err, want)
		}
		if err != nil && strings.Count(err.Error(), want) != 1 {
			t.Errorf("%v: %q reported more than once:\n%v", args, want, err)
		}
	}
}

// TestHotspotAndStatsValidateTheirOwnFlags: the separate processes check
// what they need and nothing of serve's.
func TestHotspotAndStatsValidateTheirOwnFlags(t *testing.T) {
	env := func(k string) (string, bool) {
		v, ok := map[string]string{"DOCPLAT_MYSQL_DSN": "u@tcp(127.0.0.1:3306)/d", "DOCPLAT_REDIS_ADDR": "127.0.0.1:6379",
			"DOCPLAT_KAFKA_BROKERS": "127.0.0.1:9092", "DOCPLAT_INTERNAL_SECRET": "0123456789abcdef"}[k]
		return v, ok
	}
	hb, hl, h := processFlags[hotspot.ProcessConfig]("hotspot", env)
	if err := hb.Parse(nil); err != nil {
		t.Fatal(err)
	}
	if err := hb.Check(hl.Validate(), h.Validate(hb)); err != nil {
		t.Fatalf("hotspot with its settings: %v", err)
	}
	sb, sl, s := processFlags[stats.ProcessConfig]("stats", env)
	if err := sb.Parse([]string{"--coordinator-url", "http://127.0.0.1:8080"}); err != nil {
		t.Fatal(err)
	}
	if err := sb.Check(sl.Validate(), s.Validate(sb)); err != nil { // serve would want --stats-mysql-dsn with this DOCPLAT_MYSQL_DSN
		t.Fatalf("stats with its settings: %v", err)
	}
	sb, sl, s = processFlags[stats.ProcessConfig]("stats", noEnv)
	if err := sb.Parse(nil); err != nil {
		t.Fatal(err)
	}
	err := sb.Check(sl.Validate(), s.Validate(sb))
	for _, want := range []string{"--internal-secret", "--kafka-brokers", "--coordinator-url"} {
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("stats without settings: %v, want %s named", err, want)
		}
	}
}

// TestUserCreateOpensTheDatabaseOnly: adding a user starts no embedded
// broker and opens no blob store (their directories stay absent).
func TestUserCreateOpensTheDatabaseOnly(t *testing.T) {
	dir := t.TempDir()
	args := []string{"user", "create", "--data-dir", dir, "--log-level", "error", "--username", "bob", "--password", "bob-password-1"}
	if err := run(t.Context(), args, noEnv); err != nil {
		t.Fatal(err)
	}
	if err := run(t.Context(), args, noEnv); err == nil {
		t.Fatal("the same user created twice: the first was not stored")
	}
	for _, sub := range []string{"kafka", "blobs"} {
		if _, err := os.Stat(filepath.Join(dir, sub)); !errors.Is(err, fs.ErrNotExist) {
			t.Errorf("%s/ exists after user create (stat: %v): more than the database was opened", sub, err)
		}
	}
}

// TestConfigurationReferenceMatchesTheFlags: documentation/configuration.md
// is what 'docplat help config' prints; regenerate it when flags change.
func TestConfigurationReferenceMatchesTheFlags(t *testing.T) {
	var want bytes.Buffer
	if err := writeConfigDoc(&want); err != nil {
		t.Fatal(err)
	}
	got, err := os.ReadFile(filepath.Join("..", "..", configDocPath))
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got, want.Bytes()) {
		t.Fatalf("%s disagrees with the flags: run 'go run ./cmd/docplat help config > %s'", configDocPath, configDocPath)
	}
	for _, c := range commands {
		if c.flags == nil {
			continue
		}
		c.flags(noEnv).FlagSet.VisitAll(func(f *flag.Flag) {
			if !bytes.Contains(got, []byte("| `--"+f.Name+"` |")) {
				t.Errorf("docplat %s --%s is missing from %s", c.name, f.Name, configDocPath)
			}
		})
	}
}
