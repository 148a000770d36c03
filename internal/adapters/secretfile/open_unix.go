//go:build unix

package secretfile

import "syscall"

// openFlags open a secret without waiting, should it have become a named
// pipe since it was checked, and without following a symlink put in its
// place.
const openFlags = syscall.O_NONBLOCK | syscall.O_NOFOLLOW
