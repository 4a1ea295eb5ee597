package linodetest

import (
	"errors"
	"fmt"
	"net/http"
	"os"

	"go.uber.org/zap"
)

// responseValidator checks one response against the API contract
// (implemented by internal/contract.Validator).
type responseValidator interface {
	ValidateResponse(method, path string, status int, header http.Header, body []byte) error
}

// contractLoader loads (and memoizes) the validator for a spec file, and
// errUnknownOperation is what its errors wrap when the spec lacks the
// operation. Both are set in contract_link.go.
var (
	contractLoader      func(specPath string) (responseValidator, error)
	errUnknownOperation error
)

func (s *Server) loadValidator() (responseValidator, error) {
	path := s.cfg.specPath
	if path == "" {
		var err error
		if path, err = SpecPath(); err != nil {
			return nil, err
		}
	} else if _, err := os.Stat(path); err != nil {
		return nil, fmt.Errorf("%w: %s: %v", ErrSpecNotFound, path, err)
	}
	if contractLoader == nil {
		return nil, errors.New("no contract validator is linked into this build")
	}
	v, err := contractLoader(path)
	if err != nil {
		return nil, fmt.Errorf("load contract %s: %w", path, err)
	}
	return v, nil
}

// validate checks a written response against the contract. Unmatched
// paths are not checked, nor routes marked offSpec as long as the contract
// (spec and overlay) lacks their operation.
func (s *Server) validate(r *http.Request, rt *route, status int, header http.Header, body []byte) {
	if s.validator == nil || rt == nil {
		return
	}
	method := r.Method
	if method == http.MethodHead {
		method = http.MethodGet
	}
	err := s.validator.ValidateResponse(method, r.URL.Path, status, header, body)
	if err == nil || (rt.offSpec && errUnknownOperation != nil && errors.Is(err, errUnknownOperation)) {
		return
	}
	s.recMu.Lock()
	s.valErrors++
	s.recMu.Unlock()
	if s.tb != nil {
		s.tb.Errorf("linodetest: %s %s answered %d against the Linode API contract: %v", r.Method, r.URL.Path, status, err)
		return
	}
	s.log.Error("linode simulator response breaks the API contract",
		zap.String("method", r.Method), zap.String("path", r.URL.Path), zap.Int("status", status), zap.Error(err))
}

// ValidationErrors returns how many responses broke the contract.
func (s *Server) ValidationErrors() int {
	s.recMu.Lock()
	defer s.recMu.Unlock()
	return s.valErrors
}

// Validating reports whether responses are being checked against the
// contract.
func (s *Server) Validating() bool { return s.validator != nil }
