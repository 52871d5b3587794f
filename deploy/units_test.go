package deploy

import (
	"bufio"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"sort"
	"strings"
	"testing"
)

// docplatBin is the docplat binary built from this tree (TestMain).
var docplatBin string

func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "docplat-deploy-")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	docplatBin = filepath.Join(dir, "docplat")
	if out, err := exec.Command("go", "build", "-o", docplatBin, "../cmd/docplat").CombinedOutput(); err != nil {
		fmt.Fprintf(os.Stderr, "building docplat: %v\n%s", err, out)
		os.RemoveAll(dir)
		os.Exit(1)
	}
	code := m.Run()
	os.RemoveAll(dir)
	os.Exit(code)
}

// withoutUnit are the commands no unit runs, and why; a new long-running
// command fails TestSystemdUnits until it has a unit or a reason here.
var withoutUnit = map[string]string{
	"kafka":       "a development broker (kfake): production runs Kafka brokers",
	"user create": "a one-off tool",
	"reconcile":   "a one-off tool, after a heuristic transaction outcome",
	"gc":          "a one-off tool; every serve instance collects periodically",
}

// commandRef is one command's section of `docplat help config`.
type commandRef struct {
	flags map[string]bool // without the dashes
	vars  map[string]bool
}

// configReference runs `docplat help config` and reads each command's
// flags and variables from its tables.
func configReference(t *testing.T) map[string]commandRef {
	t.Helper()
	out, err := exec.Command(docplatBin, "help", "config").Output()
	if err != nil {
		t.Fatalf("docplat help config: %v", err)
	}
	ref := map[string]commandRef{}
	row := regexp.MustCompile("^\\| `--([a-z0-9-]+)` \\| (?:`(DOCPLAT_[A-Z0-9_]+)`)? *\\|")
	var cur string
	for _, line := range strings.Split(string(out), "\n") {
		if name, ok := strings.CutPrefix(line, "## docplat "); ok {
			cur = name
			ref[cur] = commandRef{flags: map[string]bool{}, vars: map[string]bool{}}
			continue
		}
		if m := row.FindStringSubmatch(line); m != nil && cur != "" {
			ref[cur].flags[m[1]] = true
			if m[2] != "" {
				ref[cur].vars[m[2]] = true
			}
		}
	}
	if len(ref["serve"].flags) < 20 || len(ref["nginx"].flags) < 5 {
		t.Fatalf("docplat help config: read %d commands, serve with %d flags; the format changed?", len(ref), len(ref["serve"].flags))
	}
	return ref
}

// unitFile is a parsed systemd unit: section -> key -> values in order.
type unitFile map[string]map[string][]string

func (u unitFile) get(section, key string) string {
	v := u[section][key]
	if len(v) == 0 {
		return ""
	}
	return v[len(v)-1]
}

func parseUnit(t *testing.T, path string) unitFile {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	u := unitFile{}
	var section string
	sc := bufio.NewScanner(f)
	for n := 1; sc.Scan(); n++ {
		line := strings.TrimSpace(sc.Text())
		switch {
		case line == "" || strings.HasPrefix(line, "#") || strings.HasPrefix(line, ";"):
		case strings.HasPrefix(line, "[") && strings.HasSuffix(line, "]"):
			section = line[1 : len(line)-1]
			u[section] = map[string][]string{}
		default:
			k, v, ok := strings.Cut(line, "=")
			if !ok || section == "" || strings.HasSuffix(line, "\\") {
				t.Fatalf("%s:%d: %q is not key=value in a section (no continuations)", path, n, line)
			}
			u[section][strings.TrimSpace(k)] = append(u[section][strings.TrimSpace(k)], strings.TrimSpace(v))
		}
	}
	return u
}

// envFile is an example environment file: its assignments, commented-out
// ones (#NAME=value, optional settings) included.
type envFile map[string]string

var envLine = regexp.MustCompile(`^#?([A-Z][A-Z0-9_]*)=(.*)$`)

