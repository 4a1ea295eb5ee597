package store

import (
	"bytes"
	"errors"
	"testing"
	"time"

	"github.com/org/platform/pkg/change"
	"github.com/org/platform/pkg/spec"
)

const plaintext = "hunter2-plaintext-secret"

func TestSnapshotsAreAppendOnlyOrderedAndRedacted(t *testing.T) {
	t.Parallel()
	for _, st := range stores {
		t.Run(st.name, func(t *testing.T) {
			t.Parallel()
			s := st.new(t)
			ctx := t.Context()
			t0 := time.Date(2030, 1, 1, 12, 0, 0, 0, time.UTC)
			snap := func(at time.Time, count string) Snapshot {
				return Snapshot{
					TakenAt: at,
					Spec:    spec.Environment{Name: "production", Cluster: spec.Cluster{Region: "us-east"}},
					Base:    map[string]string{"lke/platform-production/pool/general count": count},
					Objects: []Object{{
						Layer: change.LayerSecrets, Name: "secret/db", Fields: map[string]string{"password": plaintext, "namespace": "app"},
						Sensitive: []string{"password"},
					}},
				}
			}
			// Written out of order; the second is 1 ns later than the first
			// and must still list after it.
			r2, err := WriteSnapshot(ctx, s, "production", snap(t0.Add(time.Nanosecond), "5"))
			if err != nil {
				t.Fatal(err)
			}
			r1, err := WriteSnapshot(ctx, s, "production", snap(t0, "3"))
			if err != nil {
				t.Fatal(err)
			}
			if _, err := WriteSnapshot(ctx, s, "staging", snap(t0, "3")); err == nil {
				t.Error("a snapshot of production written as staging's was accepted")
			}
			if _, err := WriteSnapshot(ctx, s, "production", snap(t0, "3")); !errors.Is(err, ErrExists) {
				t.Errorf("rewriting a snapshot: %v, want ErrExists", err)
			}
			refs, err := ListSnapshots(ctx, s, "production")
			if err != nil {
				t.Fatal(err)
			}
			if len(refs) != 2 || refs[0].Key != r1.Key || refs[1].Key != r2.Key {
				t.Fatalf("list: %+v, want [%s %s]", refs, r1.Key, r2.Key)
			}
			if !refs[0].TakenAt.Equal(t0) || len(refs[0].Digest) != shortDigest {
				t.Errorf("ref parsed as %+v", refs[0])
			}
			got, err := ReadSnapshot(ctx, s, refs[1])
			if err != nil {
				t.Fatal(err)
			}
			if got.Environment != "production" || got.Spec.Cluster.Region != "us-east" ||
				got.Base["lke/platform-production/pool/general count"] != "5" || !got.TakenAt.Equal(t0.Add(time.Nanosecond)) {
				t.Errorf("read back %+v", got)
			}
			if pw := got.Objects[0].Fields["password"]; pw != change.Redacted {
				t.Errorf("sensitive field read back as %q, want %q", pw, change.Redacted)
			}
			if ns := got.Objects[0].Fields["namespace"]; ns != "app" {
				t.Errorf("a plain field read back as %q", ns)
			}
			raw, _ := s.Get(ctx, refs[1].Key)
			if bytes.Contains(raw, []byte(plaintext)) {
				t.Errorf("the stored snapshot holds the plaintext secret: %s", raw)
			}
			// Altered content no longer matches its key.
			if err := s.Put(ctx, refs[0].Key, bytes.Replace(raw, []byte(`"5"`), []byte(`"9"`), 1)); err != nil {
				t.Fatal(err)
			}
			if _, err := ReadSnapshot(ctx, s, refs[0]); !errors.Is(err, ErrCorrupt) {
				t.Errorf("reading an altered snapshot: %v, want ErrCorrupt", err)
			}
		})
	}
}

func TestAuditIsAppendOnlyAndRedactsSensitiveChanges(t *testing.T) {
	t.Parallel()
	for _, st := range stores {
		t.Run(st.name, func(t *testing.T) {
			t.Parallel()
			s := st.new(t)
			ctx := t.Context()
			t0 := time.Date(2030, 1, 1, 12, 0, 0, 0, time.UTC)
			rec := AuditRecord{
				Who: "github:alice", When: t0, Environments: []string{"production"}, PlanDigest: "sha256:abc",
				Changes: []change.Change{
					{Layer: change.LayerLinode, Object: "lke/platform-production/pool/general", Field: "count", From: "3", To: "5", Op: change.Update},
					{Layer: change.LayerSecrets, Object: "secret/app/db", Field: "password", From: "old-" + plaintext, To: plaintext, Op: change.Update, Sensitive: true},
				},
				Result: "applied",
			}
			k1, err := AppendAudit(ctx, s, rec)
			if err != nil {
				t.Fatal(err)
			}
			if _, err := AppendAudit(ctx, s, rec); !errors.Is(err, ErrExists) {
				t.Errorf("appending the same record twice: %v, want ErrExists", err)
			}
			later := AuditRecord{Who: "github:bob", When: t0.Add(time.Second), PlanDigest: "sha256:def", Result: "failed", Error: "stale plan"}
			if _, err := AppendAudit(ctx, s, later); err != nil {
				t.Fatal(err)
			}
			if _, err := AppendAudit(ctx, s, AuditRecord{When: t0, Result: "applied"}); err == nil {
				t.Error("a record without who was accepted")
			}
			recs, err := ListAudit(ctx, s)
			if err != nil {
				t.Fatal(err)
			}
			if len(recs) != 2 || recs[0].Key != k1 || recs[0].Who != "github:alice" || recs[1].Who != "github:bob" || recs[1].Error != "stale plan" {
				t.Fatalf("list: %+v", recs)
			}
			c := recs[0].Changes
			if len(c) != 2 || c[0].To != "5" || c[1].From != change.Redacted || c[1].To != change.Redacted {
				t.Errorf("changes read back as %+v; want the sensitive one redacted and the other intact", c)
			}
			raw, _ := s.Get(ctx, k1)
			if bytes.Contains(raw, []byte(plaintext)) {
				t.Errorf("the stored audit record holds the plaintext secret: %s", raw)
			}
		})
	}
}
