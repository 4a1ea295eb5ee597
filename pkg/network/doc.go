// Package network provisions the network of one platform environment: on
// Linode, its Cloud Firewall and its VPC; in its Kubernetes cluster, the
// namespaces the spec lists with their quotas, the baseline RBAC and
// zero-trust NetworkPolicies.
//
// Every entry point takes the environment spec and follows the project's
// shape: Plan* only reads and returns the changes; Ensure* plans, then
// writes only what drifted, and a second call with the same spec sends no
// write at all.
//
//   - EnsureFirewall / PlanFirewall (FirewallAPI, a few linodego methods):
//     the firewall is found by label and adopted, or created; its rules are
//     replaced with one PUT when they differ. The id it returns goes to
//     pkg/cluster, which attaches it to the node pools — this package never
//     writes pools. DeleteFirewall removes the environment's own (tagged)
//     firewall.
//   - EnsureVPC / PlanVPC (VPCAPI): the VPC and its subnets, matched by
//     label; subnets with LKE nodes attached are never deleted. DeleteVPC
//     removes the environment's VPC once nothing is attached.
//   - EnsureKubernetes / PlanKubernetes (kubernetes.Interface):
//     server-side apply as field manager "platform", planned by the API
//     server's own dry-run; objects it applied that the spec no longer
//     wants are pruned, and only those — except a namespace that still
//     runs pods, which is kept with its policies and reported in
//     change.Result.Retained until it is drained. PlanKubernetesNew plans
//     a cluster still to be made; DeleteKubernetes removes what it applied.
//   - Posture reports NetworkPolicies and role bindings that weaken the
//     environment's security posture beyond what its fields show (see
//     Security posture below).
//   - CrossEnvironmentExposures computes whether the nodes of one
//     environment can reach the nodes or the control plane of another
//     through the firewalls and control-plane ACLs the specs describe.
//
// # Linode plans are data
//
// ObserveLinode reads the firewalls and VPCs of any number of environments
// with two requests: one filtered list of firewalls (rules included) and
// one of VPCs (subnets included). PlanFirewallFrom and PlanVPCFrom turn that
// observation into a FirewallPlan or VPCPlan without further requests;
// PlanFirewall and PlanVPC observe one environment and plan (one request
// each). A plan is a plain value that can be written as JSON, reviewed and
// applied later by another process:
//
//   - its Steps each carry, in Action, the linodego request body and ids
//     they send (kinds KindFirewallCreate … KindVPCSubnetDelete), and the
//     field changes a reviewer reads (from → to);
//   - its Base records exactly the observed values its decisions compared
//     (a firewall's id, duplicates, tags, status and a digest of its
//     normalized rules; a VPC's id, region, description, subnet ranges, and
//     whether a subnet it would delete or replace was in use), so that
//     change.Plan.Moved tells whether the plan still holds;
//   - its ID (and a VPCPlan's Subnets) is a change.Int: known when the
//     object exists, else a reference to the output of the step that
//     creates it, FirewallStepID(env) or VPCStepID(env), shown as
//     "(known after apply)". pkg/cluster's steps refer to those in their
//     Fills.
//
// ApplyFirewallStep and ApplyVPCStep carry out one step each, exactly the
// request it holds, and record what a create made ("id", and
// "subnet/<label>" for VPC subnets) in a change.Outputs.
// EnsureFirewall and EnsureVPC are plan then apply through the project's
// one reconcile loop (internal/reconcile), bounded by WithMaxRounds: after
// a step failed transiently, or a create whose answer was lost, they read
// again and plan afresh, so a lost create is adopted rather than repeated,
// and they report only changes that took effect.
//
// # Kubernetes plans are data
//
// PlanKubernetes returns a KubernetesPlan computed by the API server: each
// desired object that exists is sent as a server-side apply in dry-run
// (dryRun=All, field manager "platform", forced), and what the server
// would store is compared with the live object field by field — its
// defaulting, validation and field ownership, as fluxcd's ssa package
// plans — leaving out what the server moves on its own (resourceVersion,
// generation, managedFields, uid, timestamps) and status. Planning sends
// nothing but reads and dry-runs. Its steps are k8s.apply (Action: the
// object's kind and apply configuration, the exact body applied) and
// k8s.delete (kind, namespace, name and the uid sent as a precondition),
// with IDs KubernetesStepID(env, kind, namespace, name), for example
// "production/kubernetes/networkpolicy/apps/default-deny". Its Base holds,
// per desired object, a digest of the live fields "platform" owns (or
// "absent"), and per object to prune its uid. ApplyKubernetesStep carries
// out one step; EnsureKubernetes is plan then apply through
// internal/reconcile.
//
// client-go's fake clientset ignores dry-run, so planning on it would
// write: tests use networktest.NewClientset, a fake that honours dry-run
// applies.
//
// # Zero trust
//
// Every namespace the package owns gets a default-deny NetworkPolicy for
// ingress and egress, and allow policies, each naming one kind of flow;
// policies are additive, so a flow is allowed exactly when an allow
// policy on each end names it. Namespaces are selected by
// kubernetes.io/metadata.name, which the API server sets and nobody can
// change; pods by the labels their upstream charts set (checked against
// the charts in the repository's chart folder: app.kubernetes.io/name is
// the chart's name helper, or the Prometheus operator's fixed label).
//
// The package owns the application namespaces (the spec's and
// platform-system) and the platform namespaces: observability.namespace
// (default monitoring) when observability is enabled; ingress.namespace
// (default ingress-nginx) and cert-manager when ingress is; argocd in the
// system environment. It creates those namespaces too, so their policies
// are in place before their charts install. kube-system gets no
// default-deny: LKE runs CoreDNS, Calico, konnectivity and the CSI driver
// there and reconciles them itself, and cutting them would cut the
// cluster's DNS and networking; the sealed-secrets controller, which runs
// there by default (secrets.namespace), gets one ingress policy selecting
// its pods only.
//
// The API server is not a pod. LKE runs it outside the cluster, and it
// reaches pods (admission webhooks, the service proxy kubeseal uses)
// through konnectivity agents on the nodes, so its requests come from the
// nodes' range spec.LKENodeCIDR; "API server" below means that range, on
// 443 and 6443 when pods call it. "Internet" is 0.0.0.0/0 except the
// private ranges 10/8, 172.16/12 and 192.168/16, where the pod, Service,
// node and VPC networks lie. Every namespace may ask kube-dns
// (kube-system, k8s-app=kube-dns, UDP and TCP 53).
//
//	from                                 to                                        ports             why
//	application pods                     pods of their own namespace               any               a namespace is one application's unit
//	application pods                     data services the namespace declares      the service's     PostgreSQL, Redis outside the cluster
//	application pods                     Collector (opentelemetry-collector)       TCP 4317, 4318    OTLP traces and logs
//	Prometheus (name=prometheus)         pods of every namespace                   any TCP           scrape targets name any port; the
//	                                                                                                 target namespace admits Prometheus' pods only
//	Prometheus                           nodes (LKENodeCIDR)                       TCP 10250, 9100   kubelet/cAdvisor, node-exporter
//	Collector                            Loki (name=loki)                          TCP 3100          logs, OTLP over HTTP
//	Grafana (name=grafana)               Loki; Prometheus; Alertmanager            TCP 3100; 9090;   data sources
//	                                                                               9093
//	Loki                                 Alertmanager (name=alertmanager)          TCP 9093          the ruler's alerts
//	Alertmanager                         internet                                  TCP 443           Slack and PagerDuty
//	ingress controller (name=            pods of namespaces with ingress: true     any TCP           an Ingress may name any Service port
//	  ingress-nginx, component=controller)
//	anyone (0.0.0.0/0)                   ingress controller                        TCP 80, 443       the cluster's front door, via NodeBalancers
//	API server                           ingress controller                        TCP 8443          its admission webhook
//	API server                           sealed-secrets controller (kube-system)   TCP 8080          kubeseal's certificate, via the service proxy
//	Prometheus                           sealed-secrets controller                 any TCP           its metrics (8081)
//	cert-manager (name=cert-manager,     internet                                  TCP 443, 80       the ACME server; 80 for the HTTP-01
//	  component=controller)                                                                          self-check of the public address
//	API server                           cert-manager webhook (name=webhook)       TCP 10250         its admission webhook
//	Argo CD repo server                  internet                                  TCP 443, 22       Git over HTTPS and SSH
//	Argo CD application controller,      internet                                  TCP 443, 6443     the other environments' LKE API endpoints
//	  server                                                                                         (public addresses)
//	pods of argocd                       pods of argocd                            any               its parts call each other on many ports
//	pods of platform namespaces          API server                                TCP 443, 6443     almost every component watches the API;
//	                                                                                                 RBAC, not the network, limits each
//	pods of monitoring                   pods of monitoring                        (egress only)     each destination's ingress policy above
//	                                                                                                 decides who reaches it on which port
//
// Nothing else is allowed: no other namespace, no internet. The tests
// evaluate every flow of a world of stand-in pods and addresses with
// cyclonus' matcher (the truth table, truthtable.go), compare it with this
// table written as code, and pin each flow above and its neighbours
// (another port, another source namespace, another pod of the namespace).
//
// # Security posture
//
// Posture reports what no field of the spec shows, read-only (six LIST
// requests): NetworkPolicies in the namespaces above that the package did
// not render, or whose spec differs from the rendered one, and that open
// flows the rendered baseline denies — listed, from the same truth table,
// extended with the pods, ports and networks the policy itself names —
// and role bindings the spec does not declare that grant all verbs on all
// resources, escalate, bind or impersonate. Each is a Finding, with JSON
// tags and a String for the human report.
//
// # RBAC
//
// Three ClusterRoles:
//
//   - platform:admin may do anything. It is bound to the admin group
//     (WithAdminGroup, default "platform-admins"), except in a GitOps-only
//     environment (production), where that group is bound to
//     platform:viewer instead: there no human group may write, and every
//     change arrives through the CI deployer or Argo CD.
//   - platform:viewer may get, list and watch workloads, networking,
//     policy, RBAC and events, but not Secrets. It is bound to the viewer
//     group (WithViewerGroup, default "platform-viewers").
//   - platform:deployer may write workloads: Deployments, StatefulSets,
//     DaemonSets, Jobs, CronJobs, Pods, Services, ConfigMaps, Secrets,
//     ServiceAccounts, PVCs, Ingresses, HPAs, PDBs and SealedSecrets. It is
//     bound, in each namespace of the spec and nowhere else, to the
//     ServiceAccount platform-system/ci-deployer. It cannot touch RBAC,
//     NetworkPolicies, ResourceQuotas, LimitRanges or namespaces, so a
//     deployment can loosen neither the zero-trust baseline nor its quota.
//
// # Faults
//
// This package sends each Linode request once and leaves repeating it to
// the linodego client: configure the client you pass with
// pkg/linodeclient (linodeclient.NewClient for the real API, or
// linodeclient.Configure on a client you built), which retries reads, PUTs
// and DELETEs on 429, 5xx and dropped connections, a bounded number of
// times, honouring Retry-After; pkg/linodetest's clients are configured
// so. A DELETE answered 404 succeeded. A POST that creates is never resent
// blindly: the reconcile loop looks the object up by label again and
// adopts it if a lost response had in fact created it. A step whose
// transient failure outlasts the client's retries is settled the same
// way, by the loop's next round (WithRetryInterval, WithMaxRounds); a
// read that outlasts them fails the call. Timeouts come from ctx.
//
// A client that is not configured so keeps linodego's defaults: up to 1000
// retries of 429 and 503 for any method (hours, on an API that is down), and
// none of 500, 502, 504 or dropped connections, so a single such failure
// of a read fails the call, and one of a write costs a reconcile round.
//
// On the Kubernetes side, one classification says what is transient:
// network timeouts (a TLS handshake timeout included), refused or reset
// connections, EOF, and the API's 429, 5xx and timeout answers. Such a
// request is retried with backoff (WithRetryInterval, WithMaxRetryInterval)
// for up to WithKubernetesRetryTimeout, default 2 minutes, saying so at
// Info level ("Kubernetes API https://host:port not answering (connection
// refused); retrying for up to 2m0s"); then the call fails with an error
// that names the endpoint. Applies are server-side and deletes are
// uid-guarded, so a retry never does more than the step says.
//
// # Input
//
// A spec is validated (spec.Environment.Validate, for the sections the
// call uses, plus this package's own checks) before the first request:
// bad input returns spec.FieldErrors naming each field from the YAML root,
// such as
//
//	network.firewall.inbound[https].ports: "70000" is outside 1–65535
//
// and sends nothing.
//
// # Logging
//
// Pass a *zap.Logger with WithLogger; the default logs nothing.
package network
