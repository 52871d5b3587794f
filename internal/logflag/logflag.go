// Package logflag is how every docplat command logs: the --log-level and
// --log-format flags and the slog logger they select, writing to standard
// error. It holds no logger of its own.
package logflag

import (
	"errors"
	"fmt"
	"log/slog"
	"os"

	"docplat/internal/envflag"
)

// Options are a command's logging flags.
type Options struct{ Level, Format string }

// Bind declares the logging flags onto o.
func (o *Options) Bind(b *envflag.Set) {
	b.String(&o.Level, "log-level", "info", "debug, info, warn or error")
	b.String(&o.Format, "log-format", "json", "json or text")
}

// Validate reports a level or a format that is not one of the choices.
func (o *Options) Validate() error {
	var errs []error
	if _, err := parseLevel(o.Level); err != nil {
		errs = append(errs, err)
	}
	if o.Format != "json" && o.Format != "text" {
		errs = append(errs, errors.New("log-format must be json or text"))
	}
	return errors.Join(errs...)
}

func parseLevel(s string) (slog.Level, error) {
	var l slog.Level
	if err := l.UnmarshalText([]byte(s)); err != nil {
		return 0, fmt.Errorf("log-level %q must be debug, info, warn or error", s)
	}
	return l, nil
}

// Logger is the logger the options select, on standard error (valid
// options assumed; an unknown level logs at info).
func (o Options) Logger() *slog.Logger {
	level, _ := parseLevel(o.Level)
	opts := &slog.HandlerOptions{Level: level}
	if o.Format == "text" {
		return slog.New(slog.NewTextHandler(os.Stderr, opts))
	}
	return slog.New(slog.NewJSONHandler(os.Stderr, opts))
}
