// Package actionlintexpr is actionlint's own expression lexer and parser
// for GitHub Actions ${{ }} expressions — the files expr.go, expr_ast.go,
// expr_lexer.go, expr_parser.go and quotes.go of
// github.com/rhysd/actionlint v1.7.12, copied unchanged but for the package
// clause (MIT License, LICENSE.txt).
//
// Why a copy: the actionlint package at v1.7.12 requires
// go.yaml.in/yaml/v4 v4.0.0-rc.3 and does not compile against v4.0.0,
// which this module requires (its yaml.ParserError and TypeError changed),
// so importing it breaks the build; v1.7.12 is its latest release. These
// five files import only the standard library. pin.go keeps the module in
// go.mod, and TestSameAsActionlint compares every file with the module's.
// When a release of actionlint builds against v4.0.0, import it instead.
package actionlintexpr
