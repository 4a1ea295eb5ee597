package ensureenv

import (
	"context"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"go.uber.org/zap"
	"go.uber.org/zap/zaptest"

	"github.com/org/platform/actions/internal/ghatest"
	"github.com/org/platform/internal/local"
	"github.com/org/platform/pkg/objectstorage"
	"github.com/org/platform/pkg/store"
)

// simulated is sim's Connect, reporting the simulator as the embedded
// default does (Simulated).
func simulated(t *testing.T, sim *ghatest.Sim, env *ghatest.Env) func(context.Context, string, *zap.Logger) (*local.Env, error) {
	connect := sim.Connect(t, env)
	return func(ctx context.Context, token string, log *zap.Logger) (*local.Env, error) {
		e, err := connect(ctx, token, log)
		if e != nil {
			e.Simulated = true
		}
		return e, err
	}
}

// checkRecords holds the store to what n applies of development by owner
// leave: n snapshots and n audit records, the newest naming owner, applied,
// and the step summary naming both keys.
func checkRecords(t *testing.T, st store.Store, env *ghatest.Env, n int, owner string) {
	t.Helper()
	ctx := t.Context()
	snaps, err := store.ListSnapshots(ctx, st, "development")
	if err != nil || len(snaps) != n {
		t.Fatalf("snapshots of development: %d (%v); want %d, one per apply", len(snaps), err, n)
	}
	audit, err := store.ListAudit(ctx, st)
	if err != nil || len(audit) != n {
		t.Fatalf("audit records: %d (%v); want %d, one per apply", len(audit), err, n)
	}
	last := audit[len(audit)-1]
	if last.Who != owner || last.Result != "applied" || !slices.Equal(last.Environments, []string{"development"}) {
		t.Errorf("audit record %+v; want development applied by %q", last, owner)
	}
	if held, err := st.List(ctx, "locks/"); err != nil || len(held) != 0 {
		t.Errorf("locks after the run: %v (%v); want none held", held, err)
	}
	sum := env.Summary()
	for _, want := range []string{"### Records", snaps[len(snaps)-1].Key, last.Key} {
		if !strings.Contains(sum, want) {
			t.Errorf("the step summary lacks %q:\n%s", want, sum)
		}
	}
}

// TestRecordsInALocalStore: an apply with a directory store takes the
// lock, writes a snapshot and appends an audit record naming the actor
// input and the run; the summary names both records.
func TestRecordsInALocalStore(t *testing.T) {
	t.Parallel()
	sim := ghatest.NewSim(t)
	env := ghatest.NewEnv(t, inputs(map[string]string{inEnvironments: "development", inStore: "records", inActor: "alice"}))
	if err := Run(t.Context(), env.Action(), sim.Connect(t, env), zaptest.NewLogger(t)); err != nil {
		t.Fatalf("Run: %v\n%s", err, env.Stdout.String())
	}
	st, err := store.NewLocal(filepath.Join(env.Workspace(), "records"))
	if err != nil {
		t.Fatal(err)
	}
	checkRecords(t, st, env, 1, "github:alice via org/platform/actions/ensure-env run "+runnerRunID)
	if w := env.Commands("warning"); slices.ContainsFunc(w, func(s string) bool { return strings.Contains(s, "no store") }) {
		t.Errorf("a no-store warning with a store: %q", w)
	}
}

// TestNoStore: without a store input the simulator keeps its records under
// RUNNER_TEMP, on behalf of GITHUB_ACTOR; the Linode API keeps none and
// warns so.
func TestNoStore(t *testing.T) {
	t.Parallel()
	t.Run("simulator", func(t *testing.T) {
		t.Parallel()
		sim := ghatest.NewSim(t)
		tmp := t.TempDir()
		env := ghatest.NewEnv(t, inputs(map[string]string{inEnvironments: "development", "RUNNER_TEMP": tmp}))
		if err := Run(t.Context(), env.Action(), simulated(t, sim, env), zaptest.NewLogger(t)); err != nil {
			t.Fatalf("Run: %v\n%s", err, env.Stdout.String())
		}
		st, err := store.NewLocal(filepath.Join(tmp, "platform-records"))
		if err != nil {
			t.Fatal(err)
		}
		checkRecords(t, st, env, 1, "github:"+runnerActor+" via org/platform/actions/ensure-env run "+runnerRunID)
	})
	t.Run("Linode API", func(t *testing.T) {
		t.Parallel()
		sim := ghatest.NewSim(t)
		env := ghatest.NewEnv(t, inputs(map[string]string{inEnvironments: "development"}))
		if err := Run(t.Context(), env.Action(), sim.Connect(t, env), zaptest.NewLogger(t)); err != nil {
			t.Fatalf("Run: %v\n%s", err, env.Stdout.String())
		}
		w := strings.Join(env.Commands("warning"), "\n")
		if !strings.Contains(w, "no store: applying without records") {
			t.Errorf("warnings %q; want one saying no records are kept", w)
		}
		if strings.Contains(env.Summary(), "### Records") {
			t.Errorf("the summary names records that were not kept:\n%s", env.Summary())
		}
		if _, err := os.Stat(filepath.Join(env.Workspace(), ".platform-records")); !os.IsNotExist(err) {
			t.Errorf("a default store was made on the Linode API (%v)", err)
		}
	})
}

