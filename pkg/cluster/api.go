package cluster

import (
	"context"

	"github.com/linode/linodego"
)

// LKEAPI is the part of the Linode API this package calls: exactly the
// linodego methods it uses, so a fake needs to implement only these. The
// real *linodego.Client satisfies it; so does the client pkg/linodetest
// returns.
type LKEAPI interface {
	ListLKEClusters(ctx context.Context, opts *linodego.ListOptions) ([]linodego.LKECluster, error)
	GetLKECluster(ctx context.Context, clusterID int) (*linodego.LKECluster, error)
	CreateLKECluster(ctx context.Context, opts linodego.LKEClusterCreateOptions) (*linodego.LKECluster, error)
	UpdateLKECluster(ctx context.Context, clusterID int, opts linodego.LKEClusterUpdateOptions) (*linodego.LKECluster, error)
	DeleteLKECluster(ctx context.Context, clusterID int) error
	RecycleLKEClusterNodes(ctx context.Context, clusterID int) error
	GetLKEClusterKubeconfig(ctx context.Context, clusterID int) (*linodego.LKEClusterKubeconfig, error)

	GetLKEClusterControlPlaneACL(ctx context.Context, clusterID int) (*linodego.LKEClusterControlPlaneACLResponse, error)
	UpdateLKEClusterControlPlaneACL(ctx context.Context, clusterID int, opts linodego.LKEClusterControlPlaneACLUpdateOptions) (*linodego.LKEClusterControlPlaneACLResponse, error)

	ListLKENodePools(ctx context.Context, clusterID int, opts *linodego.ListOptions) ([]linodego.LKENodePool, error)
	GetLKENodePool(ctx context.Context, clusterID, poolID int) (*linodego.LKENodePool, error)
	CreateLKENodePool(ctx context.Context, clusterID int, opts linodego.LKENodePoolCreateOptions) (*linodego.LKENodePool, error)
	UpdateLKENodePool(ctx context.Context, clusterID, poolID int, opts linodego.LKENodePoolUpdateOptions) (*linodego.LKENodePool, error)
	DeleteLKENodePool(ctx context.Context, clusterID, poolID int) error
}

var _ LKEAPI = (*linodego.Client)(nil)

// NodeVersionChecker reads the kubelet version of every node of a cluster
// from its Kubernetes API. It is implemented by a caller that can reach the
// cluster (this package talks to Linode only); with WithNodeVersionChecker,
// an upgrade is complete only once every node reports the new version.
type NodeVersionChecker interface {
	// KubeletVersions returns each node's kubelet version ("v1.33.2") by node
	// name, using kubeconfig to reach the cluster. It must not log or return
	// the kubeconfig.
	KubeletVersions(ctx context.Context, kubeconfig []byte) (map[string]string, error)
}
