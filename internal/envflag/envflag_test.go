package envflag_test

import (
	"bytes"
	"errors"
	"strings"
	"testing"
	"time"

	"docplat/internal/envflag"
)

// opts stands for a package's options with their own validation.
type opts struct {
	MaxBytes int64
	Every    time.Duration
	Hosts    []string
	Name     string
	Copy     string // receives Name after parsing
}

func (o *opts) Validate() error {
	var errs []error
	if o.MaxBytes < 1 {
		errs = append(errs, errors.New("MaxBytes must be positive"))
	}
	if o.Every < time.Second {
		errs = append(errs, errors.New("Every must be at least 1s"))
	}
	if o.Copy == "bad" {
		errs = append(errs, errors.New("Copy must not be bad"))
	}
	return errors.Join(errs...)
}

func declare(env map[string]string) (*envflag.Set, *opts) {
	var o opts
	s := envflag.New("test", "APP_", func(k string) (string, bool) { v, ok := env[k]; return v, ok })
	s.Int64(&o.MaxBytes, "max-bytes", 10, "largest")
	s.Duration(&o.Every, "every", time.Minute, "how often")
	s.List(&o.Hosts, "hosts", "a, b/", "/", "hosts")
	s.String(&o.Name, "name", "x", "name")
	s.Alias(&o.Copy, "name")
	s.After(func() { o.Copy = o.Name })
	return s, &o
}

func TestVariablesAreDefaultsAndFlagsWin(t *testing.T) {
	s, o := declare(map[string]string{"APP_MAX_BYTES": "20", "APP_EVERY": "2m", "APP_HOSTS": "h1/, ,h2"})
	if err := s.Parse([]string{"--every", "3s"}); err != nil {
		t.Fatal(err)
	}
	if o.MaxBytes != 20 || o.Every != 3*time.Second || strings.Join(o.Hosts, ",") != "h1,h2" || o.Copy != "x" {
		t.Fatalf("parsed %+v", o)
	}
	if err := s.Check(s.Options(o)); err != nil {
		t.Fatal(err)
	}
}

func TestEveryProblemIsReportedOnceWithItsFlagOrVariable(t *testing.T) {
	s, o := declare(map[string]string{"APP_MAX_BYTES": "lots"})
	if err := s.Parse([]string{"--max-bytes", "0", "--every", "1ms", "--name", "bad"}); err != nil {
		t.Fatal(err)
	}
	err := s.Check(s.Options(o), s.Options(o), errors.New("a rule of the command"))
	if err == nil {
		t.Fatal("no error")
	}
	msg := err.Error()
	for _, want := range []string{`APP_MAX_BYTES="lots" is not an integer`, "max-bytes must be positive", "every must be at least 1s",
		"name must not be bad", "a rule of the command"} {
		if strings.Count(msg, want) != 1 {
			t.Errorf("%q appears %d times in:\n%s", want, strings.Count(msg, want), msg)
		}
	}
}

func TestPositionalArgumentsAreRefused(t *testing.T) {
	s, _ := declare(nil)
	if err := s.Parse([]string{"stray"}); err == nil {
		t.Fatal("positional argument accepted")
	}
}

func TestMarkdownListsEveryFlagWithItsVariable(t *testing.T) {
	s, _ := declare(map[string]string{"APP_MAX_BYTES": "20"})
	s.FlagSet.Bool("plain", false, "a flag | without a variable")
	var b bytes.Buffer
	if err := envflag.WriteMarkdown(&b, []envflag.Section{{Title: "app test", Summary: "Tests.", Flags: s}}); err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"## app test\nTests.\n", "| `--every` | `APP_EVERY` | `1m0s` | how often |",
		"| `--hosts` | `APP_HOSTS` | `a,b` | hosts |", "| `--plain` |  | `false` | a flag \\| without a variable |",
		"| `--max-bytes` | `APP_MAX_BYTES` | `20` | largest |"} {
		if !strings.Contains(b.String(), want) {
			t.Errorf("missing %q in:\n%s", want, b.String())
		}
	}
}

func TestGivenIsAFlagOrItsVariableEvenAtTheDefault(t *testing.T) {
	for _, c := range []struct {
		env  map[string]string
		args []string
		want bool
	}{
		{nil, nil, false},
		{nil, []string{"--name", "x"}, true},
		{map[string]string{"APP_NAME": "x"}, nil, true},
		{map[string]string{"APP_EVERY": "2m"}, nil, false},
	} {
		s, _ := declare(c.env)
		if err := s.Parse(c.args); err != nil {
			t.Fatal(err)
		}
		if got := s.Given("name"); got != c.want {
			t.Errorf("env %v args %v: Given(name) = %v, want %v", c.env, c.args, got, c.want)
		}
	}
}

func TestProblemsInNestedJoinsAreReportedOnce(t *testing.T) {
	s, _ := declare(nil)
	inner := errors.Join(errors.New("first problem"), errors.Join(errors.New("second problem"), errors.New("first problem")))
	err := s.Check(inner, errors.New("second problem"))
	if err == nil || strings.Count(err.Error(), "first problem") != 1 || strings.Count(err.Error(), "second problem") != 1 {
		t.Fatalf("got %v", err)
	}
}
