package personaldata

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestTheDevelopmentMasterKeyIsMadeOnceAndKeptPrivate(t *testing.T) {
	// Given a development folder without a master key
	dir := filepath.Join(t.TempDir(), "dev")

	// When the key is opened twice
	k1, created1, err1 := OpenDevMasterKey(dir)
	k2, created2, err2 := OpenDevMasterKey(dir)

	// Then it was made once and is the same key afterwards
	if err1 != nil || err2 != nil || !created1 || created2 || k1.ID() != k2.ID() {
		t.Fatalf("first %v %v, second %v %v, ids %v %v", created1, err1, created2, err2, k1, k2)
	}
	// And only its owner may read it
	fi, err := os.Stat(filepath.Join(dir, DevMasterKeyFile))
	if err != nil || fi.Mode().Perm() != 0o600 {
		t.Fatalf("mode %v, %v", fi.Mode(), err)
	}
}

func TestAMasterKeyFileMustBePrivateAndWellFormed(t *testing.T) {
	dir := t.TempDir()
	write := func(name, content string, mode os.FileMode) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte(content), mode); err != nil {
			t.Fatal(err)
		}
		return p
	}
	good := strings.Repeat("ab", MasterKeySize)
	cases := map[string]struct {
		path string
		want string
	}{
		"readable by others": {write("open", good, 0o644), "too open"},
		"too short":          {write("short", "abcd", 0o600), "64 hexadecimal digits"},
		"not hex":            {write("text", strings.Repeat("zz", MasterKeySize), 0o600), "64 hexadecimal digits"},
		"missing":            {filepath.Join(dir, "none"), "no such file"},
		"all zero":           {write("zero", strings.Repeat("00", MasterKeySize), 0o600), "all zero"},
	}
	for name, c := range cases {
		// When the file is loaded
		_, err := LoadMasterKeyFile(c.path)

		// Then it is refused, saying why
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: %v, want %q", name, err, c.want)
		}
	}
	// And a good file, with its trailing newline, is read
	if _, err := LoadMasterKeyFile(write("good", good+"\n", 0o600)); err != nil {
		t.Errorf("good file: %v", err)
	}
}

func TestAMasterKeyOfZerosIsRefused(t *testing.T) {
	// Given a master key of zero bytes, a placeholder rather than a secret
	zeros := make([]byte, MasterKeySize)

	// When it is made a master key
	_, err := NewFileMasterKey(zeros)

	// Then it is refused, saying how to make a key
	if err == nil || !strings.Contains(err.Error(), "all zero") || !strings.Contains(err.Error(), "openssl rand -hex 32") {
		t.Errorf("zero key: %v", err)
	}
}
