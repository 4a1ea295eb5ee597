package secrets_test

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/org/platform/pkg/secrets"
)

func TestSources(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	if err := os.MkdirAll(filepath.Join(dir, "db"), 0o700); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "db", "password"), []byte(canary+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	outside := filepath.Join(filepath.Dir(dir), filepath.Base(dir)+"-outside")
	if err := os.WriteFile(outside, []byte(canary), 0o600); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.Remove(outside) })
	if err := os.Symlink(outside, filepath.Join(dir, "link")); err != nil {
		t.Fatal(err)
	}
	env := secrets.Env{Prefix: "APP_", LookupEnv: func(k string) (string, bool) {
		v, ok := map[string]string{"APP_TOKEN": canary, "APP_EMPTY": ""}[k]
		return v, ok
	}}
	src := secrets.Sources{"env": env, "file": secrets.Files{Dir: dir}}
	tests := []struct {
		ref     string
		want    string
		wantErr string // part of the error; "" for none
		noValue bool   // the error matches ErrNoValue
	}{
		{ref: "env:TOKEN", want: canary},
		{ref: "env:EMPTY", want: ""},
		{ref: "env:MISSING", wantErr: "APP_MISSING", noValue: true},
		{ref: "file:db/password", want: canary + "\n"},
		{ref: "file:db/none", wantErr: `"db/none"`, noValue: true},
		{ref: "file:../" + filepath.Base(outside), wantErr: "read secret file"},
		{ref: "file:link", wantErr: "read secret file"},
		{ref: "vault:db", wantErr: `no source for scheme "vault" (have env, file)`},
		{ref: "TOKEN", wantErr: "want <scheme>:<name>"},
	}
	for _, tt := range tests {
		t.Run(tt.ref, func(t *testing.T) {
			t.Parallel()
			got, err := src.Value(t.Context(), tt.ref)
			if tt.wantErr == "" {
				if err != nil || string(got) != tt.want {
					t.Fatalf("Value(%q) = %d bytes, %v; want the stored value", tt.ref, len(got), err)
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
				t.Fatalf("Value(%q) error = %v, want one saying %q", tt.ref, err, tt.wantErr)
			}
			if errors.Is(err, secrets.ErrNoValue) != tt.noValue {
				t.Errorf("errors.Is(%v, ErrNoValue) = %v, want %v", err, !tt.noValue, tt.noValue)
			}
			if strings.Contains(err.Error(), canary) {
				t.Errorf("the error shows a value: %v", err)
			}
		})
	}
}
