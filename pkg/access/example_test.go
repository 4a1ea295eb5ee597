package access_test

import (
	"context"
	"fmt"
	"log"
	"net/http"
	"net/http/httptest"
	"time"

	"github.com/linode/linodego"

	"github.com/org/platform/pkg/access"
	"github.com/org/platform/pkg/linodetest"
	"github.com/org/platform/pkg/spec"
)

// Serve the access metadata of fixed environments, and ask for one.
func ExampleHandler() {
	h := &access.Handler{Source: access.Static{{
		Name: "staging", Region: "us-ord", KubernetesVersion: "1.33",
		Cluster:     access.Cluster{Label: "platform-staging", ID: 7, Status: "ready", APIEndpoints: []string{"https://7-ab.us-ord.linodelke.net:443"}},
		Namespaces:  []access.Namespace{{Name: "apps", Team: "web", Ingress: true}},
		AlertRoutes: []access.AlertRoute{{Name: "critical", Severity: "critical", Channel: "#alerts"}},
	}}}
	for _, target := range []string{"/environments/staging", "/environments/qa"} {
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, target, nil))
		fmt.Print(rec.Code, " ", rec.Body.String())
	}
	// Output:
	// 200 {"name":"staging","region":"us-ord","kubernetesVersion":"1.33","gitOpsOnly":false,"cluster":{"label":"platform-staging","id":7,"status":"ready","apiEndpoints":["https://7-ab.us-ord.linodelke.net:443"]},"namespaces":[{"name":"apps","team":"web","ingress":true}],"dashboards":[],"alertRoutes":[{"name":"critical","severity":"critical","channel":"#alerts"}]}
	// 404 {"error":{"code":"not_found","message":"no environment named \"qa\""}}
}

// Build the metadata from the standard specs and what Linode (here the
// simulator) says of their clusters.
func ExampleNewSource() {
	ctx := context.Background()
	srv, err := linodetest.Start(ctx, linodetest.WithClock(linodetest.NewManualClock(time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC))))
	if err != nil {
		log.Fatal(err)
	}
	defer srv.Close()
	client := srv.NewClient()
	var envs []spec.Environment
	for _, name := range spec.StandardNames() {
		env, _ := spec.Default(name)
		envs = append(envs, env)
	}
	// Only production's cluster exists so far.
	if _, err := client.CreateLKECluster(ctx, linodego.LKEClusterCreateOptions{
		Label: "platform-production", Region: envs[2].Cluster.Region, K8sVersion: envs[2].Cluster.KubernetesVersion,
		NodePools: []linodego.LKENodePoolCreateOptions{{Count: 3, Type: "g6-dedicated-4"}},
	}); err != nil {
		log.Fatal(err)
	}
	src, err := access.NewSource(client, envs)
	if err != nil {
		log.Fatal(err)
	}
	list, err := src.Environments(ctx)
	if err != nil {
		log.Fatal(err)
	}
	for _, e := range list {
		fmt.Printf("%s: cluster %s, %d API endpoints, %d namespaces, %d dashboards, %d alert routes\n",
			e.Name, e.Cluster.Status, len(e.Cluster.APIEndpoints), len(e.Namespaces), len(e.Dashboards), len(e.AlertRoutes))
	}
	// Output:
	// development: cluster absent, 0 API endpoints, 2 namespaces, 2 dashboards, 2 alert routes
	// production: cluster ready, 4 API endpoints, 2 namespaces, 2 dashboards, 2 alert routes
	// staging: cluster absent, 0 API endpoints, 2 namespaces, 2 dashboards, 2 alert routes
	// system: cluster absent, 0 API endpoints, 2 namespaces, 2 dashboards, 2 alert routes
}
