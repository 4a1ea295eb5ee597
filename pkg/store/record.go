package store

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/org/platform/pkg/change"
	"github.com/org/platform/pkg/spec"
)

// keyTime is the time in record keys: UTC RFC 3339 with nanoseconds always
// nine digits wide (RFC3339Nano trims trailing zeros), so keys sort in time
// order.
const keyTime = "2006-01-02T15:04:05.000000000Z07:00"

// shortDigest is how many hex digits of the SHA-256 a record key carries.
const shortDigest = 12

// Object is one observed object of an environment.
type Object struct {
	// Layer is the part of the platform it belongs to.
	Layer change.Layer `json:"layer"`
	// Name names it as a Change does ("lke/platform-production").
	Name string `json:"name"`
	// ID is its provider id, if any.
	ID string `json:"id,omitempty"`
	// Fields are its observed values by field name.
	Fields map[string]string `json:"fields,omitempty"`
	// Sensitive names the Fields whose values are never written: they are
	// stored as change.Redacted.
	Sensitive []string `json:"sensitive,omitempty"`
}

// MarshalJSON writes the object with its sensitive fields redacted.
func (o Object) MarshalJSON() ([]byte, error) {
	type plain Object
	p := plain(o)
	if len(p.Sensitive) > 0 && len(p.Fields) > 0 {
		p.Fields = make(map[string]string, len(o.Fields))
		for k, v := range o.Fields {
			p.Fields[k] = v
		}
		for _, k := range p.Sensitive {
			if _, ok := p.Fields[k]; ok {
				p.Fields[k] = change.Redacted
			}
		}
	}
	return json.Marshal(p)
}

// Snapshot is an environment's observed state at one time.
type Snapshot struct {
	// Environment is the environment's name.
	Environment string `json:"environment"`
	// TakenAt is when the state was observed.
	TakenAt time.Time `json:"takenAt"`
	// Spec is the spec of the plan the snapshot was taken for: what the
	// apply that follows makes the environment.
	Spec spec.Environment `json:"spec"`
	// Applied is the spec the observed state was made from: the spec of
	// the environment's last successful apply recorded in the audit log
	// (AuditRecord.Spec). A rollback to this snapshot plans this spec.
	// Nil when no successful apply is recorded (the environment's first).
	Applied *spec.Environment `json:"applied,omitempty"`
	// Base is the observed values a plan's decisions compared
	// (rollout.EnvironmentPlan.Base).
	Base map[string]string `json:"base,omitempty"`
	// PlanDigest is the digest of the plan the snapshot was taken for, if any.
	PlanDigest string `json:"planDigest,omitempty"`
	// Objects are the objects observed.
	Objects []Object `json:"objects,omitempty"`
	// Releases are the Helm releases of the environment's baseline as
	// deployed, read from Helm's storage; empty when the cluster did not
	// exist yet or the baseline was not planned.
	Releases []Release `json:"releases,omitempty"`
}

// Release is a Helm release as a snapshot records it: enough to plan it
// back to the same chart and values. It never holds a sensitive value:
// those keys are recorded as references and keyed fingerprints only.
type Release struct {
	// Namespace and Name name the release.
	Namespace string `json:"namespace"`
	Name      string `json:"name"`
	// Layer is the platform layer that installs it.
	Layer change.Layer `json:"layer,omitempty"`
	// Chart is the deployed chart.
	Chart Chart `json:"chart"`
	// Values are the deployed values without the sensitive keys.
	Values map[string]any `json:"values,omitempty"`
	// Sensitive lists the sensitive keys by path, reference and keyed
	// fingerprint.
	Sensitive []SensitiveRef `json:"sensitive,omitempty"`
	// ValuesDigest is the digest of the deployed values as a plan
	// computes it (sensitive values counted by their fingerprints).
	ValuesDigest string `json:"valuesDigest"`
	// Revision and Status are the deployed revision's.
	Revision int    `json:"revision"`
	Status   string `json:"status,omitempty"`
}

// Chart names a chart: name, pinned version and repository.
type Chart struct {
	Name    string `json:"name"`
	Version string `json:"version"`
	// RepoURL is the repository the environment's spec installs the chart
	// from (Helm's storage does not keep it).
	RepoURL string `json:"repoURL,omitempty"`
}

