package helmrelease

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"

	"go.uber.org/zap"
	"helm.sh/helm/v3/pkg/action"
	"helm.sh/helm/v3/pkg/chart"
	"helm.sh/helm/v3/pkg/chart/loader"
	"helm.sh/helm/v3/pkg/cli"
	"helm.sh/helm/v3/pkg/registry"
)

// LoadChart returns chart c as Plan, PlanNew and ApplyStep load it: from
// the cache of WithCacheDir when it holds c, else downloaded (from where
// WithRepository says c's repository is served) and cached. Each call
// returns a chart of its own, which the caller may change. A chart that is
// not pinned or has no repository is an error wrapping ErrInvalid, before
// any request. Options other than WithCacheDir, WithRepository,
// WithPlainHTTP and WithLogger are ignored.
func LoadChart(c Chart, opts ...Option) (*chart.Chart, error) {
	o, err := newOptions(opts)
	if err != nil {
		return nil, err
	}
	if err := c.validate(); err != nil {
		return nil, err
	}
	return o.loadChart(c)
}

// cachePath is where chart c is kept: one directory per repository (a
// digest of its upstream URL, whichever URL WithRepository serves it
// from), one archive per chart and version.
func (o *options) cachePath(c Chart) string {
	sum := sha256.Sum256([]byte(strings.TrimSuffix(c.RepoURL, "/")))
	return filepath.Join(o.cacheDir, "charts", hex.EncodeToString(sum[:8]), c.Name+"-"+c.Version+".tgz")
}

// loadChart returns chart c, loaded fresh (Helm mutates a chart while it
// processes dependencies), from the cache when it holds it, else
// downloaded from the repository or registry and then cached.
func (o *options) loadChart(c Chart) (*chart.Chart, error) {
	path := o.cachePath(c)
	if _, err := os.Stat(path); err != nil {
		if err := o.download(c, path); err != nil {
			return nil, err
		}
	}
	ch, err := loader.Load(path)
	if err != nil {
		return nil, fmt.Errorf("load chart %s from %s: %w", c, path, err)
	}
	if ch.Metadata == nil || ch.Metadata.Name != c.Name || ch.Metadata.Version != c.Version {
		return nil, fmt.Errorf("load chart %s from %s: the archive holds %s %s", c, path, ch.Name(), ch.Metadata.Version)
	}
	return ch, nil
}

// download fetches chart c into path, through Helm's ChartPathOptions
// (index.yaml lookup for an HTTP repository, a pull for OCI).
func (o *options) download(c Chart, path string) error {
	work, err := os.MkdirTemp(o.cacheDir, "download-")
	if os.IsNotExist(err) {
		if err = os.MkdirAll(o.cacheDir, 0o755); err == nil {
			work, err = os.MkdirTemp(o.cacheDir, "download-")
		}
	}
	if err != nil {
		return fmt.Errorf("download chart %s: make a work directory: %w", c, err)
	}
	defer os.RemoveAll(work)
	settings := cli.New()
	settings.RepositoryCache = filepath.Join(work, "repository")
	settings.RepositoryConfig = filepath.Join(work, "repositories.yaml")
	settings.RegistryConfig = filepath.Join(work, "registry.json")
	settings.PluginsDirectory = filepath.Join(work, "plugins")

	cpo := action.ChartPathOptions{Version: c.Version}
	name := c.Name
	from := o.served(c.RepoURL)
	if registry.IsOCI(from) {
		ropts := []registry.ClientOption{registry.ClientOptWriter(io.Discard), registry.ClientOptCredentialsFile(settings.RegistryConfig)}
		if o.plainHTTP {
			ropts = append(ropts, registry.ClientOptPlainHTTP())
		}
		rc, err := registry.NewClient(ropts...)
		if err != nil {
			return fmt.Errorf("download chart %s: OCI registry client: %w", c, err)
		}
		// ChartPathOptions takes its registry client only from an action
		// made with it.
		cpo = action.NewInstall(&action.Configuration{RegistryClient: rc}).ChartPathOptions
		cpo.Version, cpo.PlainHTTP = c.Version, o.plainHTTP
		name = strings.TrimSuffix(from, "/") + "/" + c.Name
	} else {
		cpo.RepoURL = from
	}
	o.log.Info("downloading chart", zap.String("chart", c.Name), zap.String("version", c.Version), zap.String("repo", c.RepoURL), zap.String("from", from))
	got, err := cpo.LocateChart(name, settings)
	if err != nil {
		return fmt.Errorf("download chart %s from %s: %w", c, from, err)
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return fmt.Errorf("cache chart %s: %w", c, err)
	}
	// Rename within the cache directory: a reader sees the whole archive
	// or none.
	tmp := filepath.Join(work, "chart.tgz")
	if err := copyFile(got, tmp); err != nil {
		return fmt.Errorf("cache chart %s: %w", c, err)
	}
	if err := os.Rename(tmp, path); err != nil {
		return fmt.Errorf("cache chart %s: %w", c, err)
	}
	return nil
}

func copyFile(from, to string) error {
	in, err := os.Open(from)
	if err != nil {
		return err
	}
	defer in.Close()
	out, err := os.Create(to)
	if err != nil {
		return err
	}
	if _, err := io.Copy(out, in); err != nil {
		out.Close()
		return err
	}
	return out.Close()
}
