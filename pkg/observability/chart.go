package observability

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"slices"
	"strings"

	"helm.sh/helm/v3/pkg/chart"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	utilyaml "k8s.io/apimachinery/pkg/util/yaml"

	"github.com/org/platform/internal/helmrelease"
)

// openValues are, per chart, the values whose keys are free: maps passed
// through to a program's own configuration (Alertmanager's, Loki's, the
// Collector's component ids), where the chart's defaults show only
// examples. Below these paths UnknownValues checks nothing; the program's
// own parser does (AlertmanagerConfig, for Alertmanager).
var openValues = map[string][]string{
	PrometheusStack.Name: {
		"alertmanager.config",
		"additionalPrometheusRulesMap",
	},
	Loki.Name: {
		"loki.limits_config",
		"loki.rulerConfig",
		"loki.schemaConfig",
		"loki.compactor",
	},
	Collector.Name: {
		"config.receivers",
		"config.processors",
		"config.exporters",
		"config.extensions",
		"config.connectors",
		"config.service.pipelines",
	},
}

// UnknownValues returns the paths ("grafana.admin.existingSecret"), sorted,
// of the keys in values that ch does not know: keys absent from the chart's
// default values, its subcharts' included. Helm ignores such keys, so a
// misspelt one would silently leave a default in place. A key below a map
// whose default is empty ({}), below a known free-form path (Alertmanager's
// configuration, Loki's limits, the Collector's components), or under
// "global" is accepted; lists are not looked into. It is
// helmrelease.UnknownValues with this package's free-form paths of ch.
func UnknownValues(ch *chart.Chart, values map[string]any) ([]string, error) {
	if ch == nil || ch.Metadata == nil {
		return nil, errors.New("unknown values: no chart")
	}
	return helmrelease.UnknownValues(ch, values, openValues[ch.Name()])
}

// PrometheusOperatorCRDs returns the CustomResourceDefinitions that ch
// (kube-prometheus-stack, loaded with helm.sh/helm/v3/pkg/chart/loader)
// carries in its crds subchart, sorted by name. PrometheusStackValues
// turns the chart's own CRD installation off (crds.enabled: false): apply
// these first, as their own step, since at about 4.5 MB they are far over
// what a Helm release Secret holds.
func PrometheusOperatorCRDs(ch *chart.Chart) ([]*unstructured.Unstructured, error) {
	if ch == nil || ch.Metadata == nil {
		return nil, errors.New("prometheus operator CRDs: no chart")
	}
	var crds []*unstructured.Unstructured
	for _, f := range ch.CRDObjects() {
		dec := utilyaml.NewYAMLOrJSONDecoder(bytes.NewReader(f.File.Data), 4096)
		for {
			var obj map[string]any
			if err := dec.Decode(&obj); err != nil {
				if errors.Is(err, io.EOF) {
					break
				}
				return nil, fmt.Errorf("read CRD file %s of chart %s: %w", f.Filename, ch.Name(), err)
			}
			u := &unstructured.Unstructured{Object: obj}
			if obj == nil || u.GetKind() != "CustomResourceDefinition" {
				continue
			}
			crds = append(crds, u)
		}
	}
	if len(crds) == 0 {
		return nil, fmt.Errorf("prometheus operator CRDs: chart %s %s carries none", ch.Name(), ch.Metadata.Version)
	}
	slices.SortFunc(crds, func(a, b *unstructured.Unstructured) int { return strings.Compare(a.GetName(), b.GetName()) })
	return crds, nil
}