// TestCreateStore runs three times on the simulator's Object Storage with
// create-store. The first run makes the bucket and one key through the
// Linode API, masks the key's secret before it prints anything else of it
// and outputs it once, and writes its records there. The second, given the
// saved key, writes its records and makes no key. The third, without the
// secret, fails saying to pass it, having written nothing to Linode.
func TestCreateStore(t *testing.T) {
	t.Parallel()
	sim := ghatest.NewSim(t)
	ep, err := sim.Srv.S3Endpoint("us-east")
	if err != nil {
		t.Fatal(err)
	}
	const bucket = "platform-records"
	loc := "s3://" + ep + "/" + bucket + "/ci/"
	run := func(set map[string]string) (*ghatest.Env, error) {
		set[inEnvironments], set[inStore], set[inCreateStore] = "development", loc, "true"
		env := ghatest.NewEnv(t, inputs(set))
		err := RunWith(t.Context(), env.Action(), sim.Connect(t, env), zaptest.NewLogger(t), WithStoreTransport(sim.Srv.S3Transport()))
		return env, err
	}
	owner := "github:" + runnerActor + " via org/platform/actions/ensure-env run " + runnerRunID

	// First run: the bucket and its key are made.
	first, err := run(map[string]string{})
	if err != nil {
		t.Fatalf("first run: %v\n%s", err, first.Stdout.String())
	}
	dump := sim.Srv.Dump()
	if b := dump.Buckets["us-east/"+bucket]; b == nil || b.ACL != "private" {
		t.Fatalf("bucket %s: %+v; want it made private in us-east", bucket, b)
	}
	if len(dump.ObjectStorageKeys) != 1 {
		t.Fatalf("%d Object Storage keys; want the one create-store made", len(dump.ObjectStorageKeys))
	}
	var key *objectstorage.AccessKey
	for _, k := range dump.ObjectStorageKeys {
		key = &objectstorage.AccessKey{ID: k.ID, Label: k.Label, AccessKey: k.AccessKey}
		if k.Label != bucket || len(k.BucketAccess) != 1 || k.BucketAccess[0].BucketName != bucket || k.BucketAccess[0].Permissions != "read_write" {
			t.Errorf("key %+v; want %q, read-write to bucket %s only", k, bucket, bucket)
		}
	}
	out := first.Outputs()
	secret := out[outSecretKey]
	if secret == "" || out[outAccessKey] != key.AccessKey {
		t.Fatalf("outputs %s %q, %s set: %v; want the made key's", outAccessKey, out[outAccessKey], outSecretKey, secret != "")
	}
	// Masked before any other line of stdout holds it, and output once.
	lines := first.Lines()
	mask := slices.Index(lines, "::add-mask::"+secret)
	if mask < 0 {
		t.Fatal("no ::add-mask:: of the key's secret")
	}
	if i := slices.IndexFunc(lines, func(l string) bool { return strings.Contains(l, secret) }); i != mask {
		t.Errorf("stdout line %d holds the secret before its ::add-mask:: (line %d)", i, mask)
	}
	if leaks := first.Leaks(secret); !slices.Equal(leaks, []string{"GITHUB_OUTPUT"}) {
		t.Errorf("the secret appears in %v; want only GITHUB_OUTPUT", leaks)
	}
	if b, _ := os.ReadFile(first.OutputFile); strings.Count(string(b), secret) != 1 {
		t.Errorf("the secret is in GITHUB_OUTPUT %d times; want once", strings.Count(string(b), secret))
	}
	if n := strings.Count(strings.Join(first.Commands("notice"), "\n"), "repository secret"); n != 1 {
		t.Errorf("%d notices saying to save the key as repository secrets; want 1", n)
	}
	st, err := store.NewS3(store.S3Config{Endpoint: ep, Bucket: bucket, Prefix: "ci/", AccessKey: key.AccessKey, SecretKey: secret, Transport: sim.Srv.S3Transport()})
	if err != nil {
		t.Fatal(err)
	}
	checkRecords(t, st, first, 1, owner)

	// Second run, given the saved key: records, and no key made.
	second, err := run(map[string]string{inAccessKey: key.AccessKey, inSecretKey: secret})
	if err != nil {
		t.Fatalf("second run: %v\n%s", err, second.Stdout.String())
	}
	if n := len(sim.Srv.Dump().ObjectStorageKeys); n != 1 {
		t.Errorf("%d Object Storage keys after the second run; want still 1", n)
	}
	if out := second.Outputs(); out[outSecretKey] != "" || out[outAccessKey] != "" {
		t.Errorf("the second run output a key: %v", out)
	}
	if leaks := second.Leaks(secret); len(leaks) > 0 {
		t.Errorf("the secret input appears in %v", leaks)
	}
	checkRecords(t, st, second, 2, owner)

	// Third run, without the secret: refused, nothing written.
	before := sim.Srv.Counts().Mutating
	third, err := run(map[string]string{})
	if err == nil {
		t.Fatal("third run without the secret succeeded")
	}
	errs := strings.Join(third.Commands("error"), "\n")
	for _, want := range []string{"store-secret-key", `key "` + bucket + `"`, "exists", "pass the secret"} {
		if !strings.Contains(errs, want) {
			t.Errorf("error annotations %q lack %q", errs, want)
		}
	}
	if n := sim.Srv.Counts().Mutating - before; n != 0 {
		t.Errorf("%d Linode writes by the refused run; want 0", n)
	}
	if out := third.Outputs(); out[outSecretKey] != "" || out[outClusterID] != "" {
		t.Errorf("the refused run set outputs: %v", out)
	}
	if n := len(sim.Srv.Dump().ObjectStorageKeys); n != 1 {
		t.Errorf("%d Object Storage keys after the refused run; want still 1", n)
	}
	checkRecords(t, st, second, 2, owner) // nothing applied, nothing recorded
}

