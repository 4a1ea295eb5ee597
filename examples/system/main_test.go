package main

import (
	"os"
	"testing"

	"github.com/org/platform/examples/internal/clitest"
	"github.com/org/platform/internal/controlplane"
)

func TestMain(m *testing.M) { os.Exit(controlplane.Main(m)) }

// TestRun runs this command's main body on the simulator, without and with
// local control planes, and checks what it printed and that a fresh plan
// of its environments is empty afterwards (see clitest.Check).
func TestRun(t *testing.T) { clitest.Check(t, &program, run) }
