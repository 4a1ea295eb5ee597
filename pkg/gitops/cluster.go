package gitops

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"go.uber.org/zap"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/util/wait"
	corev1ac "k8s.io/client-go/applyconfigurations/core/v1"
	"k8s.io/client-go/kubernetes"

	"github.com/org/platform/pkg/change"
	"github.com/org/platform/pkg/spec"
)

// The managed side: what each managed environment's own baseline creates
// so that Argo CD can deploy into it.
const (
	// ManagerNamespace holds the manager's ServiceAccount and token, as
	// `argocd cluster add` places them.
	ManagerNamespace = "kube-system"
	// ManagerName is the ServiceAccount, ClusterRole and
	// ClusterRoleBinding Argo CD acts as in a managed cluster.
	ManagerName = "argocd-manager"
	// ManagerTokenSecret is the kubernetes.io/service-account-token Secret
	// of ManagerName, filled by the cluster's token controller.
	ManagerTokenSecret = "argocd-manager-token"
)

// StepCluster is the kind of a step that writes one managed cluster's
// Secret into the hub. Its Action is a ClusterAction. pkg/rollout
// dispatches the kinds with prefix "gitops." to ApplyStep.
const StepCluster = "gitops.cluster"

// FieldManager is the field manager of every write of this package.
const FieldManager = "platform"

// FingerprintAnnotation, on a cluster Secret, is the fingerprint of the
// token it holds, so that a plan can tell whether the token changed
// without reading or showing it.
const FingerprintAnnotation = "platform.org/token-fingerprint"

// ErrStalePlan means the managed cluster's token is not the one the plan
// saw (its fingerprint differs): plan again.
var ErrStalePlan = errors.New("stale plan: the managed cluster's token changed since the plan was made")

// ManagerObjects returns what a managed environment's baseline applies in
// its own cluster (layer gitops, through internal/kubeobjects) so that
// Argo CD can act there: the ServiceAccount ManagerName, its token Secret
// ManagerTokenSecret (the cluster's token controller writes the token into
// it; the token never leaves the cluster except into the hub's cluster
// Secret, at apply), and the ClusterRole and ClusterRoleBinding giving it
// every verb on every resource — what `argocd cluster add` grants, since
// Argo CD installs CRDs, RBAC and webhooks. pkg/network's Posture reports
// that binding until it declares it.
func ManagerObjects(env spec.Environment) []*unstructured.Unstructured {
	l := labels(env.Name)
	meta := func(name, ns string) map[string]any {
		m := map[string]any{"name": name, "labels": l}
		if ns != "" {
			m["namespace"] = ns
		}
		return m
	}
	sa := &unstructured.Unstructured{Object: map[string]any{
		"apiVersion": "v1", "kind": "ServiceAccount", "metadata": meta(ManagerName, ManagerNamespace),
	}}
	tokMeta := meta(ManagerTokenSecret, ManagerNamespace)
	tokMeta["annotations"] = map[string]any{corev1.ServiceAccountNameKey: ManagerName}
	tok := &unstructured.Unstructured{Object: map[string]any{
		"apiVersion": "v1", "kind": "Secret", "metadata": tokMeta, "type": string(corev1.SecretTypeServiceAccountToken),
	}}
	role := &unstructured.Unstructured{Object: map[string]any{
		"apiVersion": "rbac.authorization.k8s.io/v1", "kind": "ClusterRole", "metadata": meta(ManagerName, ""),
		"rules": []any{
			map[string]any{"apiGroups": []any{"*"}, "resources": []any{"*"}, "verbs": []any{"*"}},
			map[string]any{"nonResourceURLs": []any{"*"}, "verbs": []any{"*"}},
		},
	}}
	bind := &unstructured.Unstructured{Object: map[string]any{
		"apiVersion": "rbac.authorization.k8s.io/v1", "kind": "ClusterRoleBinding", "metadata": meta(ManagerName, ""),
		"roleRef":  map[string]any{"apiGroup": "rbac.authorization.k8s.io", "kind": "ClusterRole", "name": ManagerName},
		"subjects": []any{map[string]any{"kind": "ServiceAccount", "name": ManagerName, "namespace": ManagerNamespace}},
	}}
	return []*unstructured.Unstructured{sa, tok, role, bind}
}

