package sqlstore

import (
	"errors"
	"fmt"
	"time"

	mysqldriver "github.com/go-sql-driver/mysql"
)

// Validate reports every setting out of bounds at once. It checks a
// configuration as an operator gave it: zero values, which Open would
// replace by defaults, are reported too.
func (c Config) Validate() error {
	var errs []error
	if c.DataDir == "" {
		errs = append(errs, errors.New("DataDir must not be empty"))
	}
	if c.MaxOpenConns < 2 || c.MaxOpenConns > 10000 {
		errs = append(errs, fmt.Errorf("MaxOpenConns must be between 2 and 10000"))
	}
	if len(c.ReplicaDSNs) > 0 {
		if c.MySQLDSN == "" {
			errs = append(errs, errors.New("ReplicaDSNs need MySQLDSN: replicas are MariaDB's, not the embedded database's"))
		}
		if c.ReplicaMaxLag < 100*time.Millisecond || c.ReplicaMaxLag > time.Hour {
			errs = append(errs, errors.New("ReplicaMaxLag must be between 100ms and 1h"))
		}
		for _, d := range c.ReplicaDSNs {
			if _, err := mysqldriver.ParseDSN(d); err != nil {
				errs = append(errs, fmt.Errorf("ReplicaDSNs: %q: %w", ReplicaName(d), err))
			}
		}
	}
	return errors.Join(errs...)
}
