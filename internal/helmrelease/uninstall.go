package helmrelease

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"go.uber.org/zap"
	"helm.sh/helm/v3/pkg/action"
	"helm.sh/helm/v3/pkg/chartutil"
	"helm.sh/helm/v3/pkg/storage/driver"
	"k8s.io/apimachinery/pkg/util/validation"
	"k8s.io/cli-runtime/pkg/genericclioptions"
)

// Uninstall removes release name from namespace, for teardown: helm
// uninstall, waiting until every object of its manifest is gone, at most
// WithTimeout (or until ctx's deadline, when that is sooner). Its history
// is removed too. It is idempotent: a release that does not exist is not
// an error, and a release in any state, pending ones included, is
// uninstalled.
//
// As with Helm, CRDs of the chart's crds/ directory, and the namespace,
// stay; hooks annotated helm.sh/resource-policy: keep and objects so
// annotated stay too. A bad name or namespace is an error wrapping
// ErrInvalid, before any request.
func Uninstall(ctx context.Context, kube genericclioptions.RESTClientGetter, namespace, name string, opts ...Option) error {
	o, err := newOptions(opts)
	if err != nil {
		return err
	}
	var errs []string
	if err := chartutil.ValidateReleaseName(name); err != nil {
		errs = append(errs, fmt.Sprintf("name: %v (got %q)", err, name))
	}
	if msgs := validation.IsDNS1123Label(namespace); len(msgs) > 0 {
		errs = append(errs, fmt.Sprintf("namespace: %s (got %q)", strings.Join(msgs, "; "), namespace))
	}
	if len(errs) > 0 {
		return fmt.Errorf("%w %s/%s: %s", ErrInvalid, namespace, name, strings.Join(errs, "; "))
	}
	if err := ctx.Err(); err != nil {
		return fmt.Errorf("uninstall release %s/%s: %w", namespace, name, err)
	}
	cfg, err := o.config(kube, namespace)
	if err != nil {
		return err
	}
	// Helm's IgnoreNotFound would take any error reading the history
	// (a 403, say) for an absent release: read it here instead.
	h, err := cfg.Releases.History(name)
	if errors.Is(err, driver.ErrReleaseNotFound) || (err == nil && len(h) == 0) {
		o.log.Debug("release absent: nothing to uninstall", zap.String("release", namespace+"/"+name))
		return nil
	}
	if err != nil {
		return fmt.Errorf("uninstall release %s/%s: read its history: %w", namespace, name, err)
	}
	un := action.NewUninstall(cfg)
	un.Wait, un.Timeout = true, o.timeout
	if d, ok := ctx.Deadline(); ok && time.Until(d) < un.Timeout {
		// Helm's uninstall takes no context: its wait is bounded by the
		// timeout only.
		un.Timeout = time.Until(d)
	}
	o.log.Info("uninstalling", zap.String("release", namespace+"/"+name), zap.Duration("timeout", un.Timeout))
	if _, err := un.Run(name); err != nil {
		return fmt.Errorf("uninstall release %s/%s: %w", namespace, name, err)
	}
	return nil
}
