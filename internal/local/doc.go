// Package local is the embedded default: what the example programs and the
// actions talk to when they are given nothing else. Connect returns the
// rollout.Deps of a run and says what the run is on.
//
// With LINODE_TOKEN set, the run is on the real Linode API: a linodego
// client with that token, API version v4beta (LKE tiers and VPC placement
// of clusters need it), LINODE_URL honoured as linodego honours it, the
// wall clock, and rollout.DefaultKubeClient's Kubernetes client settings.
//
// Without it, the run is on a fresh in-process Linode simulator
// (pkg/linodetest.Start), whose model clock is the Deps clock. When the
// local control plane has been built (make controlplane, once per machine:
// see internal/controlplane), every simulated LKE cluster is backed by a
// real kube-apiserver of its own, started in the background the first time
// a request names the cluster, and the Kubernetes layer is applied for
// real; the simulator's clock then runs ×60 (BackedTimeScale). Otherwise
// the Kubernetes layer is skipped, Deps.KubernetesSkipped says how to get
// it, and the clock runs ×200 (SimulatorTimeScale).
//
// The baseline's charts: when this machine has the shared chart repository
// (internal/shared), it is served on loopback in place of the upstream
// repositories (Deps.ChartRepositories); plans still name the upstream
// URLs. On local control planes — a real API server with kube-scheduler,
// kube-controller-manager and kwok nodes, which run no container — the
// releases are installed for real with the few overrides of
// internal/testvalues (Helm hook Jobs that would never finish). Without a
// control plane, every release is still rendered and shown in the plan as
// what would be installed.
//
// Sealed secrets (rollout.Deps.Secrets): with LINODE_TOKEN the values come
// from environment variables (secrets.Env; the references are
// rollout.SecretRef's PLATFORM_<ENV>_<SECRET>_<KEY>) and the certificate
// from the controller, through the API server's service proxy; a variable
// that is unset fails the plan (or, for a cluster still to be created, its
// seal step) naming the variable. On the
// simulator the values come from DemoSource — clearly fake values, for
// the simulator only — and, since no controller runs under kwok and
// nothing serves its certificate, SealingKeyCert makes the sealing key as
// the controller would at start-up (sealed-secrets' own key generation,
// stored as the controller's active key Secret, which a real controller
// adopts) and returns its certificate.
//
// Both paths count the HTTP requests they send, Linode's and Kubernetes',
// so that a program can show that a second plan costs reads only. Close
// stops the simulator and the control planes; on the real API it has
// nothing to stop.
//
// Nothing under pkg/ imports this package (internal/depcheck enforces it):
// it stands above pkg/rollout, beside the programs it serves.
package local
