package media

import "syscall"

// procAttr puts ffmpeg in its own process group (so a cancel reaches
// everything it starts) and has the kernel kill it if the worker dies
// without cancelling — a SIGKILLed worker must not leave an orphan
// transcode using the machine's cores while Asynq hands its task to
// another worker.
func procAttr() *syscall.SysProcAttr {
	return &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGKILL}
}