// SensitiveRef is a sensitive value as recorded: where it comes from and
// a keyed fingerprint, never the value.
type SensitiveRef struct {
	Path        string `json:"path"`
	Ref         string `json:"ref"`
	Fingerprint string `json:"fingerprint"`
}

// SnapshotRef names a stored snapshot.
type SnapshotRef struct {
	// Key is the snapshot's key in the store.
	Key string
	// Environment and TakenAt are parsed from the key.
	Environment string
	TakenAt     time.Time
	// Digest is the key's short digest of the stored JSON.
	Digest string
}

// AuditRecord is one entry of the audit log: who applied what, and how it
// ended.
type AuditRecord struct {
	// Who is the actor ("github:alice via ci run 1234").
	Who string `json:"who"`
	// When is when the action ended.
	When time.Time `json:"when"`
	// Environments are the environments acted on.
	Environments []string `json:"environments,omitempty"`
	// PlanDigest is the digest of the applied plan (rollout.Artifact.Digest).
	PlanDigest string `json:"planDigest,omitempty"`
	// Changes are the changes made; sensitive ones are written redacted.
	Changes []change.Change `json:"changes,omitempty"`
	// Result is the outcome ("applied", "failed", "refused: stale plan").
	Result string `json:"result"`
	// Error is the error text, if the action failed.
	Error string `json:"error,omitempty"`
	// Spec is the spec applied, when one environment was (defaults
	// applied; a spec holds no secret value).
	Spec *spec.Environment `json:"spec,omitempty"`
	// Key is where the record is stored; set by ListAudit, never written.
	Key string `json:"-"`
}

// appendRecord writes v as JSON at prefix<time>-<digest>.json by
// conditional create, and returns the key.
func appendRecord(ctx context.Context, s Store, prefix string, at time.Time, v any) (string, error) {
	b, err := json.Marshal(v)
	if err != nil {
		return "", err
	}
	sum := sha256.Sum256(b)
	key := prefix + at.UTC().Format(keyTime) + "-" + hex.EncodeToString(sum[:])[:shortDigest] + ".json"
	if err := s.Create(ctx, key, b); err != nil {
		return "", err
	}
	return key, nil
}

// parseRecordKey splits the last segment of a record key into its time and
// digest.
func parseRecordKey(key string) (time.Time, string, error) {
	name := key[strings.LastIndexByte(key, '/')+1:]
	name, ok := strings.CutSuffix(name, ".json")
	i := strings.LastIndexByte(name, '-')
	if !ok || i < 0 || len(name)-i-1 != shortDigest {
		return time.Time{}, "", fmt.Errorf("%w: %s: not a record key", ErrCorrupt, key)
	}
	t, err := time.Parse(keyTime, name[:i])
	if err != nil {
		return time.Time{}, "", fmt.Errorf("%w: %s: %v", ErrCorrupt, key, err)
	}
	return t, name[i+1:], nil
}

// readRecord reads key and checks its content against the key's digest.
func readRecord(ctx context.Context, s Store, key string, v any) error {
	_, digest, err := parseRecordKey(key)
	if err != nil {
		return err
	}
	b, err := s.Get(ctx, key)
	if err != nil {
		return err
	}
	sum := sha256.Sum256(b)
	if hex.EncodeToString(sum[:])[:shortDigest] != digest {
		return fmt.Errorf("%w: %s: content does not match the key's digest", ErrCorrupt, key)
	}
	if err := json.Unmarshal(b, v); err != nil {
		return fmt.Errorf("%w: %s: %v", ErrCorrupt, key, err)
	}
	return nil
}

func snapshotPrefix(env string) string { return "snapshots/" + env + "/" }

