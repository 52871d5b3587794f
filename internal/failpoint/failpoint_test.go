package failpoint

import (
	"errors"
	"testing"
)

// cleanups is a Cleaner whose cleanups the test runs when it chooses.
type cleanups []func()

func (c *cleanups) Cleanup(f func()) { *c = append(*c, f) }
func (c *cleanups) run() {
	for i := len(*c) - 1; i >= 0; i-- {
		(*c)[i]()
	}
}

var errInjected = errors.New("injected")

func TestInjectRunsOnlyEnabledPointsInTheirScope(t *testing.T) {
	const name = "test/point"
	if err := Inject(name, 1); err != nil {
		t.Fatalf("a point nobody enabled failed: %v", err)
	}
	var c cleanups
	Enable(&c, name, func(scope any) error {
		if scope != 1 {
			return nil
		}
		return errInjected
	})
	if err := Inject(name, 1); !errors.Is(err, errInjected) {
		t.Fatalf("Inject in scope = %v, want the injected failure", err)
	}
	if err := Inject(name, 2); err != nil {
		t.Fatalf("Inject in another scope = %v, want nil (parallel tests pass each other by)", err)
	}
	if err := Inject("test/other", 1); err != nil {
		t.Fatalf("another point failed: %v", err)
	}
	c.run()
	if err := Inject(name, 1); err != nil {
		t.Fatalf("the point still fails after its test ended: %v", err)
	}
	if n := enabled.Load(); n != 0 {
		t.Fatalf("%d actions still counted after cleanup", n)
	}
}

func TestCrashFailsEachPointOnceAndRecordsIt(t *testing.T) {
	var c cleanups
	defer c.run()
	mine := func(scope any) bool { return scope == "mine" }
	cr := Crash(&c, errInjected, mine, "test/a", "test/b")
	if err := Inject("test/a", "theirs"); err != nil {
		t.Fatalf("crashed outside its scope: %v", err)
	}
	for i, want := range []error{errInjected, nil} {
		if err := Inject("test/a", "mine"); !errors.Is(err, want) {
			t.Fatalf("hit %d of test/a = %v, want %v", i+1, err, want)
		}
	}
	if got := cr.Fired(); len(got) != 1 || got[0] != "test/a" {
		t.Fatalf("Fired = %v, want [test/a]", got)
	}
}