// Managed is what the hub needs of a managed cluster: its API endpoint as
// Argo CD reaches it, the CA that signs the endpoint's certificate, and a
// client to read the manager's token with.
type Managed struct {
	// Server is the API endpoint ("https://<id>.<region>.linodelke.net:443").
	Server string
	// CAData is the PEM CA bundle of Server; empty means the token
	// Secret's ca.crt.
	CAData []byte
	// Kube reads ManagerTokenSecret.
	Kube kubernetes.Interface
}

// Clusters gives access to the managed environments' clusters, by
// environment name. pkg/rollout implements it with each environment's
// kubeconfig (the LKE endpoint and CA are in it).
type Clusters interface {
	Managed(ctx context.Context, env string) (Managed, error)
}

// ClusterAction is what a StepCluster step writes: a reference to the
// managed environment, never its token. Server and TokenFingerprint are
// what the plan saw; empty when the managed cluster could not be read
// (planned before it exists), in which case ApplyStep writes what it
// finds.
type ClusterAction struct {
	// Environment is the managed environment.
	Environment string `json:"environment"`
	// Namespace and Name are the cluster Secret's, in the hub.
	Namespace string `json:"namespace"`
	Name      string `json:"name"`
	// Server is the managed cluster's API endpoint.
	Server string `json:"server,omitempty"`
	// TokenFingerprint is "sha256:<hex>" of the token the plan saw.
	TokenFingerprint string `json:"tokenFingerprint,omitempty"`
}

// SecretName is the name of env's cluster Secret in the hub.
func SecretName(env string) string { return "cluster-" + env }

// StepID is "<hub>/gitops/secret/<namespace>/<name>".
func StepID(hub, env string) string {
	return hub + "/" + string(change.LayerGitOps) + "/" + object(env)
}

func object(env string) string { return "secret/" + Namespace + "/" + SecretName(env) }

// fingerprint is the SHA-256 of a token. A service-account token is a
// signed JWT, far beyond guessing, so an unkeyed digest reveals nothing of
// it.
func fingerprint(token []byte) string {
	s := sha256.Sum256(token)
	return "sha256:" + hex.EncodeToString(s[:])
}

// shortFP is a fingerprint as a change line shows it.
func shortFP(fp string) string {
	if len(fp) > len("sha256:")+12 {
		return fp[:len("sha256:")+12]
	}
	return fp
}

// PlanClustersNew plans the cluster Secrets of managed (the hub itself
// excluded) without reading anything: each a create whose server and
// token are known after apply.
func PlanClustersNew(hub string, managed []spec.Environment) (change.Plan, error) {
	var p change.Plan
	for _, env := range managed {
		if env.Name == hub {
			continue
		}
		s, err := clusterStep(hub, ClusterAction{Environment: env.Name, Namespace: Namespace, Name: SecretName(env.Name)}, change.Create, nil)
		if err != nil {
			return p, err
		}
		p.Add(s)
		p.Observe(object(env.Name), "absent")
	}
	return p, nil
}

// PlanClusters plans the hub's cluster Secret of each environment of
// managed (the hub itself excluded, Argo CD knows it as InCluster): it
// reads the Secret in hub and, through clusters, the managed cluster's
// endpoint and the fingerprint of its manager token, and plans a step when
// the Secret is absent or its server, name or token fingerprint differ. A
// managed cluster that cannot be reached, or whose token is not issued
// yet, is planned with what is known after apply. The plan carries the
// fingerprint only; its base records, per Secret, "absent" or the
// fingerprint and server it holds.
func PlanClusters(ctx context.Context, hub kubernetes.Interface, clusters Clusters, hubEnv string, managed []spec.Environment, opts ...Option) (change.Plan, error) {
	o := newOptions(opts)
	var p change.Plan
	for _, env := range managed {
		if env.Name == hubEnv {
			continue
		}
		want := ClusterAction{Environment: env.Name, Namespace: Namespace, Name: SecretName(env.Name)}
		if m, err := clusters.Managed(ctx, env.Name); err != nil {
			o.log.Debug("managed cluster not readable: planned as known after apply", zap.String("environment", env.Name), zap.Error(err))
		} else {
			want.Server = m.Server
			tok, _, err := readToken(ctx, m.Kube)
			switch {
			case err == nil:
				want.TokenFingerprint = fingerprint(tok)
			case errors.Is(err, errNoToken):
				o.log.Debug("manager token not issued yet", zap.String("environment", env.Name))
			default:
				return p, fmt.Errorf("plan cluster secret of %s: %w", env.Name, err)
			}
		}
		live, err := hub.CoreV1().Secrets(Namespace).Get(ctx, want.Name, metav1.GetOptions{})
		if apierrors.IsNotFound(err) {
			s, err := clusterStep(hubEnv, want, change.Create, nil)
			if err != nil {
				return p, err
			}
			p.Add(s)
			p.Observe(object(env.Name), "absent")
			continue
		}
		if err != nil {
			return p, fmt.Errorf("read cluster secret %s/%s: %w", Namespace, want.Name, err)
		}
		haveFP := live.Annotations[FingerprintAnnotation]
		haveServer := string(live.Data["server"])
		p.Observe(object(env.Name), haveFP+" "+haveServer)
		var changes []change.Change
		add := func(field, from, to string) {
			changes = append(changes, change.Change{Layer: change.LayerGitOps, Object: object(env.Name), Field: field, From: from, To: to, Op: change.Update})
		}
		if want.Server == "" || want.Server != haveServer {
			add("server", haveServer, orAfter(want.Server))
		}
		if want.TokenFingerprint == "" || want.TokenFingerprint != haveFP {
			add("token", shortFP(haveFP), orAfter(shortFP(want.TokenFingerprint)))
		}
		if string(live.Data["name"]) != env.Name {
			add("name", string(live.Data["name"]), env.Name)
		}
		if live.Labels[secretTypeLabel] != "cluster" {
			add("label "+secretTypeLabel, live.Labels[secretTypeLabel], "cluster")
		}
		if len(changes) == 0 {
			continue
		}
		s, err := clusterStep(hubEnv, want, change.Update, changes)
		if err != nil {
			return p, err
		}
		p.Add(s)
	}
	return p, nil
}

