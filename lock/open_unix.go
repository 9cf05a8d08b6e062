//go:build unix

package lock

import "syscall"

// noFollow: a Mutex's lock file is never opened through a symbolic link
// and never inherited by children.
const noFollow = syscall.O_NOFOLLOW | syscall.O_CLOEXEC
