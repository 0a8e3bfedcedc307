// Package auth provides Switchboard's credentials: user sessions with short-lived JWT access
// tokens and rotating refresh tokens, workspace API keys with scopes, and the Principal every
// request acts as.
package auth

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"fmt"
	"slices"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/golang-jwt/jwt/v5"
	"github.com/google/uuid"

	"github.com/switchboard/switchboard/pkg/audit"
	"github.com/switchboard/switchboard/pkg/errkind"
	"github.com/switchboard/switchboard/pkg/page"
	"github.com/switchboard/switchboard/pkg/password"
	"github.com/switchboard/switchboard/pkg/throttle"
	"github.com/switchboard/switchboard/pkg/workspace"
)

// Scopes an API key can hold. Users get theirs from their role.
const (
	ScopeContactsRead       = "contacts:read"
	ScopeContactsWrite      = "contacts:write"
	ScopeConversationsRead  = "conversations:read"
	ScopeConversationsWrite = "conversations:write"
	ScopeMessagesSend       = "messages:send"
	ScopeAdmin              = "admin"
)

// AllScopes lists every scope, in a stable order.
var AllScopes = []string{ScopeContactsRead, ScopeContactsWrite, ScopeConversationsRead,
	ScopeConversationsWrite, ScopeMessagesSend, ScopeAdmin}

// KeyPrefix starts every API key, so keys are recognisable in code and by secret scanners.
const KeyPrefix = "sbk_"

const refreshPrefix = "sbr_"

// Principal kinds.
const (
	KindUser   = "user"
	KindAPIKey = "api_key"
)

// Principal is who a request acts as.
type Principal struct {
	WorkspaceID uuid.UUID
	Kind        string
	UserID      uuid.UUID // users only
	Role        workspace.Role
	SessionID   uuid.UUID
	KeyID       uuid.UUID // keys only
	Scopes      []string
	// RateLimit is a key's own budget of requests a minute; 0: the server's.
	RateLimit int
}

// Has reports whether the principal holds scope (admin implies every scope).
func (p Principal) Has(scope string) bool {
	return slices.Contains(p.Scopes, scope) || slices.Contains(p.Scopes, ScopeAdmin)
}

// Manages reports whether the principal acts on all of the workspace: an owner, a manager, or
// an admin key.
func (p Principal) Manages() bool { return p.Has(ScopeAdmin) }

// IsUser reports whether a person (not a key) is acting.
func (p Principal) IsUser() bool { return p.Kind == KindUser }

// ScopesForRole are the scopes a user of the role holds.
func ScopesForRole(r workspace.Role) []string {
	if r.Manages() {
		return slices.Clone(AllScopes)
	}
	return []string{ScopeContactsRead, ScopeContactsWrite, ScopeConversationsRead, ScopeConversationsWrite, ScopeMessagesSend}
}

// Key is an API key, without its secret.
type Key struct {
	WorkspaceID uuid.UUID
	ID          uuid.UUID
	Name        string
	Prefix      string
	Scopes      []string
	CreatedBy   *uuid.UUID
	CreatedAt   time.Time
	LastUsedAt  *time.Time
	// RateLimitPerMinute is the key's own budget of requests a minute, below the server's; nil:
	// the server's (RATE_LIMIT_PER_MINUTE).
	RateLimitPerMinute *int
}

// Session is one login: the family of its refresh tokens.
type Session struct {
	WorkspaceID uuid.UUID
	ID          uuid.UUID
	UserID      uuid.UUID
	CreatedAt   time.Time
}

// RefreshToken is a stored refresh token (hash only).
type RefreshToken struct {
	WorkspaceID uuid.UUID
	ID          uuid.UUID
	SessionID   uuid.UUID
	Hash        []byte
	ExpiresAt   time.Time
	CreatedAt   time.Time
}

