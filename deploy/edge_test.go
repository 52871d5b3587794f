package deploy

import (
	"net/url"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"docplat/nginx"
)

// TestEdgeAdminIsReachedWhereItListens: the example edge's admin listener
// is one the nginx command accepts (one private interface, not 0.0.0.0),
// the app nodes and the workers list the same edges, this edge among them,
// at the address it listens on, and every listed edge is a trusted proxy
// (the edges are the machines in front of the apps).
func TestEdgeAdminIsReachedWhereItListens(t *testing.T) {
	edge := parseEnv(t, filepath.Join("systemd", "env", "nginx.env"))
	serve := parseEnv(t, filepath.Join("systemd", "env", "serve.env"))
	worker := parseEnv(t, filepath.Join("systemd", "env", "worker.env"))

	cfg := nginx.Config{Listen: edge["NGINX_LISTEN"], AdminListen: edge["NGINX_ADMIN_LISTEN"],
		Upstreams: strings.Split(edge["NGINX_UPSTREAMS"], ","), Secret: edge["DOCPLAT_INTERNAL_SECRET"], TokenSecret: edge["DOCPLAT_READ_TOKEN_SECRET"]}
	if err := cfg.Validate(); err != nil {
		t.Fatalf("nginx.env: %v", err)
	}
	if serve["DOCPLAT_NGINX_ADMIN"] != worker["DOCPLAT_NGINX_ADMIN"] {
		t.Fatalf("serve.env and worker.env list other edges: %q, %q", serve["DOCPLAT_NGINX_ADMIN"], worker["DOCPLAT_NGINX_ADMIN"])
	}
	admins := strings.Split(serve["DOCPLAT_NGINX_ADMIN"], ",")
	opts := nginx.EdgeOptions{Admins: admins, MaxEntryBytes: 1 << 20}
	if err := opts.Validate(); err != nil {
		t.Fatalf("DOCPLAT_NGINX_ADMIN: %v", err)
	}
	var hosts []string
	for _, a := range admins {
		u, _ := url.Parse(a)
		hosts = append(hosts, u.Host)
		if !slices.Contains(strings.Split(serve["DOCPLAT_TRUSTED_PROXIES"], ","), u.Hostname()) {
			t.Errorf("edge %s is not in DOCPLAT_TRUSTED_PROXIES %q", a, serve["DOCPLAT_TRUSTED_PROXIES"])
		}
	}
	if !slices.Contains(hosts, cfg.AdminListen) {
		t.Errorf("nginx.env's NGINX_ADMIN_LISTEN %s is none of the apps' edges %v", cfg.AdminListen, hosts)
	}
}
