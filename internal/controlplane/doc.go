// Package controlplane is a local Kubernetes control plane built from the Go
// module proxy, in the manner of controller-runtime's envtest: etcd and
// kube-apiserver, and on request kube-controller-manager, kube-scheduler and
// kwok, which plays the kubelet for fake Nodes so that Deployments get
// Running pods without containers.
//
// It is not test-only. The embedded default (internal/local), which the
// example programs and actions use when LINODE_TOKEN is unset, backs every
// simulated LKE cluster with one of these control planes through a [Pool],
// so that the Kubernetes layer is applied for real; the integration tests
// start them through [Main], [Require] and [RequireNew]. Nothing under pkg/
// imports this package (internal/depcheck enforces it).
//
// # Binaries
//
// The binaries are built from the Go module proxy by hack/controlplane.sh
// (make controlplane) into a cache outside the checkout:
//
//	${PLATFORM_CACHE_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/platform}/controlplane/<component>-<version>-<goversion>/<binary>
//
// A binary built by another Go version of the same component version is used
// when the exact one is missing. When a binary is missing, [Start] returns an
// error matching [ErrBinaryMissing]; [Require] then skips the test with a
// message saying to run make controlplane, or fails it when the environment
// variable PLATFORM_REQUIRE_CONTROLPLANE is 1 (as make test and CI set it).
//
// # What runs
//
// Everything listens on 127.0.0.1 only, on free ports picked at start, with
// its data, certificates and logs in a temporary directory that [ControlPlane.Stop]
// removes. kube-apiserver serves TLS with the self-signed certificate it
// generates in its --cert-dir; [ControlPlane.RESTConfig] and
// [ControlPlane.Kubeconfig] trust exactly that certificate and authenticate
// with a random bearer token of a user in group system:masters. Authorization
// is RBAC, admission is kube-apiserver's default set.
//
// Children run in their own process group and receive SIGKILL when the test
// binary dies (Pdeathsig), so a panicking or killed test leaves no process
// behind; Stop sends SIGTERM to each group, then SIGKILL after a grace period.
//
// # Tests
//
// A package with integration tests calls [Main] from its TestMain and
// [Require] in each integration test; the control plane is started on first
// use, shared by the package's tests and stopped after m.Run. Main prints
// "integration tests run: N (package P)". [RequireNew] gives a test a control
// plane of its own, and [Pool] starts one per id on demand, for simulated
// clusters that need a real API server each.
//
// # Limits
//
// There is no kubelet, no container runtime, no kube-proxy and no network:
// kwok's pods are Running on paper only, and their IPs (10.244.0.0/16) are
// never contacted. A start takes 2.5 to 5 s to a ready API server on 2
// cores, depending on what else they run, and about 1 s more with
// [WithNodes]; Stop takes about 1 s (kube-apiserver's graceful shutdown).
// Each control plane takes some 350 MB of memory, 600 MB with workloads.
package controlplane
