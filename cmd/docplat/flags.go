package main

import (
	"errors"
	"flag"
	"fmt"
	"os"
	"reflect"
	"strconv"
	"strings"
	"time"
)

// envSource reads DOCPLAT_* variables; tests pass their own map.
type envSource func(string) (string, bool)

// osEnv reads the process environment: the only place docplat does.
func osEnv(name string) (string, bool) { return os.LookupEnv(name) }

// binder declares a command's flags straight onto the options they fill.
// Every flag's default is its DOCPLAT_* environment variable when set (the
// name is the flag's, upper-cased, "-" as "_"); a variable that does not
// parse is kept as an error for the command's validation.
type binder struct {
	fs      *flag.FlagSet
	env     envSource
	envErrs []error
	byAddr  map[uintptr]string // the flag bound to each address, for fieldFlags
	envs    map[string]bool    // the flags that have an environment variable
	afters  []func()           // copies of flag values into other options, run after parsing
}

func newBinder(name string, env envSource) *binder {
	return &binder{fs: flag.NewFlagSet(name, flag.ContinueOnError), env: env, byAddr: map[uintptr]string{}, envs: map[string]bool{}}
}

// envName is the environment variable of a flag.
func envName(flagName string) string {
	return "DOCPLAT_" + strings.ToUpper(strings.ReplaceAll(flagName, "-", "_"))
}

// lookup is the flag's environment variable, if set.
func (b *binder) lookup(name string) (string, string, bool) {
	v, ok := b.env(envName(name))
	return envName(name), v, ok
}

func (b *binder) usage(name, usage string) string {
	b.envs[name] = true
	return usage + " (" + envName(name) + ")"
}

func (b *binder) note(p any, name string) { b.byAddr[reflect.ValueOf(p).Pointer()] = name }

// alias names a flag for a field that receives a copy of its value (see
// after), so that the field's validation errors name the flag too.
func (b *binder) alias(p any, name string) { b.note(p, name) }

// after runs f once the flags are parsed (to copy a value bound once into
// the other options that need it, or to derive a default).
func (b *binder) after(f func()) { b.afters = append(b.afters, f) }

func (b *binder) String(p *string, name, def, usage string) {
	if _, v, ok := b.lookup(name); ok {
		def = v
	}
	b.note(p, name)
	b.fs.StringVar(p, name, def, b.usage(name, usage))
}

func (b *binder) Int64(p *int64, name string, def int64, usage string) {
	if env, v, ok := b.lookup(name); ok {
		if n, err := strconv.ParseInt(strings.TrimSpace(v), 10, 64); err == nil {
			def = n
		} else {
			b.envErrs = append(b.envErrs, fmt.Errorf("%s=%q is not an integer", env, v))
		}
	}
	b.note(p, name)
	b.fs.Int64Var(p, name, def, b.usage(name, usage))
}

func (b *binder) Int(p *int, name string, def int, usage string) {
	n := int64(def)
	if env, v, ok := b.lookup(name); ok {
		if parsed, err := strconv.ParseInt(strings.TrimSpace(v), 10, strconv.IntSize); err == nil {
			n = parsed
		} else {
			b.envErrs = append(b.envErrs, fmt.Errorf("%s=%q is not an integer", env, v))
		}
	}
	b.note(p, name)
	b.fs.IntVar(p, name, int(n), b.usage(name, usage))
}

func (b *binder) Float64(p *float64, name string, def float64, usage string) {
	if env, v, ok := b.lookup(name); ok {
		if f, err := strconv.ParseFloat(strings.TrimSpace(v), 64); err == nil {
			def = f
		} else {
			b.envErrs = append(b.envErrs, fmt.Errorf("%s=%q is not a number", env, v))
		}
	}
	b.note(p, name)
	b.fs.Float64Var(p, name, def, b.usage(name, usage))
}

func (b *binder) Duration(p *time.Duration, name string, def time.Duration, usage string) {
	if env, v, ok := b.lookup(name); ok {
		if d, err := time.ParseDuration(strings.TrimSpace(v)); err == nil {
			def = d
		} else {
			b.envErrs = append(b.envErrs, fmt.Errorf("%s=%q is not a duration (e.g. 30s, 10m, 12h)", env, v))
		}
	}
	b.note(p, name)
	b.fs.DurationVar(p, name, def, b.usage(name, usage))
}

func (b *binder) Bool(p *bool, name string, def bool, usage string) {
	if env, v, ok := b.lookup(name); ok {
		if x, err := strconv.ParseBool(strings.TrimSpace(v)); err == nil {
			def = x
		} else {
			b.envErrs = append(b.envErrs, fmt.Errorf("%s=%q is not a boolean", env, v))
		}
	}
	b.note(p, name)
	b.fs.BoolVar(p, name, def, b.usage(name, usage))
}

