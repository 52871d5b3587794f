package stats

import (
	"errors"

	"docplat/internal/envflag"
)

// Placement is where the document service finds the stats service: in its
// own process on DB, or another process at URL.
type Placement struct {
	DB  Config
	URL string
}

// Bind declares the placement's flags onto p (the DSN's meaning is the
// caller's to say); the embedded stats.db's directory and the pool size
// follow the document database's (dataDir, maxConns).
func (p *Placement) Bind(b *envflag.Set, dsnUsage string, dataDir *string, maxConns *int) {
	b.String(&p.DB.MySQLDSN, "stats-mysql-dsn", "", dsnUsage)
	b.Alias(&p.DB.DataDir, "data-dir")
	b.Alias(&p.DB.MaxOpenConns, "db-max-conns")
	b.After(func() { p.DB.DataDir, p.DB.MaxOpenConns = *dataDir, *maxConns })
}

// Check reports what is wrong with the placement beside a document service
// on docsDSN (empty: embedded) whose services share secret and whose
// access stream is on brokers (empty: an in-process broker).
func (p Placement) Check(docsDSN, secret string, brokers []string) error {
	var errs []error
	if p.URL != "" && secret == "" {
		errs = append(errs, errors.New("internal-secret is required with stats-url: the services authenticate each other with it"))
	}
	if p.URL != "" && len(brokers) == 0 {
		errs = append(errs, errors.New("kafka-brokers is required with stats-url: the stats process consumes the access topic itself and cannot reach an in-process broker"))
	}
	if docsDSN != "" && p.DB.MySQLDSN == "" && p.URL == "" {
		errs = append(errs, errors.New("stats-mysql-dsn is required with mysql-dsn: the stats service owns a separate database (e.g. docplat_stats)"))
	}
	if p.DB.MySQLDSN != "" && p.DB.MySQLDSN == docsDSN {
		errs = append(errs, errors.New("stats-mysql-dsn must name another database than mysql-dsn"))
	}
	return errors.Join(errs...)
}
