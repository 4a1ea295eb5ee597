package secrets

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"slices"
	"strings"
)

// ErrNoValue means a Source holds nothing under a reference.
var ErrNoValue = errors.New("no value")

// Source supplies the plaintext values Sync seals, by reference. Value
// returns the value ref names; its errors must name ref, never a value.
// Implementations for other stores (a vault, a cloud secret manager, a
// password manager's CLI) plug in beside Env and Files, alone or routed by
// scheme through Sources. Sync keeps what Value returns in memory only.
type Source interface {
	Value(ctx context.Context, ref string) ([]byte, error)
}

// SourceFunc adapts a function to Source.
type SourceFunc func(ctx context.Context, ref string) ([]byte, error)

// Value calls f.
func (f SourceFunc) Value(ctx context.Context, ref string) ([]byte, error) { return f(ctx, ref) }

// Env reads values from environment variables: ref "DB_PASSWORD" is the
// variable Prefix+"DB_PASSWORD". A variable that is unset is ErrNoValue; one
// set to "" is the empty value.
type Env struct {
	// Prefix is prepended to every reference. Default "".
	Prefix string
	// LookupEnv reads a variable. Default os.LookupEnv.
	LookupEnv func(key string) (string, bool)
}

// Value returns the variable's value.
func (e Env) Value(_ context.Context, ref string) ([]byte, error) {
	lookup := e.LookupEnv
	if lookup == nil {
		lookup = os.LookupEnv
	}
	v, ok := lookup(e.Prefix + ref)
	if !ok {
		return nil, fmt.Errorf("environment variable %s: %w", e.Prefix+ref, ErrNoValue)
	}
	return []byte(v), nil
}

// Files reads values from files under Dir, as mounted secret volumes and
// CI secret files lay them out: ref "db/password" is the file
// Dir/db/password, read whole (a trailing newline is kept: values are
// bytes). A reference that leaves Dir, through ".." or a symbolic link, is
// refused (os.Root).
type Files struct {
	Dir string
}

// Value returns the file's content.
func (f Files) Value(_ context.Context, ref string) ([]byte, error) {
	root, err := os.OpenRoot(f.Dir)
	if err != nil {
		return nil, fmt.Errorf("open secret directory: %w", err)
	}
	defer root.Close()
	b, err := root.ReadFile(ref)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, fmt.Errorf("file %q in %s: %w", ref, f.Dir, ErrNoValue)
	}
	if err != nil {
		// os errors name the path and the cause, never the content.
		return nil, fmt.Errorf("read secret file %q in %s: %w", ref, f.Dir, err)
	}
	return b, nil
}

// Sources routes references of the form "<scheme>:<rest>" to the Source
// registered for scheme, which receives <rest>: with
// Sources{"env": Env{}, "file": Files{Dir: "/run/secrets"}}, "env:DB_PASSWORD"
// reads a variable and "file:db/password" a file. A reference without a
// registered scheme is an error.
type Sources map[string]Source

// Value routes ref to its scheme's Source.
func (s Sources) Value(ctx context.Context, ref string) ([]byte, error) {
	scheme, rest, ok := strings.Cut(ref, ":")
	if !ok {
		return nil, fmt.Errorf("reference %q: want <scheme>:<name>, with scheme one of %s", ref, s.schemes())
	}
	src, ok := s[scheme]
	if !ok || src == nil {
		return nil, fmt.Errorf("reference %q: no source for scheme %q (have %s)", ref, scheme, s.schemes())
	}
	return src.Value(ctx, rest)
}

func (s Sources) schemes() string {
	names := make([]string, 0, len(s))
	for k := range s {
		names = append(names, k)
	}
	if len(names) == 0 {
		return "none"
	}
	slices.Sort(names)
	return strings.Join(names, ", ")
}
