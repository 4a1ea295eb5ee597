// Package ghatest runs the actions under actions/ in tests as the GitHub
// runner would: a fake environment whose every variable the test decides,
// GITHUB_OUTPUT and GITHUB_STEP_SUMMARY files in a temporary directory, and
// a getenv that fails the test on any variable it was not given; the
// action.yml files parsed, their ${{ }} expressions evaluated with
// actionlint's own expression parser, and the run: of their Go step
// executed — in-process, or through bash with the built binary.
package ghatest

import (
	"bufio"
	"bytes"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"testing"

	"github.com/sethvargo/go-githubactions"

	"github.com/org/platform/actions/internal/gha"
)

// Env is a fake runner environment for one run of an action.
type Env struct {
	t    testing.TB
	vars map[string]string
	// Stdout receives the workflow commands (::add-mask::, ::group::,
	// ::error:: …) the action prints.
	Stdout      syncBuffer
	OutputFile  string
	SummaryFile string

	mu    sync.Mutex
	reads map[string]int
}

// NewEnv returns an environment that holds exactly vars plus
// GITHUB_OUTPUT and GITHUB_STEP_SUMMARY (files in a new temporary
// directory) and GITHUB_WORKSPACE (that directory, unless vars sets it).
// Reading any other variable fails the test.
func NewEnv(t testing.TB, vars map[string]string) *Env {
	t.Helper()
	dir := t.TempDir()
	e := &Env{t: t, vars: map[string]string{}, reads: map[string]int{},
		OutputFile: filepath.Join(dir, "github_output"), SummaryFile: filepath.Join(dir, "step_summary")}
	for _, f := range []string{e.OutputFile, e.SummaryFile} {
		if err := os.WriteFile(f, nil, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	e.vars["GITHUB_OUTPUT"] = e.OutputFile
	e.vars["GITHUB_STEP_SUMMARY"] = e.SummaryFile
	e.vars[gha.WorkspaceEnv] = dir
	for k, v := range vars {
		e.vars[k] = v
	}
	return e
}

// InputVars maps input values by input name to their INPUT_ variables.
func InputVars(values map[string]string) map[string]string {
	out := map[string]string{}
	for k, v := range values {
		out[gha.EnvName(k)] = v
	}
	return out
}

// Workspace is the run's GITHUB_WORKSPACE.
func (e *Env) Workspace() string { return e.vars[gha.WorkspaceEnv] }

// Getenv is the action's getenv: a variable the environment does not hold
// fails the test — the action read something the runner would not give it.
func (e *Env) Getenv(key string) string {
	e.mu.Lock()
	defer e.mu.Unlock()
	e.reads[key]++
	v, ok := e.vars[key]
	if !ok {
		e.t.Errorf("the action read environment variable %q, which its environment does not hold", key)
	}
	return v
}

// Read reports whether the action read key.
func (e *Env) Read(key string) bool {
	e.mu.Lock()
	defer e.mu.Unlock()
	return e.reads[key] > 0
}

// Action is a go-githubactions Action on this environment.
func (e *Env) Action() *githubactions.Action {
	return githubactions.New(githubactions.WithGetenv(e.Getenv), githubactions.WithWriter(&e.Stdout))
}

// Outputs parses GITHUB_OUTPUT: name<<delimiter … delimiter blocks, as the
// runner does, and name=value lines.
func (e *Env) Outputs() map[string]string {
	e.t.Helper()
	return ParseOutputs(e.t, e.OutputFile)
}

// ParseOutputs parses a GITHUB_OUTPUT file.
func ParseOutputs(t testing.TB, path string) map[string]string {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]string{}
	s := bufio.NewScanner(bytes.NewReader(b))
	for s.Scan() {
		line := s.Text()
		if line == "" {
			continue
		}
		if name, delim, ok := strings.Cut(line, "<<"); ok {
			var val []string
			closed := false
			for s.Scan() {
				if s.Text() == delim {
					closed = true
					break
				}
				val = append(val, s.Text())
			}
			if !closed {
				t.Fatalf("GITHUB_OUTPUT: %s<<%s is not closed", name, delim)
			}
			out[name] = strings.Join(val, "\n")
			continue
		}
		name, val, ok := strings.Cut(line, "=")
		if !ok {
			t.Fatalf("GITHUB_OUTPUT: line %q is neither name=value nor name<<delimiter", line)
		}
		out[name] = val
	}
	return out
}

// Summary is the step summary written so far.
func (e *Env) Summary() string {
	b, err := os.ReadFile(e.SummaryFile)
	if err != nil {
		e.t.Fatal(err)
	}
	return string(b)
}

// Lines are the lines the action printed to stdout.
func (e *Env) Lines() []string {
	return strings.Split(strings.TrimRight(e.Stdout.String(), "\n"), "\n")
}

// Commands returns the messages of the workflow command name (error,
// add-mask, group …) printed so far, in order.
func (e *Env) Commands(name string) []string { return Commands(e.Stdout.String(), name) }

// Commands returns the messages of workflow command name in out.
func Commands(out, name string) []string {
	var msgs []string
	for _, line := range strings.Split(out, "\n") {
		if !strings.HasPrefix(line, "::"+name) {
			continue
		}
		rest := strings.TrimPrefix(line, "::"+name)
		if rest != "" && rest[0] != ':' && rest[0] != ' ' {
			continue // ::group vs ::groupx
		}
		if i := strings.Index(rest, "::"); i >= 0 {
			msgs = append(msgs, unescape(rest[i+2:]))
		}
	}
	return msgs
}

// unescape undoes the workflow command escaping of a message.
func unescape(s string) string {
	return strings.NewReplacer("%0A", "\n", "%0D", "\r", "%25", "%").Replace(s)
}

// Leaks returns the places a secret appears other than its own
// ::add-mask:: lines: stdout, the outputs file, the step summary, and the
// extra texts given (logs).
func (e *Env) Leaks(secret string, extra ...string) []string {
	var where []string
	for _, line := range e.Lines() {
		if line == "::add-mask::"+secret {
			continue
		}
		if strings.Contains(line, secret) {
			where = append(where, "stdout: "+line)
		}
	}
	for name, f := range map[string]string{"GITHUB_OUTPUT": e.OutputFile, "GITHUB_STEP_SUMMARY": e.SummaryFile} {
		if b, _ := os.ReadFile(f); strings.Contains(string(b), secret) {
			where = append(where, name)
		}
	}
	for i, x := range extra {
		if strings.Contains(x, secret) {
			where = append(where, "extra text "+string(rune('0'+i)))
		}
	}
	sort.Strings(where)
	return where
}

// syncBuffer is a bytes.Buffer safe for concurrent writes.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.b.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.b.String()
}
