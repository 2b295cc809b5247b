package main

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestPeerID(t *testing.T) {
	seen := map[string]bool{}
	for i := range 200 {
		key := bytes.Repeat([]byte{byte(i)}, secretKeyLen)
		id := peerID(key)
		if len(id) != len(peerIDPrefix)+peerIDDigits || !strings.HasPrefix(id, peerIDPrefix) {
			t.Fatalf("peerID(%x) = %q, want %q and %d base58 digits", key, id, peerIDPrefix, peerIDDigits)
		}
		if strings.Trim(id[len(peerIDPrefix):], base58Alphabet) != "" {
			t.Fatalf("peerID(%x) = %q: not base58", key, id)
		}
		if peerID(key) != id {
			t.Fatalf("peerID(%x) is not stable", key)
		}
		if seen[id] {
			t.Fatalf("peerID(%x) = %q collides", key, id)
		}
		seen[id] = true
	}
}

func TestLoadOrCreateKey(t *testing.T) {
	dir := t.TempDir()
	k1, err := loadOrCreateKey(dir, nil)
	if err != nil {
		t.Fatal(err)
	}
	st, err := os.Stat(filepath.Join(dir, secretKeyFile))
	if err != nil {
		t.Fatal(err)
	}
	if st.Size() != secretKeyLen || st.Mode().Perm() != 0o600 {
		t.Errorf("secret-key: size %d mode %v, want %d bytes mode 0600", st.Size(), st.Mode().Perm(), secretKeyLen)
	}
	k2, err := loadOrCreateKey(dir, []byte("ignored: the file exists already"))
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(k1, k2) {
		t.Errorf("second loadOrCreateKey = %x, want the first key %x", k2, k1)
	}

	given := bytes.Repeat([]byte{7}, secretKeyLen)
	other := t.TempDir()
	if k, err := loadOrCreateKey(other, given); err != nil || !bytes.Equal(k, given) {
		t.Errorf("loadOrCreateKey with a given key = %x, %v; want %x", k, err, given)
	}

	bad := t.TempDir()
	writeFile(t, filepath.Join(bad, secretKeyFile), "short")
	if _, err := loadOrCreateKey(bad, nil); err == nil || !strings.Contains(err.Error(), "5 bytes") {
		t.Errorf("loadOrCreateKey with a 5-byte key error = %v, want one naming the size", err)
	}
}
