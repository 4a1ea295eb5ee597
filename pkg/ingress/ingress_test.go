package ingress_test

import (
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"helm.sh/helm/v3/pkg/action"
	"helm.sh/helm/v3/pkg/chart/loader"
	"helm.sh/helm/v3/pkg/chartutil"

	"github.com/org/platform/internal/shared"
	"github.com/org/platform/pkg/ingress"
	"github.com/org/platform/pkg/observability"
	"github.com/org/platform/pkg/spec"
)

func standard(t *testing.T, name string) spec.Environment {
	t.Helper()
	env, err := spec.Default(name)
	if err != nil {
		t.Fatal(err)
	}
	return env.WithDefaults()
}

// TestReleasesRenderWithKnownValues renders each standard environment's
// releases from the upstream charts: every key is one the chart knows,
// two renders are identical, and the spec's ingress settings reach the
// objects.
func TestReleasesRenderWithKnownValues(t *testing.T) {
	for _, name := range spec.StandardNames() {
		env := standard(t, name)
		rels, err := ingress.Releases(env)
		if err != nil {
			t.Fatal(err)
		}
		if len(rels) != 2 || rels[0].Chart != ingress.CertManagerChart || rels[1].Chart != ingress.NginxChart {
			t.Fatalf("%s: releases %+v, want cert-manager then ingress-nginx", name, rels)
		}
		for _, rel := range rels {
			path, err := shared.Find(filepath.Join("charts", rel.Chart.Name+"-"+rel.Chart.Version+".tgz"))
			if err != nil {
				if shared.Required() {
					t.Fatal(err)
				}
				t.Skip(err)
			}
			ch, err := loader.Load(path)
			if err != nil {
				t.Fatal(err)
			}
			unknown, err := observability.UnknownValues(ch, rel.Values)
			if err != nil {
				t.Fatal(err)
			}
			if len(unknown) > 0 {
				t.Errorf("%s %s: keys the chart does not know: %v", name, rel.Chart, unknown)
			}
			render := func() string {
				inst := action.NewInstall(&action.Configuration{})
				inst.DryRun, inst.ClientOnly, inst.ReleaseName, inst.Namespace = true, true, rel.Name, rel.Namespace
				inst.KubeVersion = &chartutil.KubeVersion{Version: "v1.34.0", Major: "1", Minor: "34"}
				r, err := inst.Run(ch, rel.Values)
				if err != nil {
					t.Fatalf("%s: render %s: %v", name, rel.Chart, err)
				}
				return r.Manifest
			}
			first := render()
			if first != render() {
				t.Errorf("%s: two renders of %s differ", name, rel.Chart)
			}
			if rel.Chart == ingress.NginxChart {
				for _, want := range []string{
					"type: LoadBalancer",
					"name: " + env.Ingress.ClassName,
					"ingressclass.kubernetes.io/is-default-class: \"true\"",
					"replicas: " + itoa(env.Ingress.Replicas),
				} {
					if !strings.Contains(first, want) {
						t.Errorf("%s: rendered ingress-nginx lacks %q", name, want)
					}
				}
			}
		}
	}
}

func itoa(n int) string { return strconv.Itoa(n) }

func TestClusterIssuer(t *testing.T) {
	env := standard(t, "production")
	env.Ingress.ACMEEmail = "ops@example.com"
	iss, err := ingress.ClusterIssuer(env)
	if err != nil {
		t.Fatal(err)
	}
	if iss.GetKind() != "ClusterIssuer" || iss.GetName() != ingress.IssuerName || iss.GetNamespace() != "" {
		t.Fatalf("issuer %s %s/%s", iss.GetKind(), iss.GetNamespace(), iss.GetName())
	}
	acme := iss.Object["spec"].(map[string]any)["acme"].(map[string]any)
	if acme["email"] != "ops@example.com" || acme["server"] != ingress.ACMEServer {
		t.Errorf("acme %v", acme)
	}
	solver := acme["solvers"].([]any)[0].(map[string]any)["http01"].(map[string]any)["ingress"].(map[string]any)
	if solver["ingressClassName"] != env.Ingress.ClassName {
		t.Errorf("solver class %v, want %s", solver["ingressClassName"], env.Ingress.ClassName)
	}

	env.Ingress.ACMEEmail = ""
	if iss, err := ingress.ClusterIssuer(env); err != nil || iss != nil {
		t.Errorf("without an ACME e-mail: %v, %v; want no issuer", iss, err)
	}
}

func TestDisabledIngressHasNothingAndNoWarning(t *testing.T) {
	env := standard(t, "development")
	env.Ingress.Enabled = false
	if _, err := ingress.Releases(env); err != ingress.ErrDisabled {
		t.Errorf("Releases: %v, want ErrDisabled", err)
	}
	if w := ingress.Warnings(env); len(w) != 0 {
		t.Errorf("warnings %v", w)
	}
	env.Ingress.Enabled = true
	if w := ingress.Warnings(env); len(w) != 1 || !strings.Contains(w[0], "retired upstream in March 2026") {
		t.Errorf("warnings %v, want the retirement warning", w)
	}
}
