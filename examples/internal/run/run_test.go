package run

import (
	"bytes"
	"os"
	"regexp"
	"testing"

	"go.uber.org/zap/zaptest"

	"github.com/org/platform/internal/testutil/controlplane"
	"github.com/org/platform/pkg/spec"
)

// TestEnvironmentOnTheSimulator runs each example's flow against the
// in-process simulator. With the local control plane built, every simulated
// cluster is backed by a real kube-apiserver and the Kubernetes steps are
// checked too; without it they must be reported as skipped (and under the
// README's test command, where the control plane is required, that fails).
func TestEnvironmentOnTheSimulator(t *testing.T) {
	t.Setenv("LINODE_TOKEN", "")
	backed := controlplane.Available() == nil
	if !backed && os.Getenv(controlplane.RequireEnv) != "" {
		t.Fatalf("%s is set but the control plane is missing: %v", controlplane.RequireEnv, controlplane.Available())
	}
	for _, name := range spec.StandardNames() {
		t.Run(name, func(t *testing.T) {
			var out bytes.Buffer
			if err := Environment(t.Context(), name, &out, zaptest.NewLogger(t)); err != nil {
				t.Fatalf("Environment: %v", err)
			}
			want := []string{
				`(?m)^create firewall/platform-` + name + `: 6 inbound rules`,
				`(?m)^create vpc/platform-` + name + `: us-east`,
				`(?m)^create lke/platform-` + name + `: us-east, Kubernetes 1\.33`,
				`(?m)^\d+ to create, 0 to update, 0 to delete \(cluster \d+\) in [1-9]m\d+s of model time$`,
			}
			if backed {
				want = append(want,
					`(?m)^create namespace/apps$`,
					`(?m)^create networkpolicy/apps/default-deny$`,
					`(?m)^create resourcequota/apps/platform-quota$`,
					`(?m)^second run: unchanged, 0 writes, \d+ requests; Kubernetes: 0 writes$`)
			} else {
				want = append(want,
					`(?m)^Kubernetes steps skipped: .*make controlplane`,
					`(?m)^second run: unchanged, 0 writes, \d+ requests$`)
			}
			for _, w := range want {
				if !regexp.MustCompile(w).Match(out.Bytes()) {
					t.Errorf("output lacks %s:\n%s", w, out.String())
				}
			}
		})
	}
}
