//go:build tools

// Package deps pins the dependencies chosen for packages that have not
// landed yet (Sealed Secrets for pkg/secrets, go-githubactions for actions/)
// at the versions known to resolve with the rest of the set, so that `go mod
// tidy` keeps them: sealed-secrets must stay at v0.36.x, since v0.40.0
// renamed its module path. The build tag keeps this file out of every build.
package deps

import (
	_ "github.com/bitnami-labs/sealed-secrets/pkg/crypto"
	_ "github.com/sethvargo/go-githubactions"
)
