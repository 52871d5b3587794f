package main

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"docplat/accounts"
	"docplat/docs"
	"docplat/internal/envflag"
	"docplat/internal/logflag"
	"docplat/stats"
)

// storeCommand is the configuration of a command that works on the
// document database: how it logs and where the store is.
type storeCommand struct {
	Log   logflag.Options
	Store storeOptions
}

func (c *storeCommand) bind(b *envflag.Set) {
	c.Log.Bind(b)
	c.Store.bind(b)
}

func (c *storeCommand) validate(b *envflag.Set, more ...error) error {
	return b.Check(append([]error{c.Log.Validate(), b.Options(&c.Store.DB)}, more...)...)
}

// storeFlags is the flag set of migrate and user create.
func storeFlags(name string, env envSource) (*envflag.Set, *storeCommand) {
	var c storeCommand
	b := newFlags(name, env)
	c.bind(b)
	return b, &c
}

func migrateCmd(ctx context.Context, args []string, env envSource) error {
	b, cfg := storeFlags("migrate", env)
	if err := b.Parse(args); err != nil {
		return err
	}
	if err := cfg.validate(b); err != nil {
		return err
	}
	cfg.Store.Migrate = true
	db, err := openDB(ctx, cfg.Store, cfg.Log.Logger())
	if err != nil {
		return err
	}
	defer db.Close()
	fmt.Println("schema is up to date")
	return nil
}

// userFlags is user create's flag set: the store's and the new user's.
func userFlags(env envSource) (*envflag.Set, *storeCommand, *accounts.NewUser, *string) {
	b, cfg := storeFlags("user create", env)
	var in accounts.NewUser
	var role string
	b.FlagSet.StringVar(&in.Username, "username", "", "login name")
	b.FlagSet.StringVar(&in.Password, "password", "", "password; '-' reads it from standard input")
	b.FlagSet.StringVar(&role, "role", "member", "admin, dept_admin or member")
	b.FlagSet.StringVar(&in.DepartmentID, "department-id", "", "department id")
	b.FlagSet.StringVar(&in.DisplayName, "display-name", "", "display name")
	return b, cfg, &in, &role
}

// userCmd runs `docplat user create`: it opens the database only.
func userCmd(ctx context.Context, args []string, env envSource) error {
	b, cfg, in, role := userFlags(env)
	if err := b.Parse(args); err != nil {
		return err
	}
	if err := cfg.validate(b); err != nil {
		return err
	}
	if in.Password == "-" {
		line, err := bufio.NewReader(os.Stdin).ReadString('\n')
		if err != nil && line == "" {
			return fmt.Errorf("reading password from stdin: %w", err)
		}
		in.Password = strings.TrimRight(line, "\r\n")
	}
	in.Role = accounts.Role(*role)
	db, err := openDB(ctx, cfg.Store, cfg.Log.Logger())
	if err != nil {
		return err
	}
	defer db.Close()
	u, err := accounts.NewService(db.Accounts(), accounts.Options{}).CreateUserUnchecked(ctx, *in)
	if err != nil {
		return err
	}
	fmt.Printf("created user %s (id %s, role %s)\n", u.Username, u.ID, u.Role)
	return nil
}

// reconcileCommand is reconcile's configuration: the document database
// and the stats service's.
type reconcileCommand struct {
	storeCommand
	Stats stats.Placement
}

func reconcileFlags(env envSource) (*envflag.Set, *reconcileCommand) {
	var c reconcileCommand
	b := newFlags("reconcile", env)
	c.bind(b)
	c.Stats.Bind(b, "the stats service's own MariaDB/MySQL database, corrected directly (required with --mysql-dsn); empty in embedded mode: stats.db in the data directory",
		&c.Store.DB.DataDir, &c.Store.DB.MaxOpenConns)
	return b, &c
}

// reconcileCmd recomputes department usage from the documents database,
// after a heuristic three-phase-commit outcome (a network partition).
func reconcileCmd(ctx context.Context, args []string, env envSource) error {
	b, cfg := reconcileFlags(env)
	if err := b.Parse(args); err != nil {
		return err
	}
	// reconcile works on the stats database directly, never through a stats process
	if err := cfg.validate(b, cfg.Stats.Check(cfg.Store.DB.MySQLDSN, "", nil), b.Options(&cfg.Stats.DB)); err != nil {
		return err
	}
	log := cfg.Log.Logger()
	db, err := openDB(ctx, cfg.Store, log)
	if err != nil {
		return err
	}
	defer db.Close()
	sc := cfg.Stats.DB
	sc.Logger = log
	st, err := stats.Open(ctx, sc)
	if err != nil {
		return err
	}
	defer st.Close()
	fixed, err := st.ReconcileWith(ctx, db.Documents())
	if err != nil {
		return err
	}
	for _, c := range fixed {
		fmt.Printf("department %s: %d documents / %d bytes (stats had %d / %d)\n", c.DepartmentID, c.Documents, c.Bytes, c.WasDocuments, c.WasBytes)
	}
	fmt.Printf("%d department(s) corrected\n", len(fixed))
	return nil
}

// gcCommand is gc's configuration: the store and the blobs' grace.
type gcCommand struct {
	storeCommand
	Docs docs.Options
}

func gcFlags(env envSource) (*envflag.Set, *gcCommand) {
	c := gcCommand{Docs: docs.DefaultOptions()}
	b := newFlags("gc", env)
	c.bind(b)
	c.Store.Blob.Bind(b)
	b.Duration(&c.Docs.BlobGrace, "blob-grace", c.Docs.BlobGrace, "unreferenced blobs and staging files younger than this are kept")
	return b, &c
}

func gcCmd(ctx context.Context, args []string, env envSource) error {
	b, cfg := gcFlags(env)
	if err := b.Parse(args); err != nil {
		return err
	}
	if err := cfg.validate(b, b.Options(&cfg.Docs), b.Options(&cfg.Store.Blob)); err != nil {
		return err
	}
	log := cfg.Log.Logger()
	st := cfg.Store
	st.DB.ReplicaDSNs = nil // the collector reads and writes the primary
	db, blobs, err := openStore(ctx, st, log, nil)
	if err != nil {
		return err
	}
	defer db.Close()
	o := cfg.Docs
	o.Logger = log
	r, err := docs.NewCollector(db.Documents(), blobs, o).CollectGarbage(ctx)
	fmt.Printf("removed %d staging files, %d blobs, %d search orphans\n", r.TempFiles, r.Blobs, r.SearchOrphans)
	fmt.Printf("removed %d blobs' orphaned previews\n", r.Derived)
	// The page-image cache of docplat before previews became derived
	// files of their blob: nothing reads it any more.
	old := filepath.Join(cfg.Store.DB.DataDir, "previews")
	if _, serr := os.Stat(old); serr == nil {
		if rerr := os.RemoveAll(old); rerr != nil {
			err = errors.Join(err, rerr)
		} else {
			fmt.Printf("removed the obsolete preview cache %s\n", old)
		}
	}
	return err
}
