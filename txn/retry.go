package txn

import (
	"context"
	"errors"
	"strings"
	"time"

	mysqldriver "github.com/go-sql-driver/mysql"
	"gorm.io/gorm"
)

// transaction runs fn in a local transaction, retrying when the database
// chose it as a deadlock victim or timed out a lock wait (InnoDB) or was
// busy (SQLite): the barrier makes a retry safe, and giving up would turn a
// momentary conflict into a lost vote.
func transaction(ctx context.Context, db *gorm.DB, fn func(tx *gorm.DB) error) error {
	var err error
	for attempt, delay := 0, 5*time.Millisecond; attempt < 5; attempt, delay = attempt+1, delay*2 {
		if err = db.WithContext(ctx).Transaction(fn); err == nil || !retryable(err) {
			return err
		}
		select {
		case <-ctx.Done():
			return err
		case <-time.After(delay):
		}
	}
	return err
}

func retryable(err error) bool {
	var me *mysqldriver.MySQLError
	if errors.As(err, &me) {
		return me.Number == 1213 || me.Number == 1205 // deadlock, lock wait timeout
	}
	return strings.Contains(err.Error(), "database is locked") || strings.Contains(err.Error(), "SQLITE_BUSY")
}
