package codex

import (
	"io"
	"os/exec"
	"syscall"
)

// Runner starts commands; ExecRunner is the real one.
type Runner interface {
	Start(cmd Command, stderr io.Writer) (Process, error)
}

// Process is a started command.
type Process interface {
	Stdout() io.Reader
	Wait() error
	// Kill ends the process and everything it started.
	Kill()
}

// ExecRunner runs commands with os/exec in their own process group, so a
// timeout or cancellation kills Codex and every tool it spawned.
type ExecRunner struct{}

func (ExecRunner) Start(c Command, stderr io.Writer) (Process, error) {
	cmd := exec.Command(c.Path, c.Args...)
	cmd.Env = c.Env
	cmd.Dir = c.Dir
	cmd.Stderr = stderr
	cmd.Stdin = nil // /dev/null: Codex must not wait for more prompt on stdin
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	out, err := cmd.StdoutPipe()
	if err != nil {
		return nil, err
	}
	if err := cmd.Start(); err != nil {
		return nil, err
	}
	return &execProcess{cmd: cmd, stdout: out}, nil
}

type execProcess struct {
	cmd    *exec.Cmd
	stdout io.Reader
}

func (p *execProcess) Stdout() io.Reader { return p.stdout }
func (p *execProcess) Wait() error       { return p.cmd.Wait() }
func (p *execProcess) Kill() {
	if p.cmd.Process != nil {
		// Negative pid = the whole process group (Setpgid made Codex its leader).
		_ = syscall.Kill(-p.cmd.Process.Pid, syscall.SIGKILL)
	}
}
