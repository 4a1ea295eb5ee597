package network

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/netip"
	"slices"
	"strings"
	"time"

	"github.com/linode/linodego"
	"go.uber.org/zap"

	"github.com/org/platform/internal/poll"
	"github.com/org/platform/internal/reconcile"
	"github.com/org/platform/pkg/change"
	"github.com/org/platform/pkg/spec"
)

// EnvTagPrefix starts the tag that marks a Cloud Firewall as the one of an
// environment: "platform.org/env=production", the tag pkg/cluster puts on
// the environment's LKE cluster. A firewall found by label without it is
// adopted (the tag is added); a duplicate is removed only when it carries
// it.
const EnvTagPrefix = "platform.org/env="

// Writes to Linode. Each request is sent once by this package: reads, PUTs
// and DELETEs are repeated after a transient failure by the linodego
// client itself, configured by pkg/linodeclient (see the package doc). A
// POST that creates is never repeated blindly: on any error the shared
// reconcile loop (internal/reconcile) reads again and re-plans, adopting
// what a lost response created; so is any other step whose transient
// failure outlasted the client's retries.

// gone is a DELETE's error with 404 read as success: the object is gone,
// which is what was asked (a lost response to an earlier attempt, which
// the client repeated, leaves exactly that).
func gone(err error) error {
	if err != nil && linodego.IsNotFound(err) {
		return nil
	}
	return err
}

// isRetryable says whether the reconcile loop should re-read and re-plan
// after a step failed with err.
func isRetryable(err error) bool {
	if errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) {
		return false
	}
	t, _ := poll.Transient(err)
	return t
}

// converge returns the reconcile loop's options for o: the package's clock,
// retry intervals and Linode's transient errors. WithMaxRounds counts the
// rounds that apply something (WithMaxRounds(1) is one attempt at the plan).
func (o *options) converge(log *zap.Logger) reconcile.Options {
	return reconcile.Options{
		Clock:     o.clock,
		Log:       log,
		MaxRounds: o.maxRounds,
		Pause:     o.retryInterval,
		MaxPause:  o.maxRetryInterval,
		Transient: func(err error) (bool, time.Duration) {
			if !isRetryable(err) {
				return false, 0
			}
			return poll.Transient(err)
		},
	}
}

// LinodeAPI is the part of the Linode API this package calls: what
// FirewallAPI and VPCAPI need together. ObserveLinode takes it, and so can a
// caller that plans and applies both. The real *linodego.Client satisfies
// it; so does the client pkg/linodetest returns.
type LinodeAPI interface {
	FirewallAPI
	VPCAPI
}

var _ LinodeAPI = (*linodego.Client)(nil)

// Observation is what ObserveLinode read: the Cloud Firewalls and the VPCs
// carrying the labels it was asked about, as the list endpoints return them
// (a firewall with its rules, a VPC with its subnets). PlanFirewallFrom and
// PlanVPCFrom plan from it without any request; they refuse an environment
// whose label the observation does not cover, since "not listed" would
// otherwise read as "absent" and plan a create.
type Observation struct {
	// FirewallLabels are the firewall labels that were looked up, sorted.
	FirewallLabels []string `json:"firewallLabels,omitempty"`
	// Firewalls are the firewalls found under those labels.
	Firewalls []linodego.Firewall `json:"firewalls,omitempty"`
	// VPCLabels are the VPC labels that were looked up, sorted.
	VPCLabels []string `json:"vpcLabels,omitempty"`
	// VPCs are the VPCs found under those labels, each with its subnets.
	VPCs []linodego.VPC `json:"vpcs,omitempty"`
}

// ObserveLinode reads the Cloud Firewalls and VPCs of envs with two requests
// whatever their number (fewer pages permitting): one ListFirewalls and one
// ListVPCs, each filtered to the environments' labels with an X-Filter "+or".
// List items carry a firewall's rules and a VPC's subnets, so nothing is
// read per object. Environments without network.vpc add no VPC label; when
// none has one, ListVPCs is not called.
//
// Reads that fail transiently are retried by the client (configure it with
// pkg/linodeclient), within ctx. Bad input (the
// network.firewall and network.vpc sections of any environment) fails before
// the first request with spec.FieldErrors.
func ObserveLinode(ctx context.Context, api LinodeAPI, envs []spec.Environment, opts ...Option) (Observation, error) {
	if _, err := newOptions(opts); err != nil {
		return Observation{}, err
	}
	var fwLabels, vpcLabels []string
	var errs []error
	for _, env := range envs {
		env = withDefaults(env)
		if err := validate(env, firewallSections, checkFirewall); err != nil {
			errs = append(errs, fmt.Errorf("firewall of environment %q: %w", env.Name, err))
		} else {
			fwLabels = append(fwLabels, env.Network.Firewall.Label)
		}
		if env.Network.VPC == nil {
			continue
		}
		if err := validate(env, vpcSections, nil); err != nil {
			errs = append(errs, fmt.Errorf("VPC of environment %q: %w", env.Name, err))
		} else {
			vpcLabels = append(vpcLabels, env.Network.VPC.Label)
		}
	}
	if err := errors.Join(errs...); err != nil {
		return Observation{}, err
	}
	obs, err := observeFirewalls(ctx, api, fwLabels)
	if err != nil {
		return Observation{}, err
	}
	vobs, err := observeVPCs(ctx, api, vpcLabels)
	if err != nil {
		return Observation{}, err
	}
	obs.VPCLabels, obs.VPCs = vobs.VPCLabels, vobs.VPCs
	return obs, nil
}

