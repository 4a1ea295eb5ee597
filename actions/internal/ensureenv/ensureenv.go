// Package ensureenv is the body of the ensure-env action
// (actions/ensure-env): Run, and the action's input and output tables.
//
// The action org/platform/actions/ensure-env:
// it makes the environments named by its inputs match their specs with
// pkg/rollout, and hands each cluster's id, API endpoint and kubeconfig to
// the steps after it. See README.md.
//
// With plan-file it applies exactly that saved plan (rollout.Apply), a
// GitOps-only environment only when approved-digest is the plan's digest,
// and refuses a stale plan naming what moved. Without plan-file it plans
// and applies in one step (rollout.Ensure), refusing GitOps-only
// environments that have changes: those go through a saved, approved plan.
//
// Records: every apply takes each environment's lock, writes a snapshot of
// what it found and appends an audit record (rollout.WithRecords) in the
// store input — what the rollback action rolls back to — on behalf of the
// actor. Without a store: on the simulator a directory (records.DefaultDir),
// on the Linode API no records, with a warning. create-store makes an
// s3:// store's bucket and key through the Linode API when no key is
// given (records.Create); the new key's secret is masked and output once,
// as store-secret-key, for the workflow to save as a repository secret.
//
// Exit codes: 0 when every environment converged, 1 otherwise, with an
// ::error:: annotation per problem.
package ensureenv

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"github.com/sethvargo/go-githubactions"
	"go.uber.org/zap"
	"k8s.io/client-go/tools/clientcmd"

	"github.com/org/platform/actions/internal/gha"
	"github.com/org/platform/actions/internal/records"
	"github.com/org/platform/internal/local"
	"github.com/org/platform/pkg/change"
	"github.com/org/platform/pkg/cluster"
	"github.com/org/platform/pkg/objectstorage"
	"github.com/org/platform/pkg/rollout"
	"github.com/org/platform/pkg/spec"
	"github.com/org/platform/pkg/store"
)

// Input names.
const (
	inEnvironments   = "environments"
	inSpecDir        = "spec-dir"
	inToken          = "linode-token"
	inPlanFile       = "plan-file"
	inApprovedDigest = "approved-digest"
	inKubeconfigPath = "kubeconfig-path"
	inStore          = records.InStore
	inAccessKey      = records.InAccessKey
	inSecretKey      = records.InSecretKey
	inCreateStore    = "create-store"
	inActor          = "actor"
)

// Output names.
const (
	outClusterID   = "cluster-id"
	outAPIEndpoint = "api-endpoint"
	outKubeconfig  = "kubeconfig-path"
	outDigest      = "plan-digest"
	outAccessKey   = "store-access-key"
	outSecretKey   = "store-secret-key"
)

// action names this action in the lock's holder and the audit records.
const action = "org/platform/actions/ensure-env"

// Inputs is the action's inputs: action.yml declares exactly these (a test
// holds them equal) and run reads them only through this table.
var Inputs = []gha.Input{
	{Name: inEnvironments, Default: gha.AllEnvironments},
	{Name: inSpecDir},
	{Name: inToken, Secret: true},
	{Name: inPlanFile},
	{Name: inApprovedDigest},
	{Name: inKubeconfigPath},
	{Name: inStore},
	{Name: inAccessKey, Secret: true},
	{Name: inSecretKey, Secret: true},
	{Name: inCreateStore, Default: "false"},
	{Name: inActor},
}

// Outputs is the action's outputs, as action.yml declares them.
var Outputs = []gha.Output{{Name: outClusterID}, {Name: outAPIEndpoint}, {Name: outKubeconfig}, {Name: outDigest},
	{Name: outAccessKey}, {Name: outSecretKey}}

// Run is the action: inputs from a's environment, outputs and the step
// summary through a's files, workflow commands on a's writer. Every error
// it returns has been annotated with ::error::.
func Run(ctx context.Context, a *githubactions.Action, connect gha.ConnectFunc, log *zap.Logger) error {
	return RunWith(ctx, a, connect, log)
}

