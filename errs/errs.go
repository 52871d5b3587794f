// Package errs is docplat's one error vocabulary: the contract's error
// codes (API.md, "Errors, always"), and Error, which carries a code, a
// message meant for the caller and, optionally, the cause.
//
// Domain packages (docs, accounts, stats, idempotency...) return errors of
// this package, or wrap them with %w; server/ alone maps a code to an HTTP
// status and the contract's error body, in one table. The invariants:
//
//   - A code names what the caller can do about the failure, never which
//     package failed.
//   - Message is shown to the caller as is: it never holds a secret, a
//     query or a cause's text. The cause (Err) is for errors.Is, errors.As
//     and the logs only.
//   - The code of an error is that of the outermost *Error in its chain
//     (CodeOf), so a wrapper decides over what it wraps.
//
// errs knows no HTTP and imports no other docplat package.
package errs

import (
	"errors"
	"fmt"
)

// Code is a contract error code (snake_case, stable: clients match it).
type Code string

// The codes. Each one's doc says what the caller should do.
const (
	// BadRequest: the input is malformed or invalid; fix it, do not retry as is.
	BadRequest Code = "bad_request"
	// Unauthorized: no valid credentials; sign in.
	Unauthorized Code = "unauthorized"
	// Forbidden: signed in, but not allowed to do this.
	Forbidden Code = "forbidden"
	// NotFound: no such thing, or the caller may not know it exists.
	NotFound Code = "not_found"
	// MethodNotAllowed: the path exists, the method does not.
	MethodNotAllowed Code = "method_not_allowed"
	// Conflict: the request contradicts the current state (a name taken,
	// a row still in use, a same-key request still running).
	Conflict Code = "conflict"
	// PreconditionFailed: the document changed since the caller read it
	// (If-Match); read it again.
	PreconditionFailed Code = "precondition_failed"
	// TooLarge: the body exceeds a size limit.
	TooLarge Code = "too_large"
	// UnsupportedType: the content's type is not accepted.
	UnsupportedType Code = "unsupported_type"
	// IdempotencyKeyReused: an Idempotency-Key was sent again with a different request.
	IdempotencyKeyReused Code = "idempotency_key_reused"
	// Unprocessable: the stored content cannot be processed as its type
	// says (a damaged or password-protected PDF asked for a preview).
	Unprocessable Code = "unprocessable"
	// QuotaExceeded: the department's storage quota would be exceeded.
	QuotaExceeded Code = "quota_exceeded"
	// RateLimited: too many attempts; wait as Retry-After says.
	RateLimited Code = "rate_limited"
	// Unavailable: a dependency cannot serve the request right now; retry
	// later (the message says whether anything was changed).
	Unavailable Code = "unavailable"
	// Internal: a bug or an unclassified failure; the caller cannot fix it.
	Internal Code = "internal"
)

// Codes lists every code, for tables that must cover them all.
func Codes() []Code {
	return []Code{BadRequest, Unauthorized, Forbidden, NotFound, MethodNotAllowed, Conflict,
		PreconditionFailed, TooLarge, UnsupportedType, IdempotencyKeyReused, Unprocessable, QuotaExceeded,
		RateLimited, Unavailable, Internal}
}

// Error is a failure with a code and a message for the caller. Err, when
// set, is its cause: errors.Is and errors.As see through to it.
type Error struct {
	Code    Code
	Message string // shown to the caller (see the package doc)
	Err     error  // the cause, or nil; never shown to the caller
}

// Error is the message, followed by the cause's text when there is one.
func (e *Error) Error() string {
	if e.Err == nil {
		return e.Message
	}
	return e.Message + ": " + e.Err.Error()
}

// Unwrap returns the cause.
func (e *Error) Unwrap() error { return e.Err }

// New returns an error with code and message and no cause (a sentinel,
// which callers match with errors.Is, or a plain answer).
func New(code Code, message string) error {
	return &Error{Code: code, Message: message}
}

// Errorf returns an error with code and the message fmt.Sprintf makes of
// format and args. It keeps no cause: to keep one, use Wrap.
func Errorf(code Code, format string, args ...any) error {
	return &Error{Code: code, Message: fmt.Sprintf(format, args...)}
}

// Wrap returns an error with code and message whose cause is err (nil when
// err is nil, so that it can wrap a result unconditionally).
func Wrap(err error, code Code, message string) error {
	if err == nil {
		return nil
	}
	return &Error{Code: code, Message: message, Err: err}
}

// CodeOf returns the code of the outermost *Error in err's chain: "" for
// nil, Internal for an error that carries no code.
func CodeOf(err error) Code {
	if err == nil {
		return ""
	}
	var e *Error
	if errors.As(err, &e) {
		return e.Code
	}
	return Internal
}

// MessageOf returns the message of the outermost *Error in err's chain,
// and "" when err carries none (its text is not for the caller).
func MessageOf(err error) string {
	var e *Error
	if errors.As(err, &e) {
		return e.Message
	}
	return ""
}
