package network

import (
	corev1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"

	"github.com/org/platform/pkg/spec"
)

// Cell is one flow of the truth table, for the tests of package
// network_test: its two ends and whether the policies allow it.
type Cell struct {
	From, To             string // the peers' names in the table
	FromNS, ToNS         string // "" outside the cluster
	FromLabels, ToLabels map[string]string
	FromIP, ToIP         string
	ToPort               int
	ToProtocol           corev1.Protocol
	Allowed              bool
}

// FlowTable evaluates policies over env's truth-table world, as the
// zero-trust baseline and Posture do, and returns the table as rendered
// for a golden file and every cell.
func FlowTable(env spec.Environment, policies []*networkingv1.NetworkPolicy, nsLabels func(string) map[string]string) (string, []Cell) {
	w := newWorld(env)
	t := evaluate(w, policies, nsLabels)
	var cells []Cell
	for i, s := range w.sources {
		for j, d := range w.dests {
			if s.ip == d.ip {
				continue
			}
			cells = append(cells, Cell{
				From: s.name, To: d.name, FromNS: s.namespace, ToNS: d.namespace,
				FromLabels: s.labels, ToLabels: d.labels, FromIP: s.ip, ToIP: d.ip,
				ToPort: d.port, ToProtocol: d.protocol, Allowed: t.allowed[i][j],
			})
		}
	}
	return t.String(), cells
}

// APIServerCIDR is where the policies expect the API server.
var APIServerCIDR = apiServerCIDR
