// Package workflows holds no code: its tests check the repository's GitHub
// workflows (.github/workflows) and actions (actions/*/action.yml and
// .github/actions/*/action.yml) with actionlint's Go API, so that plain
// `go test ./...` catches what `make lint-workflows` catches, and more:
//
//   - every workflow lints clean under actionlint v1.7.12 (the version in
//     go.mod, the one `make lint-workflows` runs), with shellcheck over
//     run: scripts when shellcheck is on PATH (GitHub's Ubuntu runners have
//     it; without it the test logs that the scripts went unchecked);
//   - every action's metadata parses and passes actionlint's checks of a
//     local action (name, description, inputs, runs), as seen from a
//     workflow that calls it with its required inputs, and the steps of a
//     composite action lint clean as the steps of a job whose inputs are the
//     action's;
//   - the infra workflow keeps its contract: plan on pull requests and on
//     pushes to main, the plan uploaded as an artifact, the apply job gated
//     by a GitHub environment, after the plan job, with an approved digest.
//
// The lint tests fail on any actionlint error, naming the file, line and
// rule.
package workflows
