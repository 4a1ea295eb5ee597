package controlplane

import (
	"context"
	"errors"
	"fmt"
	"sync"
)

// ErrPoolClosed is returned by a [Pool] used after Close.
var ErrPoolClosed = errors.New("controlplane: pool closed")

// Pool starts one control plane per id, on first use, and keeps it until
// Close: for a simulator whose every simulated cluster needs an API server
// of its own. Starts are serialised (each is CPU-heavy); a failed start is
// not remembered, so the next call for that id tries again. Safe for
// concurrent use.
type Pool struct {
	opts    []Option
	startMu sync.Mutex // one start at a time

	mu      sync.Mutex
	closed  bool
	entries map[int]*poolEntry
}

type poolEntry struct {
	mu sync.Mutex // held while starting
	cp *ControlPlane
}

// NewPool returns an empty pool whose control planes start with opts.
func NewPool(opts ...Option) *Pool {
	return &Pool{opts: opts, entries: map[int]*poolEntry{}}
}

// Kubeconfig returns the kubeconfig of the control plane for clusterID,
// starting it first if need be. Its signature fits the Linode simulator's
// WithKubeconfigSource, so that each simulated LKE cluster is backed by a
// real API server. Waiting is bounded by [WithStartTimeout].
func (p *Pool) Kubeconfig(clusterID int) ([]byte, error) {
	cp, err := p.ControlPlane(context.Background(), clusterID)
	if err != nil {
		return nil, err
	}
	return cp.Kubeconfig(), nil
}

// ControlPlane returns the control plane for id, starting it first if need
// be; ctx bounds that start.
func (p *Pool) ControlPlane(ctx context.Context, id int) (*ControlPlane, error) {
	p.mu.Lock()
	if p.closed {
		p.mu.Unlock()
		return nil, ErrPoolClosed
	}
	e, ok := p.entries[id]
	if !ok {
		e = &poolEntry{}
		p.entries[id] = e
	}
	p.mu.Unlock()

	e.mu.Lock()
	defer e.mu.Unlock()
	if e.cp != nil {
		return e.cp, nil
	}
	p.startMu.Lock()
	cp, err := Start(ctx, p.opts...)
	p.startMu.Unlock()
	if err != nil {
		return nil, fmt.Errorf("start control plane for id %d: %w", id, err)
	}
	p.mu.Lock()
	closed := p.closed
	if !closed {
		e.cp = cp
	}
	p.mu.Unlock()
	if closed { // Close ran while we were starting
		_ = cp.Stop()
		return nil, ErrPoolClosed
	}
	return cp, nil
}

// Close stops every control plane of the pool, after waiting for starts in
// progress, and makes later calls fail with [ErrPoolClosed]. Calling it
// again is a no-op.
func (p *Pool) Close() error {
	p.mu.Lock()
	if p.closed {
		p.mu.Unlock()
		return nil
	}
	p.closed = true
	entries := p.entries
	p.entries = nil
	p.mu.Unlock()

	var errs []error
	for id, e := range entries {
		e.mu.Lock()
		if e.cp != nil {
			if err := e.cp.Stop(); err != nil {
				errs = append(errs, fmt.Errorf("stop control plane for id %d: %w", id, err))
			}
			e.cp = nil
		}
		e.mu.Unlock()
	}
	return errors.Join(errs...)
}
