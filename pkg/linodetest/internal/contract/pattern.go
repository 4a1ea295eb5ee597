package contract

import (
	"fmt"
	"regexp"
	"time"

	"github.com/dlclark/regexp2/v2"
	"github.com/getkin/kin-openapi/openapi3"
)

// compileECMAPattern compiles a schema "pattern". OpenAPI patterns are
// ECMA-262 regular expressions; Go's RE2 engine compiles most of the spec's,
// but not the negative lookaheads of its label rules (firewall labels:
// ^[a-zA-Z]((?!--|__|\.\.)[a-zA-Z0-9-_.])+$). Those fall back to regexp2 in
// ECMAScript mode, so the pattern is still enforced rather than skipped.
func compileECMAPattern(expr string) (openapi3.RegexMatcher, error) {
	if re, err := regexp.Compile(expr); err == nil {
		return re, nil
	}
	re, err := regexp2.Compile(expr, regexp2.ECMAScript)
	if err != nil {
		return nil, fmt.Errorf("compile pattern %q: %w", expr, err)
	}
	re.MatchTimeout = time.Second
	return ecmaMatcher{re}, nil
}

type ecmaMatcher struct{ re *regexp2.Regexp }

// MatchString implements openapi3.RegexMatcher; a match that errors (time-out
// or backtracking limit) counts as no match, so it is reported.
func (m ecmaMatcher) MatchString(s string) bool {
	ok, err := m.re.MatchString(s)
	return err == nil && ok
}
