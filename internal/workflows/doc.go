// Package workflows holds no code: its tests check the repository's GitHub
// workflows (.github/workflows) and actions (actions/*/action.yml and
// .github/actions/*/action.yml), so that plain `go test ./...` catches
// what `make lint-workflows` catches, and more:
//
//   - every workflow lints clean under actionlint v1.7.12 (the version
//     `make lint-workflows` runs), with shellcheck over run: scripts when
//     shellcheck is on PATH (GitHub's Ubuntu runners have it; without it
//     the test logs that the scripts went unchecked by it);
//   - every action's metadata parses and passes actionlint's checks of a
//     local action (name, description, inputs, runs), as seen from a
//     workflow that calls it with its required inputs, and a composite
//     action's steps lint clean as the steps of a job whose inputs are the
//     action's (and every run: step names its shell);
//   - the lint sees mistakes at all (an undefined step output, an
//     undeclared input of a local action, a shellcheck warning);
//   - the infra workflow keeps the contract docs/ describe: a plan on pull
//     requests and on pushes to main, uploaded as an artifact; an apply in
//     a GitHub environment, after the plan, on the downloaded artifact,
//     with the approved digest from the plan job's output or a dispatch's
//     required input; and ci.yml runs make lint-workflows and .ci/run.
//
// The linting is done with actionlint's Go API (NewLinter, LintFiles, Lint)
// by the program in lint/, which the tests run with go run. It is a module
// of its own: actionlint v1.7.12 is built against go.yaml.in/yaml/v4
// v4.0.0-rc.3, whose API changed in v4.0.0, the version this module
// requires, so actionlint's package does not compile here.
package workflows
