package nginx

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestValidate(t *testing.T) {
	ok := Config{Listen: ":8088", AdminListen: "127.0.0.1:8089", Upstreams: []string{"127.0.0.1:8080"}, Secret: strings.Repeat("s", 16)}
	tests := []struct {
		name    string
		mutate  func(*Config)
		wantErr string
	}{
		{"valid", func(*Config) {}, ""},
		{"admin on all interfaces", func(c *Config) { c.AdminListen = ":8089" }, "one interface"},
		{"admin on 0.0.0.0", func(c *Config) { c.AdminListen = "0.0.0.0:8089" }, "one interface"},
		{"admin on a name", func(c *Config) { c.AdminListen = "edge1:8089" }, "one interface"},
		{"admin on a private address", func(c *Config) { c.AdminListen = "10.0.0.5:8089" }, ""},
		{"admin on IPv6 loopback", func(c *Config) { c.AdminListen = "[::1]:8089" }, ""},
		{"admin off loopback without a secret", func(c *Config) { c.AdminListen = "10.0.0.5:8089"; c.Secret = "" }, "signs every admin request"},
		{"hostname upstream", func(c *Config) { c.Upstreams = []string{"app:8080"} }, "ip:port"},
		{"no upstreams", func(c *Config) { c.Upstreams = nil }, "upstream"},
		{"short secret", func(c *Config) { c.Secret = "x" }, "16 bytes"},
		{"shm too small", func(c *Config) { c.ShmSize = 1 << 20 }, "ShmSize"},
		{"no listen", func(c *Config) { c.Listen = "" }, "Listen"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := ok
			tt.mutate(&c)
			err := c.Validate()
			if tt.wantErr == "" && err != nil || tt.wantErr != "" && (err == nil || !strings.Contains(err.Error(), tt.wantErr)) {
				t.Fatalf("Validate = %v, want error containing %q", err, tt.wantErr)
			}
		})
	}
}

func TestRenderKeepsSecretsPrivate(t *testing.T) {
	prefix := t.TempDir()
	cfg := Config{Listen: ":8088", AdminListen: "127.0.0.1:8089", Upstreams: []string{"127.0.0.1:8080"}, Secret: `quote"and\backslash`}
	if err := Render(cfg, prefix); err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(prefix, "conf", "nginx.conf")
	st, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	if st.Mode().Perm() != 0o600 {
		t.Fatalf("nginx.conf mode %v, want 0600", st.Mode().Perm())
	}
	b, _ := os.ReadFile(path)
	if strings.Contains(string(b), cfg.Secret) {
		t.Fatal("the secret is written in clear (it must be hex-encoded)")
	}
	if _, err := os.Stat(filepath.Join(prefix, "lua", "docplat", "serve.lua")); err != nil {
		t.Fatalf("Lua not copied into the prefix: %v", err)
	}
}
