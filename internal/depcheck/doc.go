// Package depcheck holds only a test: it enforces the import direction of
// the house style (leaf packages import nothing of ours; pkg/cluster never
// reaches Kubernetes or Helm; concern packages don't import each other;
// nothing in pkg/ imports a main package or the test harness).
package depcheck
