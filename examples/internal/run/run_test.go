package run

import (
	"bytes"
	"os"
	"regexp"
	"testing"

	"go.uber.org/zap/zaptest"

	"github.com/org/platform/internal/controlplane"
	"github.com/org/platform/pkg/spec"
)

func TestMain(m *testing.M) { os.Exit(controlplane.Main(m)) }

// common is what every run prints, with or without a control plane.
func common(name string) []string {
	return []string{
		`(?m)^create firewall/platform-` + name + `: 6 inbound rules`,
		`(?m)^create vpc/platform-` + name + `: us-east`,
		`(?m)^create lke/platform-` + name + `: us-east, Kubernetes 1\.33`,
		`(?m)^\d+ to create, 0 to update, 0 to delete \(cluster \d+\) in [1-9]m\d+s of model time$`,
	}
}

func runEnvironment(t *testing.T, name string, want []string) {
	t.Helper()
	var out bytes.Buffer
	if err := Environment(t.Context(), name, &out, zaptest.NewLogger(t)); err != nil {
		t.Fatalf("Environment: %v", err)
	}
	for _, w := range want {
		if !regexp.MustCompile(w).Match(out.Bytes()) {
			t.Errorf("output lacks %s:\n%s", w, out.String())
		}
	}
}

// TestEnvironmentWithoutControlPlane runs each example's flow on a machine
// where the local control plane is not built: the Linode steps run on the
// simulator and the Kubernetes steps are reported as skipped.
func TestEnvironmentWithoutControlPlane(t *testing.T) {
	t.Setenv("LINODE_TOKEN", "")
	t.Setenv("PLATFORM_CACHE_DIR", t.TempDir())
	for _, name := range spec.StandardNames() {
		t.Run(name, func(t *testing.T) {
			runEnvironment(t, name, append(common(name),
				`(?m)^Kubernetes steps skipped: .*make controlplane`,
				`(?m)^second run: unchanged, 0 writes, \d+ requests$`))
		})
	}
}

// TestEnvironmentBackedByControlPlanes runs each example's flow with every
// simulated cluster backed by a real local kube-apiserver: the namespaces,
// quotas, RBAC and NetworkPolicies are applied for real, and the second run
// writes nothing on either side.
func TestEnvironmentBackedByControlPlanes(t *testing.T) {
	t.Setenv("LINODE_TOKEN", "")
	for _, name := range spec.StandardNames() {
		t.Run(name, func(t *testing.T) {
			controlplane.RequireBinaries(t)
			runEnvironment(t, name, append(common(name),
				`(?m)^create namespace/apps$`,
				`(?m)^create networkpolicy/apps/default-deny$`,
				`(?m)^create resourcequota/apps/platform-quota$`,
				`(?m)^create clusterrole/platform:viewer$`,
				`(?m)^second run: unchanged, 0 writes, \d+ requests; Kubernetes: 0 writes$`))
		})
	}
}
