package network

import (
	"errors"
	"fmt"

	"github.com/org/platform/pkg/spec"
)

// Validate checks every section of env this package reads — the firewall,
// the VPC and the Kubernetes baseline — with the same checks its Plan and
// Ensure functions run before their first request, and returns every
// problem at once (spec.FieldErrors, naming each field from the YAML root).
// It sends nothing: callers composing several concerns validate every
// environment up front with it, so that no write happens for a spec that
// one of them would refuse later.
func Validate(env spec.Environment, opts ...Option) error {
	o, err := newOptions(opts)
	if err != nil {
		return err
	}
	env = withDefaults(env)
	var errs []error
	if err := validate(env, firewallSections, checkFirewall); err != nil {
		errs = append(errs, fmt.Errorf("firewall: %w", err))
	}
	if _, err := newVPCRun(env, opts); err != nil {
		errs = append(errs, fmt.Errorf("VPC: %w", err))
	}
	if err := validate(env, kubernetesSections, func(env spec.Environment) spec.FieldErrors { return checkKubernetes(env, o) }); err != nil {
		errs = append(errs, fmt.Errorf("Kubernetes baseline: %w", err))
	}
	return errors.Join(errs...)
}
