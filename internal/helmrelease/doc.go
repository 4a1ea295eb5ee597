// Package helmrelease plans and applies Helm releases as steps of a plan
// (change.Plan), for the concern packages that install charts — secrets
// (sealed-secrets), observability, the ingress and cert-manager baseline —
// without their importing each other.
//
// A Release names a chart by name and pinned version (an empty version,
// "latest" or a range is an error before any request) in an HTTP(S) chart
// repository or an OCI registry, its namespace and name, and exactly the
// values to render it with. Charts are cached under WithCacheDir, one
// archive per repository, chart and version, so a second plan downloads
// nothing; LoadChart reads the same cache, so a caller can check values
// (UnknownValues: keys the chart's defaults do not have) on exactly the
// chart that will be installed. WithRepository maps an upstream
// repository URL to where it is actually served (a mirror; in tests the
// shared chart repository over httptest): only the download moves, and
// plans, step IDs and the cache still name the upstream URL, so a plan
// made in a test is the plan production makes. The Kubernetes side is a Getter built from kubeconfig bytes or
// a rest.Config: no file on disk, no $KUBECONFIG.
//
// Plan returns at most one step (kind StepRelease): create, update, or an
// update marked Action.DriftCorrection when the chart and values are the
// deployed revision's but live objects differ. No step when chart, values
// and live objects match, so an Ensure with the same inputs makes no new
// revision. Per object and per field changes come from a server-side
// dry-run apply of each rendered object against the live one. The step's
// Action records the chart, the values (sensitive keys only as a
// reference and a keyed fingerprint), the digests of the canonical values
// and of the rendered manifest, the namespace and the release name.
//
// The render must be stable — the same inputs give the same manifest —
// for plans to mean anything: a chart value that a template would
// otherwise generate at random (Grafana's admin password, a self-signed
// certificate) must come from a Secret the values reference
// (grafana.admin.existingSecret), never from the chart's random default.
//
// PlanNew plans the install without a cluster (before it exists, or when
// it cannot be reached): the step Plan makes for an absent release,
// rendered with Helm's built-in capabilities pinned to a Kubernetes
// version that the step records (Action.KubeVersion), with one create per
// rendered object and no dry-run. ApplyStep renders such a step with the
// same pinned capabilities, so it is not stale once the cluster exists.
// After it, a live Plan shows no step when the render does not depend on
// what differs between the pinned and the live capabilities (the server's
// version, API groups the cluster serves beyond Helm's built-in list);
// when it does, the live Plan lists a drift-correcting update of exactly
// those fields, which is honest: the release was rendered for another
// cluster than the one it runs on.
//
// ApplyStep is helm upgrade --install of exactly the planned chart and
// values, refused (ErrStalePlan) when a fresh render's manifest digest
// differs from the plan's; atomic (waits, rolls back on failure), with
// bounded history; a release stuck pending longer than WithStaleAfter is
// unlocked first (see ApplyStep for the rule). Ensure is Plan then
// ApplyStep through reconcile.Converge. Uninstall removes a release for
// teardown, idempotently (an absent release is no error), waiting for its
// objects to be deleted.
//
// Limits: CRDs in a chart's crds/ directory are installed with the first
// install only and never upgraded or diffed, as Helm does; hooks run as
// Helm runs them and are not part of the manifest digest or the per-object
// changes. The capabilities a chart sees (.Capabilities) are read once per
// Plan or ApplyStep (or pinned, for PlanNew's steps).
//
// Tests: the unit tests run Helm with its memory storage driver and
// printing fake kube client, over a small chart served by httptest. The
// integration tests install the upstream sealed-secrets chart from the
// shared chart repository (internal/shared, served over httptest) on a
// local control plane from internal/controlplane with workloads and two
// kwok nodes (WithWorkloads, WithNodes(2)): kube-controller-manager and
// kube-scheduler run, and kwok marks pods Running and Ready without
// running containers, which is what Helm's atomic wait needs.
package helmrelease
