package spec_test

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/org/platform/pkg/spec"
)

// TestInvalidSpecs loads every testdata/invalid/*.yaml and compares its
// errors, one per line, with the golden *.errors file beside it: Load's
// errors when the file does not load, else Validate's; the golden's first
// line says which. Regenerate with
// go test ./pkg/spec -run TestInvalidSpecs -update, then read the diff.
func TestInvalidSpecs(t *testing.T) {
	t.Parallel()
	files, err := filepath.Glob(filepath.Join("testdata", "invalid", "*.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	if len(files) == 0 {
		t.Fatal("no testdata/invalid/*.yaml")
	}
	for _, file := range files {
		name := strings.TrimSuffix(filepath.Base(file), ".yaml")
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			data, err := os.ReadFile(file)
			if err != nil {
				t.Fatal(err)
			}
			stage := "Load"
			env, err := spec.Load(data)
			if err == nil {
				stage = "Validate"
				err = env.Validate()
			}
			if err == nil {
				t.Fatalf("%s loads and validates; an invalid case must fail", file)
			}
			if !errors.Is(err, spec.ErrInvalid) {
				t.Errorf("error does not wrap ErrInvalid: %v", err)
			}
			got := "# errors from " + stage + "\n" + err.Error() + "\n"
			golden := strings.TrimSuffix(file, ".yaml") + ".errors"
			if *update {
				if err := os.WriteFile(golden, []byte(got), 0o644); err != nil {
					t.Fatal(err)
				}
			}
			want, err := os.ReadFile(golden)
			if err != nil {
				t.Fatalf("read golden (run with -update to create it): %v", err)
			}
			if got != string(want) {
				t.Errorf("errors differ from %s (run with -update to accept):\n--- got:\n%s--- want:\n%s", golden, got, want)
			}
		})
	}
}

func TestFieldErrors(t *testing.T) {
	t.Parallel()
	env, err := spec.Default(spec.Production)
	if err != nil {
		t.Fatal(err)
	}
	env.Cluster.NodePools[0].Autoscaler.Min = 5
	env.Cluster.NodePools[0].Autoscaler.Max = 3
	env.Network.Firewall.Inbound[0].Protocol = "SCTP"
	env.Namespaces[0].DataServices[0] = "mysql"

	err = env.Validate()
	wrapped := errors.Join(errors.New("ensure environment"), err)

	if !errors.Is(wrapped, spec.ErrInvalid) {
		t.Errorf("errors.Is(err, ErrInvalid) = false for %v", err)
	}
	var fes spec.FieldErrors
	if !errors.As(wrapped, &fes) {
		t.Fatalf("errors.As(err, *FieldErrors) = false for %v", err)
	}
	var first *spec.FieldError
	if !errors.As(wrapped, &first) || first != fes[0] {
		t.Errorf("errors.As(err, **FieldError) = %v, want the first entry %v", first, fes[0])
	}
	want := []string{
		"cluster.nodePools[general].autoscaler.max: must be ≥ min (3 < 5)",
		`network.firewall.inbound[kubelet].protocol: must be one of TCP, UDP, ICMP, IPENCAP (got "SCTP")`,
		`namespaces[apps].dataServices[0]: unknown data service "mysql"`,
	}
	if got := err.Error(); got != strings.Join(want, "\n") {
		t.Errorf("Error() =\n%s\nwant\n%s", got, strings.Join(want, "\n"))
	}
	if len(fes) != len(want) {
		t.Fatalf("got %d FieldErrors, want %d", len(fes), len(want))
	}
	for i, fe := range fes {
		if fe.Path+": "+fe.Message != want[i] {
			t.Errorf("entry %d = {%q, %q}, want %q", i, fe.Path, fe.Message, want[i])
		}
	}
	if got := (&spec.FieldError{Message: "empty document"}).Error(); got != "empty document" {
		t.Errorf("FieldError without a path = %q, want the message alone", got)
	}
}

// TestValidateReturnsUntypedNil guards against returning a nil FieldErrors
// inside a non-nil error.
func TestValidateReturnsUntypedNil(t *testing.T) {
	t.Parallel()
	env, err := spec.Default(spec.Development)
	if err != nil {
		t.Fatal(err)
	}
	if err := env.Validate(); err != nil {
		t.Errorf("Validate() = %#v, want nil", err)
	}
}

