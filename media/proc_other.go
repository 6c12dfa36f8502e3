//go:build !linux

package media

import "syscall"

// procAttr puts ffmpeg in its own process group.
func procAttr() *syscall.SysProcAttr { return &syscall.SysProcAttr{Setpgid: true} }
