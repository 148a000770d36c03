package secretfile

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestASecretAnotherUserOwnsIsRefused(t *testing.T) {
	if os.Getuid() != 0 {
		if os.Getenv("CI") == "true" {
			t.Fatal("CI runs the tests as root: only root can give a file to another user")
		}
		t.Skip("only root can give a file to another user")
	}
	// Given a private secret file that another user owns
	dir := t.TempDir()
	path := filepath.Join(dir, "secret")
	if err := os.WriteFile(path, []byte("x"), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.Chown(path, 4242, 4242); err != nil {
		t.Fatal(err)
	}

	// When it is read
	_, err := Read(path, "master key")

	// Then it is refused, naming the owner
	if err == nil || !strings.Contains(err.Error(), "belongs to user 4242") {
		t.Errorf("read: %v", err)
	}
}

func TestAPrivateSecretOfThisUserIsRead(t *testing.T) {
	// Given a private secret file of this user, in a private folder
	dir := t.TempDir()
	path := filepath.Join(dir, "secret")
	if err := WriteNew(dir, "secret", []byte("x")); err != nil {
		t.Fatal(err)
	}

	// When it is read
	got, err := Read(path, "master key")

	// Then it reads back
	if err != nil || string(got) != "x" {
		t.Errorf("read: %q, %v", got, err)
	}
}

func TestASymlinkInAPrivateFolderToASecretInAnOpenFolderIsRefused(t *testing.T) {
	// Given a private secret in a folder anyone may write to
	open := folder(t, 0o777)
	secret := privateFile(t, open)
	// And a private folder holding a symlink to it
	link := symlink(t, folder(t, 0o700), secret)

	// When the secret is read through the symlink
	_, err := Read(link, "master key")

	// Then it is refused for the target's folder
	if err == nil || !strings.Contains(err.Error(), "too open") || !strings.Contains(err.Error(), open) {
		t.Errorf("read: %v", err)
	}
}

func TestASymlinkInAnOpenFolderToAPrivateSecretIsRefused(t *testing.T) {
	// Given a private secret in a private folder
	secret := privateFile(t, folder(t, 0o700))
	// And a folder anyone may write to holding a symlink to it: anyone
	// could point the link at a secret of their own
	open := folder(t, 0o777)
	link := symlink(t, open, secret)

	// When the secret is read through the symlink
	_, err := Read(link, "master key")

	// Then it is refused for the link's folder
	if err == nil || !strings.Contains(err.Error(), "too open") || !strings.Contains(err.Error(), open) {
		t.Errorf("read: %v", err)
	}
}

func TestASymlinkToASecretInAFolderAnotherUserOwnsIsRefused(t *testing.T) {
	if os.Getuid() != 0 {
		if os.Getenv("CI") == "true" {
			t.Fatal("CI runs the tests as root: only root can give a file to another user")
		}
		t.Skip("only root can give a file to another user")
	}
	// Given a private secret of this user, in a folder another user owns
	theirs := folder(t, 0o700)
	secret := privateFile(t, theirs)
	if err := os.Chown(theirs, 4242, 4242); err != nil {
		t.Fatal(err)
	}
	// And a private folder of this user holding a symlink to it
	link := symlink(t, folder(t, 0o700), secret)

	// When the secret is read through the symlink
	_, err := Read(link, "master key")

	// Then it is refused, naming the owner
	if err == nil || !strings.Contains(err.Error(), "belongs to user 4242") {
		t.Errorf("read: %v", err)
	}
}

func TestARelativeSymlinkToAPrivateSecretInAPrivateFolderIsRead(t *testing.T) {
	// Given a private secret in a private folder
	private := folder(t, 0o700)
	privateFile(t, private)
	// And another private folder beside it holding a relative symlink to it
	links := filepath.Join(filepath.Dir(private), "links")
	if err := os.Mkdir(links, 0o700); err != nil {
		t.Fatal(err)
	}
	link := symlink(t, links, filepath.Join("..", filepath.Base(private), "secret"))

	// When the secret is read through the symlink
	got, err := Read(link, "master key")

	// Then it reads back
	if err != nil || string(got) != "x" {
		t.Errorf("read: %q, %v", got, err)
	}
}

// folder is a new folder of the given mode.
func folder(t *testing.T, mode os.FileMode) string {
	t.Helper()
	dir := filepath.Join(t.TempDir(), "folder")
	if err := os.Mkdir(dir, mode); err != nil {
		t.Fatal(err)
	}
	// Mkdir's mode is masked by the umask.
	if err := os.Chmod(dir, mode); err != nil {
		t.Fatal(err)
	}
	return dir
}

// privateFile is a file "secret" holding "x" in dir, that only its owner
// may read.
func privateFile(t *testing.T, dir string) string {
	t.Helper()
	path := filepath.Join(dir, "secret")
	if err := os.WriteFile(path, []byte("x"), 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

// symlink is a link "secret" in dir to target.
func symlink(t *testing.T, dir, target string) string {
	t.Helper()
	link := filepath.Join(dir, "secret")
	if err := os.Symlink(target, link); err != nil {
		t.Fatal(err)
	}
	return link
}
