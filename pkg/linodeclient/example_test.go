package linodeclient_test

import (
	"os"

	"github.com/org/platform/pkg/linodeclient"
)

// A client of the real API with the project's retry layer; pkg/cluster and
// pkg/network take it as their LKEAPI, FirewallAPI or VPCAPI.
func ExampleNewClient() {
	client := linodeclient.NewClient(os.Getenv("LINODE_TOKEN"))
	_ = client
}
