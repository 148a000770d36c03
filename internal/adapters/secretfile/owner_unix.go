//go:build unix

package secretfile

import (
	"io/fs"
	"os"
	"syscall"
)

// foreignOwner reports whether fi belongs to neither this process's user
// nor root: whoever owns a secret's file or folder can read or replace it.
func foreignOwner(fi fs.FileInfo) (uid int, foreign bool) {
	st, ok := fi.Sys().(*syscall.Stat_t)
	if !ok {
		return 0, false
	}
	uid = int(st.Uid)
	return uid, uid != os.Getuid() && uid != 0
}
