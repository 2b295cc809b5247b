package main

import (
	"crypto/rand"
	"crypto/sha256"
	"encoding/binary"
	"errors"
	"fmt"
	"io/fs"
	"math/big"
	"os"
	"path/filepath"
)

const (
	secretKeyFile = "secret-key"
	secretKeyLen  = 32
	pidFile       = "antnode.pid"

	// peerIDPrefix is what every libp2p Ed25519 peer id starts with.
	peerIDPrefix = "12D3KooW"
	peerIDDigits = 44
)

const base58Alphabet = "123456789ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz"

// peerID derives a stable, antnode-shaped peer id from a secret key: "12D3KooW" and 44 base58
// digits of the key's SHA-256. It is not a real libp2p peer id, only one that looks like it.
func peerID(key []byte) string {
	sum := sha256.Sum256(key)
	n := new(big.Int).SetBytes(sum[:])
	digits := make([]byte, peerIDDigits)
	base, rem := big.NewInt(58), new(big.Int)
	for i := peerIDDigits - 1; i >= 0; i-- {
		n.DivMod(n, base, rem)
		digits[i] = base58Alphabet[rem.Int64()]
	}
	return peerIDPrefix + string(digits)
}

// seedOf turns a peer id into a seed for the simulated metric values.
func seedOf(id string) uint64 {
	sum := sha256.Sum256([]byte(id))
	return binary.LittleEndian.Uint64(sum[:8])
}

// newKey returns a fresh random secret key.
func newKey() ([]byte, error) {
	key := make([]byte, secretKeyLen)
	if _, err := rand.Read(key); err != nil {
		return nil, fmt.Errorf("generate secret key: %w", err)
	}
	return key, nil
}

// loadOrCreateKey reads <dir>/secret-key, or creates it (mode 0600) with key when it does not
// exist. A nil key means a fresh random one.
func loadOrCreateKey(dir string, key []byte) ([]byte, error) {
	path := filepath.Join(dir, secretKeyFile)
	b, err := os.ReadFile(path)
	switch {
	case err == nil:
		if len(b) != secretKeyLen {
			return nil, fmt.Errorf("secret key %s: %d bytes, want %d", path, len(b), secretKeyLen)
		}
		return b, nil
	case !errors.Is(err, fs.ErrNotExist):
		return nil, fmt.Errorf("read secret key: %w", err)
	}
	if key == nil {
		if key, err = newKey(); err != nil {
			return nil, err
		}
	}
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if err != nil {
		return nil, fmt.Errorf("create secret key: %w", err)
	}
	if _, err := f.Write(key); err != nil {
		f.Close()
		return nil, fmt.Errorf("write secret key %s: %w", path, err)
	}
	if err := f.Close(); err != nil {
		return nil, fmt.Errorf("write secret key %s: %w", path, err)
	}
	return key, nil
}
