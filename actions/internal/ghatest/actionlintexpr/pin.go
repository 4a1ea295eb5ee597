//go:build tools

package actionlintexpr

// The copied files' origin, kept in go.mod (go mod tidy considers every
// build tag) so that TestSameAsActionlint can compare them with it. The tag
// keeps the package, which does not compile here, out of every build.
import _ "github.com/rhysd/actionlint"
