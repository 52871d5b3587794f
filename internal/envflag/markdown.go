package envflag

import (
	"flag"
	"fmt"
	"io"
	"strings"
)

// Section is one command in a reference.
type Section struct {
	Title   string // e.g. "docplat serve"
	Summary string // one sentence
	Flags   *Set   // declared with an empty environment: the built-in defaults
}

// WriteMarkdown writes one table per section: each flag, its variable (if
// it has one), its default and its usage.
func WriteMarkdown(w io.Writer, sections []Section) error {
	var sb strings.Builder
	for _, s := range sections {
		fmt.Fprintf(&sb, "\n## %s\n%s\n\n| flag | variable | default | meaning |\n|---|---|---|---|\n", s.Title, s.Summary)
		s.Flags.FlagSet.VisitAll(func(f *flag.Flag) {
			variable, def := "", "empty"
			if s.Flags.HasEnv(f.Name) {
				variable = "`" + s.Flags.EnvName(f.Name) + "`"
			}
			if f.DefValue != "" {
				def = "`" + f.DefValue + "`"
			}
			usage := strings.TrimSuffix(f.Usage, " ("+s.Flags.EnvName(f.Name)+")")
			fmt.Fprintf(&sb, "| `--%s` | %s | %s | %s |\n", f.Name, variable, def, strings.ReplaceAll(usage, "|", `\|`))
		})
	}
	_, err := io.WriteString(w, sb.String())
	return err
}
