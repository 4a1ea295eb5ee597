package rollout_test

import (
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"

	"github.com/org/platform/pkg/linodetest"
	"github.com/org/platform/pkg/rollout"
	"github.com/org/platform/pkg/spec"
)

// TestDriftIsReportedWithAnExitCode: an out-of-band change shows up per
// field, gives exit status 2, and is posted to the webhook, whose secret
// path never appears in an error; no drift posts nothing and exits 0.
func TestDriftIsReportedWithAnExitCode(t *testing.T) {
	t.Parallel()
	var mu sync.Mutex
	var posts []string
	recv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		var msg map[string]string
		if r.Header.Get("Content-Type") != "application/json" || json.Unmarshal(b, &msg) != nil {
			http.Error(w, "bad payload", http.StatusBadRequest)
			return
		}
		mu.Lock()
		posts = append(posts, msg["text"])
		mu.Unlock()
	}))
	defer recv.Close()
	hook := rollout.Notifier{URL: recv.URL + "/services/T000/B000/secret-token"}

	srv, _, deps := sim(t)
	envs := []spec.Environment{*find(t, standard(t), spec.Staging)}
	if _, err := rollout.Ensure(t.Context(), deps, envs); err != nil {
		t.Fatal(err)
	}
	plan, err := rollout.Plan(t.Context(), deps, envs...)
	if code := rollout.ExitCode(plan, err); code != rollout.ExitNoDrift {
		t.Fatalf("converged world: exit %d (%v)", code, err)
	}
	if err := hook.NotifyDrift(t.Context(), plan); err != nil || len(posts) != 0 {
		t.Fatalf("no drift posted %v, %v", posts, err)
	}

	srv.Mutate(func(st *linodetest.State) {
		for _, c := range st.Clusters {
			c.Tags = append(c.Tags, "rogue")
		}
	})
	plan, err = rollout.Plan(t.Context(), deps, envs...)
	if code := rollout.ExitCode(plan, err); code != rollout.ExitDrift {
		t.Fatalf("after an out-of-band tag: exit %d (%v)", code, err)
	}
	if err := hook.NotifyDrift(t.Context(), plan); err != nil {
		t.Fatal(err)
	}
	if len(posts) != 1 || !strings.Contains(posts[0], "staging") || !strings.Contains(posts[0], "tags: ") || !strings.Contains(posts[0], "rogue") {
		t.Errorf("posted %q", posts)
	}

	// A failing receiver: the error names the host, never the secret path.
	bad := rollout.Notifier{URL: "http://127.0.0.1:1/services/T000/B000/secret-token"}
	if err := bad.NotifyDrift(t.Context(), plan); err == nil || strings.Contains(err.Error(), "secret-token") {
		t.Errorf("failing webhook: %v", err)
	}
	if code := rollout.ExitCode(plan, errors.New("boom")); code != rollout.ExitError {
		t.Errorf("an error exits %d", code)
	}
}