// Errors of this package.
var (
	ErrInvalidCredentials = errkind.New(errkind.KindUnauthenticated, "invalid_credentials", "Email or password is wrong.")
	ErrInvalidToken       = errkind.New(errkind.KindUnauthenticated, "invalid_token", "The token is invalid, expired or revoked.")
	ErrRefreshReused      = errkind.New(errkind.KindUnauthenticated, "refresh_token_reused", "This refresh token was already used; the whole session is revoked.")
	ErrKeyNotFound        = errkind.New(errkind.KindNotFound, "api_key_not_found", "No such API key in this workspace.")
	ErrScopeExceeds       = errkind.New(errkind.KindForbidden, "scope_exceeds_creator", "A key cannot have scopes its creator lacks.")
)

// Store is what auth needs from persistence.
type Store interface {
	// UsersByEmail returns the accounts with the login email (at most limit), most recently
	// updated first: in every workspace, or in ws only when it is not nil.
	UsersByEmail(ctx context.Context, email string, ws *uuid.UUID, limit int) ([]workspace.User, error)
	// CreateSession stores a session unless the user's password hash is no longer passwordHash
	// (the one the login verified): then it returns ErrInvalidCredentials, so a login racing a
	// password change cannot keep a session the change should have ended.
	// rec, the login's audit record, goes in the same statement.
	CreateSession(ctx context.Context, s Session, first RefreshToken, passwordHash string, rec audit.Record) error
	// RotateRefresh consumes the token with hash and stores next in its family. A token already
	// used revokes its session and returns ErrRefreshReused; an unknown, expired or revoked one
	// returns ErrInvalidToken.
	RotateRefresh(ctx context.Context, ws uuid.UUID, hash []byte, next func(Session) RefreshToken) (Session, error)
	RevokeSession(ctx context.Context, ws, id uuid.UUID) error
	// SessionUser returns the user of a live session.
	SessionUser(ctx context.Context, ws, session, user uuid.UUID) (workspace.User, error)
	// CreateKey stores a key's hash with its audit record.
	CreateKey(ctx context.Context, k Key, hash []byte, rec audit.Record) error
	// KeyByHash returns a live key and records its use (at most once a minute).
	KeyByHash(ctx context.Context, hash []byte) (Key, error)
	// LiveKey returns the key unless it is revoked or unknown (then ErrInvalidToken).
	LiveKey(ctx context.Context, ws, id uuid.UUID) (Key, error)
	Keys(ctx context.Context, ws uuid.UUID, p page.Request) ([]Key, string, error)
	// RevokeKey revokes a live key with its audit record.
	RevokeKey(ctx context.Context, ws, id uuid.UUID, rec audit.Record) error
	// RecordAudit writes records on their own (a failed login, which changes nothing).
	RecordAudit(ctx context.Context, ws uuid.UUID, recs ...audit.Record) error
}

// Config holds the token settings.
type Config struct {
	Secret     []byte
	Issuer     string
	Audience   string
	AccessTTL  time.Duration
	RefreshTTL time.Duration
	// Hashes bounds the password checks of logins; nil: a gate of one hash at a time.
	Hashes *password.Gate
	// FailuresPerEmail and FailuresPerAddress are the failed-login budgets a minute; zero:
	// 10 and 50, the bounds DESIGN fixes.
	FailuresPerEmail, FailuresPerAddress int
	// Throttle is where the failed-login budgets count: in the Redis every API process shares
	// (REDIS_URL), or, the zero value, in this process.
	Throttle throttle.Shared
	// MaxRateLimit is the largest budget a minute a key may be created with, the server's
	// RATE_LIMIT_PER_MINUTE; zero: no bound.
	MaxRateLimit int
}

// Service issues and checks credentials.
type Service struct {
	store Store
	cfg   Config
	now   func() time.Time
	// dummyHash is verified when an email is unknown, so a login takes as long either way.
	dummyHash string
	// access and stream check access and stream tokens. Built once: every authenticated
	// request parses a token, and building a parser from its options allocated each time.
	access, stream *jwt.Parser
	verified       *tokenCache
	hashes         *password.Gate
	throttle       *loginThrottle
}

