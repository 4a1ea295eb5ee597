package linodetest

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"sort"
	"strconv"
	"strings"
)

// filter is a parsed X-Filter header: a condition and an optional order.
type filter struct {
	conds   []cond // ANDed
	orderBy string
	desc    bool
}

type cond interface {
	eval(item map[string]any) bool
}

type andCond []cond
type orCond []cond

func (a andCond) eval(item map[string]any) bool {
	for _, c := range a {
		if !c.eval(item) {
			return false
		}
	}
	return true
}

func (o orCond) eval(item map[string]any) bool {
	for _, c := range o {
		if c.eval(item) {
			return true
		}
	}
	return false
}

// fieldCond is one operator applied to one field.
type fieldCond struct {
	field string
	op    string // "" (equals), +gt, +gte, +lt, +lte, +contains, +neq
	value any
}

// parseFilter parses an X-Filter header against the fields a list may be
// filtered on. An empty header is no filter.
func parseFilter(header string, filterable []string) (*filter, error) {
	header = strings.TrimSpace(header)
	if header == "" {
		return nil, nil
	}
	dec := json.NewDecoder(strings.NewReader(header))
	dec.UseNumber()
	var top map[string]any
	if err := dec.Decode(&top); err != nil || top == nil {
		return nil, errors.New("Invalid JSON in X-Filter")
	}
	allowed := map[string]bool{}
	for _, f := range filterable {
		allowed[f] = true
	}
	f := &filter{}
	for k, v := range top {
		switch k {
		case "+order_by":
			s, ok := v.(string)
			if !ok {
				return nil, errors.New("+order_by must be a string")
			}
			if !allowed[s] {
				return nil, fmt.Errorf("Cannot order by %s", s)
			}
			f.orderBy = s
		case "+order":
			s, ok := v.(string)
			if !ok || (s != "asc" && s != "desc") {
				return nil, errors.New("+order must be 'asc' or 'desc'")
			}
			f.desc = s == "desc"
		}
	}
	if _, ok := top["+order"]; ok && f.orderBy == "" {
		return nil, errors.New("+order requires +order_by")
	}
	delete(top, "+order_by")
	delete(top, "+order")
	conds, err := parseObject(top, allowed)
	if err != nil {
		return nil, err
	}
	f.conds = conds
	return f, nil
}

func parseObject(m map[string]any, allowed map[string]bool) ([]cond, error) {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys) // deterministic error messages
	var out []cond
	for _, k := range keys {
		v := m[k]
		switch {
		case k == "+and" || k == "+or":
			arr, ok := v.([]any)
			if !ok {
				return nil, fmt.Errorf("%s must be an array of filters", k)
			}
			var sub []cond
			for _, e := range arr {
				obj, ok := e.(map[string]any)
				if !ok {
					return nil, fmt.Errorf("%s must be an array of filters", k)
				}
				cs, err := parseObject(obj, allowed)
				if err != nil {
					return nil, err
				}
				sub = append(sub, andCond(cs))
			}
			if k == "+and" {
				out = append(out, andCond(sub))
			} else {
				out = append(out, orCond(sub))
			}
		case strings.HasPrefix(k, "+"):
			return nil, fmt.Errorf("Unknown operator %s", k)
		default:
			if !allowed[k] {
				return nil, fmt.Errorf("Cannot filter on %s", k)
			}
			cs, err := parseFieldValue(k, v)
			if err != nil {
				return nil, err
			}
			out = append(out, cs...)
		}
	}
	return out, nil
}

func parseFieldValue(field string, v any) ([]cond, error) {
	switch val := v.(type) {
	case map[string]any:
		var out []cond
		for op, operand := range val {
			switch op {
			case "+gt", "+gte", "+lt", "+lte":
				switch operand.(type) {
				case json.Number, string:
				default:
					return nil, fmt.Errorf("%s on %s needs a number", op, field)
				}
			case "+contains":
				if _, ok := operand.(string); !ok {
					return nil, fmt.Errorf("+contains on %s needs a string", field)
				}
			case "+neq":
				if !isScalar(operand) {
					return nil, fmt.Errorf("+neq on %s needs a value", field)
				}
			default:
				return nil, fmt.Errorf("Unknown operator %s", op)
			}
			out = append(out, fieldCond{field: field, op: op, value: operand})
		}
		return out, nil
	case []any:
		return nil, fmt.Errorf("Invalid value for %s", field)
	default:
		return []cond{fieldCond{field: field, value: val}}, nil
	}
}

func isScalar(v any) bool {
	switch v.(type) {
	case string, json.Number, bool, nil:
		return true
	}
	return false
}

func lookup(item map[string]any, field string) (any, bool) {
	var cur any = item
	for _, part := range strings.Split(field, ".") {
		m, ok := cur.(map[string]any)
		if !ok {
			return nil, false
		}
		cur, ok = m[part]
		if !ok {
			return nil, false
		}
	}
	return cur, true
}

func (c fieldCond) eval(item map[string]any) bool {
	got, ok := lookup(item, c.field)
	if !ok {
		return c.op == "+neq"
	}
	if arr, isArr := got.([]any); isArr {
		if c.op == "+neq" {
			for _, e := range arr {
				if compare(e, c.value) == 0 {
					return false
				}
			}
			return true
		}
		for _, e := range arr {
			if c.evalScalar(e) {
				return true
			}
		}
		return false
	}
	return c.evalScalar(got)
}

func (c fieldCond) evalScalar(got any) bool {
	switch c.op {
	case "":
		return compare(got, c.value) == 0
	case "+neq":
		return compare(got, c.value) != 0
	case "+contains":
		s, ok := got.(string)
		return ok && strings.Contains(s, c.value.(string))
	}
	if got == nil {
		return false
	}
	r := compare(got, c.value)
	if r == incomparable {
		return false
	}
	switch c.op {
	case "+gt":
		return r > 0
	case "+gte":
		return r >= 0
	case "+lt":
		return r < 0
	case "+lte":
		return r <= 0
	}
	return false
}

const incomparable = 2

func asNumber(v any) (float64, bool) {
	switch n := v.(type) {
	case float64:
		return n, true
	case json.Number:
		f, err := n.Float64()
		return f, err == nil
	case string:
		f, err := strconv.ParseFloat(n, 64)
		return f, err == nil
	}
	return 0, false
}

// compare orders a (from an item) against b (from a filter): -1, 0, 1, or
// incomparable. Numbers compare numerically (a numeric string counts as a
// number), strings lexically — zone-less timestamps sort correctly so.
func compare(a, b any) int {
	_, aStr := a.(string)
	_, bStr := b.(string)
	if !(aStr && bStr) {
		if x, ok := asNumber(a); ok {
			if y, ok := asNumber(b); ok {
				switch {
				case x < y:
					return -1
				case x > y:
					return 1
				}
				return 0
			}
		}
	}
	switch x := a.(type) {
	case string:
		y, ok := b.(string)
		if !ok {
			return incomparable
		}
		return strings.Compare(x, y)
	case bool:
		y, ok := b.(bool)
		if !ok {
			return incomparable
		}
		if x == y {
			return 0
		}
		return incomparable
	case nil:
		if b == nil {
			return 0
		}
		return incomparable
	}
	return incomparable
}

// toMaps renders items as generic JSON objects for filtering and ordering.
func toMaps(items []any) ([]map[string]any, error) {
	b, err := json.Marshal(items)
	if err != nil {
		return nil, err
	}
	var out []map[string]any
	dec := json.NewDecoder(bytes.NewReader(b))
	if err := dec.Decode(&out); err != nil {
		return nil, err
	}
	return out, nil
}
