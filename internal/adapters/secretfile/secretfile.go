// Package secretfile keeps secrets in files that only their owner may
// read: the development signing key, the master key of personal data.
package secretfile

import (
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"runtime"
)

// CheckPrivate checks that path grants none of the permissions open, as
// ssh does of its keys: what names the secret in the error, risk says what
// the permissions would allow, fix is the command that removes them. The
// error wraps fs.ErrNotExist when there is no such file.
func CheckPrivate(path string, open fs.FileMode, what, risk, fix string) error {
	fi, err := os.Stat(path)
	if err != nil {
		return fmt.Errorf("%s: %w", what, err)
	}
	return checkPrivate(fi, path, open, what, risk, fix)
}

// checkPrivate is CheckPrivate of what fi says of path.
func checkPrivate(fi fs.FileInfo, path string, open fs.FileMode, what, risk, fix string) error {
	// Windows has no such permission bits.
	if perm := fi.Mode().Perm(); runtime.GOOS != "windows" && perm&open != 0 {
		return fmt.Errorf("%s: permissions %04o for %s are too open: %s; run `%s %s`",
			what, perm, path, risk, fix, path)
	}
	if uid, foreign := foreignOwner(fi); foreign {
		return fmt.Errorf("%s: %s belongs to user %d, not to the user running orderapi (%d) or root: that user could read or replace it",
			what, path, uid, os.Getuid())
	}
	return nil
}

// Read reads a secret file, refusing one that others may read or a
// folder others may write to (they could put a secret of their own in
// it). A symlink is followed to the file it names, and the folder of every
// link on the way is checked as well as the file's own: whoever may write
// to any of them could point the path at a secret of their own. The error
// wraps fs.ErrNotExist when there is no such file.
func Read(path, what string) ([]byte, error) {
	final, fi, err := resolve(path, what)
	if err != nil {
		return nil, err
	}
	// Anything but a regular file is refused before it is opened: a named
	// pipe would keep the reader waiting for a writer, a device could
	// answer anything.
	if err := checkRegular(fi, final, what); err != nil {
		return nil, err
	}
	f, err := os.OpenFile(final, os.O_RDONLY|openFlags, 0)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", what, err)
	}
	defer f.Close()
	// What was opened is checked, not the name: it may have been replaced
	// since.
	opened, err := f.Stat()
	if err != nil {
		return nil, fmt.Errorf("%s: %w", what, err)
	}
	if err := checkRegular(opened, final, what); err != nil {
		return nil, err
	}
	if !os.SameFile(fi, opened) {
		return nil, fmt.Errorf("%s: %s was replaced while it was read", what, final)
	}
	if err := checkPrivate(opened, final, 0o077, what, "others could read it", "chmod 600"); err != nil {
		return nil, err
	}
	b, err := io.ReadAll(f)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", what, err)
	}
	return b, nil
}

// checkRegular refuses anything but a regular file.
func checkRegular(fi fs.FileInfo, path, what string) error {
	if fi.Mode().IsRegular() {
		return nil
	}
	kind := "a " + fi.Mode().Type().String()
	switch t := fi.Mode().Type(); {
	case t&fs.ModeNamedPipe != 0:
		kind = "a named pipe"
	case t&fs.ModeDir != 0:
		kind = "a folder"
	case t&fs.ModeSocket != 0:
		kind = "a socket"
	case t&fs.ModeDevice != 0:
		kind = "a device"
	}
	return fmt.Errorf("%s: %s is %s, not a regular file: keep the secret in a file of its own", what, path, kind)
}

// maxLinks is how many symlinks resolve follows, as Linux's ELOOP does.
const maxLinks = 40

// resolve follows the symlinks path names, checking the folder each link
// and the final file lie in, and returns the final file's path and what
// Lstat says of it.
func resolve(path, what string) (string, fs.FileInfo, error) {
	p := path
	for range maxLinks {
		// The folder resolved first, so that a relative link is read
		// from where it lies, as the system reads it.
		dir, err := filepath.EvalSymlinks(filepath.Dir(p))
		if err != nil {
			return "", nil, fmt.Errorf("%s: %w", what, err)
		}
		p = filepath.Join(dir, filepath.Base(p))
		if err := CheckPrivate(dir, 0o022, what, "others could put a file of their own in it", "chmod go-w"); err != nil {
			return "", nil, err
		}
		fi, err := os.Lstat(p)
		if err != nil {
			return "", nil, fmt.Errorf("%s: %w", what, err)
		}
		if fi.Mode()&fs.ModeSymlink == 0 {
			return p, fi, nil
		}
		target, err := os.Readlink(p)
		if err != nil {
			return "", nil, fmt.Errorf("%s: %w", what, err)
		}
		if !filepath.IsAbs(target) {
			target = filepath.Join(dir, target)
		}
		p = target
	}
	return "", nil, fmt.Errorf("%s: %s: too many levels of symbolic links", what, path)
}

// WriteNew keeps content as the file name in dir (made with mode 0700 if
// missing; the file gets 0600), never replacing one there: the error wraps
// fs.ErrExist if the name is taken. It is written aside, synced, then
// linked into place, so that a reader never sees half a secret and two
// processes starting at once keep one.
func WriteNew(dir, name string, content []byte) error {
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return err
	}
	tmp, err := os.CreateTemp(dir, "."+name+"-*")
	if err != nil {
		return err
	}
	defer os.Remove(tmp.Name())
	if _, err := tmp.Write(content); err != nil {
		tmp.Close()
		return err
	}
	if err := tmp.Sync(); err != nil {
		tmp.Close()
		return err
	}
	if err := tmp.Close(); err != nil {
		return err
	}
	return os.Link(tmp.Name(), filepath.Join(dir, name))
}
