package spec_test

import (
	"errors"
	"fmt"

	"github.com/org/platform/pkg/spec"
)

// Load a spec, then Validate it: every problem comes back at once, each
// named by its path from the YAML root.
func Example() {
	env, err := spec.Load([]byte(`
name: demo
cluster:
  region: us-east
  kubernetesVersion: "1.33"
  nodePools:
    - name: general
      type: g6-standard-2
      count: 3
      autoscaler: {min: 5, max: 3}
network:
  firewall:
    inbound:
      - label: allow-https
        action: ACCEPT
        protocol: SCTP
        ports: "443"
        ipv4: [0.0.0.0/0]
`))
	if err != nil {
		fmt.Println("load:", err)
		return
	}
	err = env.Validate()
	fmt.Println("invalid:", errors.Is(err, spec.ErrInvalid))
	var fes spec.FieldErrors
	if errors.As(err, &fes) {
		for _, fe := range fes {
			fmt.Println(fe)
		}
	}
	// Output:
	// invalid: true
	// cluster.nodePools[general].autoscaler.max: must be ≥ min (3 < 5)
	// network.firewall.inbound[allow-https].protocol: must be one of TCP, UDP, ICMP, IPENCAP (got "SCTP")
}

// Load rejects fields the spec does not have, naming them by path.
func ExampleLoad_unknownField() {
	_, err := spec.Load([]byte(`
name: demo
cluster:
  region: us-east
  kubernetesVersion: "1.33"
  nodePools:
    - {name: general, type: g6-standard-2, count: 3, autoscalr: {min: 3, max: 6}}
`))
	fmt.Println(err)
	// Output:
	// cluster.nodePools[general].autoscalr: unknown field (did you mean "autoscaler"?)
}

// Start from a standard environment and change it in place.
func ExampleDefault() {
	env, err := spec.Default(spec.Production)
	if err != nil {
		fmt.Println(err)
		return
	}
	env.Cluster.NodePools[0].Count = 5
	fmt.Println(env.Cluster.Label, env.Cluster.KubernetesVersion, len(env.Cluster.NodePools), env.Validate())
	env.Cluster.NodePools[0].Count = 11
	fmt.Println(env.Validate())
	// Output:
	// platform-production 1.33 2 <nil>
	// cluster.nodePools[general].count: must be within the autoscaler's range 3–10 (got 11)
}

// SplitRule and ExpandedRuleCount share one arithmetic: 300 addresses make
// two rules.
func ExampleSplitRule() {
	r := spec.FirewallRule{Label: "offices", Action: "ACCEPT", Protocol: "TCP", Ports: "443"}
	for i := range 300 {
		r.IPv4 = append(r.IPv4, fmt.Sprintf("10.0.%d.%d/32", i/256, i%256))
	}
	for _, part := range spec.SplitRule(r) {
		fmt.Println(part.Label, len(part.IPv4))
	}
	fmt.Println(spec.Firewall{Inbound: []spec.FirewallRule{r}}.ExpandedRuleCount())
	// Output:
	// offices 255
	// offices-2 45
	// 2
}
