package helmrelease

import (
	"bufio"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"path"
	"strings"

	"helm.sh/helm/v3/pkg/chart"
	"helm.sh/helm/v3/pkg/chartutil"
	"helm.sh/helm/v3/pkg/engine"
	"helm.sh/helm/v3/pkg/releaseutil"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	utilyaml "k8s.io/apimachinery/pkg/util/yaml"
	"k8s.io/client-go/rest"
	"sigs.k8s.io/yaml"
)

// rendered is a chart rendered with one set of values.
type rendered struct {
	// manifest is what Helm stores as the release's manifest: every
	// non-hook object, in Helm's install order, each after a
	// "---\n# Source: <template>\n" line; CRDs of the chart's crds/
	// directory and hooks are not in it.
	manifest string
	// digest is "sha256:" and the hex SHA-256 of manifest.
	digest string
	// objects are the manifest's objects, in install order.
	objects []*unstructured.Unstructured
}

// renderChart renders ch with exactly vals, as Helm's install and upgrade do
// (action.Configuration.renderResources, whose steps this repeats because
// Helm does not export it): dependencies enabled by the values, the
// chart's kubeVersion checked against the cluster, values checked against
// the chart's schema, templates rendered with lookup against the cluster
// (rc; nil renders without), NOTES dropped, manifests sorted in Helm's
// install order. The same inputs give the same manifest, byte for byte,
// unless a template draws random values (randAlphaNum, genCA): such values
// must come from a Secret the values reference instead.
func renderChart(ch *chart.Chart, vals map[string]any, opts chartutil.ReleaseOptions, caps *chartutil.Capabilities, rc *rest.Config) (rendered, error) {
	if err := chartutil.ProcessDependenciesWithMerge(ch, vals); err != nil {
		return rendered{}, fmt.Errorf("render %s: dependencies: %w", ch.Name(), err)
	}
	if ch.Metadata.KubeVersion != "" && !chartutil.IsCompatibleRange(ch.Metadata.KubeVersion, caps.KubeVersion.String()) {
		return rendered{}, fmt.Errorf("render %s: chart requires kubeVersion %s, which Kubernetes %s is not", ch.Name(), ch.Metadata.KubeVersion, caps.KubeVersion.String())
	}
	top, err := chartutil.ToRenderValuesWithSchemaValidation(ch, vals, opts, caps, false)
	if err != nil {
		return rendered{}, fmt.Errorf("render %s: values: %w", ch.Name(), err)
	}
	var files map[string]string
	if rc != nil {
		files, err = engine.New(rc).Render(ch, top)
	} else {
		files, err = engine.Render(ch, top)
	}
	if err != nil {
		return rendered{}, fmt.Errorf("render %s: %w", ch.Name(), err)
	}
	for k := range files {
		if strings.HasSuffix(k, "NOTES.txt") {
			delete(files, k)
		}
	}
	_, manifests, err := releaseutil.SortManifests(files, nil, releaseutil.InstallOrder)
	if err != nil {
		return rendered{}, fmt.Errorf("render %s: parse the rendered manifests: %w", ch.Name(), err)
	}
	var b strings.Builder
	var objs []*unstructured.Unstructured
	for _, m := range manifests {
		fmt.Fprintf(&b, "---\n# Source: %s\n%s\n", m.Name, m.Content)
		o, err := parseObjects(m.Content)
		if err != nil {
			return rendered{}, fmt.Errorf("render %s: %s: %w", ch.Name(), path.Clean(m.Name), err)
		}
		objs = append(objs, o...)
	}
	sum := sha256.Sum256([]byte(b.String()))
	return rendered{manifest: b.String(), digest: "sha256:" + hex.EncodeToString(sum[:]), objects: objs}, nil
}

// manifestDigest is the digest of a manifest as render computes it.
func manifestDigest(manifest string) string {
	sum := sha256.Sum256([]byte(manifest))
	return "sha256:" + hex.EncodeToString(sum[:])
}

// parseObjects reads the objects of every YAML document of content,
// expanding a List. Documents are read as Helm's kube client reads a
// manifest (a YAML stream, documents split at "---" lines and kept whole),
// not with releaseutil.SplitManifests, which trims each document: that
// would drop the final line break of a block scalar that ends a document
// ("data: {a: |\n  x\n}" would read "x", where the live object holds
// "x\n"), and every such ConfigMap would show as drifted.
func parseObjects(content string) ([]*unstructured.Unstructured, error) {
	var out []*unstructured.Unstructured
	r := utilyaml.NewYAMLReader(bufio.NewReader(strings.NewReader(content)))
	for {
		doc, err := r.Read()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return nil, err
		}
		var m map[string]any
		if err := yaml.Unmarshal(doc, &m); err != nil {
			return nil, err
		}
		if len(m) == 0 {
			continue
		}
		u := &unstructured.Unstructured{Object: m}
		if u.IsList() {
			l, err := u.ToList()
			if err != nil {
				return nil, err
			}
			for i := range l.Items {
				out = append(out, &l.Items[i])
			}
			continue
		}
		if u.GetKind() == "" || u.GetName() == "" {
			return nil, fmt.Errorf("an object without kind or name")
		}
		out = append(out, u)
	}
	return out, nil
}
