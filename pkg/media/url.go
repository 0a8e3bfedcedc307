package media

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/binary"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/google/uuid"

	"github.com/switchboard/switchboard/pkg/errkind"
)

// ErrSignature refuses a signed media URL whose signature does not verify or whose time is up.
// It is the code a provider webhook's bad signature has, with 403: the URL is the credential,
// and nothing about the media is told.
var ErrSignature = errkind.New(errkind.KindForbidden, "url_signature_invalid", "The media URL's signature does not verify, or the URL has expired.")

// urlKeyLabel separates the key of media URLs from every other use of the secret it is derived
// from (JWT_SECRET signs access tokens): a signature of one can never pass for the other.
const urlKeyLabel = "switchboard media url v1"

// Signer signs and checks media URLs: who holds one may read that media, without a bearer
// token, until it expires (an <img src> on a page of another origin).
type Signer struct {
	key []byte
	ttl time.Duration
	now func() time.Time
}

// NewSigner derives the URL key from secret and signs URLs valid for ttl.
func NewSigner(secret []byte, ttl time.Duration, now func() time.Time) *Signer {
	m := hmac.New(sha256.New, secret)
	m.Write([]byte(urlKeyLabel))
	return &Signer{key: m.Sum(nil), ttl: ttl, now: now}
}

// Sign answers when a URL for the media made now expires, and its signature.
func (s *Signer) Sign(ws, id uuid.UUID) (time.Time, string) {
	expires := s.now().Add(s.ttl).Truncate(time.Second).UTC()
	return expires, s.signature(ws, id, expires.Unix())
}

// URL is the signed URL of the media on the server at base (its public URL): the public
// content route, GET /v1/media/{id}/content, with the workspace, the expiry and the signature
// in the query. It answers when the URL expires too.
func (s *Signer) URL(base string, ws, id uuid.UUID) (string, time.Time) {
	expires, sig := s.Sign(ws, id)
	q := url.Values{"workspace": {ws.String()}, "expires": {strconv.FormatInt(expires.Unix(), 10)}, "signature": {sig}}
	return strings.TrimRight(base, "/") + "/v1/media/" + id.String() + "/content?" + q.Encode(), expires
}

// Verify checks a URL's signature over the media and expiry (Unix seconds), and that the
// expiry has not passed.
func (s *Signer) Verify(ws, id uuid.UUID, expires int64, signature string) error {
	got, err := base64.RawURLEncoding.DecodeString(signature)
	want, _ := base64.RawURLEncoding.DecodeString(s.signature(ws, id, expires))
	if err != nil || !hmac.Equal(got, want) {
		return ErrSignature
	}
	if !s.now().Before(time.Unix(expires, 0)) {
		return ErrSignature.Detailf("The media URL has expired; ask GET /v1/media/{id}/url for a new one.")
	}
	return nil
}

// signature is HMAC-SHA256 over the workspace, the media and the expiry, in fixed-width binary
// so no two triples share an encoding.
func (s *Signer) signature(ws, id uuid.UUID, expires int64) string {
	m := hmac.New(sha256.New, s.key)
	m.Write(ws[:])
	m.Write(id[:])
	m.Write(binary.BigEndian.AppendUint64(nil, uint64(expires)))
	return base64.RawURLEncoding.EncodeToString(m.Sum(nil))
}
