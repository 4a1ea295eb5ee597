package gitops_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"go.uber.org/zap"
	"go.uber.org/zap/zapcore"
	"go.uber.org/zap/zaptest/observer"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/kubernetes/fake"

	"github.com/org/platform/pkg/change"
	"github.com/org/platform/pkg/gitops"
	"github.com/org/platform/pkg/spec"
)

// clusters serves managed clusters from a map.
type clusters map[string]gitops.Managed

func (c clusters) Managed(_ context.Context, env string) (gitops.Managed, error) {
	m, ok := c[env]
	if !ok {
		return gitops.Managed{}, fmt.Errorf("no cluster %q", env)
	}
	return m, nil
}

func tokenSecret(token string) *corev1.Secret {
	s := &corev1.Secret{
		ObjectMeta: metav1.ObjectMeta{Name: gitops.ManagerTokenSecret, Namespace: gitops.ManagerNamespace,
			Annotations: map[string]string{corev1.ServiceAccountNameKey: gitops.ManagerName}},
		Type: corev1.SecretTypeServiceAccountToken,
	}
	if token != "" {
		s.Data = map[string][]byte{"token": []byte(token), "ca.crt": []byte("ca-of-the-managed-cluster")}
	}
	return s
}

func setToken(t *testing.T, kube kubernetes.Interface, token string) {
	t.Helper()
	if _, err := kube.CoreV1().Secrets(gitops.ManagerNamespace).Update(t.Context(), tokenSecret(token), metav1.UpdateOptions{}); err != nil {
		t.Fatal(err)
	}
}

func applyAll(t *testing.T, hub kubernetes.Interface, cs gitops.Clusters, p change.Plan, opts ...gitops.Option) {
	t.Helper()
	for _, s := range p.Steps {
		if err := gitops.ApplyStep(t.Context(), hub, cs, s, opts...); err != nil {
			t.Fatal(err)
		}
	}
}

