package testkit

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"sync"
	"syscall"
	"testing"
	"time"
)

var pipelineBin struct {
	once sync.Once
	path string
	err  error
}

// Pipeline builds the pipeline command once per test process and returns
// the binary's path, for tests that run it as a user would (a real
// process: its argv, its signals, its exit code).
func Pipeline(t testing.TB) string {
	t.Helper()
	pipelineBin.once.Do(func() {
		dir, err := os.MkdirTemp("", "pipeline-test-bin-")
		if err != nil {
			pipelineBin.err = err
			return
		}
		pipelineBin.path = filepath.Join(dir, "pipeline")
		out, err := exec.Command("go", "build", "-o", pipelineBin.path, "github.com/creditrisk/engine/pipeline").CombinedOutput()
		if err != nil {
			pipelineBin.err = fmt.Errorf("go build ./pipeline: %v\n%s", err, out)
		}
	})
	if pipelineBin.err != nil {
		t.Fatal(pipelineBin.err)
	}
	return pipelineBin.path
}

// Process is a long-running command a test started.
type Process struct {
	Cmd  *exec.Cmd
	Log  *Log
	once sync.Once
}

// Start starts name (a command and its arguments) with this process's
// environment plus env, its output in p.Log, and stops it when the test
// ends (interrupt, then kill after 10 s), showing the log's tail if the
// test failed. The command runs in a process group of its own, which
// Stop signals whole: a server that runs its workers as children (mlflow
// server and its uvicorn or gunicorn) would leave them serving on.
func Start(t testing.TB, env []string, name string, args ...string) *Process {
	t.Helper()
	p := &Process{Cmd: exec.Command(name, args...), Log: &Log{}}
	p.Cmd.Env = append(os.Environ(), env...)
	p.Cmd.Stdout, p.Cmd.Stderr = p.Log, p.Log
	p.Cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	if err := p.Cmd.Start(); err != nil {
		t.Fatalf("start %s: %v", name, err)
	}
	t.Cleanup(func() {
		p.Stop()
		if t.Failed() {
			out := p.Log.String()
			t.Logf("%s %v output (last 2000 bytes):\n%s", filepath.Base(name), args, out[max(0, len(out)-2000):])
		}
	})
	return p
}

// Stop interrupts the process's group and waits for the process (killing
// the group after 10 s); later calls do nothing.
func (p *Process) Stop() {
	p.once.Do(func() {
		group := -p.Cmd.Process.Pid
		syscall.Kill(group, syscall.SIGINT)
		done := make(chan struct{})
		go func() { p.Cmd.Wait(); close(done) }()
		select {
		case <-done:
		case <-time.After(10 * time.Second):
			syscall.Kill(group, syscall.SIGKILL)
			<-done
		}
	})
}