// Option changes how RunWith runs the action.
type Option func(*options)

type options struct {
	storeTransport http.RoundTripper
}

// WithStoreTransport carries an s3:// store's requests through rt (the
// simulator's linodetest.Server.S3Transport, whose certificate is a test
// one). Default: minio-go's own HTTPS transport.
func WithStoreTransport(rt http.RoundTripper) Option {
	return func(o *options) { o.storeTransport = rt }
}

// RunWith is Run with opts.
func RunWith(ctx context.Context, a *githubactions.Action, connect gha.ConnectFunc, log *zap.Logger, opts ...Option) error {
	var o options
	for _, f := range opts {
		f(&o)
	}
	return gha.Annotate(a, ensure(ctx, a, connect, log, o))
}

// request is the inputs, checked.
type request struct {
	names          []string
	envs           []spec.Environment // without a plan file
	plan           *rollout.Artifact  // with one
	approved       string
	kubeconfigDir  string
	token, specDir string
	store          records.Location
	createStore    bool
	owner          string
}

func ensure(ctx context.Context, a *githubactions.Action, connect gha.ConnectFunc, log *zap.Logger, o options) error {
	in, err := gha.Read(a, Inputs) // masks the token and the store's keys first
	if err != nil {
		return err
	}
	var req request
	if err := gha.Phase(a, "Read the inputs", func() error { return readRequest(a, in, &req) }); err != nil {
		return err
	}

	e, err := connect(ctx, req.token, log)
	if err != nil {
		return fmt.Errorf("connect: %w", err)
	}
	defer e.Close()
	if e.Simulated {
		a.Warningf("no linode-token: ensuring on %s, not on a Linode account", e.Where)
	}

	var st store.Store
	if err := gha.Phase(a, "Open the store", func() error {
		st, err = openStore(ctx, a, e, &req, o, log)
		return err
	}); err != nil {
		return err
	}
	var applyOpts []rollout.ApplyOption
	if st != nil {
		applyOpts = append(applyOpts, rollout.WithRecords(rollout.Records{Store: st, Owner: req.owner}))
	}

	var res rollout.Result
	var applyErr error
	if req.plan != nil {
		applyErr = gha.Phase(a, "Apply the saved plan "+req.plan.Digest, func() error {
			a.AddStepSummary(gha.PlanSummary("Applying the saved plan: "+strings.Join(req.plan.Names(), ", "), *req.plan))
			gha.SetOutput(a, Outputs, outDigest, req.plan.Digest)
			res, err = rollout.Apply(ctx, e.Deps, *req.plan, append(applyOpts, rollout.WithApproval(req.approved))...)
			return err
		})
	} else {
		applyErr = gha.Phase(a, "Plan and apply "+strings.Join(req.names, ", "), func() error {
			// The plan is shown and its digest output before Ensure, which
			// plans again from fresh reads and converges.
			p, err := rollout.Plan(ctx, e.Deps, req.envs...)
			if err != nil {
				return fmt.Errorf("plan: %w", err)
			}
			a.Infof("%s", p.String())
			a.AddStepSummary(gha.PlanSummary("Plan and apply: "+strings.Join(p.Names(), ", "), p))
			gha.SetOutput(a, Outputs, outDigest, p.Digest)
			res, err = rollout.Ensure(ctx, e.Deps, req.envs, applyOpts...)
			return err
		})
	}
	if len(res.Environments) > 0 {
		a.AddStepSummary("### Result\n\n" + gha.ResultTable(res))
	}
	if st != nil && len(res.Environments) > 0 {
		a.AddStepSummary(recordsSummary(ctx, st, req, res))
	}
	outErr := gha.Phase(a, "Outputs", func() error { return setOutputs(ctx, a, e, req, res) })
	return errors.Join(applyErr, outErr)
}

