package gha

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"

	"github.com/sethvargo/go-githubactions"

	"github.com/org/platform/pkg/spec"
)

// Input is one input of an action, as its action.yml declares it.
type Input struct {
	// Name is the input's name in action.yml (kebab-case); the runner
	// passes it as INPUT_<NAME>, upper-cased, as the action maps it.
	Name string
	// Default is the value an empty input takes, as action.yml's default.
	Default string
	// Required marks an input action.yml declares required.
	Required bool
	// Secret inputs are masked (::add-mask::) as soon as they are read,
	// before anything else is printed.
	Secret bool
}

// Output is one output of an action, as its action.yml declares it.
type Output struct {
	Name string
}

// EnvName is the environment variable that carries input name: INPUT_
// and the name upper-cased, dashes and spaces as underscores. The runner
// itself would keep the dashes (INPUT_SPEC-DIR), but bash, which runs a
// composite step's run:, drops variables whose names are not identifiers
// before `go run` sees them; so the composite actions map each input to
// this name, and Read reads it (not go-githubactions' GetInput, which
// keeps dashes).
func EnvName(name string) string {
	return "INPUT_" + strings.ToUpper(strings.NewReplacer(" ", "_", "-", "_").Replace(name))
}

// Values are an action's inputs as read, defaults applied.
type Values struct {
	table []Input
	v     map[string]string
}

// Read reads every input of table, trimmed, defaults applied. A secret
// input is masked with ::add-mask:: the moment it is read, so it is masked
// before any other output of the action.
func Read(a *githubactions.Action, table []Input) (Values, error) {
	vals := Values{table: table, v: make(map[string]string, len(table))}
	var missing []string
	for _, in := range table {
		v := strings.TrimSpace(a.Getenv(EnvName(in.Name)))
		if in.Secret && v != "" {
			maskLines(a, v)
		}
		if v == "" {
			v = in.Default
		}
		if v == "" && in.Required {
			missing = append(missing, in.Name)
		}
		vals.v[in.Name] = v
	}
	if len(missing) > 0 {
		return vals, fmt.Errorf("inputs %s: required, not given", strings.Join(missing, ", "))
	}
	return vals, nil
}

// Get returns input name. It panics when the table has no such input: the
// Go code reads inputs only through the table that the tests compare with
// action.yml.
func (v Values) Get(name string) string {
	if !slices.ContainsFunc(v.table, func(in Input) bool { return in.Name == name }) {
		panic(fmt.Sprintf("gha: input %q is not in the action's table", name))
	}
	return v.v[name]
}

// SetOutput sets output name, which must be in table.
func SetOutput(a *githubactions.Action, table []Output, name, value string) {
	if !slices.ContainsFunc(table, func(o Output) bool { return o.Name == name }) {
		panic(fmt.Sprintf("gha: output %q is not in the action's table", name))
	}
	a.SetOutput(name, value)
}

// maskLines masks each line of a secret value: the runner's masker matches
// line by line, so a multi-line secret masked whole would leak its lines.
func maskLines(a *githubactions.Action, secret string) {
	for _, line := range strings.Split(secret, "\n") {
		if line = strings.TrimSpace(line); line != "" {
			a.AddMask(line)
		}
	}
}

// Mask masks a secret value, each of its lines apart.
func Mask(a *githubactions.Action, secret string) { maskLines(a, secret) }

// AllEnvironments is the value that names the four standard environments.
var AllEnvironments = strings.Join(spec.StandardNames(), ",")

// Environments parses a comma-separated list of environment names. Without
// a spec directory every name must be a standard one (spec.StandardNames);
// with one, every name must have a spec file there (see LoadSpecs). An
// empty list, an empty entry or a name given twice is refused.
func Environments(list string, specDir bool) ([]string, error) {
	var names []string
	var errs []error
	for _, n := range strings.Split(list, ",") {
		n = strings.TrimSpace(n)
		switch {
		case n == "":
			continue
		case slices.Contains(names, n):
			errs = append(errs, fmt.Errorf("environments: %q is given twice", n))
		case !specDir && !slices.Contains(spec.StandardNames(), n):
			errs = append(errs, fmt.Errorf("environments: unknown environment %q (want one of %s, or give spec-dir)", n, strings.Join(spec.StandardNames(), ", ")))
		default:
			names = append(names, n)
		}
	}
	if len(names) == 0 && len(errs) == 0 {
		errs = append(errs, errors.New("environments: no environment named"))
	}
	return names, errors.Join(errs...)
}

// LoadSpecs returns the specs of names: from dir, the file <name>.yaml (or
// <name>.yml) loaded and validated with pkg/spec, whose name must be the
// file's; or, when dir is "", the standard specs (spec.Default).
func LoadSpecs(dir string, names []string) ([]spec.Environment, error) {
	envs := make([]spec.Environment, 0, len(names))
	var errs []error
	for _, name := range names {
		env, err := loadSpec(dir, name)
		if err != nil {
			errs = append(errs, err)
			continue
		}
		envs = append(envs, env)
	}
	return envs, errors.Join(errs...)
}

func loadSpec(dir, name string) (spec.Environment, error) {
	if dir == "" {
		return spec.Default(name)
	}
	var path string
	for _, ext := range []string{".yaml", ".yml"} {
		p := filepath.Join(dir, name+ext)
		if _, err := os.Stat(p); err == nil {
			path = p
			break
		}
	}
	if path == "" {
		return spec.Environment{}, fmt.Errorf("environments: unknown environment %q: spec-dir %s has no %s.yaml", name, dir, name)
	}
	env, err := spec.LoadFile(path)
	if err != nil {
		return spec.Environment{}, err
	}
	if err := env.Validate(); err != nil {
		return spec.Environment{}, fmt.Errorf("%s: %w", path, err)
	}
	if env.Name != name {
		return spec.Environment{}, fmt.Errorf("%s: name: %q, want %q, the file's name", path, env.Name, name)
	}
	return env, nil
}

var digestRE = regexp.MustCompile(`^[0-9a-f]{64}$`)

// Digest checks that s, the value of input field, is a plan digest: 64
// lowercase hexadecimal characters, a SHA-256.
func Digest(field, s string) error {
	if !digestRE.MatchString(s) {
		return fmt.Errorf("%s: %q is not a plan digest (64 lowercase hex characters, as the plan action's plan-digest output)", field, s)
	}
	return nil
}

// WorkspaceEnv is the variable that holds the runner's workspace, the
// checkout of the calling repository.
const WorkspaceEnv = "GITHUB_WORKSPACE"

// Path resolves p, a path input, against the workspace: the actions run
// with `go run` in their own directory, so a relative path means the
// caller's checkout. An absolute path, or "" with no workspace, is kept.
func Path(a *githubactions.Action, p string) string {
	if p == "" || filepath.IsAbs(p) {
		return p
	}
	if ws := a.Getenv(WorkspaceEnv); ws != "" {
		return filepath.Join(ws, p)
	}
	return p
}
