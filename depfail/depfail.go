// Package depfail names the one kind of failure a client should retry:
// a dependency (the database, the stats service...) could not serve the
// request right now. It classifies database driver errors once, at the
// DB opener (see Dialector), so every layer above sees the same error
// and the HTTP layer answers 503 with Retry-After instead of 500.
package depfail

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"errors"
	"io"
	"net"
	"syscall"

	mysqldriver "github.com/go-sql-driver/mysql"
)

// ErrUnavailable matches (errors.Is) every *Error.
var ErrUnavailable = errors.New("a dependency is unavailable")

// Error is a dependency failure; Cause keeps the driver's error for
// errors.Is/As and the logs.
type Error struct {
	Dependency string // "the database", "the stats service"...
	Cause      error
}

func (e *Error) Error() string {
	return e.Dependency + " is unavailable: " + e.Cause.Error()
}

func (e *Error) Unwrap() error { return e.Cause }

// Is makes errors.Is(err, ErrUnavailable) true for every *Error.
func (e *Error) Is(target error) bool { return target == ErrUnavailable }

// Wrap marks err as the named dependency's failure (nil stays nil; an
// error already marked keeps its first dependency).
func Wrap(dependency string, err error) error {
	if err == nil || errors.Is(err, ErrUnavailable) {
		return err
	}
	return &Error{Dependency: dependency, Cause: err}
}

// Dependency names the failed dependency of err, or "" if err is not one.
func Dependency(err error) string {
	var e *Error
	if errors.As(err, &e) {
		return e.Dependency
	}
	return ""
}

// MySQL server error numbers that mean "not now", not "wrong request".
var transientMySQL = map[uint16]bool{
	1040: true, // ER_CON_COUNT_ERROR: too many connections
	1053: true, // ER_SERVER_SHUTDOWN
	1152: true, // ER_ABORTING_CONNECTION
	1184: true, // ER_NEW_ABORTING_CONNECTION
	1203: true, // ER_TOO_MANY_USER_CONNECTIONS
	1205: true, // ER_LOCK_WAIT_TIMEOUT
	1213: true, // ER_LOCK_DEADLOCK (the transaction was rolled back)
	1226: true, // ER_USER_LIMIT_REACHED
	1317: true, // ER_QUERY_INTERRUPTED
	1927: true, // ER_CONNECTION_KILLED
	1969: true, // ER_STATEMENT_TIMEOUT (MariaDB max_statement_time)
	3024: true, // ER_QUERY_TIMEOUT (MySQL max_execution_time)
}

// SQLite primary result codes that mean "not now".
const (
	sqliteBusy      = 5
	sqliteLocked    = 6
	sqliteInterrupt = 9 // the statement's context ended (deadline on the database)
	sqliteIOErr     = 10
	sqliteCantOpen  = 14
	sqliteProtocol  = 15
)

// IsTransient reports whether err is a database failure that retrying
// later may cure: the server cannot be reached or dropped the connection,
// is overloaded or shutting down, a lock or statement timed out, or the
// deadline passed while waiting for it. Constraint violations, syntax
// errors, missing rows and a client that went away are not.
func IsTransient(err error) bool {
	if err == nil || errors.Is(err, context.Canceled) {
		return false
	}
	if errors.Is(err, context.DeadlineExceeded) ||
		errors.Is(err, driver.ErrBadConn) ||
		errors.Is(err, mysqldriver.ErrInvalidConn) ||
		errors.Is(err, mysqldriver.ErrPktSync) ||
		errors.Is(err, mysqldriver.ErrPktSyncMul) ||
		errors.Is(err, mysqldriver.ErrBusyBuffer) ||
		errors.Is(err, sql.ErrConnDone) ||
		errors.Is(err, io.ErrUnexpectedEOF) ||
		errors.Is(err, syscall.ECONNREFUSED) ||
		errors.Is(err, syscall.ECONNRESET) ||
		errors.Is(err, syscall.EPIPE) {
		return true
	}
	var ne net.Error
	if errors.As(err, &ne) {
		return true // dial failures, resets and i/o timeouts: the server is out of reach
	}
	var me *mysqldriver.MySQLError
	if errors.As(err, &me) {
		return transientMySQL[me.Number]
	}
	var coded interface{ Code() int } // the SQLite driver's *Error
	if errors.As(err, &coded) {
		switch coded.Code() & 0xff { // extended codes keep the primary code in the low byte
		case sqliteBusy, sqliteLocked, sqliteInterrupt, sqliteIOErr, sqliteCantOpen, sqliteProtocol:
			return true
		}
	}
	return false
}

// Classify returns err marked as the database's failure when it is
// transient (see IsTransient), and err unchanged otherwise.
func Classify(err error) error {
	if IsTransient(err) {
		return Wrap("the database", err)
	}
	return err
}