// List binds a comma-separated list; blanks are dropped and trim (if not
// empty) is cut from the end of every item.
func (b *binder) List(p *[]string, name, def, trim, usage string) {
	if _, v, ok := b.lookup(name); ok {
		def = v
	}
	l := &listValue{p: p, trim: trim}
	_ = l.Set(def)
	b.note(p, name)
	b.fs.Var(l, name, b.usage(name, usage))
}

// Var binds a flag.Value whose Set parses into the options; a bad
// environment value is reported like a bad flag.
func (b *binder) Var(v flag.Value, p any, name, usage string) {
	if env, s, ok := b.lookup(name); ok {
		if err := v.Set(s); err != nil {
			b.envErrs = append(b.envErrs, fmt.Errorf("%s=%q: %w", env, s, err))
		}
	}
	b.note(p, name)
	b.fs.Var(v, name, b.usage(name, usage))
}

// parse parses args and reports the environment's errors with the flags'.
func (b *binder) parse(args []string) error {
	if err := b.fs.Parse(args); err != nil {
		return err
	}
	if b.fs.NArg() > 0 {
		return fmt.Errorf("%s: unexpected arguments %q", b.fs.Name(), b.fs.Args())
	}
	for _, f := range b.afters {
		f()
	}
	return nil
}

// check joins the environment's errors and the validation errors of every
// group of options into one "invalid configuration" error.
// A problem reported twice (a value copied into two packages' options) is
// reported once.
func (b *binder) check(errs ...error) error {
	var out []error
	seen := map[string]bool{}
	for _, err := range append(append([]error{}, b.envErrs...), errs...) {
		for _, e := range flatten(err) {
			if !seen[e.Error()] {
				seen[e.Error()] = true
				out = append(out, e)
			}
		}
	}
	if len(out) > 0 {
		return fmt.Errorf("invalid configuration:\n%w", errors.Join(out...))
	}
	return nil
}

// flatten lists the errors an errors.Join holds (nil: none).
func flatten(err error) []error {
	if err == nil {
		return nil
	}
	if j, ok := err.(interface{ Unwrap() []error }); ok {
		return j.Unwrap()
	}
	return []error{err}
}

// validated is a package's options that check themselves.
type validated interface{ Validate() error }

// options validates a package's options (a pointer to the struct the flags
// were bound into) and names the flags in its errors: a message that starts
// with a bound field's Go name ("MaxUploadBytes must be ...") starts with
// the flag's name instead ("max-upload-bytes must be ...").
func (b *binder) options(o validated) error {
	err := o.Validate()
	if err == nil {
		return nil
	}
	names := fieldFlags(o, b.byAddr)
	errs := flatten(err)
	out := make([]error, len(errs))
	for i, e := range errs {
		out[i] = e
		msg := e.Error()
		if field, rest, ok := strings.Cut(msg, " "); ok && names[field] != "" {
			out[i] = flagError{name: names[field], rest: rest, err: e}
		}
	}
	return errors.Join(out...)
}

// flagError is a package's validation error restated with its flag's name.
type flagError struct {
	name, rest string
	err        error
}

func (e flagError) Error() string { return e.name + " " + e.rest }
func (e flagError) Unwrap() error { return e.err }

// fieldFlags maps the Go names of the struct's fields to the flags bound
// to them.
func fieldFlags(structPtr any, byAddr map[uintptr]string) map[string]string {
	v := reflect.ValueOf(structPtr)
	if v.Kind() != reflect.Pointer || v.Elem().Kind() != reflect.Struct {
		return nil
	}
	v = v.Elem()
	out := map[string]string{}
	for i := range v.NumField() {
		if name, ok := byAddr[v.Field(i).Addr().Pointer()]; ok && v.Type().Field(i).IsExported() {
			out[v.Type().Field(i).Name] = name
		}
	}
	return out
}

// listValue is a comma-separated flag.
type listValue struct {
	p    *[]string
	trim string
}

func (l *listValue) String() string {
	if l == nil || l.p == nil {
		return ""
	}
	return strings.Join(*l.p, ",")
}

func (l *listValue) Set(s string) error {
	var out []string
	for _, item := range strings.Split(s, ",") {
		item = strings.TrimSpace(item)
		if l.trim != "" {
			item = strings.TrimRight(item, l.trim)
		}
		if item != "" {
			out = append(out, item)
		}
	}
	*l.p = out
	return nil
}
