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
