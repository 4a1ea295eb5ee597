package rollout

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"slices"
	"sync"

	"k8s.io/cli-runtime/pkg/genericclioptions"
	"k8s.io/client-go/kubernetes"

	"github.com/org/platform/pkg/change"
	"github.com/org/platform/pkg/cluster"
	"github.com/org/platform/pkg/network"
	"github.com/org/platform/pkg/spec"
)

// SchemaVersion is the version of the plan file format this package writes
// and the only one it reads.
const SchemaVersion = 1

// Artifact is the plan of a rollout, as Plan returns it: what Apply would
// do to one or more environments, as plain data that is written as JSON
// (WriteJSON), read back (ReadPlan), shown to a reviewer (Human), approved
// by its Digest and applied exactly (Apply).
type Artifact struct {
	// SchemaVersion is SchemaVersion.
	SchemaVersion int `json:"schemaVersion"`
	// SpecDigest is the SHA-256 of the environments' specs, canonical JSON.
	SpecDigest string `json:"specDigest"`
	// Digest is the SHA-256 of the canonical JSON of every environment's
	// steps: what an approval names.
	Digest string `json:"planDigest"`
	// Environments are the environments' plans, in the order given.
	Environments []EnvironmentPlan `json:"environments"`
}

// EnvironmentPlan is the plan of one environment: its layers' steps in
// dependency order (firewall and VPC, then the cluster and its pools, then
// the Kubernetes baseline), and the base they were decided on.
type EnvironmentPlan struct {
	// Name is the environment's name.
	Name string `json:"name"`
	// GitOpsOnly marks an environment that is changed only through an
	// approved plan (spec gitops.gitOpsOnly): Apply refuses it unless the
	// caller passes an approval equal to the plan's Digest.
	GitOpsOnly bool `json:"gitOpsOnly"`
	// Spec is the environment's spec, defaults applied. It holds no secret
	// values: the spec references secrets, never inlines them.
	Spec spec.Environment `json:"spec"`
	// SpecDigest is the SHA-256 of Spec.
	SpecDigest string `json:"specDigest"`
	// ClusterID is the cluster's id, or a reference to the step that
	// creates it.
	ClusterID change.Int `json:"clusterID"`
	// Kubernetes says how the Kubernetes layer was planned: against the
	// live cluster by server-side dry-run, as everything to create because
	// the cluster does not exist yet, or not at all (and why).
	Kubernetes string `json:"kubernetes"`
	// Steps are the steps, in the order Apply runs them.
	Steps []change.Step `json:"steps"`
	// Base maps each observed value a decision compared to that value;
	// BaseDigest is its SHA-256. Apply refuses a plan whose base moved.
	Base       map[string]string `json:"base"`
	BaseDigest string            `json:"baseDigest"`
	// Retained lists objects the spec no longer wants that stay, and why.
	Retained []change.Retained `json:"retained,omitempty"`
	// Posture lists drift of the security posture that no field shows
	// (network.Posture): NetworkPolicies someone else made in our
	// namespaces that open flows, and bindings the spec does not declare
	// that grant everything, escalate, bind or impersonate. Apply does not
	// remove them (they are not ours); a drift check reports them.
	Posture []network.Finding `json:"posture,omitempty"`
	// Baseline says how the baseline releases were planned (or why not).
	Baseline string `json:"baseline,omitempty"`
	// Warnings are what a reviewer must read before approving, whatever
	// the steps (a component retired upstream, for one).
	Warnings []string `json:"warnings,omitempty"`
	// Rendered lists the baseline's releases as they would be installed,
	// when the Kubernetes layer was not planned (no Kubernetes API): each
	// chart rendered with its values, so the plan still shows them.
	Rendered []RenderedRelease `json:"rendered,omitempty"`
}

// How the Kubernetes layer of an environment was planned.
const (
	KubernetesLive    = "planned against the live cluster (server-side dry-run)"
	KubernetesNew     = "planned as new: the cluster does not exist yet"
	kubernetesSkipped = "not planned: "
)