func orAfter(s string) string {
	if s == "" {
		return "(known after apply)"
	}
	return s
}

const secretTypeLabel = "argocd.argoproj.io/secret-type"

func clusterStep(hub string, a ClusterAction, op change.Op, changes []change.Change) (change.Step, error) {
	if len(changes) == 0 {
		changes = []change.Change{
			{Layer: change.LayerGitOps, Object: object(a.Environment), Op: op, Field: "server", To: orAfter(a.Server)},
			{Layer: change.LayerGitOps, Object: object(a.Environment), Op: op, Field: "token", To: orAfter(shortFP(a.TokenFingerprint))},
		}
	}
	s, err := change.NewStep(StepID(hub, a.Environment), change.LayerGitOps, StepCluster, op, object(a.Environment), a, changes...)
	if err != nil {
		return change.Step{}, err
	}
	s.Env = hub
	return s, nil
}

var errNoToken = errors.New("the manager's token is not issued yet")

// readToken reads the manager's token and the CA from the managed cluster.
func readToken(ctx context.Context, kube kubernetes.Interface) (token, ca []byte, err error) {
	sec, err := kube.CoreV1().Secrets(ManagerNamespace).Get(ctx, ManagerTokenSecret, metav1.GetOptions{})
	if apierrors.IsNotFound(err) {
		return nil, nil, errNoToken
	}
	if err != nil {
		return nil, nil, fmt.Errorf("read %s/%s: %w", ManagerNamespace, ManagerTokenSecret, err)
	}
	if len(sec.Data[corev1.ServiceAccountTokenKey]) == 0 {
		return nil, nil, errNoToken
	}
	return sec.Data[corev1.ServiceAccountTokenKey], sec.Data[corev1.ServiceAccountRootCAKey], nil
}

// clusterConfig is the config field of an Argo CD cluster Secret.
type clusterConfig struct {
	BearerToken     string          `json:"bearerToken"`
	TLSClientConfig tlsClientConfig `json:"tlsClientConfig"`
}

type tlsClientConfig struct {
	Insecure bool   `json:"insecure"`
	CAData   []byte `json:"caData,omitempty"` // base64 in JSON, as Argo CD reads it
}

