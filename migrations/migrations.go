// Package migrations owns docplat's versioned SQL schema, one directory per
// SQL dialect, applied with goose. It never touches rows: data changes belong
// to the services that own them.
package migrations

import (
	"context"
	"database/sql"
	"embed"
	"fmt"
	"io/fs"

	"github.com/pressly/goose/v3"
)

// Dialect names the SQL dialect a database speaks.
type Dialect string

const (
	MySQL  Dialect = "mysql"  // MariaDB or MySQL
	SQLite Dialect = "sqlite" // the embedded mode
)

// Set names a database's schema: the document service's or the stats
// service's (each service owns its own database).
type Set string

const (
	Docs  Set = ""
	Stats Set = "stats"
)

//go:embed mysql/*.sql sqlite/*.sql stats/mysql/*.sql stats/sqlite/*.sql
var files embed.FS

func provider(db *sql.DB, d Dialect, set ...Set) (*goose.Provider, error) {
	var gd goose.Dialect
	switch d {
	case MySQL:
		gd = goose.DialectMySQL
	case SQLite:
		gd = goose.DialectSQLite3
	default:
		return nil, fmt.Errorf("migrations: unknown dialect %q", d)
	}
	dir := string(d)
	if len(set) > 0 && set[0] != Docs {
		dir = string(set[0]) + "/" + dir
	}
	sub, err := fs.Sub(files, dir)
	if err != nil {
		return nil, err
	}
	return goose.NewProvider(gd, db, sub)
}

// Up applies every pending migration of the set (default: the document
// service's) and returns the versions it applied.
func Up(ctx context.Context, db *sql.DB, d Dialect, set ...Set) ([]int64, error) {
	p, err := provider(db, d, set...)
	if err != nil {
		return nil, err
	}
	results, err := p.Up(ctx)
	applied := make([]int64, 0, len(results))
	for _, r := range results {
		if r.Error == nil {
			applied = append(applied, r.Source.Version)
		}
	}
	if err != nil {
		return applied, fmt.Errorf("migrations: %w", err)
	}
	return applied, nil
}

// Pending reports whether migrations remain to be applied, with the current
// and the newest known schema version.
func Pending(ctx context.Context, db *sql.DB, d Dialect, set ...Set) (pending bool, current, latest int64, err error) {
	p, err := provider(db, d, set...)
	if err != nil {
		return false, 0, 0, err
	}
	current, latest, err = p.GetVersions(ctx)
	if err != nil {
		return false, 0, 0, fmt.Errorf("migrations: %w", err)
	}
	return current < latest, current, latest, nil
}
