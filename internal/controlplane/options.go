package controlplane

import (
	"errors"
	"fmt"
	"time"

	"go.uber.org/zap"
)

// Option changes how [Start] (and so [Main], [RequireNew] and [Pool]) starts
// a control plane.
type Option func(*options) error

type options struct {
	log          *zap.Logger
	cacheDir     string
	workloads    bool
	nodes        int
	shapes       []NodeShape
	standIns     bool
	startTimeout time.Duration
	stopGrace    time.Duration
	apiFlags     []string
}

func newOptions(opts []Option) (options, error) {
	o := options{
		log:          zap.NewNop(),
		cacheDir:     DefaultCacheDir(),
		startTimeout: 2 * time.Minute,
		stopGrace:    5 * time.Second,
	}
	for _, opt := range opts {
		if err := opt(&o); err != nil {
			return options{}, err
		}
	}
	return o, nil
}

// WithLogger sets the logger for the harness's own messages (starts, ports,
// timings, stops); the components' output goes to log files whose end is
// quoted in errors. Default zap.NewNop().
func WithLogger(l *zap.Logger) Option {
	return func(o *options) error {
		if l == nil {
			return errors.New("controlplane: WithLogger: nil logger")
		}
		o.log = l
		return nil
	}
}

// WithCacheDir sets the directory that holds the binaries, laid out as
// hack/controlplane.sh builds them. Default [DefaultCacheDir].
func WithCacheDir(dir string) Option {
	return func(o *options) error {
		if dir == "" {
			return errors.New("controlplane: WithCacheDir: empty directory")
		}
		o.cacheDir = dir
		return nil
	}
}

// WithWorkloads also starts kube-controller-manager, kube-scheduler and kwok,
// so that Deployments get pods and pods get scheduled onto fake Nodes and
// turn Running. Start then also waits for the default ServiceAccount, without
// which pods are refused. Default off: etcd and kube-apiserver only.
func WithWorkloads() Option {
	return func(o *options) error {
		o.workloads = true
		return nil
	}
}

// WithNodes implies [WithWorkloads] and creates n fake Nodes named
// kwok-node-0 … kwok-node-<n-1>, annotated with [FakeNodeAnnotation] so that
// kwok manages them, each with 32 CPUs, 256 GiB of memory and room for 110
// pods; Start waits until all are Ready. Default 0.
func WithNodes(n int) Option {
	return func(o *options) error {
		if n < 0 {
			return fmt.Errorf("controlplane: WithNodes: must be ≥ 0 (got %d)", n)
		}
		o.workloads = o.workloads || n > 0
		o.nodes = n
		return nil
	}
}

// WithStartTimeout bounds how long Start waits for everything to be ready
// when the caller's context has no earlier deadline. Default 2 minutes
// (about 2 s is typical; the rest absorbs a machine busy compiling).
func WithStartTimeout(d time.Duration) Option {
	return func(o *options) error {
		if d <= 0 {
			return fmt.Errorf("controlplane: WithStartTimeout: must be > 0 (got %s)", d)
		}
		o.startTimeout = d
		return nil
	}
}

// WithStopGrace sets how long Stop waits after SIGTERM before it sends
// SIGKILL to a component. Default 5 s.
func WithStopGrace(d time.Duration) Option {
	return func(o *options) error {
		if d < 0 {
			return fmt.Errorf("controlplane: WithStopGrace: must be ≥ 0 (got %s)", d)
		}
		o.stopGrace = d
		return nil
	}
}

// WithAPIServerFlags appends flags to kube-apiserver's command line, such as
// "--feature-gates=…"; a flag given twice takes its last value. Default none.
func WithAPIServerFlags(flags ...string) Option {
	return func(o *options) error {
		o.apiFlags = append(o.apiFlags, flags...)
		return nil
	}
}

// WithPoolNodes implies [WithWorkloads] and creates, besides any
// [WithNodes], the fake Nodes of each shape (see [NodeShape], [ShapesFor]):
// named <pool>-<i>, with the Linode type's capacity, allocatable as
// capacity minus [Reserved], room for 110 pods, the pool's labels and
// taints, and the labels LKE sets (kubernetes.io/os, kubernetes.io/arch,
// node.kubernetes.io/instance-type, topology.kubernetes.io/region,
// lke.linode.com/pool-id) plus [PoolLabel]. Start waits until all are
// Ready. Default none.
func WithPoolNodes(pools ...NodeShape) Option {
	return func(o *options) error {
		seen := map[string]bool{}
		for _, p := range pools {
			if err := p.validate(); err != nil {
				return fmt.Errorf("controlplane: WithPoolNodes: %w", err)
			}
			if seen[p.Pool] {
				return fmt.Errorf("controlplane: WithPoolNodes: pool %q given twice", p.Pool)
			}
			seen[p.Pool] = true
		}
		o.workloads = o.workloads || len(pools) > 0
		o.shapes = append(o.shapes, pools...)
		return nil
	}
}

// WithStandIns implies [WithWorkloads] and runs, in the calling process
// and until Stop, the stand-ins for what LKE provides and a bare control
// plane lacks (see the package doc): a LoadBalancer status controller, the
// StorageClasses linode-block-storage-retain (the default) and
// linode-block-storage with a provisioner that binds their claims, and an
// admission webhook server that kube-apiserver reaches for every webhook
// that names a Service, with the CA injected into those webhooks'
// caBundle. Default off.
func WithStandIns() Option {
	return func(o *options) error {
		o.workloads = true
		o.standIns = true
		return nil
	}
}
