package errs_test

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"testing"

	"docplat/errs"
)

var errGone = errs.New(errs.NotFound, "document not found")

func TestCodeOfIsTheOutermostCode(t *testing.T) {
	unavailable := errs.New(errs.Unavailable, "nothing was changed")
	cases := []struct {
		name string
		err  error
		code errs.Code
		msg  string
	}{
		{"nil", nil, "", ""},
		{"uncoded", errors.New("disk on fire"), errs.Internal, ""},
		{"sentinel", errGone, errs.NotFound, "document not found"},
		{"wrapped by fmt", fmt.Errorf("get doc 7: %w", errGone), errs.NotFound, "document not found"},
		{"Errorf", errs.Errorf(errs.BadRequest, "title is %d characters too long", 3), errs.BadRequest, "title is 3 characters too long"},
		{"Wrap over a coded cause", errs.Wrap(errGone, errs.Conflict, "renamed meanwhile"), errs.Conflict, "renamed meanwhile"},
		{"sentinel with a coded cause (%w: %w)", fmt.Errorf("%w: %w", unavailable, errGone), errs.Unavailable, "nothing was changed"},
		{"uncoded wrapper over a coded error", fmt.Errorf("listing: %w", errs.Wrap(context.DeadlineExceeded, errs.Unavailable, "try later")), errs.Unavailable, "try later"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			if got := errs.CodeOf(tc.err); got != tc.code {
				t.Errorf("CodeOf = %q, want %q", got, tc.code)
			}
			if got := errs.MessageOf(tc.err); got != tc.msg {
				t.Errorf("MessageOf = %q, want %q", got, tc.msg)
			}
		})
	}
}

func TestCausesStayVisibleToIsAndAs(t *testing.T) {
	cause := &fs.PathError{Op: "open", Path: "/blobs/x", Err: fs.ErrNotExist}
	sentinel := errs.New(errs.Unavailable, "the change could not be made right now")
	cases := []struct {
		name string
		err  error
	}{
		{"Wrap", errs.Wrap(cause, errs.Unavailable, "the change could not be made right now")},
		{"sentinel %w: %w", fmt.Errorf("%w: %w", sentinel, cause)},
		{"fmt over Wrap", fmt.Errorf("write: %w", errs.Wrap(cause, errs.Unavailable, "x"))},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			if !errors.Is(tc.err, fs.ErrNotExist) {
				t.Errorf("errors.Is(%v, fs.ErrNotExist) = false", tc.err)
			}
			var pe *fs.PathError
			if !errors.As(tc.err, &pe) || pe.Path != "/blobs/x" {
				t.Errorf("errors.As(%v, *fs.PathError) lost the cause", tc.err)
			}
			var coded *errs.Error
			if !errors.As(tc.err, &coded) || coded.Code != errs.Unavailable {
				t.Errorf("errors.As(%v, *errs.Error) = %v", tc.err, coded)
			}
		})
	}
	if err := fmt.Errorf("%w: %w", sentinel, cause); !errors.Is(err, sentinel) {
		t.Error("the sentinel is not found through %w")
	}
}

func TestSentinelsMatchByIdentityNotByCode(t *testing.T) {
	other := errs.New(errs.NotFound, "document not found") // same code, same text
	if errors.Is(other, errGone) || errors.Is(errs.Errorf(errs.NotFound, "no such version"), errGone) {
		t.Fatal("a different not_found error matched the sentinel: callers could not tell them apart")
	}
}

func TestErrorTextKeepsTheCauseForLogs(t *testing.T) {
	err := errs.Wrap(errors.New("dial tcp 10.0.0.7:6379: connection refused"), errs.Unavailable, "accounts cannot be changed right now")
	if got, want := err.Error(), "accounts cannot be changed right now: dial tcp 10.0.0.7:6379: connection refused"; got != want {
		t.Fatalf("Error() = %q, want %q", got, want)
	}
	if got := errs.MessageOf(err); got != "accounts cannot be changed right now" {
		t.Fatalf("MessageOf = %q: the cause's text must not reach the caller", got)
	}
	if errs.Wrap(nil, errs.Unavailable, "x") != nil {
		t.Fatal("Wrap(nil) is not nil")
	}
}

func TestCodesAreDistinctSnakeCase(t *testing.T) {
	seen := map[errs.Code]bool{}
	for _, c := range errs.Codes() {
		if seen[c] {
			t.Errorf("code %q listed twice", c)
		}
		seen[c] = true
		for _, r := range string(c) {
			if (r < 'a' || r > 'z') && r != '_' {
				t.Errorf("code %q is not snake_case", c)
				break
			}
		}
	}
}
