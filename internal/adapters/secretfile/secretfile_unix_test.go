//go:build unix

package secretfile

import (
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

func TestASecretThatIsNotARegularFileIsRefusedWithoutWaiting(t *testing.T) {
	// Given a named pipe, private, in a private folder: reading it would
	// wait for a writer forever
	dir := folder(t, 0o700)
	fifo := filepath.Join(dir, "secret")
	if err := syscall.Mkfifo(fifo, 0o600); err != nil {
		t.Fatal(err)
	}
	// And a symlink to it, and a folder in place of a secret
	cases := map[string]string{
		"named pipe":        fifo,
		"symlink to a pipe": symlink(t, folder(t, 0o700), fifo),
		"folder":            folder(t, 0o700),
	}
	for name, path := range cases {
		// When it is read
		done := make(chan error, 1)
		go func() {
			_, err := Read(path, "master key")
			done <- err
		}()

		// Then it is refused at once, saying it is not a regular file
		select {
		case err := <-done:
			if err == nil || !strings.Contains(err.Error(), "not a regular file") {
				t.Errorf("%s: %v", name, err)
			}
		case <-time.After(5 * time.Second):
			t.Fatalf("%s: still reading after 5s", name)
		}
	}
}
