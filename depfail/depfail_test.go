package depfail

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"errors"
	"fmt"
	"net"
	"os"
	"syscall"
	"testing"

	mysqldriver "github.com/go-sql-driver/mysql"
	"gorm.io/driver/mysql"
	"gorm.io/gorm"
	"gorm.io/gorm/logger"
)

type codedError struct{ code int }

func (e codedError) Error() string { return fmt.Sprintf("sqlite code %d", e.code) }
func (e codedError) Code() int     { return e.code }

func TestClassifyMarksOnlyTransientDatabaseFailures(t *testing.T) {
	refused := &net.OpError{Op: "dial", Net: "tcp", Err: os.NewSyscallError("connect", syscall.ECONNREFUSED)}
	transient := []error{
		refused,
		driver.ErrBadConn,
		mysqldriver.ErrInvalidConn,
		sql.ErrConnDone,
		context.DeadlineExceeded,
		fmt.Errorf("query: %w", &net.OpError{Op: "read", Err: os.ErrDeadlineExceeded}),
		&mysqldriver.MySQLError{Number: 1040, Message: "Too many connections"},
		&mysqldriver.MySQLError{Number: 1053, Message: "Server shutdown in progress"},
		&mysqldriver.MySQLError{Number: 1205, Message: "Lock wait timeout exceeded"},
		codedError{5},   // SQLITE_BUSY
		codedError{517}, // SQLITE_BUSY_SNAPSHOT
		codedError{9},   // SQLITE_INTERRUPT
	}
	for _, err := range transient {
		got := Classify(err)
		if !errors.Is(got, ErrUnavailable) || Dependency(got) != "the database" || !errors.Is(got, err) {
			t.Errorf("%v (%T): got %v, want database unavailable keeping the cause", err, err, got)
		}
	}
	permanent := []error{
		nil,
		context.Canceled,
		sql.ErrNoRows,
		gorm.ErrRecordNotFound,
		gorm.ErrDuplicatedKey,
		&mysqldriver.MySQLError{Number: 1062, Message: "Duplicate entry"},
		&mysqldriver.MySQLError{Number: 1064, Message: "syntax error"},
		codedError{19}, // SQLITE_CONSTRAINT
		errors.New("something else"),
	}
	for _, err := range permanent {
		if got := Classify(err); got != err {
			t.Errorf("%v: got %v, want it unchanged", err, got)
		}
	}
	var op *net.OpError
	if !errors.As(Classify(refused), &op) {
		t.Fatal("the driver's error is not reachable with errors.As")
	}
}

func TestWrapKeepsTheFirstDependency(t *testing.T) {
	err := Wrap("the stats service", Wrap("the database", driver.ErrBadConn))
	if Dependency(err) != "the database" || Wrap("x", nil) != nil {
		t.Fatalf("got %v", err)
	}
}

// TestDialectorClassifiesEveryGormPath: a database that refuses
// connections is ErrUnavailable through Exec, Count, Raw(...).Scan and
// Transaction alike (gorm sets some of these errors without
// translating them).
func TestDialectorClassifiesEveryGormPath(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close() // nothing listens there now: connections are refused
	db, err := gorm.Open(Dialector(mysql.New(mysql.Config{DSN: "root@tcp(" + addr + ")/x", SkipInitializeWithVersion: true})),
		&gorm.Config{TranslateError: true, DisableAutomaticPing: true, Logger: logger.Discard})
	if err != nil {
		t.Fatal(err)
	}
	var (
		n     int
		count int64
	)
	paths := map[string]error{
		"exec":        db.Exec("DELETE FROM t").Error,
		"count":       db.Table("t").Count(&count).Error,
		"raw scan":    db.Raw("SELECT 1").Scan(&n).Error,
		"transaction": db.Transaction(func(tx *gorm.DB) error { return nil }),
	}
	for name, err := range paths {
		if !errors.Is(err, ErrUnavailable) || !errors.Is(err, syscall.ECONNREFUSED) {
			t.Errorf("%s: %v, want database unavailable (connection refused)", name, err)
		}
	}
}
