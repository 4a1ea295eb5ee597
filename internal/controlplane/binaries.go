package controlplane

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"sort"
)

// Versions of the components that hack/controlplane.sh builds; a test checks
// them against tools/k8s/go.mod, tools/etcd/go.mod and the script.
const (
	kubernetesVersion = "v1.37.2"
	etcdVersion       = "v3.6.16"
	kwokVersion       = "v0.8.0"
)

// ErrBinaryMissing is matched (errors.Is) by the error [Start] returns when a
// component's binary is not in the cache: run make controlplane.
var ErrBinaryMissing = errors.New("control plane binary missing")

// MissingBinaryError names the component whose binary was not found and
// where it was looked for. It matches [ErrBinaryMissing].
type MissingBinaryError struct {
	// Component is the component's name, such as "kube-apiserver".
	Component string
	// Path is where the binary built by this Go version would be.
	Path string
}

// Error says what is missing and how to build it.
func (e *MissingBinaryError) Error() string {
	return fmt.Sprintf("%s binary not found at %s: run make controlplane (or make test)", e.Component, e.Path)
}

// Unwrap returns ErrBinaryMissing.
func (e *MissingBinaryError) Unwrap() error { return ErrBinaryMissing }

// component is one cached build: <cache>/<name>-<version>-<goversion>/<binary>.
type component struct {
	name, version string
}

var (
	compAPIServer  = component{"kube-apiserver", kubernetesVersion}
	compController = component{"kube-controller-manager", kubernetesVersion}
	compScheduler  = component{"kube-scheduler", kubernetesVersion}
	compEtcd       = component{"etcd", etcdVersion}
	compKwok       = component{"kwok", kwokVersion}
)

// binary returns the executable's file name.
func (c component) binary() string { return c.name }

// DefaultCacheDir returns the directory hack/controlplane.sh builds into:
// $PLATFORM_CACHE_DIR/controlplane, else $XDG_CACHE_HOME/platform/controlplane,
// else $HOME/.cache/platform/controlplane.
func DefaultCacheDir() string {
	base := os.Getenv("PLATFORM_CACHE_DIR")
	if base == "" {
		xdg := os.Getenv("XDG_CACHE_HOME")
		if xdg == "" {
			home, _ := os.UserHomeDir() // an empty home leaves a relative path that will not exist
			xdg = filepath.Join(home, ".cache")
		}
		base = filepath.Join(xdg, "platform")
	}
	return filepath.Join(base, "controlplane")
}

// find returns the path of c's binary under cache: the one built by this
// test binary's Go version, else the last (in lexical order) built by another Go
// version of the same component version.
func (c component) find(cache string) (string, error) {
	exact := filepath.Join(cache, c.name+"-"+c.version+"-"+runtime.Version(), c.binary())
	if isExecutable(exact) {
		return exact, nil
	}
	matches, err := filepath.Glob(filepath.Join(cache, c.name+"-"+c.version+"-go*", c.binary()))
	if err != nil {
		return "", fmt.Errorf("look for %s in %s: %w", c.name, cache, err)
	}
	sort.Sort(sort.Reverse(sort.StringSlice(matches)))
	for _, m := range matches {
		if isExecutable(m) {
			return m, nil
		}
	}
	return "", &MissingBinaryError{Component: c.name, Path: exact}
}

func isExecutable(path string) bool {
	fi, err := os.Stat(path)
	return err == nil && fi.Mode().IsRegular() && fi.Mode().Perm()&0o111 != 0
}

// Available reports whether the binaries a plain control plane needs
// (etcd and kube-apiserver) are in the default cache: nil when they are,
// else the MissingBinaryError of the first one missing. Programs that can
// do without a control plane, such as the examples, check it first.
func Available() error {
	cache := DefaultCacheDir()
	for _, c := range []component{compEtcd, compAPIServer} {
		if _, err := c.find(cache); err != nil {
			return err
		}
	}
	return nil
}