// Empty reports whether the plan changes nothing.
func (p Artifact) Empty() bool {
	for _, e := range p.Environments {
		if len(e.Steps) > 0 {
			return false
		}
	}
	return true
}

// Drifted reports whether the live world differs from the specs: the plan
// has steps, or an environment's security posture has findings.
func (p Artifact) Drifted() bool {
	for _, e := range p.Environments {
		if len(e.Steps) > 0 || len(e.Posture) > 0 {
			return true
		}
	}
	return false
}

// Environment returns the plan of environment name.
func (p Artifact) Environment(name string) (EnvironmentPlan, bool) {
	for _, e := range p.Environments {
		if e.Name == name {
			return e, true
		}
	}
	return EnvironmentPlan{}, false
}

// Result lists every change of the plan.
func (p Artifact) Result() change.Result {
	var r change.Result
	for _, e := range p.Environments {
		r.Merge(e.Result())
	}
	return r
}

// Result lists the changes of the environment's steps.
func (e EnvironmentPlan) Result() change.Result {
	cp := change.Plan{Steps: e.Steps, Retained: e.Retained}
	return cp.Result()
}

// stepsDigest is the plan digest: SHA-256 over the canonical JSON of every
// environment's name and steps.
func stepsDigest(envs []EnvironmentPlan) (string, error) {
	type envSteps struct {
		Name  string        `json:"name"`
		Steps []change.Step `json:"steps"`
	}
	all := make([]envSteps, len(envs))
	for i, e := range envs {
		all[i] = envSteps{Name: e.Name, Steps: e.Steps}
	}
	return change.Digest(all)
}

func specsDigest(envs []EnvironmentPlan) (string, error) {
	specs := make([]spec.Environment, len(envs))
	for i, e := range envs {
		specs[i] = e.Spec
	}
	return change.Digest(specs)
}

// seal fills in the digests.
func (p *Artifact) seal() error {
	p.SchemaVersion = SchemaVersion
	for i := range p.Environments {
		e := &p.Environments[i]
		var err error
		if e.SpecDigest, err = change.Digest(e.Spec); err != nil {
			return err
		}
		if e.BaseDigest, err = change.Digest(e.Base); err != nil {
			return err
		}
	}
	var err error
	if p.SpecDigest, err = specsDigest(p.Environments); err != nil {
		return err
	}
	p.Digest, err = stepsDigest(p.Environments)
	return err
}

// Plan observes the environments and returns what Apply would
// do to make each one match its spec. It never writes: on Linode it reads,
// on Kubernetes it reads and sends server-side applies in dry-run only.
//
// Every environment is validated first, before any request; an invalid
// spec anywhere returns spec.FieldErrors naming the environment and field,
// and nothing is sent. Environments that share a Linode client are observed
// together: one filtered list of their clusters, one of their firewalls
// (rules included), one of their VPCs (subnets included), and per existing
// cluster its pools and its control-plane ACL — plus, when the Kubernetes
// layers are planned, one kubeconfig read per existing cluster.
//
// An environment whose planning fails does not stop the others: the plan
// holds every environment that could be planned, and the error names each
// one that could not.
func Plan(ctx context.Context, deps Deps, envs ...spec.Environment) (Artifact, error) {
	d, err := deps.withDefaults()
	if err != nil {
		return Artifact{}, err
	}
	if err := validate(d, envs); err != nil {
		return Artifact{}, err
	}
	d = d.withFleet(envs)
	plans, errs := planAll(ctx, d, envs)
	p := Artifact{}
	for i := range envs {
		if errs[i] == nil {
			p.Environments = append(p.Environments, plans[i])
		}
	}
	if err := p.seal(); err != nil {
		return p, err
	}
	return p, joinEnvErrors(envs, errs)
}

// observation is what one Linode account holds for a group of
// environments.
type observation struct {
	net network.Observation
	lke cluster.Observation
}

