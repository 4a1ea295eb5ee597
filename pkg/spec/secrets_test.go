package spec_test

import (
	"errors"
	"strings"
	"testing"

	"github.com/org/platform/pkg/spec"
)

// linodeToken has the shape of a Linode personal access token: 64
// hexadecimal digits. It is made up.
var linodeToken = strings.Repeat("0123456789abcdef", 4)

// TestLinodeTokensRefused proves a Linode personal access token pasted into
// any string of a spec is refused, at that string's path, without the token
// appearing in any error; and pins which near-tokens are not flagged.
func TestLinodeTokensRefused(t *testing.T) {
	t.Parallel()
	const flagged = "must not hold a secret (this looks like a Linode personal access token)"
	tests := []struct {
		name   string
		mutate func(e *spec.Environment, s string)
		value  string
		path   string // "" means the value is not taken for a token
	}{
		{"in the VPC description", func(e *spec.Environment, s string) { e.Network.VPC.Description = s },
			linodeToken, "network.vpc.description"},
		{"after a prefix in the VPC description", func(e *spec.Environment, s string) { e.Network.VPC.Description = s },
			"token: " + linodeToken + " (old)", "network.vpc.description"},
		{"in a cluster tag", func(e *spec.Environment, s string) { e.Cluster.Tags = append(e.Cluster.Tags, s) },
			linodeToken, "cluster.tags[2]"},
		{"in a pool label value", func(e *spec.Environment, s string) { e.Cluster.NodePools[1].Labels["token"] = s },
			linodeToken, "cluster.nodePools[ingress].labels[token]"},
		{"as a pool label key", func(e *spec.Environment, s string) { e.Cluster.NodePools[1].Labels[s] = "x" },
			linodeToken, "cluster.nodePools[ingress].labels[(redacted)]"},
		{"in a namespace label", func(e *spec.Environment, s string) { e.Namespaces[0].Labels = map[string]string{"note": s} },
			linodeToken, "namespaces[apps].labels[note]"},
		{"in a firewall rule description", func(e *spec.Environment, s string) { e.Network.Firewall.Inbound[0].Description = s },
			"use " + linodeToken, "network.firewall.inbound[kubelet].description"},
		{"upper case", func(e *spec.Environment, s string) { e.Network.VPC.Description = s },
			strings.ToUpper(linodeToken), "network.vpc.description"},
		{"in gitops.path", func(e *spec.Environment, s string) { e.GitOps.Path = "environments/" + s },
			linodeToken, "gitops.path"},

		// Decisions: only a run of exactly 64 hex digits is a token.
		{"63 hex digits", func(e *spec.Environment, s string) { e.Network.VPC.Description = s },
			linodeToken[:63], ""},
		{"65 hex digits", func(e *spec.Environment, s string) { e.Network.VPC.Description = s },
			linodeToken + "0", ""},
		{"64 characters, one not hex", func(e *spec.Environment, s string) { e.Network.VPC.Description = s },
			linodeToken[:63] + "g", ""},
		{"64 hex digits glued to a letter", func(e *spec.Environment, s string) { e.Network.VPC.Description = s },
			"x" + linodeToken, ""},
		{"a SHA-256 commit as gitops.revision", func(e *spec.Environment, s string) { e.GitOps.Revision = s },
			linodeToken, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			env, err := spec.Default(spec.Production)
			if err != nil {
				t.Fatal(err)
			}
			tt.mutate(&env, tt.value)
			err = env.Validate()
			var fes spec.FieldErrors
			if err != nil && !errors.As(err, &fes) {
				t.Fatalf("Validate() = %v, not FieldErrors", err)
			}
			var at []string
			for _, fe := range fes {
				if strings.Contains(fe.Error(), tt.value) || strings.Contains(fe.Error(), linodeToken[:40]) {
					t.Errorf("error repeats the value: %v", fe)
				}
				if fe.Message == flagged+": store it in a Secret and reference it by name, as alertRoutes[].webhookSecretRef does" {
					at = append(at, fe.Path)
				}
			}
			switch {
			case tt.path == "" && len(at) > 0:
				t.Errorf("%q is flagged as a token at %v; it should not be", tt.value, at)
			case tt.path != "" && (len(at) != 1 || at[0] != tt.path):
				t.Errorf("flagged as a token at %v, want exactly [%s]; all errors:\n%v", at, tt.path, err)
			}
		})
	}
}