// readRequest checks the inputs before anything is sent.
func readRequest(a *githubactions.Action, in gha.Values, req *request) error {
	req.token = in.Get(inToken)
	req.specDir = gha.Path(a, in.Get(inSpecDir))
	req.kubeconfigDir = gha.Path(a, in.Get(inKubeconfigPath))
	req.approved = in.Get(inApprovedDigest)
	planFile := gha.Path(a, in.Get(inPlanFile))
	req.owner = records.Owner(a, in.Get(inActor), action)

	var errs []error
	errs = append(errs, readStore(a, in, req))
	names, err := gha.Environments(in.Get(inEnvironments), req.specDir != "")
	errs = append(errs, err)
	req.names = names
	if req.approved != "" {
		errs = append(errs, gha.Digest(inApprovedDigest, req.approved))
		if planFile == "" {
			errs = append(errs, fmt.Errorf("%s: given without %s: an approval names a saved plan", inApprovedDigest, inPlanFile))
		}
	}
	if err := errors.Join(errs...); err != nil {
		return err
	}

	if planFile == "" {
		req.envs, err = gha.LoadSpecs(req.specDir, names)
		return err
	}
	p, err := readPlan(planFile)
	if err != nil {
		return err
	}
	req.plan = &p
	return checkPlan(req, p)
}

func readPlan(path string) (rollout.Artifact, error) {
	f, err := os.Open(path)
	if err != nil {
		return rollout.Artifact{}, fmt.Errorf("%s: %w", inPlanFile, err)
	}
	defer f.Close()
	p, err := rollout.ReadPlan(f)
	if err != nil {
		return rollout.Artifact{}, fmt.Errorf("%s %s: %w", inPlanFile, path, err)
	}
	return p, nil
}

// checkPlan holds a saved plan to the other inputs: environments bounds
// what it may change, spec-dir (when given) must be the specs it was made
// from, and an approval must be of this plan.
func checkPlan(req *request, p rollout.Artifact) error {
	var errs []error
	for _, ep := range p.Environments {
		if !slices.Contains(req.names, ep.Name) {
			errs = append(errs, fmt.Errorf("%s: the plan changes environment %q, which environments (%s) does not name", inPlanFile, ep.Name, strings.Join(req.names, ", ")))
		}
	}
	if req.specDir != "" {
		specs, err := gha.LoadSpecs(req.specDir, p.Names())
		if err != nil {
			return errors.Join(append(errs, err)...)
		}
		for i, ep := range p.Environments {
			want, err1 := change.Digest(specs[i].WithDefaults())
			got, err2 := change.Digest(ep.Spec.WithDefaults())
			if err := errors.Join(err1, err2); err != nil || want != got {
				errs = append(errs, fmt.Errorf("%s: environment %q was planned from another spec than spec-dir's: plan again", inPlanFile, ep.Name))
			}
		}
	}
	if req.approved != "" && req.approved != p.Digest {
		var gated []string
		for _, ep := range p.Environments {
			if ep.GitOpsOnly {
				gated = append(gated, ep.Name)
			}
		}
		msg := fmt.Sprintf("%s %s is not the digest of plan-file (%s): the approval is of another plan; nothing is applied", inApprovedDigest, req.approved, p.Digest)
		if len(gated) > 0 {
			msg += fmt.Sprintf(" (GitOps-only, refused: %s): %v", strings.Join(gated, ", "), change.ErrApprovalRequired)
		}
		errs = append(errs, errors.New(msg))
	}
	req.names = p.Names()
	return errors.Join(errs...)
}

