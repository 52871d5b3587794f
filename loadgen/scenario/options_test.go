package scenario

import (
	"flag"
	"io"
	"strings"
	"testing"
	"time"

	"docplat/loadgen"
)

func parse(t *testing.T, args ...string) (*Plan, error) {
	t.Helper()
	var o Options
	fs := flag.NewFlagSet("loadgen", flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	o.Register(fs)
	if err := fs.Parse(args); err != nil {
		return nil, err
	}
	return o.Validate()
}

func TestFlagValidation(t *testing.T) {
	auth := []string{"-user", "admin", "-password", "pw"}
	for _, tc := range []struct {
		name    string
		args    []string
		wantErr string // "" means valid
	}{
		{"defaults with a user", auth, ""},
		{"token instead of user", []string{"-token", "t"}, ""},
		{"reuse without credentials, reads only", []string{"-reuse", "-mix", "read-meta=1,search=1"}, ""},
		{"open loop with rate", append([]string{"-mode", "open", "-rate", "200", "-max-in-flight", "1000"}, auth...), ""},
		{"stepped closed loop", append([]string{"-steps", "100:5s,500:5s"}, auth...), ""},
		{"no credentials", nil, "seeding uploads documents"},
		{"writes without credentials", []string{"-reuse"}, "need -token or -user"},
		{"token and user", []string{"-token", "t", "-user", "a", "-password", "p"}, "give one of them"},
		{"user without password", []string{"-user", "a"}, "-user needs -password"},
		{"bad url", append([]string{"-url", "localhost:8080"}, auth...), "-url"},
		{"bad mode", append([]string{"-mode", "burst"}, auth...), "-mode"},
		{"open loop without rate", append([]string{"-mode", "open"}, auth...), "-rate must be > 0"},
		{"max in flight in closed loop", append([]string{"-max-in-flight", "5"}, auth...), "-max-in-flight applies to -mode open"},
		{"zero users", append([]string{"-users", "0"}, auth...), "-users"},
		{"zero duration", append([]string{"-duration", "0s"}, auth...), "-duration"},
		{"bad steps", append([]string{"-steps", "100"}, auth...), "-steps"},
		{"zero docs", append([]string{"-docs", "0"}, auth...), "-docs"},
		{"unknown mix kind", append([]string{"-mix", "delete=5"}, auth...), "unknown kind"},
		{"negative zipf", append([]string{"-zipf-s", "-1"}, auth...), "-zipf-s"},
		{"missing corpus", append([]string{"-corpus", "/nonexistent/corpus"}, auth...), "-corpus"},
		{"missing words file", append([]string{"-words", "/nonexistent/words.txt"}, auth...), "-words"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			p, err := parse(t, tc.args...)
			if tc.wantErr == "" {
				if err != nil {
					t.Fatalf("rejected: %v", err)
				}
				if p.BaseURL == "" || len(p.Words) == 0 || p.MixW == nil {
					t.Fatalf("plan incomplete: %+v", p)
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
				t.Fatalf("error %v, want one mentioning %q", err, tc.wantErr)
			}
		})
	}
}

func TestValidateReportsEveryProblemAtOnce(t *testing.T) {
	_, err := parse(t, "-url", "nope", "-docs", "0", "-mode", "x")
	if err == nil {
		t.Fatal("accepted")
	}
	for _, want := range []string{"-url", "-docs", "-mode"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error %q does not mention %s", err, want)
		}
	}
}

func TestParseSteps(t *testing.T) {
	got, err := ParseSteps("100:5s, 500:1m", loadgen.Closed)
	if err != nil {
		t.Fatal(err)
	}
	want := []loadgen.Step{{Users: 100, Duration: 5 * time.Second}, {Users: 500, Duration: time.Minute}}
	if len(got) != 2 || got[0] != want[0] || got[1] != want[1] {
		t.Fatalf("got %+v", got)
	}
	got, err = ParseSteps("2.5:1s", loadgen.Open)
	if err != nil || got[0].Rate != 2.5 {
		t.Fatalf("open steps %+v, %v", got, err)
	}
	for _, bad := range []string{"", "x:1s", "10:0s", "10:-1s", "0:1s", "10"} {
		if _, err := ParseSteps(bad, loadgen.Closed); err == nil {
			t.Errorf("%q accepted", bad)
		}
	}
}

func TestParseMix(t *testing.T) {
	m, err := ParseMix(DefaultMix)
	if err != nil || m[ReadMeta] != 45 || !m.Writes() || m.String() != DefaultMix {
		t.Fatalf("default mix %v: %v", m, err)
	}
	for _, bad := range []string{"", "read-meta=0", "read-meta", "read-meta=-1", "read-meta=x", "read-meta=1,read-meta=2", "nap=1"} {
		if _, err := ParseMix(bad); err == nil {
			t.Errorf("%q accepted", bad)
		}
	}
}
