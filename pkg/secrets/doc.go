// Package secrets will manage Sealed Secrets for an environment: the
// controller (installed from its upstream Helm chart), sealing values with
// the controller's public key, and backing the sealing keys up to Linode
// Object Storage. It is not implemented yet; it holds only this scope so the
// module's layout and import rules (see internal/depcheck) are fixed now.
package secrets
