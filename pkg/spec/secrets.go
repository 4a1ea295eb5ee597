package spec

import (
	"reflect"
	"regexp"
	"slices"
	"strings"
)

// linodeTokenKind names Linode personal access tokens in messages.
const linodeTokenKind = "Linode personal access token"

// secretPatterns recognise values that must never be written into a spec:
// credentials belong in a Secret, referenced by name (see
// AlertRoute.WebhookSecretRef).
//
// A Linode personal access token is 64 hexadecimal digits. A run of exactly
// 64 hex digits, of either case, with no letter or digit on either side, is
// flagged wherever it appears in a string ("token=<64 hex>", a tag, a label
// value); 63 or 65 hex digits, or 64 characters of which one is not hex, are
// not. The one exception is gitops.revision, where 64 hex digits alone are a
// SHA-256 Git commit ID (see scanSecrets).
var secretPatterns = []struct {
	kind string
	re   *regexp.Regexp
}{
	{"Slack webhook URL", regexp.MustCompile(`(?i)hooks\.slack\.com/`)},
	{"Slack token", regexp.MustCompile(`xox[abeoprs]-[A-Za-z0-9-]+`)},
	{"Discord webhook URL", regexp.MustCompile(`(?i)discord(app)?\.com/api/webhooks/`)},
	{"Microsoft Teams webhook URL", regexp.MustCompile(`(?i)(webhook\.office\.com|outlook\.office\.com/webhook)`)},
	{"URL with credentials", regexp.MustCompile(`(?i)[a-z][a-z0-9+.-]*://[^/@\s:]*:[^/@\s]+@`)},
	{"GitHub token", regexp.MustCompile(`\b(gh[pousr]_[A-Za-z0-9]{20,}|github_pat_[A-Za-z0-9_]{20,})`)},
	{"GitLab token", regexp.MustCompile(`\bglpat-[A-Za-z0-9_-]{20,}`)},
	{"AWS access key", regexp.MustCompile(`\b(AKIA|ASIA)[0-9A-Z]{16}\b`)},
	{"private key", regexp.MustCompile(`-----BEGIN [A-Z ]*PRIVATE KEY`)},
	{linodeTokenKind, regexp.MustCompile(`(^|[^0-9A-Za-z])[0-9A-Fa-f]{64}([^0-9A-Za-z]|$)`)},
}

// sha256CommitRE matches a SHA-256 Git commit ID, which gitops.revision may
// hold and which looks like a Linode token.
var sha256CommitRE = regexp.MustCompile(`^[0-9a-f]{64}$`)

// secretKind names the kind of secret s looks like, or returns "".
func secretKind(s string) string {
	for _, p := range secretPatterns {
		if p.re.MatchString(s) {
			return p.kind
		}
	}
	return ""
}

// scanSecrets reports every string in e, map keys included, that looks like
// a secret, without repeating it. A gitops.revision that is a SHA-256 commit
// ID passes: Argo CD follows commits by ID, and a token there would reach
// Kubernetes, never Linode.
func scanSecrets(c *collector, e Environment) {
	walkStrings("", reflect.ValueOf(e), func(p fieldPath, s string) {
		if p == "gitops.revision" && sha256CommitRE.MatchString(s) {
			return
		}
		if kind := secretKind(s); kind != "" {
			c.add(p, "must not hold a secret (this looks like a %s): store it in a Secret and reference it by name, as alertRoutes[].webhookSecretRef does", kind)
		}
	})
}

// walkStrings calls fn with every string in v and its path, naming list
// entries and map entries as FieldError paths do.
func walkStrings(p fieldPath, v reflect.Value, fn func(fieldPath, string)) {
	switch v.Kind() {
	case reflect.String:
		fn(p, v.String())
	case reflect.Pointer:
		if !v.IsNil() {
			walkStrings(p, v.Elem(), fn)
		}
	case reflect.Struct:
		for i := range v.NumField() {
			if name := jsonName(v.Type().Field(i)); name != "" {
				walkStrings(p.field(name), v.Field(i), fn)
			}
		}
	case reflect.Slice:
		names := make([]string, v.Len())
		if key := nameKey(v.Type().Elem()); key != "" {
			field := jsonFieldIndex(v.Type().Elem(), key)
			for i := range v.Len() {
				names[i] = v.Index(i).Field(field).String()
			}
		}
		keys := EntryKeys(names)
		for i := range v.Len() {
			walkStrings(p.key(keys[i]), v.Index(i), fn)
		}
	case reflect.Map:
		keys := v.MapKeys()
		slices.SortFunc(keys, func(a, b reflect.Value) int { return strings.Compare(a.String(), b.String()) })
		for _, k := range keys {
			fn(p.key(k.String()), k.String())
			walkStrings(p.key(k.String()), v.MapIndex(k), fn)
		}
	}
}

// jsonFieldIndex returns the index of t's field with JSON name name.
func jsonFieldIndex(t reflect.Type, name string) int {
	for i := range t.NumField() {
		if jsonName(t.Field(i)) == name {
			return i
		}
	}
	panic("spec: no field " + name + " in " + t.Name())
}