func parseEnv(t *testing.T, path string) envFile {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("env file: %v", err)
	}
	e := envFile{}
	for _, line := range strings.Split(string(b), "\n") {
		if m := envLine.FindStringSubmatch(line); m != nil {
			e[m[1]] = m[2]
		} else if line != "" && !strings.HasPrefix(line, "# ") && line != "#" {
			t.Errorf("%s: %q is neither NAME=value nor a comment", path, line)
		}
	}
	return e
}

// execStart splits a unit's ExecStart into the docplat command and its
// flags (name -> value; "" for a boolean flag).
func execStart(t *testing.T, name, line string, ref map[string]commandRef) (string, map[string]string) {
	t.Helper()
	args := strings.Fields(line)
	if len(args) < 2 || args[0] != "/usr/local/bin/docplat" {
		t.Fatalf("%s: ExecStart %q does not run /usr/local/bin/docplat COMMAND", name, line)
	}
	cmd, rest := args[1], args[2:]
	if len(rest) > 0 && !strings.HasPrefix(rest[0], "-") {
		cmd, rest = cmd+" "+rest[0], rest[1:]
	}
	if _, ok := ref[cmd]; !ok {
		t.Fatalf("%s: ExecStart runs %q, not a docplat command", name, cmd)
	}
	flags := map[string]string{}
	for i := 0; i < len(rest); i++ {
		f, ok := strings.CutPrefix(rest[i], "--")
		if !ok {
			t.Fatalf("%s: ExecStart argument %q is not a --flag", name, rest[i])
		}
		if k, v, ok := strings.Cut(f, "="); ok {
			flags[k] = v
			continue
		}
		if i+1 < len(rest) && !strings.HasPrefix(rest[i+1], "--") {
			flags[f] = rest[i+1]
			i++
		} else {
			flags[f] = ""
		}
	}
	return cmd, flags
}

