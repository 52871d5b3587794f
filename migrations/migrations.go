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

//go:embed mysql/*.sql sqlite/*.sql
var files embed.FS

func provider(db *sql.DB, d Dialect) (*goose.Provider, error) {
	var gd goose.Dialect
	switch d {
	case MySQL:
		gd = goose.DialectMySQL
	case SQLite:
		gd = goose.DialectSQLite3
	default:
		return nil, fmt.Errorf("migrations: unknown dialect %q", d)
	}
	sub, err := fs.Sub(files, string(d))
	if err != nil {
		return nil, err
	}
	return goose.NewProvider(gd, db, sub)
}

// Up applies every pending migration and returns the versions it applied.
func Up(ctx context.Context, db *sql.DB, d Dialect) ([]int64, error) {
	p, err := provider(db, d)
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
func Pending(ctx context.Context, db *sql.DB, d Dialect) (pending bool, current, latest int64, err error) {
	p, err := provider(db, d)
	if err != nil {
		return false, 0, 0, err
	}
	current, latest, err = p.GetVersions(ctx)
	if err != nil {
		return false, 0, 0, fmt.Errorf("migrations: %w", err)
	}
	return current < latest, current, latest, nil
}
