// Package secret seals small secrets (provider tokens and keys) for storage with AES-256-GCM,
// so a database dump alone never reveals them.
package secret

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/rand"
	"errors"
	"fmt"
)

// KeySize is the length of the key: AES-256.
const KeySize = 32

// ErrNoKey means no key is configured, so secrets can be neither sealed nor opened.
var ErrNoKey = errors.New("no secrets key configured (SECRETS_KEY)")

// ErrOpen means a sealed value is corrupt, was sealed with another key, or belongs to another
// row (the associated data differs).
var ErrOpen = errors.New("cannot open sealed secret")

// Box seals and opens secrets with one key. A nil *Box has no key: every call returns ErrNoKey.
type Box struct {
	aead cipher.AEAD
}

// New builds a Box from a 32-byte key; an empty key gives a nil Box (no key configured).
func New(key []byte) (*Box, error) {
	if len(key) == 0 {
		return nil, nil
	}
	if len(key) != KeySize {
		return nil, fmt.Errorf("secrets key: want %d bytes, got %d", KeySize, len(key))
	}
	block, err := aes.NewCipher(key)
	if err != nil {
		return nil, fmt.Errorf("secrets key: %w", err)
	}
	aead, err := cipher.NewGCM(block)
	if err != nil {
		return nil, fmt.Errorf("secrets key: %w", err)
	}
	return &Box{aead: aead}, nil
}

// Configured reports whether the box has a key.
func (b *Box) Configured() bool { return b != nil }

// Seal encrypts plaintext as nonce || ciphertext || tag with a fresh random 12-byte nonce.
// ad (e.g. the owning row's ids) is authenticated but not stored: Open must be given the same,
// so a sealed value copied onto another row does not open there.
func (b *Box) Seal(plaintext, ad []byte) ([]byte, error) {
	if b == nil {
		return nil, ErrNoKey
	}
	nonce := make([]byte, b.aead.NonceSize(), b.aead.NonceSize()+len(plaintext)+b.aead.Overhead())
	if _, err := rand.Read(nonce); err != nil {
		return nil, fmt.Errorf("secret nonce: %w", err)
	}
	return b.aead.Seal(nonce, nonce, plaintext, ad), nil
}

// Open decrypts what Seal returned for the same associated data.
func (b *Box) Open(sealed, ad []byte) ([]byte, error) {
	if b == nil {
		return nil, ErrNoKey
	}
	n := b.aead.NonceSize()
	if len(sealed) < n+b.aead.Overhead() {
		return nil, ErrOpen
	}
	out, err := b.aead.Open(nil, sealed[:n], sealed[n:], ad)
	if err != nil {
		return nil, ErrOpen
	}
	return out, nil
}