// NewService builds a Service.
func NewService(st Store, cfg Config, now func() time.Time) *Service {
	h, _ := password.Hash("not-a-real-password-" + uuid.NewString())
	parser := func(audience string) *jwt.Parser {
		return jwt.NewParser(
			jwt.WithValidMethods([]string{jwt.SigningMethodHS256.Alg()}),
			jwt.WithIssuer(cfg.Issuer),
			jwt.WithAudience(audience),
			jwt.WithExpirationRequired(),
			jwt.WithIssuedAt(),
			jwt.WithTimeFunc(now),
		)
	}
	if cfg.Hashes == nil {
		cfg.Hashes = password.NewGate(1, 3*time.Second)
	}
	s := &Service{store: st, cfg: cfg, now: now, dummyHash: h, verified: newTokenCache(verifiedTokens),
		hashes: cfg.Hashes, throttle: newLoginThrottle(cfg.Throttle, cfg.FailuresPerEmail, cfg.FailuresPerAddress)}
	s.access, s.stream = parser(cfg.Audience), parser(s.streamAudience())
	return s
}

// secret is the key function of both parsers: one HMAC secret, whatever the token says.
func (s *Service) secret(*jwt.Token) (any, error) { return s.cfg.Secret, nil }

// Tokens is what a login or refresh answers.
type Tokens struct {
	AccessToken  string
	RefreshToken string
	ExpiresIn    int
}

type claims struct {
	jwt.RegisteredClaims
	WorkspaceID string `json:"ws"`
	SessionID   string `json:"sid"`
}

// Refresh rotates a refresh token: the old one stops working, and presenting it again
// revokes the session.
func (s *Service) Refresh(ctx context.Context, raw string) (Tokens, error) {
	ws, ok := refreshWorkspace(raw)
	if !ok {
		return Tokens{}, ErrInvalidToken
	}
	now := s.now().UTC()
	var nextRaw string
	sess, err := s.store.RotateRefresh(ctx, ws, hash(raw), func(sess Session) RefreshToken {
		r, rt := s.newRefresh(sess, now)
		nextRaw = r
		return rt
	})
	if err != nil {
		return Tokens{}, err
	}
	return s.tokens(sess, nextRaw, now)
}

// Logout revokes the principal's session: its access and refresh tokens stop working at once.
func (s *Service) Logout(ctx context.Context, p Principal) error {
	if p.Kind != KindUser {
		return errkind.New(errkind.KindForbidden, "not_a_session", "Only a user session can log out; revoke an API key with DELETE /v1/api-keys/{id}.")
	}
	return s.store.RevokeSession(ctx, p.WorkspaceID, p.SessionID)
}

func (s *Service) tokens(sess Session, refresh string, now time.Time) (Tokens, error) {
	c := claims{
		RegisteredClaims: jwt.RegisteredClaims{
			Issuer:    s.cfg.Issuer,
			Subject:   sess.UserID.String(),
			Audience:  jwt.ClaimStrings{s.cfg.Audience},
			IssuedAt:  jwt.NewNumericDate(now),
			ExpiresAt: jwt.NewNumericDate(now.Add(s.cfg.AccessTTL)),
			ID:        uuid.NewString(),
		},
		WorkspaceID: sess.WorkspaceID.String(),
		SessionID:   sess.ID.String(),
	}
	tok, err := jwt.NewWithClaims(jwt.SigningMethodHS256, c).SignedString(s.cfg.Secret)
	if err != nil {
		return Tokens{}, fmt.Errorf("sign access token: %w", err)
	}
	return Tokens{AccessToken: tok, RefreshToken: refresh, ExpiresIn: int(s.cfg.AccessTTL / time.Second)}, nil
}