// observeFirewalls lists the firewalls labelled labels with one request
// (per page); none for no labels.
func observeFirewalls(ctx context.Context, api FirewallAPI, labels []string) (Observation, error) {
	labels = sortedUnique(labels)
	obs := Observation{FirewallLabels: labels}
	if len(labels) == 0 {
		return obs, nil
	}
	lo, err := labelsFilter(labels)
	if err != nil {
		return obs, fmt.Errorf("list Cloud Firewalls labelled %s: %w", joinList(labels), err)
	}
	all, err := api.ListFirewalls(ctx, lo)
	if err != nil {
		return obs, fmt.Errorf("list Cloud Firewalls labelled %s: %w", joinList(labels), err)
	}
	// The filter is a request, not a promise: check the label here too.
	for _, fw := range all {
		if _, ok := slices.BinarySearch(labels, fw.Label); ok && fw.Status != linodego.FirewallDeleted {
			obs.Firewalls = append(obs.Firewalls, fw)
		}
	}
	return obs, nil
}

// observeVPCs lists the VPCs labelled labels, with their subnets, with one
// request (per page); none for no labels.
func observeVPCs(ctx context.Context, api VPCAPI, labels []string) (Observation, error) {
	labels = sortedUnique(labels)
	obs := Observation{VPCLabels: labels}
	if len(labels) == 0 {
		return obs, nil
	}
	lo, err := labelsFilter(labels)
	if err != nil {
		return obs, fmt.Errorf("list VPCs labelled %s: %w", joinList(labels), err)
	}
	all, err := api.ListVPCs(ctx, lo)
	if err != nil {
		return obs, fmt.Errorf("list VPCs labelled %s: %w", joinList(labels), err)
	}
	for _, v := range all {
		if _, ok := slices.BinarySearch(labels, v.Label); ok {
			obs.VPCs = append(obs.VPCs, v)
		}
	}
	return obs, nil
}

// labelsFilter is the X-Filter that selects objects by any of labels, so
// finding them costs one small request whatever the account holds.
func labelsFilter(labels []string) (*linodego.ListOptions, error) {
	f := linodego.Filter{Operator: "+or"}
	for _, l := range labels {
		f.AddField(linodego.Eq, "label", l)
	}
	b, err := f.MarshalJSON()
	if err != nil {
		return nil, fmt.Errorf("build X-Filter: %w", err)
	}
	return &linodego.ListOptions{Filter: string(b)}, nil
}

func sortedUnique(s []string) []string {
	s = slices.Clone(s)
	slices.Sort(s)
	return slices.Compact(s)
}

// resolveID returns the value of id: known, or the output of the step it
// refers to once that step ran; 0 when neither.
func resolveID(id change.Int, out *change.Outputs) int {
	if id.Ref == nil {
		return id.Value
	}
	raw, ok := out.Get(*id.Ref)
	if !ok {
		return 0
	}
	var v int
	if err := json.Unmarshal(raw, &v); err != nil {
		return 0
	}
	return v
}

// setOutput records an output of a step when the caller collects them.
func setOutput(out *change.Outputs, step, name string, v any) error {
	if out == nil {
		return nil
	}
	return out.Set(step, name, v)
}

// canonicalAddress returns an address or CIDR as a masked CIDR
// ("10.0.0.1" → "10.0.0.1/32"); anything else, such as a Prefix List token
// ("pl::vpcs:123"), is returned as it is.
func canonicalAddress(s string) string {
	if p, err := netip.ParsePrefix(s); err == nil {
		return p.Masked().String()
	}
	if a, err := netip.ParseAddr(s); err == nil {
		return netip.PrefixFrom(a, a.BitLen()).String()
	}
	return s
}

// canonicalAddresses returns addrs canonical, sorted and without
// duplicates; nil stays nil.
func canonicalAddresses(addrs []string) []string {
	if len(addrs) == 0 {
		return nil
	}
	out := make([]string, len(addrs))
	for i, a := range addrs {
		out[i] = canonicalAddress(a)
	}
	slices.Sort(out)
	return slices.Compact(out)
}

// withDefaults returns a copy of env with spec defaults applied; the
// caller's value is never written (see spec.Environment.WithDefaults).
func withDefaults(env spec.Environment) spec.Environment { return env.WithDefaults() }

// joinList renders a list for a change line.
func joinList(items []string) string {
	if len(items) == 0 {
		return "(none)"
	}
	return strings.Join(items, ", ")
}

// convergeDelete runs a teardown through the shared loop: observe, plan the
// deletes (planDelete also returns the id of the object it deletes), apply.
// It returns what was deleted and that id, 0 when nothing was.
func convergeDelete(ctx context.Context, o *options, log *zap.Logger,
	observe func(ctx context.Context) (Observation, error),
	planDelete func(Observation) (change.Plan, int, error),
	step reconcile.StepFunc,
) (change.Result, int, error) {
	deleted := 0
	plan := func(ctx context.Context) (change.Plan, error) {
		obs, err := observe(ctx)
		if err != nil {
			return change.Plan{}, err
		}
		p, id, err := planDelete(obs)
		if deleted == 0 {
			deleted = id
		}
		return p, err
	}
	res, err := reconcile.Converge(ctx, o.converge(log), plan, step, nil)
	if !res.Changed() {
		deleted = 0
	}
	return res, deleted, err
}