// observe reads the firewalls, VPCs and clusters of envs, which share api.
func observe(ctx context.Context, d Deps, api LinodeAPI, envs []spec.Environment) (observation, error) {
	var obs observation
	var err error
	if obs.net, err = network.ObserveLinode(ctx, api, envs, d.networkOpts("")...); err != nil {
		return obs, fmt.Errorf("observe the firewalls and VPCs: %w", err)
	}
	targets := make([]cluster.Target, len(envs))
	for i, env := range envs {
		// The target says whether pools are attached to a firewall; every
		// environment's pools are.
		targets[i] = cluster.TargetOf(env, cluster.Placement{FirewallID: change.Known(1)})
	}
	if obs.lke, err = cluster.Observe(ctx, api, targets, d.clusterOpts("")...); err != nil {
		return obs, fmt.Errorf("observe the LKE clusters: %w", err)
	}
	return obs, nil
}

// planAll plans envs, observing once per Linode client, and the
// environments concurrently after that.
func planAll(ctx context.Context, d Deps, envs []spec.Environment) ([]EnvironmentPlan, []error) {
	plans := make([]EnvironmentPlan, len(envs))
	errs := make([]error, len(envs))
	groups := map[LinodeAPI][]int{}
	var order []LinodeAPI
	for i, env := range envs {
		api := d.linodeFor(env.Name)
		if _, ok := groups[api]; !ok {
			order = append(order, api)
		}
		groups[api] = append(groups[api], i)
	}
	var wg sync.WaitGroup
	for _, api := range order {
		idx := groups[api]
		group := make([]spec.Environment, len(idx))
		for j, i := range idx {
			group[j] = envs[i]
		}
		obs, err := observe(ctx, d, api, group)
		if err != nil {
			for _, i := range idx {
				errs[i] = err
			}
			continue
		}
		for _, i := range idx {
			wg.Go(func() {
				plans[i], errs[i] = planEnvironment(ctx, d, api, obs, envs[i])
			})
		}
	}
	wg.Wait()
	return plans, errs
}

// planEnvironment plans one environment's layers from obs, in dependency
// order; the Kubernetes layer is read from the live cluster when it exists.
func planEnvironment(ctx context.Context, d Deps, api LinodeAPI, obs observation, env spec.Environment) (EnvironmentPlan, error) {
	env = env.WithDefaults()
	ep := EnvironmentPlan{Name: env.Name, GitOpsOnly: env.GitOps.GitOpsOnly, Spec: env, Base: map[string]string{}}
	nopts := d.networkOpts(env.Name)
	fw, err := network.PlanFirewallFrom(obs.net, env, nopts...)
	if err != nil {
		return ep, err
	}
	vpc, err := network.PlanVPCFrom(obs.net, env, nopts...)
	if err != nil {
		return ep, err
	}
	place := cluster.Placement{FirewallID: fw.ID}
	if sub, ok := vpc.Subnets[d.NodeSubnet]; ok {
		place.VPCID, place.SubnetID = vpc.ID, sub
	}
	cl, err := cluster.PlanFrom(obs.lke, env, place, d.clusterOpts(env.Name)...)
	if err != nil {
		return ep, err
	}
	ep.ClusterID = cl.ID
	var all change.Plan
	all.Append(fw.Plan)
	all.Append(vpc.Plan)
	all.Append(cl.Plan)

	kp, how, kube, kubeconfig, err := planKubernetes(ctx, d, api, env, cl.ID)
	if err != nil {
		return ep, err
	}
	if kube != nil {
		// Drift no field shows: foreign NetworkPolicies that open flows,
		// bindings that grant everything.
		popts := append(slices.Clone(nopts), declaredOpts(d, env)...)
		if ep.Posture, err = network.Posture(ctx, kube, env, popts...); err != nil {
			return ep, fmt.Errorf("check the security posture: %w", err)
		}
	}
	ep.Kubernetes = how
	all.Append(kp.Plan)

	bhow := baselineLive
	var helm genericclioptions.RESTClientGetter
	switch {
	case d.BaselineSkipped != "":
		ep.Baseline = "not planned: " + d.BaselineSkipped
		bhow = baselineNone
	case d.KubernetesSkipped != "":
		ep.Baseline = "rendered only (no Kubernetes API): " + d.KubernetesSkipped
		bhow = baselineRender
		bhow = baselineRender
	case cl.ID.Ref != nil:
		ep.Baseline = KubernetesNew
		bhow = baselineNew
	default:
		ep.Baseline = "planned against the live releases (server-side dry-run of their objects)"
		if helm, err = d.Helm(ctx, env.Name, kubeconfig); err != nil {
			return ep, err
		}
	}
	bp, rendered, warnings, err := planBaseline(ctx, d, env, helm, bhow)
	if err != nil {
		return ep, fmt.Errorf("plan the baseline releases: %w", err)
	}
	all.Append(bp)
	ep.Rendered, ep.Warnings = rendered, warnings
	ep.Steps = all.Steps
	if ep.Steps == nil {
		ep.Steps = []change.Step{}
	}
	maps.Copy(ep.Base, all.Base)
	ep.Retained = all.Retained
	return ep, nil
}