// TestSystemdUnits: every unit runs a docplat command with flags it has,
// hardened, reading an example env file whose settings the command
// knows; the directories it may write are the ones the configuration
// writes to; every long-running command has a unit; and systemd itself
// accepts the units.
func TestSystemdUnits(t *testing.T) {
	ref := configReference(t)
	paths, err := filepath.Glob("systemd/*.service")
	if err != nil || len(paths) == 0 {
		t.Fatalf("no units in systemd/: %v", err)
	}
	covered := map[string]bool{}
	envUsers := map[string][]string{}    // env file -> the commands reading it
	envExpanded := map[string][]string{} // env file -> ${VAR}s its units expand
	for _, path := range paths {
		name := filepath.Base(path)
		u := parseUnit(t, path)
		svc := u["Service"]
		if svc == nil || u["Unit"]["Description"] == nil {
			t.Errorf("%s: no [Unit] Description or [Service]", name)
			continue
		}
		cmd, flags := execStart(t, name, u.get("Service", "ExecStart"), ref)
		covered[cmd] = true
		if want := "docplat-" + strings.ReplaceAll(cmd, " ", "-") + ".service"; name != want {
			t.Errorf("%s runs docplat %s: name it %s", name, cmd, want)
		}
		for f, v := range flags {
			if !ref[cmd].flags[f] {
				t.Errorf("%s: docplat %s has no flag --%s", name, cmd, f)
			}
			for _, m := range regexp.MustCompile(`\$\{([A-Z0-9_]+)\}`).FindAllStringSubmatch(v, -1) {
				envExpanded[u.get("Service", "EnvironmentFile")] = append(envExpanded[u.get("Service", "EnvironmentFile")], m[1])
			}
		}

		oneshot := u.get("Service", "Type") == "oneshot"
		for key, want := range map[string]string{"NoNewPrivileges": "yes", "ProtectSystem": "strict",
			"ProtectHome": "yes", "PrivateTmp": "yes", "RestrictSUIDSGID": "yes"} {
			if got := u.get("Service", key); got != want {
				t.Errorf("%s: %s=%q, want %s", name, key, got, want)
			}
		}
		if user := u.get("Service", "User"); user == "" || user == "root" {
			t.Errorf("%s: User=%q: run as a user of its own", name, user)
		}
		if !oneshot {
			if u.get("Service", "Restart") != "on-failure" || u.get("Service", "LimitNOFILE") == "" {
				t.Errorf("%s: wants Restart=on-failure and a LimitNOFILE", name)
			}
			if u["Install"]["WantedBy"] == nil {
				t.Errorf("%s: no [Install] WantedBy: it would not start at boot", name)
			}
		}
		if caps := u.get("Service", "AmbientCapabilities"); caps != "" && caps != "CAP_NET_BIND_SERVICE" {
			t.Errorf("%s: AmbientCapabilities=%s: only binding a low port is granted", name, caps)
		}

		envPath := u.get("Service", "EnvironmentFile")
		base, ok := strings.CutPrefix(envPath, "/etc/docplat/")
		if !ok || len(svc["EnvironmentFile"]) != 1 {
			t.Errorf("%s: EnvironmentFile=%v, want one /etc/docplat/<name>.env", name, svc["EnvironmentFile"])
			continue
		}
		envUsers[envPath] = append(envUsers[envPath], cmd)
		env := parseEnv(t, filepath.Join("systemd", "env", base))

		// What it may write: the data directory of its configuration, or
		// nginx's prefix; nothing for the others (ProtectSystem=strict).
		var want []string
		switch cmd {
		case "serve", "worker":
			want = []string{env["DOCPLAT_DATA_DIR"]}
		case "nginx":
			want = []string{flags["prefix"]}
		}
		if got := svc["ReadWritePaths"]; !slices.Equal(got, want) && !(len(got) == 0 && len(want) == 0) {
			t.Errorf("%s: ReadWritePaths=%v, want %v (what docplat %s writes with this configuration)", name, got, want, cmd)
		}
	}

	// Env files: every DOCPLAT_* setting is one of a reading command's
	// variables; every other one is expanded by a unit's ExecStart.
	for envPath, cmds := range envUsers {
		env := parseEnv(t, filepath.Join("systemd", "env", strings.TrimPrefix(envPath, "/etc/docplat/")))
		for k := range env {
			if strings.HasPrefix(k, "DOCPLAT_") {
				known := false
				for _, c := range cmds {
					known = known || ref[c].vars[k]
				}
				if !known {
					t.Errorf("%s sets %s, which none of docplat %v reads", envPath, k, cmds)
				}
			} else if !slices.Contains(envExpanded[envPath], k) {
				t.Errorf("%s sets %s, which no ExecStart expands", envPath, k)
			}
		}
		for _, k := range envExpanded[envPath] {
			if _, ok := env[k]; !ok {
				t.Errorf("an ExecStart expands ${%s}, which %s does not set", k, envPath)
			}
		}
	}
	var missing []string
	for c := range ref {
		if !covered[c] && withoutUnit[c] == "" {
			missing = append(missing, c)
		}
	}
	sort.Strings(missing)
	if len(missing) > 0 {
		t.Errorf("commands without a unit (add one, or a reason to withoutUnit): %v", missing)
	}

	verifyUnits(t, paths)
}

// verifyUnits runs `systemd-analyze verify` on copies of the units that
// run the docplat just built (it checks that the executable exists).
func verifyUnits(t *testing.T, paths []string) {
	analyze, err := exec.LookPath("systemd-analyze")
	if err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatal("systemd-analyze is not installed (scripts/test-deps.sh installs systemd)")
		}
		t.Log("systemd-analyze is not installed: the units were checked by this test only")
		return
	}
	dir := t.TempDir()
	var copies []string
	for _, p := range paths {
		b, err := os.ReadFile(p)
		if err != nil {
			t.Fatal(err)
		}
		dst := filepath.Join(dir, filepath.Base(p))
		if err := os.WriteFile(dst, []byte(strings.ReplaceAll(string(b), "/usr/local/bin/docplat", docplatBin)), 0o644); err != nil {
			t.Fatal(err)
		}
		copies = append(copies, dst)
	}
	out, err := exec.Command(analyze, append([]string{"verify", "--man=no"}, copies...)...).CombinedOutput()
	if err != nil || len(strings.TrimSpace(string(out))) > 0 {
		t.Errorf("systemd-analyze verify: %v\n%s", err, out)
	}
}
