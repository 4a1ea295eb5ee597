package helmrelease

import (
	"context"
	"fmt"

	"k8s.io/cli-runtime/pkg/genericclioptions"
)

// DeployedRelease is what Helm's storage holds of a release's deployed
// revision, as a snapshot records it: the chart, the values without the
// sensitive keys (those only as references and keyed fingerprints), their
// digest as a plan computes it, and the revision. It holds no sensitive
// value.
type DeployedRelease struct {
	// Name and Namespace name the release.
	Name      string `json:"name"`
	Namespace string `json:"namespace"`
	// Chart is the deployed chart's name and version. Helm's storage does
	// not keep the repository: RepoURL is empty.
	Chart Chart `json:"chart"`
	// Values are the deployed values without the sensitive keys.
	Values map[string]any `json:"values,omitempty"`
	// Sensitive lists the sensitive keys found in the deployed values.
	Sensitive []SensitiveRef `json:"sensitive,omitempty"`
	// ValuesDigest is the digest of the deployed values, computed as
	// Action.ValuesDigest is, so the two compare.
	ValuesDigest string `json:"valuesDigest"`
	// Revision and Status are the deployed revision's.
	Revision int    `json:"revision"`
	Status   string `json:"status"`
}

// Deployed reads, from Helm's storage only (the release Secrets in
// namespace; no write, no discovery), the revision of release
// namespace/name that an upgrade would start from: the last deployed one,
// or a failed first install. found is false when there is none. The
// values at the paths of sensitive are taken out and kept as references
// and fingerprints, with the fingerprint key of opts (WithFingerprintKey),
// so that ValuesDigest equals the digest a Plan with the same sensitive
// paths records.
func Deployed(_ context.Context, kube genericclioptions.RESTClientGetter, namespace, name string, sensitive []SensitiveValue, opts ...Option) (rel DeployedRelease, found bool, err error) {
	o, err := newOptions(opts)
	if err != nil {
		return DeployedRelease{}, false, err
	}
	cfg, err := o.config(kube, namespace)
	if err != nil {
		return DeployedRelease{}, false, err
	}
	r := &run{o: o, cfg: cfg}
	s, err := r.state(name)
	if err != nil {
		return DeployedRelease{}, false, err
	}
	cur := s.deployed
	if cur == nil || cur.Chart == nil || cur.Chart.Metadata == nil || cur.Info == nil {
		return DeployedRelease{}, false, nil
	}
	have, err := r.deployedValues(cur, Release{Name: name, Namespace: namespace, Sensitive: sensitive})
	if err != nil {
		return DeployedRelease{}, false, fmt.Errorf("read the deployed values of release %s/%s: %w", namespace, name, err)
	}
	return DeployedRelease{
		Name: name, Namespace: namespace,
		Chart:  Chart{Name: cur.Chart.Name(), Version: cur.Chart.Metadata.Version},
		Values: have.public, Sensitive: have.refs, ValuesDigest: have.digest,
		Revision: cur.Version, Status: string(cur.Info.Status),
	}, true, nil
}
