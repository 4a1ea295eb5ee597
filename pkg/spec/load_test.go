package spec_test

import (
	"errors"
	"flag"
	"net/netip"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"sigs.k8s.io/yaml"

	"github.com/org/platform/pkg/spec"
)

var update = flag.Bool("update", false, "rewrite the golden files under testdata")

// TestStandardFilesMatchDefault proves the example files and Default agree,
// and that both are valid.
func TestStandardFilesMatchDefault(t *testing.T) {
	t.Parallel()
	for _, name := range spec.StandardNames() {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			want, err := spec.Default(name)
			if err != nil {
				t.Fatalf("Default(%q): %v", name, err)
			}
			if err := want.Validate(); err != nil {
				t.Errorf("Default(%q).Validate():\n%v", name, err)
			}
			got, err := spec.LoadFile(filepath.Join("testdata", name+".yaml"))
			if err != nil {
				t.Fatalf("LoadFile: %v", err)
			}
			if !reflect.DeepEqual(got, want) {
				gy, _ := yaml.Marshal(got)
				wy, _ := yaml.Marshal(want)
				t.Errorf("testdata/%s.yaml differs from Default(%q)\n--- file:\n%s\n--- Default:\n%s", name, name, gy, wy)
			}
		})
	}
}

// TestStandardEnvironmentsDoNotOverlap proves that no two standard
// environments share a VPC subnet or data-service range, so they can be
// peered or share an office VPN without renumbering.
func TestStandardEnvironmentsDoNotOverlap(t *testing.T) {
	t.Parallel()
	var envs []spec.Environment
	for _, name := range spec.StandardNames() {
		env, err := spec.Default(name)
		if err != nil {
			t.Fatal(err)
		}
		envs = append(envs, env)
	}
	// Put every environment's ranges into one VPC: Validate reports overlaps.
	merged := envs[0]
	merged.Network.VPC = &spec.VPC{Label: "merged"}
	for _, env := range envs {
		for _, s := range env.Network.VPC.Subnets {
			merged.Network.VPC.Subnets = append(merged.Network.VPC.Subnets, spec.Subnet{Label: env.Name + "-" + s.Label, IPv4: s.IPv4})
		}
		for _, ds := range env.DataServices {
			if len(ds.CIDRs) != 1 {
				t.Fatalf("%s: data service %s has %d CIDRs; this test expects one", env.Name, ds.Name, len(ds.CIDRs))
			}
			// A data service's range lies inside its environment's data subnet.
			if !subnetContains(t, env.Network.VPC.Subnets, ds.CIDRs[0]) {
				t.Errorf("%s: data service %s (%s) is outside every VPC subnet", env.Name, ds.Name, ds.CIDRs[0])
			}
		}
		if env.Cluster.KubernetesVersion != spec.DefaultKubernetesVersion || env.Cluster.Region != spec.DefaultRegion {
			t.Errorf("%s: runs %s in %s; every standard environment runs %s in %s", env.Name,
				env.Cluster.KubernetesVersion, env.Cluster.Region, spec.DefaultKubernetesVersion, spec.DefaultRegion)
		}
	}
	if err := merged.Validate(); err != nil {
		t.Errorf("standard environments overlap:\n%v", err)
	}
}

func subnetContains(t *testing.T, subnets []spec.Subnet, cidr string) bool {
	t.Helper()
	inner := netip.MustParsePrefix(cidr)
	for _, s := range subnets {
		outer := netip.MustParsePrefix(s.IPv4)
		if outer.Bits() <= inner.Bits() && outer.Contains(inner.Addr()) {
			return true
		}
	}
	return false
}

