package rollout_test

import (
	"errors"
	"strings"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/org/platform/pkg/change"
	"github.com/org/platform/pkg/rollout"
	"github.com/org/platform/pkg/spec"
)

// TestDestroyLeavesNothingOfOurs: the four standard environments, torn
// down, leave no cluster, firewall or VPC; production needs its name
// confirmed; a second Destroy changes nothing.
func TestDestroyLeavesNothingOfOurs(t *testing.T) {
	t.Parallel()
	srv, _, deps := sim(t)
	envs := standard(t)
	if _, err := rollout.Ensure(t.Context(), deps, envs, rollout.WithSimulationSelfApproval()); err != nil {
		t.Fatal(err)
	}
	srv.ResetCounts()
	if _, err := rollout.Destroy(t.Context(), deps, envs); !errors.Is(err, change.ErrGitOpsOnly) || !strings.Contains(err.Error(), "production") {
		t.Fatalf("Destroy without confirming production: %v", err)
	}
	if n := srv.Counts(); n.Mutating+n.Reading != 0 {
		t.Fatalf("a refused Destroy sent %d requests", n.Mutating+n.Reading)
	}
	res, err := rollout.Destroy(t.Context(), deps, envs, rollout.WithConfirmation(spec.Production))
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range res.Environments {
		if got := objects(e.Result); len(got) != 3 || !strings.HasPrefix(got[0], "delete firewall/") {
			t.Errorf("%s: deleted %v, want its firewall, cluster and VPC", e.Name, got)
		}
	}
	st := srv.Dump()
	if len(st.Clusters)+len(st.Firewalls)+len(st.VPCs) != 0 {
		t.Errorf("left behind: %d clusters, %d firewalls, %d VPCs", len(st.Clusters), len(st.Firewalls), len(st.VPCs))
	}
	srv.ResetCounts()
	again, err := rollout.Destroy(t.Context(), deps, envs, rollout.WithConfirmation(spec.Production))
	if err != nil || len(again.Result().Changes) != 0 || srv.Counts().Mutating != 0 {
		t.Errorf("second Destroy: %v, %v, %d writes", again.Result().Lines(), err, srv.Counts().Mutating)
	}
}

// TestDestroyReleasesLoadBalancersFirst: a LoadBalancer Service in the
// cluster is deleted before the cluster, so that LKE releases its
// NodeBalancer.
func TestDestroyReleasesLoadBalancersFirst(t *testing.T) {
	rec := &kubeRecorder{}
	_, deps := backed(t, rec)
	envs := []spec.Environment{*find(t, standard(t), spec.Development)}
	if _, err := rollout.Ensure(t.Context(), deps, envs); err != nil {
		t.Fatal(err)
	}
	plan, err := rollout.Plan(t.Context(), deps, envs...)
	if err != nil {
		t.Fatal(err)
	}
	kube, err := kubeClientOf(t, deps, plan)
	if err != nil {
		t.Fatal(err)
	}
	svc := &corev1.Service{ObjectMeta: metav1.ObjectMeta{Name: "web", Namespace: "default"},
		Spec: corev1.ServiceSpec{Type: corev1.ServiceTypeLoadBalancer, Ports: []corev1.ServicePort{{Port: 80}}}}
	if _, err := kube.CoreV1().Services("default").Create(t.Context(), svc, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	res, err := rollout.Destroy(t.Context(), deps, envs, rollout.WithReleaseWait(time.Minute))
	if err != nil {
		t.Fatal(err)
	}
	lines := strings.Join(res.Result().Lines(), "\n")
	if !containsAll(lines, "delete service/default/web", "delete lke/platform-development", "delete firewall/platform-development") {
		t.Errorf("Destroy made:\n%s", lines)
	}
	if res.Environments[0].Changes[0].Object != "service/default/web" {
		t.Errorf("the first change is %v, want the LoadBalancer Service released first", res.Environments[0].Changes[0])
	}
}
