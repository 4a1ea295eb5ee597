// Package actions holds the GitHub Actions of the platform, each a
// composite action.yml that sets up Go and runs its main with `go run`:
// plan (actions/plan), ensure-env (actions/ensure-env), drift-detect
// (actions/drift-detect) and availability (actions/availability). Their
// bodies are in actions/internal; this package's tests run the action.yml
// files themselves, as the runner would (actions/internal/ghatest).
package actions