func (s *Service) newRefresh(sess Session, now time.Time) (string, RefreshToken) {
	b := make([]byte, 16+32)
	copy(b, sess.WorkspaceID[:])
	_, _ = rand.Read(b[16:])
	raw := refreshPrefix + base64.RawURLEncoding.EncodeToString(b)
	return raw, RefreshToken{WorkspaceID: sess.WorkspaceID, ID: uuid.Must(uuid.NewV7()), SessionID: sess.ID,
		Hash: hash(raw), ExpiresAt: now.Add(s.cfg.RefreshTTL), CreatedAt: now}
}

// refreshWorkspace reads the workspace a refresh token names, so its lookup stays in one
// workspace.
func refreshWorkspace(raw string) (uuid.UUID, bool) {
	if !strings.HasPrefix(raw, refreshPrefix) {
		return uuid.Nil, false
	}
	b, err := base64.RawURLEncoding.DecodeString(raw[len(refreshPrefix):])
	if err != nil || len(b) != 48 {
		return uuid.Nil, false
	}
	id, _ := uuid.FromBytes(b[:16])
	return id, true
}

func hash(s string) []byte {
	h := sha256.Sum256([]byte(s))
	return h[:]
}

// Authenticate resolves a bearer token (a user's JWT or an API key) to a principal.
func (s *Service) Authenticate(ctx context.Context, bearer string) (Principal, error) {
	if strings.HasPrefix(bearer, KeyPrefix) {
		if len(bearer) > 200 {
			return Principal{}, ErrInvalidToken
		}
		k, err := s.store.KeyByHash(ctx, hash(bearer))
		if err != nil {
			return Principal{}, err
		}
		p := Principal{WorkspaceID: k.WorkspaceID, Kind: KindAPIKey, KeyID: k.ID, Scopes: k.Scopes}
		if k.RateLimitPerMinute != nil {
			p.RateLimit = *k.RateLimitPerMinute
		}
		return p, nil
	}
	t, err := s.accessToken(bearer)
	if err != nil {
		return Principal{}, err
	}
	ws, sid := t.workspace, t.session
	u, err := s.store.SessionUser(ctx, ws, sid, t.user)
	if err != nil {
		return Principal{}, err
	}
	return Principal{WorkspaceID: ws, Kind: KindUser, UserID: u.ID, Role: u.Role, SessionID: sid, Scopes: ScopesForRole(u.Role)}, nil
}

// accessToken checks an access token's signature and claims, or finds that it already did.
// Whether the session behind it is live is for the caller to ask, on every request.
func (s *Service) accessToken(bearer string) (verifiedToken, error) {
	now := s.now()
	if t, ok := s.verified.get(bearer); ok {
		// The claims that depend on the time are checked again, as the parser does.
		if !now.Before(t.expires) || now.Before(t.issued) {
			return verifiedToken{}, ErrInvalidToken
		}
		return t, nil
	}
	var c claims
	if _, err := s.access.ParseWithClaims(bearer, &c, s.secret); err != nil {
		return verifiedToken{}, ErrInvalidToken
	}
	ws, err1 := uuid.Parse(c.WorkspaceID)
	sid, err2 := uuid.Parse(c.SessionID)
	uid, err3 := uuid.Parse(c.Subject)
	if err1 != nil || err2 != nil || err3 != nil {
		return verifiedToken{}, ErrInvalidToken
	}
	t := verifiedToken{workspace: ws, session: sid, user: uid, expires: c.ExpiresAt.Time}
	if c.IssuedAt != nil {
		t.issued = c.IssuedAt.Time
	}
	if c.NotBefore == nil { // ours never have one; a token that does is checked every time
		s.verified.put(bearer, t)
	}
	return t, nil
}

// NewKey is what a key is created with.
type NewKey struct {
	Name string
	// Scopes default to, and may not exceed, the creator's.
	Scopes []string
	// RateLimitPerMinute is the key's own budget a minute (1 to the server's); nil: the
	// server's.
	RateLimitPerMinute *int
}

