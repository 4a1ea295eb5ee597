//go:build tools

// Package tools records the Kubernetes control-plane commands that
// hack/controlplane.sh builds, so that go mod tidy keeps every dependency
// they need in go.mod and go.sum.
package tools

import (
	_ "k8s.io/kubernetes/cmd/kube-apiserver"
	_ "k8s.io/kubernetes/cmd/kube-controller-manager"
	_ "k8s.io/kubernetes/cmd/kube-scheduler"
)