// ApplyStep carries out one StepCluster step: it reads the managed
// environment's token (waiting, bounded by WithTimeout, for the token
// controller to issue it) and endpoint through clusters, refuses
// (ErrStalePlan) a token whose fingerprint is not the plan's when the plan
// knew one, and server-side applies the Argo CD cluster Secret into hub —
// labelled argocd.argoproj.io/secret-type=cluster, with name, server and
// config (bearerToken and the CA), and the token's fingerprint as
// annotation FingerprintAnnotation. The token goes from one cluster to the
// other in memory only: never into the step, a log or an error.
func ApplyStep(ctx context.Context, hub kubernetes.Interface, clusters Clusters, s change.Step, opts ...Option) error {
	if s.Kind != StepCluster {
		return fmt.Errorf("plan step %s: kind %q is not a step of pkg/gitops (%s)", s.ID, s.Kind, StepCluster)
	}
	o := newOptions(opts)
	var a ClusterAction
	if err := s.Decode(&a); err != nil {
		return err
	}
	m, err := clusters.Managed(ctx, a.Environment)
	if err != nil {
		return fmt.Errorf("apply %s: managed cluster %s: %w", s.ID, a.Environment, err)
	}
	var tok, ca []byte
	err = wait.PollUntilContextTimeout(ctx, o.interval, o.timeout, true, func(ctx context.Context) (bool, error) {
		var err error
		tok, ca, err = readToken(ctx, m.Kube)
		if errors.Is(err, errNoToken) {
			return false, nil
		}
		return err == nil, err
	})
	if err != nil {
		return fmt.Errorf("apply %s: read the manager token of %s (%s/%s): %w", s.ID, a.Environment, ManagerNamespace, ManagerTokenSecret, err)
	}
	fp := fingerprint(tok)
	if a.TokenFingerprint != "" && a.TokenFingerprint != fp {
		return fmt.Errorf("apply %s: token of %s is %s, the plan saw %s: %w", s.ID, a.Environment, shortFP(fp), shortFP(a.TokenFingerprint), ErrStalePlan)
	}
	if a.Server != "" && a.Server != m.Server {
		return fmt.Errorf("apply %s: endpoint of %s is %s, the plan saw %s: %w", s.ID, a.Environment, m.Server, a.Server, ErrStalePlan)
	}
	if len(m.CAData) > 0 {
		ca = m.CAData
	}
	cfg, err := json.Marshal(clusterConfig{BearerToken: string(tok), TLSClientConfig: tlsClientConfig{CAData: ca}})
	if err != nil {
		return fmt.Errorf("apply %s: encode cluster config", s.ID) // never wrap: the value holds the token
	}
	sec := corev1ac.Secret(a.Name, a.Namespace).
		WithLabels(map[string]string{secretTypeLabel: "cluster", "app.kubernetes.io/managed-by": "platform", "platform.org/environment": a.Environment}).
		WithAnnotations(map[string]string{FingerprintAnnotation: fp}).
		WithType(corev1.SecretTypeOpaque).
		WithData(map[string][]byte{"name": []byte(a.Environment), "server": []byte(m.Server), "config": cfg})
	if _, err := hub.CoreV1().Secrets(a.Namespace).Apply(ctx, sec, metav1.ApplyOptions{FieldManager: FieldManager, Force: true}); err != nil {
		return fmt.Errorf("apply %s: %w", s.ID, err)
	}
	o.log.Info("cluster registered with Argo CD", zap.String("environment", a.Environment), zap.String("server", m.Server), zap.String("token", shortFP(fp)))
	return nil
}

// toMap converts v to a JSON object.
func toMap(v any) (map[string]any, error) {
	b, err := json.Marshal(v)
	if err != nil {
		return nil, err
	}
	var m map[string]any
	return m, json.Unmarshal(b, &m)
}

// fromMap converts a JSON object to v.
func fromMap(m any, v any) error {
	b, err := json.Marshal(m)
	if err != nil {
		return err
	}
	return json.Unmarshal(b, v)
}

// Option changes how PlanClusters and ApplyStep behave.
type Option func(*options)

type options struct {
	log      *zap.Logger
	timeout  time.Duration
	interval time.Duration
}

func newOptions(opts []Option) options {
	o := options{log: zap.NewNop(), timeout: time.Minute, interval: 500 * time.Millisecond}
	for _, f := range opts {
		f(&o)
	}
	return o
}

// WithLogger sets the logger. Default zap.NewNop(). No token reaches it:
// only fingerprints.
func WithLogger(l *zap.Logger) Option {
	return func(o *options) {
		if l != nil {
			o.log = l
		}
	}
}

// WithTimeout bounds ApplyStep's wait for a managed cluster's token
// controller to issue the manager's token. Default 1 minute.
func WithTimeout(d time.Duration) Option {
	return func(o *options) {
		if d > 0 {
			o.timeout = d
		}
	}
}

// WithPollInterval sets how often ApplyStep looks for the token while it
// waits. Default 500 ms.
func WithPollInterval(d time.Duration) Option {
	return func(o *options) {
		if d > 0 {
			o.interval = d
		}
	}
}
