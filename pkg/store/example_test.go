package store_test

import (
	"context"
	"errors"
	"fmt"
	"log"
	"os"
	"time"

	"github.com/org/platform/pkg/change"
	"github.com/org/platform/pkg/store"
)

// One run holds an environment's lock; a second is refused, naming the
// holder, until the first releases it.
func ExampleAcquire() {
	ctx := context.Background()
	dir, err := os.MkdirTemp("", "store-example")
	if err != nil {
		log.Fatal(err)
	}
	defer os.RemoveAll(dir)
	s, err := store.NewLocal(dir) // the embedded default; NewS3 for a bucket
	if err != nil {
		log.Fatal(err)
	}

	lock, err := store.Acquire(ctx, s, "production", "ci run 1234 by alice")
	if err != nil {
		log.Fatal(err)
	}
	_, err = store.Acquire(ctx, s, "production", "ci run 1235 by bob")
	var held *store.HeldError
	fmt.Println(errors.Is(err, store.ErrLocked), errors.As(err, &held) && held.Holder.Owner == "ci run 1234 by alice")

	if err := lock.Release(ctx); err != nil {
		log.Fatal(err)
	}
	again, err := store.Acquire(ctx, s, "production", "ci run 1235 by bob")
	fmt.Println(err, again.Info().Owner)
	// Output:
	// true true
	// <nil> ci run 1235 by bob
}

// The audit log is append-only, in time order, and never holds a sensitive
// value.
func ExampleAppendAudit() {
	ctx := context.Background()
	dir, err := os.MkdirTemp("", "store-example")
	if err != nil {
		log.Fatal(err)
	}
	defer os.RemoveAll(dir)
	s, err := store.NewLocal(dir)
	if err != nil {
		log.Fatal(err)
	}
	_, err = store.AppendAudit(ctx, s, store.AuditRecord{
		Who: "github:alice via ci run 1234", When: time.Date(2026, 11, 26, 12, 0, 0, 0, time.UTC),
		Environments: []string{"production"}, Result: "applied",
		Changes: []change.Change{{Object: "secret/payments/db", Field: "password", From: "old", To: "new", Op: change.Update, Sensitive: true}},
	})
	if err != nil {
		log.Fatal(err)
	}
	recs, err := store.ListAudit(ctx, s)
	if err != nil {
		log.Fatal(err)
	}
	for _, r := range recs {
		fmt.Println(r.Who, r.Result, r.Changes[0].From, r.Changes[0].To)
	}
	// Output:
	// github:alice via ci run 1234 applied (sensitive) (sensitive)
}