// TestStoreInputsRefused: bad store inputs fail before connecting, naming
// the input.
func TestStoreInputsRefused(t *testing.T) {
	t.Parallel()
	const secret = "not-a-real-secret-0123456789"
	for _, tc := range []struct {
		name   string
		inputs map[string]string
		want   string
	}{
		{"s3 without keys", map[string]string{inStore: "s3://us-east-1.linodeobjects.com/records"}, "required for an s3:// store"},
		{"s3 with one key and create-store", map[string]string{inStore: "s3://us-east-1.linodeobjects.com/records", inCreateStore: "true", inSecretKey: secret}, "give both"},
		{"create-store for a directory", map[string]string{inStore: "records", inCreateStore: "true"}, "create-store: true is for an s3:// store"},
		{"create-store not a bool", map[string]string{inStore: "s3://us-east-1.linodeobjects.com/records", inCreateStore: "yes"}, `create-store: "yes"`},
		{"keys for a directory", map[string]string{inStore: "records", inAccessKey: "AK", inSecretKey: secret}, "for an s3:// store"},
		{"credentials in the URL", map[string]string{inStore: "s3://AK:" + secret + "@us-east-1.linodeobjects.com/records"}, "credentials removed"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			tc.inputs[inEnvironments] = "development"
			env := ghatest.NewEnv(t, inputs(tc.inputs))
			connected := false
			connect := func(context.Context, string, *zap.Logger) (*local.Env, error) {
				connected = true
				return nil, context.Canceled
			}
			if err := Run(t.Context(), env.Action(), connect, zaptest.NewLogger(t)); err == nil {
				t.Fatal("Run succeeded")
			}
			if connected {
				t.Error("Run connected before refusing its inputs")
			}
			if errs := env.Commands("error"); !strings.Contains(strings.Join(errs, "\n"), tc.want) {
				t.Errorf("error annotations %q; want one containing %q", errs, tc.want)
			}
			if leaks := env.Leaks(secret); len(leaks) > 0 {
				t.Errorf("the secret appears in %v", leaks)
			}
		})
	}
}
