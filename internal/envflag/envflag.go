// Package envflag declares a command's flags straight onto the options
// structs of the packages they configure, each flag with an environment
// variable as its default. It reports every problem at once (bad
// variables, and each package's own Validate errors restated with the
// flags' names), and renders flag sets as a Markdown reference. It reads
// the environment only through the lookup function it is given.
package envflag

import (
	"errors"
	"flag"
	"fmt"
	"reflect"
	"strconv"
	"strings"
	"time"
)

// Set is one command's flags, declared straight onto the options they
// fill. Every flag declared by its typed methods has its default from an
// environment variable when that is set (Prefix + the flag's name
// upper-cased, "-" as "_"); a variable that does not parse is kept as an
// error for Check.
type Set struct {
	FlagSet *flag.FlagSet
	prefix  string
	env     func(string) (string, bool)
	envErrs []error
	byAddr  map[uintptr]string // the flag bound to each address, for fieldFlags
	envs    map[string]bool    // the flags that have an environment variable
	afters  []func()           // copies of flag values into other options, run after parsing
}

// New is an empty flag set named name whose variables are prefix + the
// flag name (e.g. "DOCPLAT_"), read through env (os.LookupEnv, or a test's
// map).
func New(name, prefix string, env func(string) (string, bool)) *Set {
	return &Set{FlagSet: flag.NewFlagSet(name, flag.ContinueOnError), prefix: prefix, env: env, byAddr: map[uintptr]string{}, envs: map[string]bool{}}
}

// EnvName is the environment variable of a flag.
func (b *Set) EnvName(flagName string) string {
	return b.prefix + strings.ToUpper(strings.ReplaceAll(flagName, "-", "_"))
}

// HasEnv reports whether the flag takes its default from a variable.
func (b *Set) HasEnv(flagName string) bool { return b.envs[flagName] }

// lookup is the flag's environment variable, if set.
func (b *Set) lookup(name string) (string, string, bool) {
	v, ok := b.env(b.EnvName(name))
	return b.EnvName(name), v, ok
}

func (b *Set) usage(name, usage string) string {
	b.envs[name] = true
	return usage + " (" + b.EnvName(name) + ")"
}

func (b *Set) note(p any, name string) { b.byAddr[reflect.ValueOf(p).Pointer()] = name }

// Given reports whether the flag was set, on the command line or by its
// environment variable (even to its default): for settings whose mere
// presence means something. Meaningful after Parse.
func (b *Set) Given(flagName string) bool {
	if _, _, ok := b.lookup(flagName); ok && b.envs[flagName] {
		return true
	}
	given := false
	b.FlagSet.Visit(func(f *flag.Flag) { given = given || f.Name == flagName })
	return given
}

// Alias names a flag for a field that receives a copy of its value (see
// After), so that the field's validation errors name the flag too.
func (b *Set) Alias(p any, name string) { b.note(p, name) }

// After runs f once the flags are parsed (to copy a value bound once into
// the other options that need it, or to derive a default).
func (b *Set) After(f func()) { b.afters = append(b.afters, f) }

func (b *Set) String(p *string, name, def, usage string) {
	if _, v, ok := b.lookup(name); ok {
		def = v
	}
	b.note(p, name)
	b.FlagSet.StringVar(p, name, def, b.usage(name, usage))
}

func (b *Set) Int64(p *int64, name string, def int64, usage string) {
	if env, v, ok := b.lookup(name); ok {
		if n, err := strconv.ParseInt(strings.TrimSpace(v), 10, 64); err == nil {
			def = n
		} else {
			b.envErrs = append(b.envErrs, fmt.Errorf("%s=%q is not an integer", env, v))
		}
	}
	b.note(p, name)
	b.FlagSet.Int64Var(p, name, def, b.usage(name, usage))
}

func (b *Set) Int(p *int, name string, def int, usage string) {
	n := int64(def)
	if env, v, ok := b.lookup(name); ok {
		if parsed, err := strconv.ParseInt(strings.TrimSpace(v), 10, strconv.IntSize); err == nil {
			n = parsed
		} else {
			b.envErrs = append(b.envErrs, fmt.Errorf("%s=%q is not an integer", env, v))
		}
	}
	b.note(p, name)
	b.FlagSet.IntVar(p, name, int(n), b.usage(name, usage))
}

