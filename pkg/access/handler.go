package access

import (
	"bytes"
	"crypto/sha256"
	_ "embed"
	"encoding/hex"
	"encoding/json"
	"errors"
	"net/http"
	"strings"

	"go.uber.org/zap"
)

//go:embed openapi.yaml
var openAPI []byte

// OpenAPI returns the OpenAPI 3 document that describes Handler's routes
// and responses (openapi.yaml). Each call returns a fresh copy.
func OpenAPI() []byte { return bytes.Clone(openAPI) }

// Error codes of the error envelope.
const (
	CodeNotFound         = "not_found"
	CodeMethodNotAllowed = "method_not_allowed"
	CodeUnavailable      = "unavailable"
)

// ErrorBody is the envelope of every error response.
type ErrorBody struct {
	// Error says what went wrong.
	Error ErrorDetail `json:"error"`
}

// ErrorDetail is an error response's code (CodeNotFound, ...) and message.
type ErrorDetail struct {
	Code    string `json:"code"`
	Message string `json:"message"`
}

// List is the body of GET /environments.
type List struct {
	// Environments are every environment served, by name.
	Environments []Environment `json:"environments"`
}

// Handler serves Source's environments: GET (and HEAD) /environments and
// /environments/{name}; see the package documentation and OpenAPI. The zero
// value is not usable: Source is required.
type Handler struct {
	// Source is where the environments are read, on every request.
	Source Source
	// Logger logs failures of the Source. Default: zap.NewNop().
	Logger *zap.Logger
}

var _ http.Handler = (*Handler)(nil)

const allow = "GET, HEAD"

// ServeHTTP answers one request.
func (h *Handler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	name, ok := route(r.URL.Path)
	if !ok {
		writeError(w, http.StatusNotFound, CodeNotFound, "no such path: the routes are /environments and /environments/{name}")
		return
	}
	if r.Method != http.MethodGet && r.Method != http.MethodHead {
		w.Header().Set("Allow", allow)
		writeError(w, http.StatusMethodNotAllowed, CodeMethodNotAllowed, "method "+r.Method+" is not allowed: use "+allow)
		return
	}
	var (
		body any
		err  error
	)
	if name == "" {
		var envs []Environment
		envs, err = h.Source.Environments(r.Context())
		for i := range envs {
			envs[i] = envs[i].normalized()
		}
		if envs == nil {
			envs = []Environment{}
		}
		body = List{Environments: envs}
	} else {
		var e Environment
		e, err = h.Source.Environment(r.Context(), name)
		body = e.normalized()
	}
	switch {
	case errors.Is(err, ErrUnknownEnvironment):
		writeError(w, http.StatusNotFound, CodeNotFound, "no environment named "+quote(name))
		return
	case err != nil:
		h.logger().Error("read the environments", zap.String("path", r.URL.Path), zap.Error(err))
		writeError(w, http.StatusServiceUnavailable, CodeUnavailable, "the environments could not be read; try again later")
		return
	}
	b, err := json.Marshal(body)
	if err != nil {
		h.logger().Error("encode the environments", zap.Error(err))
		writeError(w, http.StatusServiceUnavailable, CodeUnavailable, "the environments could not be encoded")
		return
	}
	sum := sha256.Sum256(b)
	etag := `"` + hex.EncodeToString(sum[:16]) + `"`
	w.Header().Set("ETag", etag)
	w.Header().Set("Cache-Control", "no-cache")
	if matches(r.Header.Get("If-None-Match"), etag) {
		w.WriteHeader(http.StatusNotModified)
		return
	}
	write(w, http.StatusOK, append(b, '\n'))
}

func (h *Handler) logger() *zap.Logger {
	if h.Logger == nil {
		return zap.NewNop()
	}
	return h.Logger
}

// route returns the environment name of path ("" for the list), or false
// for a path that is not a route.
func route(path string) (string, bool) {
	if path == "/environments" {
		return "", true
	}
	name, ok := strings.CutPrefix(path, "/environments/")
	if !ok || name == "" || strings.Contains(name, "/") {
		return "", false
	}
	return name, true
}

// matches reports whether an If-None-Match header value holds etag (or *).
func matches(header, etag string) bool {
	for _, t := range strings.Split(header, ",") {
		t = strings.TrimSpace(t)
		if t == "*" || strings.TrimPrefix(t, "W/") == etag {
			return true
		}
	}
	return false
}

func writeError(w http.ResponseWriter, status int, code, msg string) {
	b, _ := json.Marshal(ErrorBody{Error: ErrorDetail{Code: code, Message: msg}}) // strings only: cannot fail
	write(w, status, append(b, '\n'))
}

func write(w http.ResponseWriter, status int, b []byte) {
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("X-Content-Type-Options", "nosniff")
	w.WriteHeader(status)
	_, _ = w.Write(b) // the client went away: nothing to do
}

// quote quotes a name from a URL for a message, at most 64 characters.
func quote(s string) string {
	if len(s) > 64 {
		s = s[:64] + "…"
	}
	b, _ := json.Marshal(s)
	return string(b)
}