func TestDefaultReturnsFreshValues(t *testing.T) {
	t.Parallel()
	a, err := spec.Default(spec.Production)
	if err != nil {
		t.Fatal(err)
	}
	a.Cluster.NodePools[0].Count = 99
	a.Cluster.NodePools[1].Labels["dedicated"] = "changed"
	a.Network.Firewall.Inbound[0].IPv4[0] = "0.0.0.0/0"
	a.Network.VPC.Subnets[0].IPv4 = "10.99.0.0/16"
	b, err := spec.Default(spec.Production)
	if err != nil {
		t.Fatal(err)
	}
	if b.Cluster.NodePools[0].Count != 3 || b.Cluster.NodePools[1].Labels["dedicated"] != "ingress" ||
		b.Network.Firewall.Inbound[0].IPv4[0] != spec.LKENodeCIDR || b.Network.VPC.Subnets[0].IPv4 != "10.30.0.0/20" {
		t.Errorf("changing one Default value changed the next: %+v", b.Cluster.NodePools)
	}
}

func TestDefaultUnknownName(t *testing.T) {
	t.Parallel()
	for _, name := range []string{"", "prod", "Production", "qa"} {
		_, err := spec.Default(name)
		if !errors.Is(err, spec.ErrUnknownEnvironment) {
			t.Errorf("Default(%q) error = %v, want ErrUnknownEnvironment", name, err)
		}
	}
}

// TestMinimalSpec shows what Load fills in for a spec that states only what
// has no default.
func TestMinimalSpec(t *testing.T) {
	t.Parallel()
	env, err := spec.LoadFile(filepath.Join("testdata", "minimal.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	if err := env.Validate(); err != nil {
		t.Errorf("Validate:\n%v", err)
	}
	tests := []struct {
		field string
		got   any
		want  any
	}{
		{"cluster.label", env.Cluster.Label, "platform-demo"},
		{"cluster.tier", env.Cluster.Tier, "standard"},
		{"network.firewall.label", env.Network.Firewall.Label, "platform-demo"},
		{"network.firewall.inboundPolicy", env.Network.Firewall.InboundPolicy, "DROP"},
		{"network.firewall.outboundPolicy", env.Network.Firewall.OutboundPolicy, "ACCEPT"},
		{"network.vpc", env.Network.VPC, (*spec.VPC)(nil)},
		{"ingress.namespace", env.Ingress.Namespace, "ingress-nginx"},
		{"ingress.className", env.Ingress.ClassName, "nginx"},
		{"ingress.replicas", env.Ingress.Replicas, 2},
		{"observability.namespace", env.Observability.Namespace, "monitoring"},
		{"secrets.namespace", env.Secrets.Namespace, "kube-system"},
		{"gitops.revision", env.GitOps.Revision, "main"},
		{"gitops.path", env.GitOps.Path, "environments/demo"},
	}
	for _, tt := range tests {
		if !reflect.DeepEqual(tt.got, tt.want) {
			t.Errorf("%s = %#v, want %#v", tt.field, tt.got, tt.want)
		}
	}
}

func TestApplyDefaults(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name  string
		env   spec.Environment
		check func(t *testing.T, e spec.Environment)
	}{
		{
			name: "data service ports by kind",
			env: spec.Environment{Name: "x", DataServices: []spec.DataService{
				{Name: "pg", Kind: "postgresql"}, {Name: "cache", Kind: "redis"}, {Name: "own", Kind: "redis", Port: 7000}, {Name: "odd", Kind: "mysql"},
			}},
			check: func(t *testing.T, e spec.Environment) {
				var got []int
				for _, ds := range e.DataServices {
					got = append(got, ds.Port)
				}
				if want := []int{5432, 6379, 7000, 0}; !reflect.DeepEqual(got, want) {
					t.Errorf("ports = %v, want %v", got, want)
				}
			},
		},
		{
			name: "VPC label only when a VPC is set",
			env:  spec.Environment{Name: "x", Network: spec.Network{VPC: &spec.VPC{}}},
			check: func(t *testing.T, e spec.Environment) {
				if e.Network.VPC.Label != "platform-x" {
					t.Errorf("vpc.label = %q, want platform-x", e.Network.VPC.Label)
				}
			},
		},
		{
			name: "set fields are kept",
			env: spec.Environment{Name: "x", Cluster: spec.Cluster{Label: "mine", Tier: "enterprise"},
				Network: spec.Network{Firewall: spec.Firewall{InboundPolicy: "ACCEPT", OutboundPolicy: "DROP"}},
				GitOps:  spec.GitOps{Revision: "v1.2.3", Path: "clusters/x"}},
			check: func(t *testing.T, e spec.Environment) {
				got := []string{e.Cluster.Label, e.Cluster.Tier, e.Network.Firewall.InboundPolicy, e.Network.Firewall.OutboundPolicy, e.GitOps.Revision, e.GitOps.Path}
				want := []string{"mine", "enterprise", "ACCEPT", "DROP", "v1.2.3", "clusters/x"}
				if !reflect.DeepEqual(got, want) {
					t.Errorf("got %q, want %q", got, want)
				}
			},
		},
		{
			name: "no name, no name-derived defaults",
			env:  spec.Environment{},
			check: func(t *testing.T, e spec.Environment) {
				if e.Cluster.Label != "" || e.Network.Firewall.Label != "" || e.GitOps.Path != "" {
					t.Errorf("name-derived defaults set without a name: %q %q %q", e.Cluster.Label, e.Network.Firewall.Label, e.GitOps.Path)
				}
				if e.Cluster.Tier != "standard" {
					t.Errorf("tier = %q, want standard", e.Cluster.Tier)
				}
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			e := tt.env
			e.ApplyDefaults()
			tt.check(t, e)
			again := e
			again.ApplyDefaults()
			if !reflect.DeepEqual(again, e) {
				t.Errorf("ApplyDefaults is not idempotent:\nonce:  %+v\ntwice: %+v", e, again)
			}
		})
	}
}

