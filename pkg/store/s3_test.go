package store

import (
	"errors"
	"testing"
)

// TestS3ConditionalCreate checks the store's reading of S3's answers: a
// second conditional create of one key (412 from the server) is an
// *ExistsError naming the key. The S3 protocol itself (signatures, key
// access) is tested where it is served, in pkg/linodetest.
func TestS3ConditionalCreate(t *testing.T) {
	t.Parallel()
	s := s3Store(t)
	ctx := t.Context()
	if err := s.Create(ctx, "x", []byte("1")); err != nil {
		t.Fatal(err)
	}
	var ee *ExistsError
	if err := s.Create(ctx, "x", []byte("2")); !errors.As(err, &ee) || ee.Key != "x" {
		t.Errorf("second create through the store: %v, want *ExistsError for x", err)
	}
	if got, err := s.Get(ctx, "x"); err != nil || string(got) != "1" {
		t.Errorf("after a refused create: %q, %v; want the first value", got, err)
	}
}
