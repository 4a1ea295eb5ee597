// Command staging ensures the staging environment's LKE cluster. With
// LINODE_TOKEN set it uses the Linode API (LINODE_URL overrides the
// endpoint); without it, an in-process simulator on a fast clock.
//
//	go run ./examples/staging
package main

import (
	"os"

	"github.com/org/platform/examples/internal/run"
)

func main() { os.Exit(run.Main("staging")) }