// TestValidateBoundaries pins the edges of the numeric and format rules
// that the invalid files exercise only from one side.
func TestValidateBoundaries(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name   string
		mutate func(e *spec.Environment)
		want   string // "" means valid
	}{
		{"count 100 without autoscaler", func(e *spec.Environment) { e.Cluster.NodePools[0].Autoscaler = nil; e.Cluster.NodePools[0].Count = 100 }, ""},
		{"autoscaler 1–100", func(e *spec.Environment) { e.Cluster.NodePools[0].Autoscaler = &spec.Autoscaler{Min: 1, Max: 100} }, ""},
		{"autoscaler min = max = count", func(e *spec.Environment) { e.Cluster.NodePools[0].Autoscaler = &spec.Autoscaler{Min: 3, Max: 3} }, ""},
		{"count below autoscaler min", func(e *spec.Environment) { e.Cluster.NodePools[0].Count = 2 },
			"cluster.nodePools[general].count: must be within the autoscaler's range 3–6 (got 2)"},
		{"enterprise version", func(e *spec.Environment) {
			e.Cluster.Tier, e.Cluster.KubernetesVersion, e.Cluster.HighAvailability = "enterprise", "v1.33.4+lke1", true
		}, ""},
		{"enterprise tier with a standard version", func(e *spec.Environment) { e.Cluster.Tier, e.Cluster.HighAvailability = "enterprise", true },
			`cluster.kubernetesVersion: must be an LKE Enterprise version such as "v1.33.4+lke1" (got "1.33")`},
		{"enterprise tier without HA", func(e *spec.Environment) {
			e.Cluster.Tier, e.Cluster.KubernetesVersion, e.Cluster.HighAvailability = "enterprise", "v1.33.4+lke1", false
		}, "cluster.highAvailability: must be true on the enterprise tier, whose control planes are always highly available"},
		{"standard tier with an enterprise version", func(e *spec.Environment) { e.Cluster.KubernetesVersion = "v1.33.4+lke1" },
			`cluster.kubernetesVersion: must be an LKE minor version such as "1.33" (got "v1.33.4+lke1")`},
		{"ports with a space after commas", func(e *spec.Environment) { e.Network.Firewall.Inbound[0].Ports = "22-24, 80, 443" }, ""},
		{"15 port pieces", func(e *spec.Environment) {
			e.Network.Firewall.Inbound[0].Ports = "1-2,3-4,5-6,7-8,9-10,11-12,13-14,65535"
		}, ""},
		{"16 port pieces", func(e *spec.Environment) {
			e.Network.Firewall.Inbound[0].Ports = "1-2,3-4,5-6,7-8,9-10,11-12,13-14,15-16"
		},
			"network.firewall.inbound[kubelet].ports: has 16 pieces; at most 15 (a range counts as two)"},
		{"empty ports on TCP mean all", func(e *spec.Environment) { e.Network.Firewall.Inbound[0].Ports = "" }, ""},
		{"firewall label 3 and 32 characters", func(e *spec.Environment) { e.Network.Firewall.Label = "a.b" }, ""},
		{"firewall label 33 characters", func(e *spec.Environment) { e.Network.Firewall.Label = strings.Repeat("a", 33) },
			"network.firewall.label: must be 3–32 characters (got 33)"},
		{"firewall label with __", func(e *spec.Environment) { e.Network.Firewall.Label = "fw__x" },
			`network.firewall.label: must start with a letter and hold only letters, digits, '-', '_' and '.', with no '--', '__' or '..' (got "fw__x")`},
		{"firewall label with ..", func(e *spec.Environment) { e.Network.Firewall.Label = "fw..x" },
			`network.firewall.label: must start with a letter and hold only letters, digits, '-', '_' and '.', with no '--', '__' or '..' (got "fw..x")`},
		{"firewall label with single separators", func(e *spec.Environment) { e.Network.Firewall.Label = "fw-a_b.c" }, ""},
		{"cluster label of 32 characters", func(e *spec.Environment) { e.Cluster.Label = strings.Repeat("c", 32) }, ""},
		{"ACL address without prefix", func(e *spec.Environment) { e.Cluster.ControlPlaneACL.IPv4 = []string{"198.51.100.7"} }, ""},
		{"ACL IPv6", func(e *spec.Environment) { e.Cluster.ControlPlaneACL.IPv6 = []string{"2001:db8::/32", "2001:db8::1"} }, ""},
		{"ssh repo URL", func(e *spec.Environment) { e.GitOps.RepoURL = "ssh://git@github.com/org/platform-environments.git" }, ""},
		{"scp-like repo URL", func(e *spec.Environment) { e.GitOps.RepoURL = "git@github.com:org/platform-environments.git" }, ""},
		{"repo URL without a path", func(e *spec.Environment) { e.GitOps.RepoURL = "https://github.com" },
			`gitops.repoURL: must be an https:// or ssh Git URL without credentials, such as "https://github.com/org/platform-environments" or "git@github.com:org/repo.git" (got "https://github.com")`},
		{"baseline owned by Argo CD", func(e *spec.Environment) { e.GitOps.BaselineOwner = spec.OwnerArgoCD }, ""},
		{"baseline owned by someone else", func(e *spec.Environment) { e.GitOps.BaselineOwner = "flux" },
			`gitops.baselineOwner: must be "sdk" or "argocd" (got "flux")`},
		{"subnet /29", func(e *spec.Environment) { e.Network.VPC.Subnets[1].IPv4 = "10.30.100.0/29" }, ""},
		{"172.16/12 subnet", func(e *spec.Environment) { e.Network.VPC.Subnets[1].IPv4 = "172.16.0.0/16" }, ""},
		{"quantities", func(e *spec.Environment) {
			q := e.Namespaces[0].Quota
			q.RequestsCPU, q.RequestsMemory, q.Storage, q.DefaultLimitCPU = "0.5", "1e9", "100Gi", "250m"
		}, ""},
		{"retention combined units", func(e *spec.Environment) { e.Observability.MetricsRetention = "1w2d12h" }, ""},
		{"zero replicas allowed", func(e *spec.Environment) { e.Ingress.Replicas = 0 }, ""},
		{"route without receiver", func(e *spec.Environment) {
			e.Observability.AlertRoutes = append(e.Observability.AlertRoutes, spec.AlertRoute{Name: "info", Severity: "info"})
		}, ""},
		{"disabled sections need no namespace", func(e *spec.Environment) {
			e.Ingress = spec.Ingress{}
			e.Observability = spec.Observability{}
			e.Secrets = spec.Secrets{}
		}, ""},
		{"namespace named like a disabled section's", func(e *spec.Environment) {
			e.Observability.Enabled = false
			e.Namespaces[1].Name = "monitoring"
		}, ""},
		{"ACL enabled without addresses", func(e *spec.Environment) { e.Cluster.ControlPlaneACL.IPv4 = nil },
			"cluster.controlPlaneACL: must list at least one address when enabled: an empty list shuts everyone out of the Kubernetes API"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			env, err := spec.Default(spec.Production)
			if err != nil {
				t.Fatal(err)
			}
			env.Cluster.NodePools[0].Autoscaler = &spec.Autoscaler{Min: 3, Max: 6}
			tt.mutate(&env)
			got := ""
			if err := env.Validate(); err != nil {
				got = err.Error()
			}
			if got != tt.want {
				t.Errorf("Validate() =\n%s\nwant\n%s", got, tt.want)
			}
		})
	}
}

