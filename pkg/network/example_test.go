package network_test

import (
	"context"
	"fmt"
	"log"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/org/platform/pkg/linodetest"
	"github.com/org/platform/pkg/network"
	"github.com/org/platform/pkg/network/networktest"
	"github.com/org/platform/pkg/spec"
)

// Provision production's network against the Linode simulator and a fake
// Kubernetes clientset, then run again: the second run changes nothing.
func Example() {
	ctx := context.Background()
	srv, err := linodetest.Start(ctx)
	if err != nil {
		log.Fatal(err)
	}
	defer srv.Close()
	linode := srv.NewClient()
	opts := []network.Option{network.WithClock(srv.Clock())}
	env, err := spec.Default(spec.Production)
	if err != nil {
		log.Fatal(err)
	}

	fw, err := network.EnsureFirewall(ctx, linode, env, opts...)
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(fw.Result)
	vpc, err := network.EnsureVPC(ctx, linode, env, opts...)
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(vpc.Result)
	// fw.ID goes to pkg/cluster: cluster.WithFirewallID(fw.ID).

	k8s := networktest.NewClientset()
	res, err := network.EnsureKubernetes(ctx, k8s, env, opts...)
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(res.Summary())

	again, err := network.EnsureKubernetes(ctx, k8s, env, opts...)
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(again.Summary())
	// Output:
	// create firewall/platform-production: 6 inbound rules (otherwise DROP), 0 outbound rules (otherwise ACCEPT), tags env-production, platform, platform.org/env=production
	// create vpc/platform-production: us-east, subnets nodes 10.30.0.0/20, data 10.30.100.0/23
	// 60 to create, 0 to update, 0 to delete
	// 0 to create, 0 to update, 0 to delete
}

// A plan shows, field by field, what another hand changed and the next
// EnsureKubernetes would put back.
func ExamplePlanKubernetes() {
	ctx := context.Background()
	env, err := spec.Default(spec.Staging)
	if err != nil {
		log.Fatal(err)
	}
	k8s := networktest.NewClientset()
	if _, err := network.EnsureKubernetes(ctx, k8s, env); err != nil {
		log.Fatal(err)
	}
	ns, err := k8s.CoreV1().Namespaces().Get(ctx, "apps", metav1.GetOptions{})
	if err != nil {
		log.Fatal(err)
	}
	ns.Labels["team"] = "someone-else"
	if _, err := k8s.CoreV1().Namespaces().Update(ctx, ns, metav1.UpdateOptions{FieldManager: "kubectl-edit"}); err != nil {
		log.Fatal(err)
	}

	plan, err := network.PlanKubernetes(ctx, k8s, env)
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(plan.Result())
	// Output:
	// update namespace/apps metadata.labels.team: someone-else → apps
}

// Which environment can reach which: the standard specs leave the
// control-plane ACL off outside production, and admit ICMP from anywhere.
func ExampleCrossEnvironmentExposures() {
	var envs []spec.Environment
	for _, name := range spec.StandardNames() {
		env, err := spec.Default(name)
		if err != nil {
			log.Fatal(err)
		}
		envs = append(envs, env)
	}
	xs, err := network.CrossEnvironmentExposures(envs)
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println("standard environments:", len(xs), "exposures")

	// Open staging's firewall to development's node subnet, by mistake.
	staging := &envs[1]
	staging.Network.Firewall.Inbound = append(staging.Network.Firewall.Inbound, spec.FirewallRule{
		Label: "debug", Action: "ACCEPT", Protocol: "TCP", Ports: "5432", IPv4: []string{"10.10.0.0/20"},
	})
	xs, err = network.CrossEnvironmentExposures(envs)
	if err != nil {
		log.Fatal(err)
	}
	for _, x := range xs {
		fmt.Println(x)
	}
	// Output:
	// standard environments: 0 exposures
	// development 10.10.0.0/20 → staging nodes: TCP 5432 via network.firewall.inbound[debug]
}
