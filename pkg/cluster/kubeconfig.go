package cluster

import (
	"context"
	"encoding/base64"
	"errors"
	"fmt"
	"os"
	"path/filepath"

	"go.uber.org/zap"

	"github.com/org/platform/internal/poll"
)

// Kubeconfig returns the cluster's kubeconfig, decoded from the API's
// base64. While the API answers that it is not available yet (503, with or
// without Retry-After) or fails transiently beyond the client's own
// retries, it polls again until ctx ends, waiting the Retry-After or else
// from the poll interval (at most 1 s) doubling up to the maximum. The
// kubeconfig is a credential: it is never logged and never part of an
// error.
func Kubeconfig(ctx context.Context, api LKEAPI, clusterID int, opts ...Option) ([]byte, error) {
	o, err := newOptions(opts)
	if err != nil {
		return nil, err
	}
	return fetchKubeconfig(ctx, api, o, o.logger.With(zap.Int("clusterID", clusterID)), clusterID, nil)
}

// fetchKubeconfig is Kubeconfig, waiting until it is available; onAttempt,
// if set, is called before each request.
func fetchKubeconfig(ctx context.Context, api LKEAPI, o *options, log *zap.Logger, clusterID int, onAttempt func()) ([]byte, error) {
	var kc []byte
	p := poll.Policy{Interval: o.retryPause(), MaxInterval: o.maxPollInterval, Multiplier: 2, Clock: o.clock}
	err := poll.UntilAvailable(ctx, p, func(ctx context.Context) error {
		if onAttempt != nil {
			onAttempt()
		}
		var err error
		kc, err = kubeconfig(ctx, api, clusterID)
		if t, after := poll.Transient(err); t {
			log.Debug("kubeconfig not available yet", zap.Duration("retryAfter", after), zap.Error(err))
		}
		return err
	})
	if err != nil {
		return nil, err
	}
	return kc, nil
}

// kubeconfig fetches and decodes the kubeconfig once.
func kubeconfig(ctx context.Context, api LKEAPI, clusterID int) ([]byte, error) {
	resp, err := api.GetLKEClusterKubeconfig(ctx, clusterID)
	if err != nil {
		return nil, fmt.Errorf("get kubeconfig of LKE cluster %d: %w", clusterID, errNotFound(err))
	}
	kc, err := base64.StdEncoding.DecodeString(resp.KubeConfig)
	if err != nil {
		// CorruptInputError names an offset only, never the data.
		return nil, fmt.Errorf("decode kubeconfig of LKE cluster %d: %w", clusterID, err)
	}
	if len(kc) == 0 {
		return nil, fmt.Errorf("get kubeconfig of LKE cluster %d: the API returned an empty kubeconfig", clusterID)
	}
	return kc, nil
}

// WriteKubeconfig writes data to path with mode 0600, readable by its
// owner only. An existing file is replaced by a new 0600 file (written
// beside it and renamed over it), so the credential is never readable by
// others, not even for a moment, whatever the old file's mode was.
func WriteKubeconfig(path string, data []byte) (err error) {
	if len(data) == 0 {
		return errors.New("write kubeconfig: empty kubeconfig")
	}
	dir := filepath.Dir(path)
	f, err := os.CreateTemp(dir, "."+filepath.Base(path)+".*.tmp")
	if err != nil {
		return fmt.Errorf("write kubeconfig %s: %w", path, err)
	}
	tmp := f.Name()
	defer func() {
		if err != nil {
			_ = os.Remove(tmp)
		}
	}()
	if err := f.Chmod(0o600); err != nil {
		_ = f.Close()
		return fmt.Errorf("write kubeconfig %s: %w", path, err)
	}
	if _, err := f.Write(data); err != nil {
		_ = f.Close()
		return fmt.Errorf("write kubeconfig %s: %w", path, err)
	}
	if err := f.Sync(); err != nil {
		_ = f.Close()
		return fmt.Errorf("write kubeconfig %s: %w", path, err)
	}
	if err := f.Close(); err != nil {
		return fmt.Errorf("write kubeconfig %s: %w", path, err)
	}
	if err := os.Rename(tmp, path); err != nil {
		return fmt.Errorf("write kubeconfig %s: %w", path, err)
	}
	// Belt and braces for filesystems where rename keeps odd modes.
	if err := os.Chmod(path, 0o600); err != nil {
		return fmt.Errorf("write kubeconfig %s: %w", path, err)
	}
	return nil
}
