package run

import (
	"bytes"
	"regexp"
	"testing"

	"go.uber.org/zap/zaptest"

	"github.com/org/platform/pkg/spec"
)

func TestEnvironmentOnTheSimulator(t *testing.T) {
	t.Setenv("LINODE_TOKEN", "")
	for _, name := range spec.StandardNames() {
		t.Run(name, func(t *testing.T) {
			var out bytes.Buffer
			if err := Environment(t.Context(), name, &out, zaptest.NewLogger(t)); err != nil {
				t.Fatalf("Environment: %v", err)
			}
			for _, want := range []string{
				`(?m)^create lke/platform-` + name + `: us-east, Kubernetes 1\.33`,
				`(?m)^\d+ to create, 0 to update, 0 to delete \(cluster \d+\) in [1-9]m\d+s of model time$`,
				`(?m)^second run: unchanged, 0 writes, 3 requests$`,
			} {
				if !regexp.MustCompile(want).Match(out.Bytes()) {
					t.Errorf("output lacks %s:\n%s", want, out.String())
				}
			}
		})
	}
}
