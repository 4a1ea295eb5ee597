package change_test

import (
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/org/platform/pkg/change"
)

func TestChangeString(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		c    change.Change
		want string
	}{
		{"update", change.Change{Object: "lke/prod/pool/general", Field: "count", From: "3", To: "5", Op: change.Update}, "update lke/prod/pool/general count: 3 → 5"},
		{"update from nothing", change.Change{Object: "lke/prod", Field: "tags", To: "env=prod", Op: change.Update}, "update lke/prod tags: (none) → env=prod"},
		{"create", change.Change{Object: "lke/prod", Op: change.Create, To: "us-east"}, "create lke/prod: us-east"},
		{"delete", change.Change{Object: "lke/prod/pool/old", Op: change.Delete}, "delete lke/prod/pool/old"},
		{"sensitive", change.Change{Object: "secret/db", Field: "password", From: "hunter2", To: "s3cret", Op: change.Update, Sensitive: true}, "update secret/db password: (sensitive) → (sensitive)"},
		{"sensitive create", change.Change{Object: "secret/db", To: "s3cret", Op: change.Create, Sensitive: true}, "create secret/db: (sensitive)"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			if got := tt.c.String(); got != tt.want {
				t.Errorf("String() = %q, want %q", got, tt.want)
			}
		})
	}
}

func TestSensitiveNeverPrinted(t *testing.T) {
	t.Parallel()
	c := change.Change{Layer: change.LayerSecrets, Object: "secret/db", Field: "password", From: "hunter2", To: "s3cret", Op: change.Update, Sensitive: true}
	r := change.Result{Changes: []change.Change{c}}
	b, err := json.Marshal(r)
	if err != nil {
		t.Fatal(err)
	}
	for _, out := range []string{c.String(), r.String(), string(b), fmt.Sprint(c), fmt.Sprintf("%v", r), c.Redact().From, c.Redact().To} {
		if strings.Contains(out, "hunter2") || strings.Contains(out, "s3cret") {
			t.Errorf("sensitive value printed: %s", out)
		}
	}
	if !strings.Contains(string(b), change.Redacted) {
		t.Errorf("JSON %s lacks the redaction marker", b)
	}
}

func TestResult(t *testing.T) {
	t.Parallel()
	var r change.Result
	if r.Changed() || r.Op() != change.Unchanged || r.String() != "no changes" {
		t.Fatalf("empty result: changed=%v op=%s string=%q", r.Changed(), r.Op(), r.String())
	}
	r.Add(change.Change{Object: "b", Op: change.Unchanged})
	if r.Changed() {
		t.Fatal("unchanged-only result reports a change")
	}
	r.Add(change.Change{Object: "z", Field: "count", From: "1", To: "2", Op: change.Update})
	var other change.Result
	other.Add(change.Change{Object: "a", Op: change.Create}, change.Change{Object: "c", Op: change.Delete})
	r.Merge(other)
	if !r.Changed() || r.Op() != change.Create {
		t.Errorf("Op() = %s, want create", r.Op())
	}
	if got, want := r.Summary(), "1 to create, 1 to update, 1 to delete"; got != want {
		t.Errorf("Summary() = %q, want %q", got, want)
	}
	if got, want := r.String(), "create a\ndelete c\nupdate z count: 1 → 2"; got != want {
		t.Errorf("String() = %q, want %q", got, want)
	}
	if n := len(r.Filter(change.Update)); n != 1 {
		t.Errorf("Filter(update) has %d changes, want 1", n)
	}
}

func TestSentinelsWrap(t *testing.T) {
	t.Parallel()
	err := fmt.Errorf("ensure cluster %q: %w", "prod", change.ErrIrreversible)
	if !errors.Is(err, change.ErrIrreversible) || errors.Is(err, change.ErrConflict) {
		t.Errorf("errors.Is does not see through the wrap: %v", err)
	}
}

func ExampleResult_String() {
	var r change.Result
	r.Add(
		change.Change{Layer: change.LayerLinode, Object: "lke/platform-production/pool/general", Field: "count", From: "3", To: "5", Op: change.Update},
		change.Change{Layer: change.LayerLinode, Object: "firewall/platform-production", Op: change.Create},
	)
	fmt.Println(r.String())
	fmt.Println(r.Summary())
	// Output:
	// create firewall/platform-production
	// update lke/platform-production/pool/general count: 3 → 5
	// 1 to create, 1 to update, 0 to delete
}

func TestResultLines(t *testing.T) {
	t.Parallel()
	r := change.Result{Changes: []change.Change{
		{Object: "b", Op: change.Delete},
		{Object: "x", Op: change.Unchanged},
		{Object: "a", Field: "f", From: "1", To: "2", Op: change.Update, Sensitive: true},
	}}
	got := strings.Join(r.Lines(), "|")
	if want := "delete b|update a f: (sensitive) → (sensitive)"; got != want {
		t.Errorf("Lines() = %q, want %q", got, want)
	}
	if n := len((change.Result{}).Lines()); n != 0 {
		t.Errorf("empty result has %d lines", n)
	}
}
