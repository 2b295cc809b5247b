package main

import (
	"bytes"
	"crypto/sha256"
	"errors"
	"fmt"
	"io"
	"os"
)

// fileSHA256 is the SHA-256 of the file at path.
func fileSHA256(path string) ([]byte, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	h := sha256.New()
	if _, err := io.Copy(h, f); err != nil {
		return nil, fmt.Errorf("read %s: %w", path, err)
	}
	return h.Sum(nil), nil
}

// selfUpgrade replaces the executable at exe with a copy of the binary at from, as antnode's
// self-upgrade does: only when their SHA-256 differ, through a temp file in the same directory,
// mode 0755 and a rename. It returns the version the new binary will report.
func selfUpgrade(exe, from string) (newVersion string, changed bool, err error) {
	if exe == "" {
		return "", false, errors.New("cannot find own executable")
	}
	want, err := fileSHA256(from)
	if err != nil {
		return "", false, fmt.Errorf("read new binary: %w", err)
	}
	have, err := fileSHA256(exe)
	if err != nil {
		return "", false, fmt.Errorf("read own executable: %w", err)
	}
	if bytes.Equal(want, have) {
		return "", false, nil
	}
	src, err := os.Open(from)
	if err != nil {
		return "", false, fmt.Errorf("open new binary: %w", err)
	}
	defer src.Close()
	pf, err := newExecutable(exe)
	if err != nil {
		return "", false, fmt.Errorf("replace %s: %w", exe, err)
	}
	defer pf.Cleanup()
	if _, err := io.Copy(pf, src); err != nil {
		return "", false, fmt.Errorf("replace %s: copy %s: %w", exe, from, err)
	}
	if err := pf.CloseAtomicallyReplace(); err != nil {
		return "", false, fmt.Errorf("replace %s: %w", exe, err)
	}
	v, _, err := resolveVersion(exe, version)
	if err != nil {
		v = "unknown"
	}
	return v, true, nil
}
