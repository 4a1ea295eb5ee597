package helmrelease

// ClusterScoped and BuiltinGroup expose PlanNew's static scope table to
// the integration test that compares it with a real API server.
var (
	ClusterScoped = clusterScoped
	BuiltinGroup  = builtinGroup
)
