package helmrelease

import (
	"errors"
	"fmt"
	"slices"

	"helm.sh/helm/v3/pkg/chart"
	"helm.sh/helm/v3/pkg/chartutil"
)

// UnknownValues returns the paths ("grafana.admin.existingSecret"), sorted,
// of the keys in values that ch does not know: keys absent from the chart's
// default values, its subcharts' included. Helm ignores such keys, so a
// misspelt one would silently leave a default in place (Helm's schema check
// catches it only for charts that ship a values.schema.json that forbids
// additional properties).
//
// A key below a map whose default is empty ({}), below one of the open
// paths ("alertmanager.config": maps passed through to a program's own
// configuration, where the chart's defaults show only examples), or under
// "global" is accepted; lists are not looked into. ch is not changed.
func UnknownValues(ch *chart.Chart, values map[string]any, open []string) ([]string, error) {
	if ch == nil || ch.Metadata == nil {
		return nil, errors.New("unknown values: no chart")
	}
	defaults, err := chartutil.CoalesceValues(ch, map[string]any{})
	if err != nil {
		return nil, fmt.Errorf("read default values of chart %s %s: %w", ch.Name(), ch.Metadata.Version, err)
	}
	var unknown []string
	walkUnknown("", values, defaults, open, &unknown)
	slices.Sort(unknown)
	return unknown, nil
}

func walkUnknown(prefix string, values, defaults map[string]any, open []string, unknown *[]string) {
	for k, v := range values {
		p := k
		if prefix != "" {
			p = prefix + "." + k
		}
		if p == "global" || slices.Contains(open, p) {
			continue
		}
		d, ok := defaults[k]
		if !ok {
			*unknown = append(*unknown, p)
			continue
		}
		vm, vIsMap := v.(map[string]any)
		dm, dIsMap := asMap(d)
		if !vIsMap || !dIsMap || len(dm) == 0 {
			continue
		}
		walkUnknown(p, vm, dm, open, unknown)
	}
}

func asMap(v any) (map[string]any, bool) {
	switch m := v.(type) {
	case map[string]any:
		return m, true
	case chartutil.Values:
		return m, true
	}
	return nil, false
}
