// Package password hashes and checks user passwords with argon2id.
package password

import (
	"crypto/rand"
	"crypto/subtle"
	"encoding/base64"
	"errors"
	"fmt"
	"strings"
	"unicode/utf8"

	"golang.org/x/crypto/argon2"
)

// MinLength is the shortest password accepted.
const MinLength = 10

// MaxLength bounds the work an attacker can ask of the hash function: characters, as the API
// documents every length (maxLength in the spec counts characters), so at most 1 KiB of UTF-8.
const MaxLength = 256

// Parameters are OWASP's argon2id baseline (19 MiB, 2 passes, 1 lane): memory-hard enough to
// make offline guessing expensive, cheap enough that logins don't starve a 2-core server.
const (
	timeCost  = 2
	memoryKiB = 19 * 1024
	threads   = 1
	keyLen    = 32
)

// Hash returns an encoded argon2id hash in the PHC string format.
func Hash(plain string) (string, error) {
	salt := make([]byte, 16)
	if _, err := rand.Read(salt); err != nil {
		return "", fmt.Errorf("salt: %w", err)
	}
	key := argon2.IDKey([]byte(plain), salt, timeCost, memoryKiB, threads, keyLen)
	return fmt.Sprintf("$argon2id$v=%d$m=%d,t=%d,p=%d$%s$%s", argon2.Version, memoryKiB, timeCost, threads,
		base64.RawStdEncoding.EncodeToString(salt), base64.RawStdEncoding.EncodeToString(key)), nil
}

// Verify reports whether plain matches the encoded hash.
func Verify(encoded, plain string) (bool, error) {
	parts := strings.Split(encoded, "$")
	if len(parts) != 6 || parts[1] != "argon2id" {
		return false, errors.New("unknown password hash format")
	}
	var m uint32
	var t uint32
	var p uint8
	if _, err := fmt.Sscanf(parts[3], "m=%d,t=%d,p=%d", &m, &t, &p); err != nil {
		return false, fmt.Errorf("parse hash parameters: %w", err)
	}
	salt, err := base64.RawStdEncoding.DecodeString(parts[4])
	if err != nil {
		return false, fmt.Errorf("decode salt: %w", err)
	}
	want, err := base64.RawStdEncoding.DecodeString(parts[5])
	if err != nil {
		return false, fmt.Errorf("decode key: %w", err)
	}
	got := argon2.IDKey([]byte(plain), salt, t, m, p, uint32(len(want)))
	return subtle.ConstantTimeCompare(got, want) == 1, nil
}

// Check returns the validation message for a new password, or "".
func Check(plain string) string {
	switch {
	case len([]rune(plain)) < MinLength:
		return fmt.Sprintf("must be at least %d characters", MinLength)
	case utf8.RuneCountInString(plain) > MaxLength:
		return fmt.Sprintf("must be at most %d characters", MaxLength)
	}
	return ""
}