// TestClusterSecretTokenNeverInThePlan registers a managed cluster with the
// hub: the plan (as JSON), the logs and the errors carry the token's
// fingerprint and never the token; the hub's Secret is what Argo CD reads;
// a second plan is empty; a rotated token is planned as an update of the
// token field; a plan applied after the token rotated again is refused.
func TestClusterSecretTokenNeverInThePlan(t *testing.T) {
	t.Parallel()
	const canary = "eyJhbGciOiJSUzI1NiJ9.canary-token-5c1e"
	managed := fake.NewClientset(tokenSecret(canary))
	hub := fake.NewClientset()
	cs := clusters{"staging": {Server: "https://123.us-east.linodelke.net:443", Kube: managed}}
	core, logs := observer.New(zapcore.DebugLevel)
	log := zap.New(core)
	envs := []spec.Environment{standard(t, spec.System), standard(t, spec.Staging)}

	p, err := gitops.PlanClusters(t.Context(), hub, cs, spec.System, envs, gitops.WithLogger(log))
	if err != nil {
		t.Fatal(err)
	}
	if len(p.Steps) != 1 || p.Steps[0].ID != "system/gitops/secret/argocd/cluster-staging" || p.Steps[0].Op != change.Create {
		t.Fatalf("steps %+v, want one create of staging's cluster Secret in the hub (none for the hub itself)", p.Steps)
	}
	js, err := json.Marshal(p)
	if err != nil {
		t.Fatal(err)
	}
	if strings.Contains(string(js), "canary-token") {
		t.Fatalf("the plan holds the token: %s", js)
	}
	if !strings.Contains(string(js), "sha256:") {
		t.Errorf("the plan shows no fingerprint: %s", js)
	}
	applyAll(t, hub, cs, p, gitops.WithLogger(log))

	sec, err := hub.CoreV1().Secrets(gitops.Namespace).Get(t.Context(), "cluster-staging", metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	var cfg struct {
		BearerToken     string `json:"bearerToken"`
		TLSClientConfig struct {
			CAData []byte `json:"caData"`
		} `json:"tlsClientConfig"`
	}
	if err := json.Unmarshal(sec.Data["config"], &cfg); err != nil {
		t.Fatal(err)
	}
	if cfg.BearerToken != canary || string(cfg.TLSClientConfig.CAData) != "ca-of-the-managed-cluster" {
		t.Errorf("config = %s, want the managed cluster's token and CA", sec.Data["config"])
	}
	if sec.Labels["argocd.argoproj.io/secret-type"] != "cluster" || string(sec.Data["name"]) != "staging" ||
		string(sec.Data["server"]) != "https://123.us-east.linodelke.net:443" {
		t.Errorf("secret %v %v: not an Argo CD cluster Secret of staging", sec.Labels, sec.Data)
	}

	p, err = gitops.PlanClusters(t.Context(), hub, cs, spec.System, envs, gitops.WithLogger(log))
	if err != nil || len(p.Steps) != 0 {
		t.Fatalf("second plan = %+v, %v; want empty", p.Steps, err)
	}

	setToken(t, managed, canary+"-rotated")
	p, err = gitops.PlanClusters(t.Context(), hub, cs, spec.System, envs, gitops.WithLogger(log))
	if err != nil {
		t.Fatal(err)
	}
	if len(p.Steps) != 1 || len(p.Steps[0].Changes) != 1 || p.Steps[0].Changes[0].Field != "token" {
		t.Fatalf("after rotation: steps %+v, want one update of the token", p.Steps)
	}
	setToken(t, managed, canary+"-rotated-again")
	err = gitops.ApplyStep(t.Context(), hub, cs, p.Steps[0], gitops.WithLogger(log))
	if !errors.Is(err, gitops.ErrStalePlan) {
		t.Fatalf("stale apply: err = %v, want ErrStalePlan", err)
	}
	if strings.Contains(err.Error(), "canary-token") {
		t.Error("the error shows the token")
	}
	if logs.Len() == 0 {
		t.Fatal("nothing logged: the check below would prove nothing")
	}
	for _, e := range logs.All() {
		line := e.Message + fmt.Sprint(e.ContextMap())
		if strings.Contains(line, "canary-token") {
			t.Errorf("a log line shows the token: %s", line)
		}
	}
}

// TestClusterPlannedBeforeTheClusterExists plans without reading
// (PlanClustersNew): the step shows server and token as known after apply,
// and ApplyStep waits for the token controller to issue the token.
func TestClusterPlannedBeforeTheClusterExists(t *testing.T) {
	t.Parallel()
	p, err := gitops.PlanClustersNew(spec.System, []spec.Environment{standard(t, spec.Production), standard(t, spec.System)})
	if err != nil {
		t.Fatal(err)
	}
	if len(p.Steps) != 1 {
		t.Fatalf("steps %+v, want production's only", p.Steps)
	}
	for _, c := range p.Steps[0].Changes {
		if c.To != "(known after apply)" {
			t.Errorf("change %s, want known after apply", c)
		}
	}
	managed := fake.NewClientset(tokenSecret(""))
	hub := fake.NewClientset()
	cs := clusters{"production": {Server: "https://9.us-east.linodelke.net:443", CAData: []byte("kubeconfig-ca"), Kube: managed}}
	go func() {
		time.Sleep(50 * time.Millisecond)
		_, _ = managed.CoreV1().Secrets(gitops.ManagerNamespace).Update(context.Background(), tokenSecret("late-token"), metav1.UpdateOptions{})
	}()
	applyAll(t, hub, cs, p, gitops.WithPollInterval(10*time.Millisecond), gitops.WithTimeout(5*time.Second))
	sec, err := hub.CoreV1().Secrets(gitops.Namespace).Get(t.Context(), "cluster-production", metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(sec.Data["config"]), "late-token") {
		t.Errorf("config %s lacks the token issued late", sec.Data["config"])
	}

	// A cluster whose token is never issued: bounded, and the error says which.
	never := clusters{"production": {Server: "https://9.us-east.linodelke.net:443", Kube: fake.NewClientset(tokenSecret(""))}}
	err = gitops.ApplyStep(t.Context(), fake.NewClientset(), never, p.Steps[0], gitops.WithPollInterval(10*time.Millisecond), gitops.WithTimeout(100*time.Millisecond))
	if err == nil || !strings.Contains(err.Error(), gitops.ManagerTokenSecret) {
		t.Errorf("err = %v, want the token Secret named", err)
	}
}
