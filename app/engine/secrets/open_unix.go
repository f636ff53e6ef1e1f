//go:build unix

package secrets

import "syscall"

// openFlags refuse to follow a symlink swapped in after the walk and never
// block on a FIFO; the opened file is still checked to be regular.
const openFlags = syscall.O_RDONLY | syscall.O_NOFOLLOW | syscall.O_NONBLOCK
