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
// # Nodes shaped like the spec's pools
//
// [WithPoolNodes] creates, per [NodeShape] (one per pool of a spec, from
// [ShapesFor] and the Linode types' sizes), fake Nodes with the type's
// vCPUs and memory as capacity, the pool's labels and taints, and the
// labels LKE sets, so the real kube-scheduler places every pod as it would
// in production, or reports it unschedulable with its reason. Allocatable
// is capacity minus [Reserved]: LKE does not publish its kubelet's
// reservations, so GKE's published formula stands in for them (assumed,
// not measured; a g6-standard-2 keeps 70m CPU and 1124 MiB).
//
// # Stand-ins for what LKE provides
//
// [WithStandIns] runs, inside the process that called Start, what LKE's
// cloud side does and a bare control plane lacks. Each differs from LKE
// as said:
//
//   - LoadBalancer Services. LKE's cloud controller manager creates a
//     NodeBalancer per Service of type LoadBalancer and writes its public
//     address into status.loadBalancer.ingress. The stand-in, a client-go
//     informer, writes an address from [LoadBalancerPrefix] (127.1.0.0/16,
//     the same for a Service in every run) at once, and clears it when the
//     Service stops being a LoadBalancer. Nothing listens there, no
//     NodeBalancer annotation is read, and Services with a
//     loadBalancerClass are left alone, as the CCM leaves them.
//   - Block Storage. LKE has the StorageClasses linode-block-storage-retain
//     (the default) and linode-block-storage, served by the Linode CSI
//     driver. The stand-in creates both, with the driver's provisioner
//     name, and for each Pending claim of either creates a
//     PersistentVolume of at least [MinVolumeSize] (Linode's smallest
//     volume), bound in advance to the claim (claimRef), which
//     kube-controller-manager's volume binder then binds; it deletes the
//     Released volumes of the Delete class. No volume is attached or
//     mounted (kwok runs no container), there is no attach limit per
//     node, and expansion is not served.
//   - Admission webhooks. On LKE, kube-apiserver runs outside the
//     cluster and reaches a webhook's Service through konnectivity, whose
//     agents on the nodes dial the Service's pods; the caBundle the
//     webhook configuration carries is filled in by an operator of the
//     chart (cert-manager's cainjector, ingress-nginx's certgen Job). The
//     stand-in plays all three. kube-apiserver gets an egress selector
//     configuration (--egress-selector-config-file) whose "cluster"
//     selection is an HTTP CONNECT proxy on a Unix socket in the control
//     plane's directory (the tcp transport with an http:// URL passes
//     validation, and v1.37 then dereferences its absent TLS config); the proxy sends a tunnel to
//     any ClusterIP (10.96.0.0/16) or .svc name to one in-process TLS
//     server on 127.0.0.1, and dials any other target directly, as
//     kube-apiserver would without it. That server presents, per TLS
//     server name (<service>.<namespace>.svc, which kube-apiserver
//     verifies), a certificate signed by a CA made at start
//     ([ControlPlane.WebhookCA]); it answers every AdmissionReview
//     allowed, with no patch, and every ConversionReview by relabelling
//     the objects with the desired version; it records each call
//     ([ControlPlane.WebhookCalls], [ControlPlane.WebhookCallCount]), and
//     refuses those of a webhook a test names ([ControlPlane.DenyWebhook]).
//     A controller server-side applies, with field manager
//     [InjectorFieldManager] and nothing but clientConfig.caBundle, the CA
//     into every webhook of every Validating- and
//     MutatingWebhookConfiguration whose clientConfig names a Service, so
//     a Helm plan's dry-run of the chart's manifest (no caBundle) shows no
//     drift. Unlike LKE: no webhook's own code runs, so nothing is
//     validated or defaulted (a cert-manager object a real webhook would
//     refuse is admitted); the Service need have no ready pod (on LKE a
//     webhook without one fails its calls); a caBundle the chart sets
//     itself is overwritten (and then shows as drift in its plan); a
//     webhook is answered even before its CA is injected, since
//     kube-apiserver also trusts the stand-in's CA as a system root
//     (SSL_CERT_FILE); kube-apiserver does not name the webhook it calls,
//     so calls are attributed by Service and path; webhooks with a URL
//     clientConfig are not served (kube-apiserver dials the URL itself).
//     The "cluster" selection also carries kube-apiserver's service and
//     pod proxy (to pod addresses, dialled directly: nothing answers on
//     kwok's, as before), its calls to kubelets (127.0.0.1:10250,
//     directly) and aggregated APIs (to a ClusterIP, so the stand-in
//     answers their discovery with 405 and the APIService stays
//     unavailable, as before); /readyz, /livez and every other request
//     kube-apiserver serves itself do not use it.
//
// The stand-ins start before the shaped nodes exist (the webhook server
// and the egress proxy before kube-apiserver) and stop first in Stop (the
// webhook server and the proxy once kube-apiserver has stopped). Without
// [WithStandIns], a webhook call kube-apiserver makes to a Service's
// ClusterIP goes wherever the machine routes it: on the shared development
// machines a transparent egress proxy answers it, with a certificate of its
// own, and kube-apiserver fails the call.
//
// # Limits
//
// There is no kubelet, no container runtime, no kube-proxy and no network:
// kwok's pods are Running on paper only, and their IPs (10.244.0.0/16) are
// never contacted. kwok renews a Lease per node (40 s), so nodes stay
// Ready for as long as the control plane runs. A start takes 2.5 to 5 s to
// a ready API server on 2 cores, depending on what else they run, and
// about 1 s more with [WithNodes], [WithPoolNodes] or [WithStandIns];
// Stop takes about 1 s (kube-apiserver's graceful shutdown).
// Each control plane takes some 350 MB of memory, 600 MB with workloads.
package controlplane
