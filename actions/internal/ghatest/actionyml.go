package ghatest

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"

	actionlint "github.com/org/platform/actions/internal/ghatest/actionlintexpr"
	"sigs.k8s.io/yaml"
)

// Metadata is the part of an action.yml the tests read.
type Metadata struct {
	Name        string                `json:"name"`
	Description string                `json:"description"`
	Author      string                `json:"author"`
	Inputs      map[string]InputMeta  `json:"inputs"`
	Outputs     map[string]OutputMeta `json:"outputs"`
	Runs        struct {
		Using string `json:"using"`
		Steps []Step `json:"steps"`
	} `json:"runs"`
}

// InputMeta is one input of action.yml.
type InputMeta struct {
	Description string `json:"description"`
	Required    bool   `json:"required"`
	Default     string `json:"default"`
}

// OutputMeta is one output of a composite action.yml.
type OutputMeta struct {
	Description string `json:"description"`
	Value       string `json:"value"`
}

// Step is one step of a composite action.
type Step struct {
	Name             string            `json:"name"`
	ID               string            `json:"id"`
	Uses             string            `json:"uses"`
	With             map[string]string `json:"with"`
	Shell            string            `json:"shell"`
	WorkingDirectory string            `json:"working-directory"`
	Env              map[string]string `json:"env"`
	Run              string            `json:"run"`
}

// Load parses dir/action.yml strictly: a key the runner would not know
// (a typo such as working_directory) is an error.
func Load(dir string) (Metadata, error) {
	b, err := os.ReadFile(filepath.Join(dir, "action.yml"))
	if err != nil {
		return Metadata{}, err
	}
	var m Metadata
	if err := yaml.UnmarshalStrict(b, &m); err != nil {
		return Metadata{}, fmt.Errorf("%s/action.yml: %w", dir, err)
	}
	return m, nil
}

// StepOutputs are a step's outputs in the steps context: an output the
// step did not set evaluates to null (""), as on the runner, where every
// other unknown name fails the evaluation.
type StepOutputs map[string]string

// Context is what expressions are evaluated against: the contexts by
// name (inputs, github, steps, env …), each a tree of map[string]any with
// string leaves. Names are matched case-insensitively, as the runner does.
type Context map[string]any

// Interpolate replaces every ${{ }} expression of s by its value. Each is
// parsed with actionlint's lexer and parser and evaluated against c; an
// expression that does not parse, or that this evaluator cannot evaluate
// (an unknown context or property, a function), is an error.
func Interpolate(s string, c Context) (string, error) {
	var out strings.Builder
	for {
		i := strings.Index(s, "${{")
		if i < 0 {
			out.WriteString(s)
			return out.String(), nil
		}
		out.WriteString(s[:i])
		src := s[i+3:]
		lex := actionlint.NewExprLexer(src)
		node, perr := actionlint.NewExprParser().Parse(lex)
		if perr != nil {
			return "", fmt.Errorf("parse expression in %q: %s", s, perr.Message)
		}
		v, err := eval(node, c)
		if err != nil {
			return "", fmt.Errorf("evaluate %q: %w", strings.TrimSpace(src[:lex.Offset()-2]), err)
		}
		out.WriteString(toString(v))
		s = src[lex.Offset():]
	}
}

// eval evaluates the expression forms an action.yml of ours may use:
// context and property access, literals, comparisons, !, && and ||.
func eval(n actionlint.ExprNode, c Context) (any, error) {
	switch n := n.(type) {
	case *actionlint.VariableNode:
		v, ok := lookup(map[string]any(c), n.Name)
		if !ok {
			return nil, fmt.Errorf("unknown context %q", n.Name)
		}
		return v, nil
	case *actionlint.ObjectDerefNode:
		recv, err := eval(n.Receiver, c)
		if err != nil {
			return nil, err
		}
		if o, ok := recv.(StepOutputs); ok {
			return o[n.Property], nil // an output the step did not set is null, as on the runner
		}
		m, ok := recv.(map[string]any)
		if !ok {
			return nil, fmt.Errorf("property %q of a %T", n.Property, recv)
		}
		v, ok := lookup(m, n.Property)
		if !ok {
			return nil, fmt.Errorf("unknown property %q", n.Property)
		}
		return v, nil
	case *actionlint.IndexAccessNode:
		recv, err := eval(n.Operand, c)
		if err != nil {
			return nil, err
		}
		idx, err := eval(n.Index, c)
		if err != nil {
			return nil, err
		}
		m, ok := recv.(map[string]any)
		key, isStr := idx.(string)
		if !ok || !isStr {
			return nil, fmt.Errorf("index %v of a %T", idx, recv)
		}
		v, ok := lookup(m, key)
		if !ok {
			return nil, fmt.Errorf("unknown property %q", key)
		}
		return v, nil
	case *actionlint.StringNode:
		return n.Value, nil
	case *actionlint.IntNode:
		return float64(n.Value), nil
	case *actionlint.FloatNode:
		return n.Value, nil
	case *actionlint.BoolNode:
		return n.Value, nil
	case *actionlint.NullNode:
		return nil, nil
	case *actionlint.NotOpNode:
		v, err := eval(n.Operand, c)
		if err != nil {
			return nil, err
		}
		return !truthy(v), nil
	case *actionlint.LogicalOpNode:
		l, err := eval(n.Left, c)
		if err != nil {
			return nil, err
		}
		if (n.Kind == actionlint.LogicalOpNodeKindAnd) != truthy(l) {
			return l, nil // && stops at a falsy left, || at a truthy one
		}
		return eval(n.Right, c)
	case *actionlint.CompareOpNode:
		l, err := eval(n.Left, c)
		if err != nil {
			return nil, err
		}
		r, err := eval(n.Right, c)
		if err != nil {
			return nil, err
		}
		switch n.Kind {
		case actionlint.CompareOpNodeKindEq:
			return strings.EqualFold(toString(l), toString(r)), nil
		case actionlint.CompareOpNodeKindNotEq:
			return !strings.EqualFold(toString(l), toString(r)), nil
		}
		return nil, errors.New("ordering comparisons are not evaluated")
	}
	return nil, fmt.Errorf("cannot evaluate a %T", n)
}

func lookup(m map[string]any, name string) (any, bool) {
	if v, ok := m[name]; ok {
		return v, true
	}
	for k, v := range m {
		if strings.EqualFold(k, name) {
			return v, true
		}
	}
	return nil, false
}

func truthy(v any) bool {
	switch v := v.(type) {
	case nil:
		return false
	case bool:
		return v
	case string:
		return v != ""
	case float64:
		return v != 0
	}
	return true
}

func toString(v any) string {
	switch v := v.(type) {
	case nil:
		return ""
	case string:
		return v
	case bool:
		return strconv.FormatBool(v)
	case float64:
		return strconv.FormatFloat(v, 'f', -1, 64)
	}
	return fmt.Sprint(v)
}
