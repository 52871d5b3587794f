package main

import (
	"bufio"
	"context"
	"errors"
	"flag"
	"fmt"
	"os"
	"runtime/debug"
	"strings"

	"docplat/accounts"
	"docplat/docs"
	"docplat/stats"
)

// version is set at build time with -ldflags "-X main.version=...".
var version = "dev"

func versionString() string {
	v := version
	if info, ok := debug.ReadBuildInfo(); ok {
		for _, s := range info.Settings {
			if s.Key == "vcs.revision" && len(s.Value) >= 12 {
				v += " (" + s.Value[:12] + ")"
			}
		}
	}
	return v
}

func parseConfig(name string, args []string, env envSource, extra func(*flag.FlagSet)) (config, error) {
	var cfg config
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	cfg.register(fs, env)
	if extra != nil {
		extra(fs)
	}
	if err := fs.Parse(args); err != nil {
		return cfg, err
	}
	if err := cfg.validate(); err != nil {
		return cfg, fmt.Errorf("invalid configuration:\n%w", err)
	}
	return cfg, nil
}

func migrateCmd(ctx context.Context, args []string, env envSource) error {
	cfg, err := parseConfig("migrate", args, env, nil)
	if err != nil {
		return err
	}
	cfg.Migrate = true
	db, _, err := openStore(ctx, cfg, cfg.logger())
	if err != nil {
		return err
	}
	defer db.Close()
	fmt.Println("schema is up to date")
	return nil
}

func userCmd(ctx context.Context, args []string, env envSource) error {
	if len(args) == 0 || args[0] != "create" {
		return errors.New("usage: docplat user create --username NAME [--password PW|-] [--role admin|dept_admin|member] [--department-id ID] [--display-name NAME]")
	}
	var in accounts.NewUser
	var role string
	cfg, err := parseConfig("user create", args[1:], env, func(fs *flag.FlagSet) {
		fs.StringVar(&in.Username, "username", "", "login name")
		fs.StringVar(&in.Password, "password", "", "password; '-' reads it from standard input")
		fs.StringVar(&role, "role", "member", "admin, dept_admin or member")
		fs.StringVar(&in.DepartmentID, "department-id", "", "department id")
		fs.StringVar(&in.DisplayName, "display-name", "", "display name")
	})
	if err != nil {
		return err
	}
	if in.Password == "-" {
		line, err := bufio.NewReader(os.Stdin).ReadString('\n')
		if err != nil && line == "" {
			return fmt.Errorf("reading password from stdin: %w", err)
		}
		in.Password = strings.TrimRight(line, "\r\n")
	}
	in.Role = accounts.Role(role)
	a, err := build(ctx, cfg, cfg.logger())
	if err != nil {
		return err
	}
	defer a.Close()
	u, err := a.accounts.CreateUserUnchecked(ctx, in)
	if err != nil {
		return err
	}
	fmt.Printf("created user %s (id %s, role %s)\n", u.Username, u.ID, u.Role)
	return nil
}

// reconcileCmd recomputes department usage from the documents database,
// after a heuristic three-phase-commit outcome (a network partition).
func reconcileCmd(ctx context.Context, args []string, env envSource) error {
	cfg, err := parseConfig("reconcile", args, env, nil)
	if err != nil {
		return err
	}
	log := cfg.logger()
	db, _, err := openStore(ctx, cfg, log)
	if err != nil {
		return err
	}
	defer db.Close()
	if cfg.StatsURL != "" && cfg.StatsMySQLDSN == "" {
		return errors.New("reconcile works on the stats database directly: set --stats-mysql-dsn")
	}
	st, err := stats.Open(ctx, stats.Config{MySQLDSN: cfg.StatsMySQLDSN, DataDir: cfg.DataDir, Logger: log, MaxOpenConns: int(cfg.DBMaxConns)})
	if err != nil {
		return err
	}
	defer st.Close()
	truth, err := db.Documents().UsageByDepartment(ctx)
	if err != nil {
		return err
	}
	fixed, err := st.Reconcile(ctx, truth)
	if err != nil {
		return err
	}
	if err := db.Documents().SetDepartmentUsage(ctx, truth); err != nil {
		return err
	}
	for _, c := range fixed {
		fmt.Printf("department %s: %d documents / %d bytes (stats had %d / %d)\n", c.DepartmentID, c.Documents, c.Bytes, c.WasDocuments, c.WasBytes)
	}
	fmt.Printf("%d department(s) corrected\n", len(fixed))
	return nil
}

func gcCmd(ctx context.Context, args []string, env envSource) error {
	cfg, err := parseConfig("gc", args, env, nil)
	if err != nil {
		return err
	}
	log := cfg.logger()
	db, blobs, err := openStore(ctx, cfg, log)
	if err != nil {
		return err
	}
	defer db.Close()
	r, err := docs.NewCollector(db.Documents(), blobs, docs.Options{BlobGrace: cfg.BlobGrace, Logger: log}).CollectGarbage(ctx)
	fmt.Printf("removed %d staging files, %d blobs, %d search orphans\n", r.TempFiles, r.Blobs, r.SearchOrphans)
	return err
}