// planKubernetes plans the Kubernetes layer: by dry-run against the live
// cluster when it exists, as creating everything when it does not yet.
func planKubernetes(ctx context.Context, d Deps, api LinodeAPI, env spec.Environment, id change.Int) (network.KubernetesPlan, string, kubernetes.Interface, []byte, error) {
	nopts := d.networkOpts(env.Name)
	switch {
	case d.KubernetesSkipped != "":
		return network.KubernetesPlan{}, kubernetesSkipped + d.KubernetesSkipped, nil, nil, nil
	case id.Ref != nil:
		kp, err := network.PlanKubernetesNew(env, nopts...)
		return kp, KubernetesNew, nil, nil, err
	}
	kube, kc, err := kubeClient(ctx, d, api, env.Name, id.Value)
	if err != nil {
		return network.KubernetesPlan{}, "", nil, nil, err
	}
	kp, err := network.PlanKubernetes(ctx, kube, env, nopts...)
	if err != nil {
		return kp, "", nil, nil, fmt.Errorf("plan the Kubernetes baseline: %w", err)
	}
	return kp, KubernetesLive, kube, kc, nil
}

// kubeClient reads the cluster's kubeconfig (one GET once it is available)
// and builds its Kubernetes client; it returns the kubeconfig too, for the
// Helm client.
func kubeClient(ctx context.Context, d Deps, api LinodeAPI, env string, clusterID int) (k kubernetes.Interface, kubeconfig []byte, err error) {
	kc, err := cluster.Kubeconfig(ctx, api, clusterID, d.clusterOpts(env)...)
	if err != nil {
		return nil, nil, fmt.Errorf("get the kubeconfig of LKE cluster %d: %w", clusterID, err)
	}
	k, err = d.Kubernetes(ctx, env, kc)
	return k, kc, err
}

// joinEnvErrors names each environment whose error is not nil.
func joinEnvErrors(envs []spec.Environment, errs []error) error {
	var out []error
	for i, err := range errs {
		if err != nil {
			out = append(out, &EnvironmentError{Environment: envs[i].Name, Err: err})
		}
	}
	return errors.Join(out...)
}

// EnvironmentError is the error of one environment of a rollout.
type EnvironmentError struct {
	Environment string
	Err         error
}

func (e *EnvironmentError) Error() string {
	return fmt.Sprintf("environment %q: %v", e.Environment, e.Err)
}

func (e *EnvironmentError) Unwrap() error { return e.Err }

// Names returns the environments' names, in order.
func (p Artifact) Names() []string {
	out := make([]string, len(p.Environments))
	for i, e := range p.Environments {
		out[i] = e.Name
	}
	return slices.Clip(out)
}