// setOutputs sets cluster-id and api-endpoint (JSON maps environment →
// value) for every environment with a cluster, and writes each cluster's
// kubeconfig to the kubeconfig directory when one is given. A kubeconfig's
// credentials are masked before anything else is done with it.
func setOutputs(ctx context.Context, a *githubactions.Action, e *local.Env, req request, res rollout.Result) error {
	ids := map[string]int{}
	endpoints := map[string]string{}
	var errs []error
	if req.kubeconfigDir != "" {
		if err := os.MkdirAll(req.kubeconfigDir, 0o700); err != nil {
			return fmt.Errorf("%s: %w", inKubeconfigPath, err)
		}
	}
	for _, er := range res.Environments {
		if er.ClusterID == 0 {
			continue
		}
		ids[er.Name] = er.ClusterID
		api := e.Deps.Linode
		if c, ok := e.Deps.LinodeFor[er.Name]; ok && c != nil {
			api = c
		}
		kc, err := cluster.Kubeconfig(ctx, api, er.ClusterID, cluster.WithClock(e.Deps.Clock), cluster.WithLogger(e.Deps.Logger))
		if err != nil {
			errs = append(errs, fmt.Errorf("environment %q: %w", er.Name, err))
			continue
		}
		server, err := maskKubeconfig(a, kc)
		if err != nil {
			errs = append(errs, fmt.Errorf("environment %q: %w", er.Name, err))
			continue
		}
		endpoints[er.Name] = server
		if req.kubeconfigDir != "" {
			if err := cluster.WriteKubeconfig(filepath.Join(req.kubeconfigDir, er.Name+".kubeconfig"), kc); err != nil {
				errs = append(errs, fmt.Errorf("environment %q: %w", er.Name, err))
			}
		}
	}
	idJSON, _ := json.Marshal(ids)       // a map of ints always marshals
	epJSON, _ := json.Marshal(endpoints) // and of strings
	gha.SetOutput(a, Outputs, outClusterID, string(idJSON))
	gha.SetOutput(a, Outputs, outAPIEndpoint, string(epJSON))
	gha.SetOutput(a, Outputs, outKubeconfig, req.kubeconfigDir)
	return errors.Join(errs...)
}

// maskKubeconfig masks every credential of a kubeconfig — tokens,
// passwords, client keys and certificates, as they appear in the file
// (base64) and decoded, line by line — and returns the API server of its
// current context. A kubeconfig that does not parse is masked whole, line
// by line, and refused.
func maskKubeconfig(a *githubactions.Action, kc []byte) (string, error) {
	cfg, err := clientcmd.Load(kc)
	if err != nil {
		gha.Mask(a, string(kc))
		return "", errors.New("the cluster's kubeconfig does not parse") // the parser's error may quote it
	}
	for _, u := range cfg.AuthInfos {
		for _, s := range []string{u.Token, u.Password} {
			gha.Mask(a, s)
		}
		for _, b := range [][]byte{u.ClientKeyData, u.ClientCertificateData} {
			if len(b) > 0 {
				gha.Mask(a, base64.StdEncoding.EncodeToString(b))
				gha.Mask(a, string(b))
			}
		}
	}
	ctxName := cfg.CurrentContext
	c, ok := cfg.Contexts[ctxName]
	if !ok {
		return "", fmt.Errorf("the cluster's kubeconfig has no current context %q", ctxName)
	}
	cl, ok := cfg.Clusters[c.Cluster]
	if !ok || cl.Server == "" {
		return "", fmt.Errorf("the cluster's kubeconfig has no server for cluster %q", c.Cluster)
	}
	return cl.Server, nil
}

// readStore checks the store inputs: create-store is true or false, and
// only for an s3:// store; an s3:// store without create-store needs both
// keys, and with it both or neither (neither: create-store makes the key).
func readStore(a *githubactions.Action, in gha.Values, req *request) error {
	loc, err := records.Parse(a, in)
	if err != nil {
		return err
	}
	req.store = loc
	switch v := in.Get(inCreateStore); v {
	case "true":
		req.createStore = true
	case "false":
	default:
		return fmt.Errorf("%s: %q; want true or false", inCreateStore, v)
	}
	switch {
	case req.createStore && !loc.IsS3():
		return fmt.Errorf("%s: true is for an s3:// store, and store is %q", inCreateStore, loc.String())
	case req.createStore && (loc.AccessKey == "") != (loc.SecretKey == ""):
		return fmt.Errorf("%s, %s: give both (the key create-store made and output) or neither (create-store makes one)", inAccessKey, inSecretKey)
	case !req.createStore:
		return loc.Keys()
	}
	return nil
}

