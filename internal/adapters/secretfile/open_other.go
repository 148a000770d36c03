//go:build !unix

package secretfile

// openFlags: these systems have no named pipes in the file system.
const openFlags = 0
