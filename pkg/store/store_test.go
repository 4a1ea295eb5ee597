package store

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"sync"
	"testing"
)

// TestConformance runs the same table on every Store.
func TestConformance(t *testing.T) {
	t.Parallel()
	for _, st := range stores {
		t.Run(st.name, func(t *testing.T) {
			t.Parallel()
			s := st.new(t)
			ctx := t.Context()

			if err := s.Put(ctx, "a/one", []byte("1")); err != nil {
				t.Fatal(err)
			}
			if err := s.Put(ctx, "a/one", []byte("1b")); err != nil {
				t.Fatalf("put over an existing object: %v", err)
			}
			if b, err := s.Get(ctx, "a/one"); err != nil || string(b) != "1b" {
				t.Errorf("get after put: %q, %v; want the last put", b, err)
			}
			if _, err := s.Get(ctx, "a/missing"); !errors.Is(err, ErrNotFound) {
				t.Errorf("get of a missing key: %v, want ErrNotFound", err)
			}

			if err := s.Create(ctx, "a/two", []byte("2")); err != nil {
				t.Fatalf("create of an absent key: %v", err)
			}
			var ee *ExistsError
			if err := s.Create(ctx, "a/two", []byte("2b")); !errors.As(err, &ee) || !errors.Is(err, ErrExists) {
				t.Errorf("second create: %v, want *ExistsError", err)
			}
			if b, _ := s.Get(ctx, "a/two"); string(b) != "2" {
				t.Errorf("a refused create changed the object to %q", b)
			}
			if err := s.Create(ctx, "a/one", []byte("x")); !errors.Is(err, ErrExists) {
				t.Errorf("create over a put object: %v, want ErrExists", err)
			}

			// Concurrent creates of one key: exactly one wins.
			var wg sync.WaitGroup
			errs := make([]error, 8)
			for i := range errs {
				wg.Go(func() { errs[i] = s.Create(ctx, "race", fmt.Appendf(nil, "%d", i)) })
			}
			wg.Wait()
			won := 0
			for _, err := range errs {
				switch {
				case err == nil:
					won++
				case !errors.Is(err, ErrExists):
					t.Errorf("concurrent create: %v", err)
				}
			}
			if won != 1 {
				t.Errorf("concurrent creates of one key: %d won, want exactly 1", won)
			}

			for _, k := range []string{"b/x", "ab", "a/sub/three"} {
				if err := s.Put(ctx, k, []byte(k)); err != nil {
					t.Fatal(err)
				}
			}
			got, err := s.List(ctx, "a/")
			if want := []string{"a/one", "a/sub/three", "a/two"}; err != nil || !slices.Equal(got, want) {
				t.Errorf("list a/: %q, %v; want %q", got, err, want)
			}
			if got, err := s.List(ctx, "nothing/"); err != nil || len(got) != 0 {
				t.Errorf("list of an empty prefix: %q, %v", got, err)
			}

			if err := s.Delete(ctx, "a/one"); err != nil {
				t.Fatal(err)
			}
			if _, err := s.Get(ctx, "a/one"); !errors.Is(err, ErrNotFound) {
				t.Errorf("get after delete: %v, want ErrNotFound", err)
			}
			if err := s.Delete(ctx, "a/one"); err != nil {
				t.Errorf("delete of an absent key: %v, want nil", err)
			}
			if err := s.Create(ctx, "a/one", []byte("again")); err != nil {
				t.Errorf("create after delete: %v", err)
			}

			for _, bad := range []string{"", "/abs", "a//b", "a/../b", "a/./b", `a\b`} {
				if err := s.Put(ctx, bad, []byte("x")); err == nil {
					t.Errorf("put %q: accepted, want refused", bad)
				}
			}

			if err := CheckConditionalCreate(ctx, s); err != nil {
				t.Errorf("CheckConditionalCreate: %v", err)
			}
			if left, _ := s.List(ctx, probePrefix); len(left) != 0 {
				t.Errorf("the probe left %q behind", left)
			}
		})
	}
}

func TestCheckConditionalCreateRefusesAnOverwritingStore(t *testing.T) {
	t.Parallel()
	for _, st := range stores {
		t.Run(st.name, func(t *testing.T) {
			t.Parallel()
			err := CheckConditionalCreate(t.Context(), overwriting{st.new(t)})
			var ue *UnsafeStoreError
			if !errors.As(err, &ue) || !errors.Is(err, ErrUnsafeStore) {
				t.Fatalf("got %v, want *UnsafeStoreError", err)
			}
			if ue.Reason == "" {
				t.Error("the error does not say why")
			}
		})
	}
}

func TestLocalModesAndNoLeftovers(t *testing.T) {
	t.Parallel()
	s := localStore(t)
	ctx := t.Context()
	if err := s.Create(ctx, "snapshots/production/x.json", []byte("{}")); err != nil {
		t.Fatal(err)
	}
	if err := s.Put(ctx, "locks/production", []byte("{}")); err != nil {
		t.Fatal(err)
	}
	_ = s.Create(ctx, "snapshots/production/x.json", []byte("{}")) // refused
	err := filepath.WalkDir(s.Root(), func(p string, d os.DirEntry, err error) error {
		if err != nil {
			return err
		}
		fi, err := d.Info()
		if err != nil {
			return err
		}
		want := os.FileMode(0o600)
		if d.IsDir() {
			want = 0o700 | os.ModeDir
		}
		if p != s.Root() && fi.Mode() != want {
			t.Errorf("%s: mode %v, want %v", p, fi.Mode(), want)
		}
		if filepath.Base(p)[0] == '.' {
			t.Errorf("%s: temporary file left behind", p)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}