// CreateKey makes an API key. The secret is returned only here.
func (s *Service) CreateKey(ctx context.Context, by Principal, in NewKey) (Key, string, error) {
	var f errkind.Fields
	name, scopes := strings.TrimSpace(in.Name), in.Scopes
	if name == "" || utf8.RuneCountInString(name) > 100 {
		f.Add("name", "must be 1 to 100 characters")
	}
	if n := in.RateLimitPerMinute; n != nil && (*n < 1 || (s.cfg.MaxRateLimit > 0 && *n > s.cfg.MaxRateLimit)) {
		f.Add("rate_limit_per_minute", fmt.Sprintf("must be 1 to %d (the server's RATE_LIMIT_PER_MINUTE)", s.cfg.MaxRateLimit))
	}
	if scopes == nil {
		scopes = slices.Clone(by.Scopes)
	}
	seen := map[string]bool{}
	clean := make([]string, 0, len(scopes))
	for i, sc := range scopes {
		if !slices.Contains(AllScopes, sc) {
			f.Add(fmt.Sprintf("scopes[%d]", i), "must be one of "+strings.Join(AllScopes, ", "))
			continue
		}
		if !seen[sc] {
			seen[sc] = true
			clean = append(clean, sc)
		}
	}
	if len(scopes) == 0 {
		f.Add("scopes", "must not be empty")
	}
	if err := f.Err(); err != nil {
		return Key{}, "", err
	}
	for _, sc := range clean {
		if !by.Has(sc) {
			return Key{}, "", ErrScopeExceeds.Detailf("You lack the %q scope, so a key you create cannot have it.", sc)
		}
	}
	slices.SortFunc(clean, func(a, b string) int { return slices.Index(AllScopes, a) - slices.Index(AllScopes, b) })
	secret := make([]byte, 32)
	_, _ = rand.Read(secret)
	raw := KeyPrefix + base64.RawURLEncoding.EncodeToString(secret)
	k := Key{WorkspaceID: by.WorkspaceID, ID: uuid.Must(uuid.NewV7()), Name: name, Prefix: raw[:len(KeyPrefix)+6],
		Scopes: clean, CreatedAt: s.now().UTC(), RateLimitPerMinute: in.RateLimitPerMinute}
	if by.Kind == KindUser {
		uid := by.UserID
		k.CreatedBy = &uid
	}
	// The key's secret, and its prefix, stay out of the log.
	changes := audit.Changes{"name": {After: k.Name}, "scopes": {After: k.Scopes}}
	if k.RateLimitPerMinute != nil { // a budget of its own; without one the key has the server's
		changes["rate_limit_per_minute"] = audit.Change{After: *k.RateLimitPerMinute}
	}
	rec := audit.On(audit.APIKeyCreated, "api_key", k.ID, changes)
	if err := s.store.CreateKey(ctx, k, hash(raw), rec); err != nil {
		return Key{}, "", fmt.Errorf("create key: %w", err)
	}
	return k, raw, nil
}

// Keys lists the workspace's live keys.
func (s *Service) Keys(ctx context.Context, ws uuid.UUID, p page.Request) ([]Key, string, error) {
	return s.store.Keys(ctx, ws, p)
}

// RevokeKey revokes a key; requests with it get 401 from then on.
func (s *Service) RevokeKey(ctx context.Context, ws, id uuid.UUID) error {
	return s.store.RevokeKey(ctx, ws, id, audit.On(audit.APIKeyRevoked, "api_key", id, audit.Changes{"revoked": {Before: false, After: true}}))
}

// StreamTokenTTL is how long a stream token may be used to open an event stream.
const StreamTokenTTL = 2 * time.Minute

// streamClaims are a stream token's: the principal it stands for, under an audience of its
// own, so it opens an event stream and nothing else, and an access token cannot be put in a URL.
type streamClaims struct {
	jwt.RegisteredClaims
	WorkspaceID string   `json:"ws"`
	Kind        string   `json:"knd"`
	SessionID   string   `json:"sid,omitempty"`
	KeyID       string   `json:"kid,omitempty"`
	Scopes      []string `json:"scp,omitempty"`
}