func TestLoadErrorsWrapErrInvalid(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name      string
		data      string
		wantInMsg string
	}{
		{"syntax error", "name: [demo\n", "parse environment YAML"},
		{"duplicate key", "name: a\nname: b\n", "parse environment YAML"},
		{"unknown field", "name: a\nextra: 1\n", "extra: unknown field"},
		{"empty", "", "empty document"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			env, err := spec.Load([]byte(tt.data))
			if !errors.Is(err, spec.ErrInvalid) {
				t.Fatalf("Load error = %v, want one wrapping ErrInvalid", err)
			}
			if !strings.Contains(err.Error(), tt.wantInMsg) {
				t.Errorf("Load error = %q, want it to contain %q", err, tt.wantInMsg)
			}
			if !reflect.DeepEqual(env, spec.Environment{}) {
				t.Errorf("Load returned %+v with its error, want the zero Environment", env)
			}
		})
	}
}

func TestLoadFileNamesTheFile(t *testing.T) {
	t.Parallel()
	path := filepath.Join("testdata", "invalid", "unknown-field.yaml")
	_, err := spec.LoadFile(path)
	if err == nil || !strings.HasPrefix(err.Error(), "load "+path+": ") {
		t.Errorf("LoadFile error = %v, want it to start with %q", err, "load "+path+": ")
	}
	_, err = spec.LoadFile(filepath.Join(t.TempDir(), "missing.yaml"))
	if !errors.Is(err, os.ErrNotExist) {
		t.Errorf("LoadFile(missing) error = %v, want os.ErrNotExist", err)
	}
}

func TestLoadAndValidate(t *testing.T) {
	t.Parallel()
	good, err := os.ReadFile(filepath.Join("testdata", "staging.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	env, err := spec.LoadAndValidate(good)
	if err != nil || env.Name != spec.Staging {
		t.Errorf("LoadAndValidate(staging.yaml) = %q, %v; want staging, nil", env.Name, err)
	}
	bad, err := os.ReadFile(filepath.Join("testdata", "invalid", "gitops-only.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	env, err = spec.LoadAndValidate(bad)
	var fes spec.FieldErrors
	if !errors.As(err, &fes) || len(fes) != 1 || fes[0].Path != "gitops.repoURL" {
		t.Errorf("LoadAndValidate(gitops-only.yaml) error = %v, want one FieldError at gitops.repoURL", err)
	}
	if env.Name != "" {
		t.Errorf("LoadAndValidate returned %q with an error, want the zero Environment", env.Name)
	}
}
