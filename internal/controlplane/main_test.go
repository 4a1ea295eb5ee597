package controlplane

import (
	"os"
	"testing"
)

func TestMain(m *testing.M) {
	if os.Getenv(helperEnv) != "" {
		// Re-executed by TestNoLeakWhenTestBinaryDies: run only the helper,
		// without a shared control plane.
		os.Exit(m.Run())
	}
	os.Exit(Main(m))
}
