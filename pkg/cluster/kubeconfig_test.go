package cluster_test

import (
	"context"
	"encoding/base64"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/linode/linodego"
	"go.uber.org/zap"
	"go.uber.org/zap/zapcore"
	"go.uber.org/zap/zaptest/observer"

	"github.com/org/platform/pkg/cluster"
	"github.com/org/platform/pkg/linodetest"
	"github.com/org/platform/pkg/spec"
)

func TestWriteKubeconfigMode(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	tests := []struct {
		name     string
		existing os.FileMode // 0: no file yet
	}{
		{"new file", 0},
		{"existing 0644 file", 0o644},
		{"existing 0666 file", 0o666},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			path := filepath.Join(dir, strings.ReplaceAll(tt.name, " ", "-"))
			if tt.existing != 0 {
				if err := os.WriteFile(path, []byte("old"), tt.existing); err != nil {
					t.Fatal(err)
				}
				if err := os.Chmod(path, tt.existing); err != nil { // past the umask
					t.Fatal(err)
				}
			}
			if err := cluster.WriteKubeconfig(path, []byte("apiVersion: v1\n")); err != nil {
				t.Fatalf("WriteKubeconfig: %v", err)
			}
			fi, err := os.Stat(path)
			if err != nil {
				t.Fatal(err)
			}
			if m := fi.Mode().Perm(); m != 0o600 {
				t.Errorf("mode %o, want 600", m)
			}
			if b, _ := os.ReadFile(path); string(b) != "apiVersion: v1\n" {
				t.Errorf("content %q", b)
			}
			if left, _ := filepath.Glob(path + ".*.tmp"); len(left) > 0 {
				t.Errorf("temporary files left: %v", left)
			}
		})
	}
	if err := cluster.WriteKubeconfig(filepath.Join(dir, "missing", "config"), []byte("x")); err == nil {
		t.Error("writing into a missing directory succeeded")
	}
}

// corruptKubeconfig answers the kubeconfig request with text that is not
// base64 and holds the secret.
type corruptKubeconfig struct {
	cluster.LKEAPI
	secret string
}

func (c corruptKubeconfig) GetLKEClusterKubeconfig(context.Context, int) (*linodego.LKEClusterKubeconfig, error) {
	return &linodego.LKEClusterKubeconfig{KubeConfig: "!!" + c.secret + "!!"}, nil
}

func TestKubeconfigNeverLogged(t *testing.T) {
	t.Parallel()
	const secret = "s3cr3t-bearer-token-1f2e3d"
	raw := "apiVersion: v1\nkind: Config\nusers:\n- name: admin\n  user:\n    token: " + secret + "\n"
	srv, client := linodetest.New(t, linodetest.WithKubeconfigSource(func(int) ([]byte, error) { return []byte(raw), nil }))
	core, logs := observer.New(zapcore.DebugLevel)
	opts := []cluster.Option{cluster.WithClock(srv.Clock()), cluster.WithLogger(zap.New(core))}

	env := mustDefault(t, spec.Development)
	res := ensure(t, client, env, opts)
	kc, err := cluster.Kubeconfig(t.Context(), client, res.ID, opts...)
	if err != nil || string(kc) != raw {
		t.Fatalf("Kubeconfig: %q, %v; want the decoded kubeconfig", kc, err)
	}
	// An upgrade with a version checker fetches it again.
	env.Cluster.KubernetesVersion = "1.34"
	ensure(t, client, env, append(opts, cluster.WithNodeVersionChecker(&stateChecker{srv: srv, label: env.Cluster.Label})))
	_, err = cluster.Kubeconfig(t.Context(), corruptKubeconfig{client, secret}, res.ID, opts...)
	if err == nil {
		t.Fatal("a corrupt kubeconfig decoded")
	}

	forbidden := []string{secret, base64.StdEncoding.EncodeToString([]byte(raw)), "token:"}
	for _, s := range forbidden {
		if strings.Contains(err.Error(), s) {
			t.Errorf("error %q reveals the kubeconfig", err)
		}
	}
	if logs.Len() == 0 {
		t.Fatal("nothing logged: the check below would prove nothing")
	}
	for _, e := range logs.All() {
		text := e.Message
		for k, v := range e.ContextMap() {
			text += " " + k + "=" + fmt.Sprint(v)
		}
		for _, s := range forbidden {
			if strings.Contains(text, s) {
				t.Errorf("log entry reveals the kubeconfig: %s", text)
			}
		}
	}
}