// TestSecretsNeverEchoed proves no error repeats a secret from the spec, in
// its message or in its path.
func TestSecretsNeverEchoed(t *testing.T) {
	t.Parallel()
	env, err := spec.LoadFile(filepath.Join("testdata", "invalid", "webhook-url.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	err = env.Validate()
	if err == nil {
		t.Fatal("Validate accepted a spec full of secrets")
	}
	for _, secret := range []string{"hooks.slack.com", "xoxb-", "xoxp-", "ghp_", "s3cr3t", "T00000000"} {
		if strings.Contains(err.Error(), secret) {
			t.Errorf("an error repeats %q:\n%v", secret, err)
		}
	}
	var fes spec.FieldErrors
	if !errors.As(err, &fes) {
		t.Fatalf("error is not FieldErrors: %v", err)
	}
	flagged := map[string]bool{}
	for _, fe := range fes {
		if strings.HasPrefix(fe.Message, "must not hold a secret") {
			flagged[fe.Path] = true
		}
	}
	for _, path := range []string{
		"cluster.nodePools[general].labels[(redacted)]",
		"network.firewall.inbound[from-ci].description",
		"namespaces[apps].labels[note]",
		"observability.alertRoutes[critical].webhookSecretRef",
		"observability.alertRoutes[(redacted)].name",
		"gitops.repoURL",
	} {
		if !flagged[path] {
			t.Errorf("%s is not flagged as a secret; flagged: %v", path, flagged)
		}
	}
}
