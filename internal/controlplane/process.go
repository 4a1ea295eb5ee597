package controlplane

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"sync"
	"syscall"
	"time"

	"go.uber.org/zap"
)

// process is one running component. Its output goes to a log file in the
// control plane's directory.
type process struct {
	name    string
	cmd     *exec.Cmd
	logPath string
	done    chan struct{} // closed once Wait returned
	waitErr error         // set before done is closed
}

// startProcess starts bin in a process group of its own that the kernel kills
// with SIGKILL when the thread that started it (and so the test binary) dies.
func startProcess(log *zap.Logger, dir, name, bin string, args, env []string) (*process, error) {
	logPath := filepath.Join(dir, name+".log")
	f, err := os.OpenFile(logPath, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o600)
	if err != nil {
		return nil, fmt.Errorf("open %s log: %w", name, err)
	}
	cmd := exec.Command(bin, args...)
	cmd.Dir = dir
	cmd.Env = env
	cmd.Stdout, cmd.Stderr = f, f
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGKILL}
	if err := spawn(cmd); err != nil {
		_ = f.Close()
		return nil, fmt.Errorf("start %s: %w", name, err)
	}
	p := &process{name: name, cmd: cmd, logPath: logPath, done: make(chan struct{})}
	go func() {
		p.waitErr = cmd.Wait()
		_ = f.Close()
		close(p.done)
	}()
	log.Debug("started", zap.String("component", name), zap.Int("pid", cmd.Process.Pid))
	return p, nil
}

// spawnRequest asks the spawner thread to start cmd.
type spawnRequest struct {
	cmd  *exec.Cmd
	done chan error
}

// spawner returns the channel of a goroutine locked, for the life of the
// process, to an OS thread of its own. Pdeathsig signals a child when the
// thread that forked it exits, not the process: starting every child from
// this thread, which never exits, makes the signal mean "the test binary
// died".
var spawner = sync.OnceValue(func() chan<- spawnRequest {
	ch := make(chan spawnRequest)
	go func() {
		runtime.LockOSThread() // never unlocked
		for r := range ch {
			r.done <- r.cmd.Start()
		}
	}()
	return ch
})

// spawn starts cmd from the spawner thread.
func spawn(cmd *exec.Cmd) error {
	done := make(chan error, 1)
	spawner() <- spawnRequest{cmd: cmd, done: done}
	return <-done
}

// pid returns the process id, which is also its process group id.
func (p *process) pid() int { return p.cmd.Process.Pid }

// exitedErr returns a non-nil error, with the tail of the log, once the
// process has exited.
func (p *process) exitedErr() error {
	select {
	case <-p.done:
		return &exitError{name: p.name, err: p.waitErr, tail: p.tail(4096)}
	default:
		return nil
	}
}

// stop sends SIGTERM to the process group, then SIGKILL after grace, and
// waits for the process to be reaped. Stopping a stopped process is a no-op.
func (p *process) stop(grace time.Duration) error {
	select {
	case <-p.done:
		return nil
	default:
	}
	pgid := p.pid()
	if err := syscall.Kill(-pgid, syscall.SIGTERM); err != nil && !errors.Is(err, syscall.ESRCH) {
		return fmt.Errorf("send SIGTERM to %s: %w", p.name, err)
	}
	timer := time.NewTimer(grace)
	defer timer.Stop()
	select {
	case <-p.done:
	case <-timer.C:
		if err := syscall.Kill(-pgid, syscall.SIGKILL); err != nil && !errors.Is(err, syscall.ESRCH) {
			return fmt.Errorf("send SIGKILL to %s: %w", p.name, err)
		}
		<-p.done
	}
	return nil
}

// tail returns up to the last n bytes of the process's log.
func (p *process) tail(n int64) string {
	f, err := os.Open(p.logPath)
	if err != nil {
		return ""
	}
	defer f.Close()
	if fi, err := f.Stat(); err == nil && fi.Size() > n {
		_, _ = f.Seek(-n, io.SeekEnd)
	}
	b, _ := io.ReadAll(f)
	return string(bytes.TrimSpace(b))
}

// exitError reports a component that exited while it should have been
// running.
type exitError struct {
	name string
	err  error
	tail string
}

func (e *exitError) Error() string {
	return fmt.Sprintf("%s exited (%v); end of its log:\n%s", e.name, e.err, e.tail)
}

func (e *exitError) Unwrap() error { return e.err }

// addressInUse reports whether err is a component exit caused by a port that
// was taken between picking it and binding it.
func addressInUse(err error) bool {
	var ee *exitError
	return errors.As(err, &ee) && bytes.Contains([]byte(ee.tail), []byte("address already in use"))
}