func (s *Service) streamAudience() string { return s.cfg.Audience + "/events-stream" }

// StreamToken issues a short-lived token that opens GET /v1/events/stream as p, for clients
// such as the browser's EventSource that cannot set an Authorization header.
func (s *Service) StreamToken(p Principal) (string, time.Time, error) {
	now := s.now().UTC()
	exp := now.Add(StreamTokenTTL)
	c := streamClaims{
		RegisteredClaims: jwt.RegisteredClaims{Issuer: s.cfg.Issuer, Audience: jwt.ClaimStrings{s.streamAudience()},
			IssuedAt: jwt.NewNumericDate(now), ExpiresAt: jwt.NewNumericDate(exp), ID: uuid.NewString()},
		WorkspaceID: p.WorkspaceID.String(), Kind: p.Kind,
	}
	switch p.Kind {
	case KindUser:
		c.Subject, c.SessionID = p.UserID.String(), p.SessionID.String()
	case KindAPIKey:
		c.KeyID, c.Scopes = p.KeyID.String(), p.Scopes
	}
	tok, err := jwt.NewWithClaims(jwt.SigningMethodHS256, c).SignedString(s.cfg.Secret)
	if err != nil {
		return "", time.Time{}, fmt.Errorf("sign stream token: %w", err)
	}
	return tok, exp, nil
}

// AuthenticateStream resolves a stream token. The credential that minted it is checked as it
// stands now, so a token of a revoked key or an ended session opens nothing.
func (s *Service) AuthenticateStream(ctx context.Context, tok string) (Principal, error) {
	var c streamClaims
	_, err := s.stream.ParseWithClaims(tok, &c, s.secret)
	if err != nil {
		return Principal{}, ErrInvalidToken
	}
	ws, err := uuid.Parse(c.WorkspaceID)
	if err != nil {
		return Principal{}, ErrInvalidToken
	}
	p := Principal{WorkspaceID: ws, Kind: c.Kind}
	switch c.Kind {
	case KindUser:
		sid, err1 := uuid.Parse(c.SessionID)
		uid, err2 := uuid.Parse(c.Subject)
		if err1 != nil || err2 != nil {
			return Principal{}, ErrInvalidToken
		}
		p.SessionID, p.UserID = sid, uid
	case KindAPIKey:
		kid, err := uuid.Parse(c.KeyID)
		if err != nil {
			return Principal{}, ErrInvalidToken
		}
		p.KeyID = kid
	default:
		return Principal{}, ErrInvalidToken
	}
	return s.Recheck(ctx, p)
}

// Recheck answers p as its credential stands now: ErrInvalidToken once its API key is revoked
// or its session has ended (logout, revocation, the user deleted), else the principal with
// the key's scopes or the user's current role. A check when a request starts says nothing
// about later, so requests that last (event streams) call it every few seconds; it is one
// primary-key lookup.
func (s *Service) Recheck(ctx context.Context, p Principal) (Principal, error) {
	switch p.Kind {
	case KindAPIKey:
		k, err := s.store.LiveKey(ctx, p.WorkspaceID, p.KeyID)
		if err != nil {
			return Principal{}, err
		}
		p := Principal{WorkspaceID: k.WorkspaceID, Kind: KindAPIKey, KeyID: k.ID, Scopes: k.Scopes}
		if k.RateLimitPerMinute != nil {
			p.RateLimit = *k.RateLimitPerMinute
		}
		return p, nil
	case KindUser:
		u, err := s.store.SessionUser(ctx, p.WorkspaceID, p.SessionID, p.UserID)
		if err != nil {
			return Principal{}, err
		}
		return Principal{WorkspaceID: p.WorkspaceID, Kind: KindUser, UserID: u.ID, Role: u.Role, SessionID: p.SessionID,
			Scopes: ScopesForRole(u.Role)}, nil
	}
	return Principal{}, ErrInvalidToken
}