// openStore returns the store the apply keeps its records in, nil for
// none. No store given: on the simulator records.DefaultDir, on the Linode
// API none, with a warning. An s3:// store with create-store and no keys
// gets its bucket and a key through the Linode API; the key's secret is
// masked before it is output, once. It fails, having applied nothing, when
// the key exists and its secret was not given.
func openStore(ctx context.Context, a *githubactions.Action, e *local.Env, req *request, o options, log *zap.Logger) (store.Store, error) {
	loc := req.store
	if loc.IsZero() {
		if !e.Simulated {
			a.Warningf("no store: applying without records — no lock, no snapshot to roll back to, no audit record. Set store to a directory or s3://<endpoint>/<bucket> (create-store makes the bucket and its key)")
			return nil, nil
		}
		loc = records.Location{Dir: records.DefaultDir(a)}
		a.Infof("no store: keeping the simulator's records in %s", loc.Dir)
	}
	if loc.IsS3() && req.createStore && loc.AccessKey == "" {
		api, ok := e.Deps.Linode.(records.API)
		if !ok {
			return nil, fmt.Errorf("%s: the Linode client (%T) cannot make Object Storage buckets and keys", inCreateStore, e.Deps.Linode)
		}
		var made records.Made
		var err error
		loc, made, err = records.Create(ctx, api, loc, objectstorage.WithLogger(log))
		if err != nil {
			return nil, err
		}
		// Masked before anything else is done with it; output this once.
		gha.Mask(a, made.Key.SecretKey)
		gha.SetOutput(a, Outputs, outAccessKey, made.Key.AccessKey)
		gha.SetOutput(a, Outputs, outSecretKey, made.Key.SecretKey)
		a.Noticef("created the store's Object Storage key %q (bucket %s: %s): its secret is the output %s, this once — Linode never shows it again. "+
			"Save %s and %s as repository secrets and pass them as the inputs of the same names", made.Key.Label, made.Bucket.Label,
			made.Bucket.Op(), outSecretKey, outAccessKey, outSecretKey)
		a.AddStepSummary(fmt.Sprintf("### Store\n\nCreated the Object Storage key `%s` to bucket `%s` (%s). Its secret is the step output `%s`, handed out this once: save it and `%s` as repository secrets.\n",
			made.Key.Label, made.Bucket.Label, made.Bucket.Op(), outSecretKey, outAccessKey))
	}
	var opts []records.OpenOption
	if o.storeTransport != nil {
		opts = append(opts, records.WithTransport(o.storeTransport))
	}
	st, err := loc.Open(opts...)
	if err != nil {
		return nil, err
	}
	a.Infof("records: %s, on behalf of %s", loc.String(), req.owner)
	return st, nil
}

// recordsSummary is the step summary's line per environment applied with
// records: the store, the newest snapshot of the environment and the
// newest audit record of this run's owner for it. It only reads; a record
// it cannot read is named as such.
func recordsSummary(ctx context.Context, st store.Store, req request, res rollout.Result) string {
	var b strings.Builder
	b.WriteString("### Records\n\n| Environment | Snapshot | Audit record |\n|---|---|---|\n")
	for _, er := range res.Environments {
		snap, audit := "none", "none"
		if refs, err := store.ListSnapshots(ctx, st, er.Name); err != nil {
			snap = "unreadable: " + err.Error()
		} else if len(refs) > 0 {
			snap = "`" + refs[len(refs)-1].Key + "`"
		}
		rec, found, err := store.LastAudit(ctx, st, func(r store.AuditRecord) bool {
			return r.Who == req.owner && slices.Contains(r.Environments, er.Name)
		})
		switch {
		case err != nil:
			audit = "unreadable: " + err.Error()
		case found:
			audit = fmt.Sprintf("`%s` (%s by %s)", rec.Key, rec.Result, rec.Who)
		}
		fmt.Fprintf(&b, "| %s | %s | %s |\n", er.Name, snap, strings.NewReplacer("|", `\|`, "\n", " ").Replace(audit))
	}
	return b.String()
}