func (b *Set) Float64(p *float64, name string, def float64, usage string) {
	if env, v, ok := b.lookup(name); ok {
		if f, err := strconv.ParseFloat(strings.TrimSpace(v), 64); err == nil {
			def = f
		} else {
			b.envErrs = append(b.envErrs, fmt.Errorf("%s=%q is not a number", env, v))
		}
	}
	b.note(p, name)
	b.FlagSet.Float64Var(p, name, def, b.usage(name, usage))
}

func (b *Set) Duration(p *time.Duration, name string, def time.Duration, usage string) {
	if env, v, ok := b.lookup(name); ok {
		if d, err := time.ParseDuration(strings.TrimSpace(v)); err == nil {
			def = d
		} else {
			b.envErrs = append(b.envErrs, fmt.Errorf("%s=%q is not a duration (e.g. 30s, 10m, 12h)", env, v))
		}
	}
	b.note(p, name)
	b.FlagSet.DurationVar(p, name, def, b.usage(name, usage))
}

func (b *Set) Bool(p *bool, name string, def bool, usage string) {
	if env, v, ok := b.lookup(name); ok {
		if x, err := strconv.ParseBool(strings.TrimSpace(v)); err == nil {
			def = x
		} else {
			b.envErrs = append(b.envErrs, fmt.Errorf("%s=%q is not a boolean", env, v))
		}
	}
	b.note(p, name)
	b.FlagSet.BoolVar(p, name, def, b.usage(name, usage))
}

// List binds a comma-separated list; blanks are dropped and trim (if not
// empty) is cut from the end of every item.
func (b *Set) List(p *[]string, name, def, trim, usage string) {
	if _, v, ok := b.lookup(name); ok {
		def = v
	}
	l := &ListValue{P: p, Trim: trim}
	_ = l.Set(def)
	b.note(p, name)
	b.FlagSet.Var(l, name, b.usage(name, usage))
}

// Var binds a flag.Value whose Set parses into the options; a bad
// environment value is reported like a bad flag.
func (b *Set) Var(v flag.Value, p any, name, usage string) {
	if env, s, ok := b.lookup(name); ok {
		if err := v.Set(s); err != nil {
			b.envErrs = append(b.envErrs, fmt.Errorf("%s=%q: %w", env, s, err))
		}
	}
	b.note(p, name)
	b.FlagSet.Var(v, name, b.usage(name, usage))
}

// Parse parses args, refusing positional arguments, then runs the After
// functions. Errors of the environment are kept for Check.
// (parse and reports the environment's errors with the flags'.
func (b *Set) Parse(args []string) error {
	if err := b.FlagSet.Parse(args); err != nil {
		return err
	}
	if b.FlagSet.NArg() > 0 {
		return fmt.Errorf("%s: unexpected arguments %q", b.FlagSet.Name(), b.FlagSet.Args())
	}
	for _, f := range b.afters {
		f()
	}
	return nil
}

// Check joins the environment's errors and the validation errors of every
// group of options into one "invalid configuration" error.
// A problem reported twice (a value copied into two packages' options) is
// reported once.
func (b *Set) Check(errs ...error) error {
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

// flatten lists the errors an errors.Join holds, and the errors of the
// joins it holds (a package's validation that joins its options' own),
// nil: none.
func flatten(err error) []error {
	if err == nil {
		return nil
	}
	j, ok := err.(interface{ Unwrap() []error })
	if !ok {
		return []error{err}
	}
	var out []error
	for _, e := range j.Unwrap() {
		out = append(out, flatten(e)...)
	}
	return out
}

// Validator is a package's options that check themselves.
type Validator interface{ Validate() error }

// Options validates a package's options (a pointer to the struct the flags
// were bound into) and names the flags in its errors: a message that starts
// with a bound field's Go name ("MaxUploadBytes must be ...") starts with
// the flag's name instead ("max-upload-bytes must be ...").
func (b *Set) Options(o Validator) error {
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

// ListValue is a comma-separated flag.value filling a []string.
type ListValue struct {
	P    *[]string // the list filled
	Trim string    // cut from the end of every item (e.g. "/")
}

func (l *ListValue) String() string {
	if l == nil || l.P == nil {
		return ""
	}
	return strings.Join(*l.P, ",")
}

func (l *ListValue) Set(s string) error {
	var out []string
	for _, item := range strings.Split(s, ",") {
		item = strings.TrimSpace(item)
		if l.Trim != "" {
			item = strings.TrimRight(item, l.Trim)
		}
		if item != "" {
			out = append(out, item)
		}
	}
	*l.P = out
	return nil
}