// WriteSnapshot stores snap as the environment's snapshot at snap.TakenAt
// and returns its reference. Snapshots are never rewritten: a second write
// of the same content at the same time is refused with an *ExistsError.
// Sensitive changes and fields are written redacted.
func WriteSnapshot(ctx context.Context, s Store, env string, snap Snapshot) (SnapshotRef, error) {
	if err := validateName("environment", env); err != nil {
		return SnapshotRef{}, fmt.Errorf("write snapshot: %w", err)
	}
	if snap.Environment == "" {
		snap.Environment = env
	}
	if snap.Environment != env {
		return SnapshotRef{}, fmt.Errorf("write snapshot %s: environment: got %q", env, snap.Environment)
	}
	if snap.Spec.Name != "" && snap.Spec.Name != env {
		return SnapshotRef{}, fmt.Errorf("write snapshot %s: spec.name: got %q", env, snap.Spec.Name)
	}
	if snap.TakenAt.IsZero() {
		return SnapshotRef{}, fmt.Errorf("write snapshot %s: takenAt: required", env)
	}
	key, err := appendRecord(ctx, s, snapshotPrefix(env), snap.TakenAt, snap)
	if err != nil {
		return SnapshotRef{}, fmt.Errorf("write snapshot %s: %w", env, err)
	}
	t, d, _ := parseRecordKey(key)
	return SnapshotRef{Key: key, Environment: env, TakenAt: t, Digest: d}, nil
}

// ListSnapshots returns the references of env's snapshots, oldest first.
func ListSnapshots(ctx context.Context, s Store, env string) ([]SnapshotRef, error) {
	if err := validateName("environment", env); err != nil {
		return nil, fmt.Errorf("list snapshots: %w", err)
	}
	keys, err := s.List(ctx, snapshotPrefix(env))
	if err != nil {
		return nil, fmt.Errorf("list snapshots %s: %w", env, err)
	}
	refs := make([]SnapshotRef, 0, len(keys))
	for _, k := range keys {
		t, d, err := parseRecordKey(k)
		if err != nil {
			return nil, fmt.Errorf("list snapshots %s: %w", env, err)
		}
		refs = append(refs, SnapshotRef{Key: k, Environment: env, TakenAt: t, Digest: d})
	}
	return refs, nil
}

// ReadSnapshot reads the snapshot ref names, checking it against the key's
// digest (ErrCorrupt when it does not match).
func ReadSnapshot(ctx context.Context, s Store, ref SnapshotRef) (Snapshot, error) {
	if !strings.HasPrefix(ref.Key, "snapshots/") {
		return Snapshot{}, fmt.Errorf("read snapshot %q: not a snapshot key", ref.Key)
	}
	var snap Snapshot
	if err := readRecord(ctx, s, ref.Key, &snap); err != nil {
		return Snapshot{}, fmt.Errorf("read snapshot: %w", err)
	}
	return snap, nil
}

const auditPrefix = "audit/"

// AppendAudit appends rec to the audit log and returns its key. Records are
// never rewritten. Sensitive changes are written redacted.
func AppendAudit(ctx context.Context, s Store, rec AuditRecord) (string, error) {
	if rec.Who == "" {
		return "", errors.New("append audit: who: required")
	}
	if rec.When.IsZero() {
		return "", errors.New("append audit: when: required")
	}
	if rec.Result == "" {
		return "", errors.New("append audit: result: required")
	}
	key, err := appendRecord(ctx, s, auditPrefix, rec.When, rec)
	if err != nil {
		return "", fmt.Errorf("append audit: %w", err)
	}
	return key, nil
}

// ListAudit reads every audit record, oldest first, each checked against
// its key's digest. It reads one object per record.
func ListAudit(ctx context.Context, s Store) ([]AuditRecord, error) {
	keys, err := s.List(ctx, auditPrefix)
	if err != nil {
		return nil, fmt.Errorf("list audit: %w", err)
	}
	out := make([]AuditRecord, 0, len(keys))
	for _, k := range keys {
		var r AuditRecord
		if err := readRecord(ctx, s, k, &r); err != nil {
			return nil, fmt.Errorf("list audit: %w", err)
		}
		r.Key = k
		out = append(out, r)
	}
	return out, nil
}

// LastAudit returns the newest audit record for which match is true,
// reading records newest first (one object per record read) and stopping
// at the first match; found is false when none matches.
func LastAudit(ctx context.Context, s Store, match func(AuditRecord) bool) (rec AuditRecord, found bool, err error) {
	keys, err := s.List(ctx, auditPrefix)
	if err != nil {
		return AuditRecord{}, false, fmt.Errorf("list audit: %w", err)
	}
	for i := len(keys) - 1; i >= 0; i-- {
		var r AuditRecord
		if err := readRecord(ctx, s, keys[i], &r); err != nil {
			return AuditRecord{}, false, fmt.Errorf("read audit: %w", err)
		}
		r.Key = keys[i]
		if match(r) {
			return r, true, nil
		}
	}
	return AuditRecord{}, false, nil
}
