package nginx

import (
	"docplat/internal/internalapi"
	"strings"

	"bytes"
	"embed"
	"encoding/hex"
	"fmt"
	"io/fs"
	"math"
	"os"
	"path/filepath"
	"strconv"
	"text/template"
	"time"
)

//go:embed templates/nginx.conf.tmpl
var confTemplate string

//go:embed lua
var luaFiles embed.FS

var tmpl = template.Must(template.New("nginx.conf").Parse(confTemplate))

// Render writes a self-contained nginx prefix: <prefix>/conf/nginx.conf
// (mode 0600: it holds the secrets), the Lua hot tier in <prefix>/lua, and
// the logs, tmp and static directories. Rendering again replaces them.
func Render(cfg Config, prefix string) error {
	if err := cfg.Validate(); err != nil {
		return err
	}
	cfg = cfg.withDefaults()
	abs, err := filepath.Abs(prefix)
	if err != nil {
		return err
	}
	for _, d := range []string{"conf", "logs", "tmp", "static", "lua"} {
		if err := os.MkdirAll(filepath.Join(abs, d), 0o750); err != nil {
			return err
		}
	}
	if err := copyLua(filepath.Join(abs, "lua")); err != nil {
		return err
	}
	var buf bytes.Buffer
	if err := tmpl.Execute(&buf, view(cfg, abs)); err != nil {
		return fmt.Errorf("nginx: rendering the config: %w", err)
	}
	path := filepath.Join(abs, "conf", "nginx.conf")
	if err := os.WriteFile(path+".tmp", buf.Bytes(), 0o600); err != nil {
		return err
	}
	// WriteFile keeps an existing file's mode; make sure it is 0600.
	if err := os.Chmod(path+".tmp", 0o600); err != nil {
		return err
	}
	return os.Rename(path+".tmp", path)
}

func copyLua(dst string) error {
	return fs.WalkDir(luaFiles, "lua", func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel("lua", p)
		target := filepath.Join(dst, rel)
		if d.IsDir() {
			return os.MkdirAll(target, 0o750)
		}
		b, err := luaFiles.ReadFile(p)
		if err != nil {
			return err
		}
		return os.WriteFile(target, b, 0o640)
	})
}

type confView struct {
	Config
	Prefix                         string
	WorkerProcesses                string
	AdminSecretHex, TokenSecretHex string
	TombstoneTTL, PurgeWait        string
	PurgeInterval, LRUTTL          string
	FailTimeout                    string
	ConnectTimeout, ReadTimeout    string
	UpstreamKeepalive              int
	ErrorPages                     []errorPage
	ReadTokenTTLSeconds            string
	SignatureWindow                string
	SignedHeaders                  []string
}

// seconds renders d for Lua (a number of seconds).
func seconds(d time.Duration) string {
	return strconv.FormatFloat(d.Seconds(), 'f', -1, 64)
}

// nginxTime renders d for nginx directives (milliseconds).
func nginxTime(d time.Duration) string {
	return strconv.FormatInt(d.Milliseconds(), 10) + "ms"
}

func view(c Config, prefix string) confView {
	workers := "auto"
	if c.Workers > 0 {
		workers = strconv.Itoa(c.Workers)
	}
	maxInflight := c.MaxInflight
	if maxInflight < 0 {
		maxInflight = 0 // the Lua side reads 0 as "no limit"
	}
	v := confView{
		Config:            c,
		Prefix:            prefix,
		WorkerProcesses:   workers,
		AdminSecretHex:    hex.EncodeToString([]byte(c.Secret)),
		TokenSecretHex:    hex.EncodeToString([]byte(c.TokenSecret)),
		TombstoneTTL:      seconds(c.TombstoneTTL),
		PurgeWait:         seconds(c.PurgeWait),
		PurgeInterval:     "0.02",
		LRUTTL:            seconds(c.LRUTTL),
		FailTimeout:       seconds(c.FailTimeout),
		ConnectTimeout:    nginxTime(c.ConnectTimeout),
		ReadTimeout:       nginxTime(c.ReadTimeout),
		UpstreamKeepalive: c.Keepalive,
		ErrorPages:        errorPages,
		// Whole seconds, rounded up: see token.lua's cutoff.
		ReadTokenTTLSeconds: strconv.FormatInt(int64(math.Ceil(c.ReadTokenTTL.Seconds())), 10),
		SignatureWindow:     seconds(internalapi.SignatureWindow),
		SignedHeaders:       lowered(signedHeaders),
	}
	v.Config.MaxInflight = maxInflight
	return v
}

// lowered is names in lower case, as ngx.req.get_headers keys them.
func lowered(names []string) []string {
	out := make([]string, len(names))
	for i, n := range names {
		out[i] = strings.ToLower(n)
	}
	return out
}
