package deploy

import (
	"fmt"
	"sort"
	"strings"
	"testing"
	"unicode"
)

// selector is a metric name an expression reads, with the label names its
// matchers use.
type selector struct {
	metric string
	labels []string
}

// promqlKeywords are the words of PromQL that are not metric names and
// not always followed by a parenthesis, as functions are.
var promqlKeywords = map[string]bool{"and": true, "or": true, "unless": true, "bool": true,
	"offset": true, "by": true, "without": true, "on": true, "ignoring": true,
	"group_left": true, "group_right": true, "inf": true, "nan": true, "atan2": true,
	// aggregations, which may have their by/without before the parenthesis
	"sum": true, "avg": true, "min": true, "max": true, "count": true, "group": true,
	"stddev": true, "stdvar": true, "topk": true, "bottomk": true, "quantile": true, "count_values": true}

// labelListKeywords are followed by a parenthesized list of label names.
var labelListKeywords = map[string]bool{"by": true, "without": true, "on": true, "ignoring": true,
	"group_left": true, "group_right": true}

// selectors reads the metric selectors of a PromQL expression: enough of
// the language to find what the rules and panels read (identifiers that
// are not functions, keywords or label lists), and to refuse unbalanced
// brackets or unknown characters. promtool, when installed, parses the
// rules for real (TestAlertRulesPromtool).
func selectors(expr string) ([]selector, error) {
	var out []selector
	var stack []rune
	closing := map[rune]rune{')': '(', '}': '{', ']': '['}
	rs := []rune(expr)
	i := 0
	skipSpace := func() {
		for i < len(rs) && unicode.IsSpace(rs[i]) {
			i++
		}
	}
	ident := func() string {
		start := i
		for i < len(rs) && (rs[i] == '_' || rs[i] == ':' || unicode.IsLetter(rs[i]) || unicode.IsDigit(rs[i])) {
			i++
		}
		return string(rs[start:i])
	}
	str := func() error { // at a quote
		q := rs[i]
		for i++; i < len(rs); i++ {
			if rs[i] == '\\' && q != '`' {
				i++
				continue
			}
			if rs[i] == q {
				i++
				return nil
			}
		}
		return fmt.Errorf("unterminated string in %q", expr)
	}
	// matchers reads {a="x", b=~"y"} from the brace on, returning the
	// label names.
	matchers := func() ([]string, error) {
		i++ // {
		var names []string
		for {
			skipSpace()
			if i >= len(rs) {
				return nil, fmt.Errorf("unterminated selector in %q", expr)
			}
			if rs[i] == '}' {
				i++
				return names, nil
			}
			if rs[i] == ',' {
				i++
				continue
			}
			name := ident()
			if name == "" {
				return nil, fmt.Errorf("bad label matcher at %q in %q", string(rs[i:]), expr)
			}
			names = append(names, name)
			skipSpace()
			for i < len(rs) && strings.ContainsRune("=!~", rs[i]) {
				i++
			}
			skipSpace()
			if i >= len(rs) || (rs[i] != '"' && rs[i] != '\'' && rs[i] != '`') {
				return nil, fmt.Errorf("label %s without a quoted value in %q", name, expr)
			}
			if err := str(); err != nil {
				return nil, err
			}
		}
	}
	for i < len(rs) {
		c := rs[i]
		switch {
		case unicode.IsSpace(c) || strings.ContainsRune("+-*/%^=!<>,", c):
			i++
		case c == '"' || c == '\'' || c == '`':
			if err := str(); err != nil {
				return nil, err
			}
		case c == '(' || c == '[':
			if c == '[' { // a range or subquery: durations only
				end := strings.IndexRune(string(rs[i:]), ']')
				if end < 0 {
					return nil, fmt.Errorf("unterminated range in %q", expr)
				}
				i += len([]rune(string(rs[i:])[:end])) + 1
				continue
			}
			stack = append(stack, c)
			i++
		case c == ')' || c == ']':
			if len(stack) == 0 || stack[len(stack)-1] != closing[c] {
				return nil, fmt.Errorf("unbalanced %q in %q", c, expr)
			}
			stack = stack[:len(stack)-1]
			i++
		case c == '{': // a selector without a metric name
			names, err := matchers()
			if err != nil {
				return nil, err
			}
			out = append(out, selector{labels: names})
		case unicode.IsDigit(c) || c == '.':
			for i < len(rs) && (unicode.IsDigit(rs[i]) || unicode.IsLetter(rs[i]) || rs[i] == '.') {
				i++
			}
		case c == '_' || c == ':' || unicode.IsLetter(c):
			word := ident()
			skipSpace()
			switch {
			case labelListKeywords[word]:
				if i < len(rs) && rs[i] == '(' {
					end := strings.IndexRune(string(rs[i:]), ')')
					if end < 0 {
						return nil, fmt.Errorf("unterminated label list in %q", expr)
					}
					i += len([]rune(string(rs[i:])[:end])) + 1
				}
			case promqlKeywords[word]:
			case i < len(rs) && rs[i] == '(': // a function or an aggregation
			default:
				s := selector{metric: word}
				if i < len(rs) && rs[i] == '{' {
					names, err := matchers()
					if err != nil {
						return nil, err
					}
					s.labels = names
				}
				out = append(out, s)
			}
		default:
			return nil, fmt.Errorf("unexpected %q in %q", c, expr)
		}
	}
	if len(stack) > 0 {
		return nil, fmt.Errorf("unclosed %q in %q", stack[len(stack)-1], expr)
	}
	return out, nil
}

func TestSelectors(t *testing.T) {
	for _, tc := range []struct {
		expr string
		want string // metric{labels} ..., sorted
	}{
		{`up{job=~"docplat-.*"} == 0`, `up{job}`},
		{`sum by (class) (rate(a_total{job="x",status=~"5.."}[5m])) / sum by (class) (rate(b_total[5m])) > 0.01`, `a_total{job,status} b_total{}`},
		{`histogram_quantile(0.99, sum by (le) (rate(h_bucket{route!~".*/content|/s/:token"}[$__rate_interval])))`, `h_bucket{route}`},
		{`absent(q_depth)`, `q_depth{}`},
		{`max by (instance) (g) == bool 0 and on (instance) up offset 5m`, `g{} up{}`},
		{`topk(5, x) > 1e3`, `x{}`},
	} {
		got, err := selectors(tc.expr)
		if err != nil {
			t.Errorf("%s: %v", tc.expr, err)
			continue
		}
		var parts []string
		for _, s := range got {
			parts = append(parts, s.metric+"{"+strings.Join(s.labels, ",")+"}")
		}
		sort.Strings(parts)
		if strings.Join(parts, " ") != tc.want {
			t.Errorf("%s: %v, want %s", tc.expr, parts, tc.want)
		}
	}
	for _, bad := range []string{`sum(rate(x[5m])`, `x{a=b}`, `x{a="b"`, `rate(x[5m]))`, `x; y`} {
		if _, err := selectors(bad); err == nil {
			t.Errorf("%s: no error", bad)
		}
	}
}
