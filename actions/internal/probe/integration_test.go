package probe

import (
	"os"
	"strings"
	"testing"

	"k8s.io/client-go/tools/clientcmd"

	"github.com/org/platform/internal/controlplane"
)

func TestMain(m *testing.M) { os.Exit(controlplane.Main(m)) }

// TestAPIServerReadyz probes a real kube-apiserver's /readyz with the
// kubeconfig's CA and token, within the default budget, beside stand-ins
// for the ingress and the sample service; with a wrong token the API
// server answers 401 and its target fails, without the token appearing in
// the result.
func TestAPIServerReadyz(t *testing.T) {
	t.Parallel()
	cp := controlplane.Require(t)
	api, err := APIServer(cp.Kubeconfig())
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(api.URL, "https://127.0.0.1:") || !strings.HasSuffix(api.URL, "/readyz") {
		t.Errorf("target URL %s", api.URL)
	}
	rep, err := Probe(t.Context(), "development", []Target{
		api,
		{Name: TargetIngress, URL: stub(t, 200, 0)},
		{Name: TargetSample, URL: stub(t, 200, 0)},
	})
	if err != nil {
		t.Fatal(err)
	}
	if rep.Verdict() != VerdictOK {
		t.Fatalf("verdict %s: %+v", rep.Verdict(), rep.Failed())
	}
	if r := rep.Results[0]; r.Status != 200 || r.Latency > DefaultBudget {
		t.Errorf("readyz: %+v", r)
	}

	cfg, err := clientcmd.Load(cp.Kubeconfig())
	if err != nil {
		t.Fatal(err)
	}
	const wrong = "not-the-token-0123456789"
	for _, ai := range cfg.AuthInfos {
		ai.Token = wrong
	}
	b, err := clientcmd.Write(*cfg)
	if err != nil {
		t.Fatal(err)
	}
	api, err = APIServer(b)
	if err != nil {
		t.Fatal(err)
	}
	rep, err = Probe(t.Context(), "development", []Target{api})
	if err != nil {
		t.Fatal(err)
	}
	r := rep.Results[0]
	if rep.Verdict() != VerdictFailed || r.Status != 401 || r.Err == nil || strings.Contains(r.Err.Error(), wrong) {
		t.Errorf("a wrong token: %+v", r)
	}

	if _, err := APIServer([]byte("token: " + wrong + "\n{")); err == nil || strings.Contains(err.Error(), wrong) {
		t.Errorf("a kubeconfig that does not parse: %v", err)
	}
}
