package api_test

import (
	"net/http"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"

	"github.com/switchboard/switchboard/api/apitest"
)

func TestSessionLifecycle(t *testing.T) {
	e := apitest.New(t)
	w := e.NewWorkspace(t, "Acme")

	access, refresh := e.Login(t, w.OwnerEmail, apitest.Password)
	me := e.Get(t, "/v1/me", access).Expect(t, http.StatusOK).Map(t)
	if me["kind"] != "user" || me["workspace_id"] != w.ID || me["user"].(map[string]any)["role"] != "owner" {
		t.Fatalf("me: %v", me)
	}

	// Rotate: the new pair works, the old refresh token does not.
	var rotated struct {
		AccessToken  string `json:"access_token"`
		RefreshToken string `json:"refresh_token"`
		ExpiresIn    int    `json:"expires_in"`
		TokenType    string `json:"token_type"`
	}
	e.Post(t, "/v1/auth/refresh", "", map[string]string{"refresh_token": refresh}).Expect(t, http.StatusOK).JSON(t, &rotated)
	if rotated.TokenType != "Bearer" || rotated.ExpiresIn != 15*60 || rotated.RefreshToken == refresh {
		t.Fatalf("rotated tokens: %+v", rotated)
	}
	e.Get(t, "/v1/me", rotated.AccessToken).Expect(t, http.StatusOK)

	// Reusing the rotated token is refused and revokes the whole family, so even the newest
	// refresh token and its access token stop working.
	e.Post(t, "/v1/auth/refresh", "", map[string]string{"refresh_token": refresh}).ExpectProblem(t, http.StatusUnauthorized, "refresh_token_reused")
	e.Post(t, "/v1/auth/refresh", "", map[string]string{"refresh_token": rotated.RefreshToken}).ExpectProblem(t, http.StatusUnauthorized, "invalid_token")
	e.Get(t, "/v1/me", rotated.AccessToken).ExpectProblem(t, http.StatusUnauthorized, "invalid_token")

	// Logout ends a fresh session: its refresh and access tokens are refused at once.
	access2, refresh2 := e.Login(t, w.OwnerEmail, apitest.Password)
	e.Post(t, "/v1/auth/logout", access2, nil).Expect(t, http.StatusNoContent)
	e.Post(t, "/v1/auth/refresh", "", map[string]string{"refresh_token": refresh2}).ExpectProblem(t, http.StatusUnauthorized, "invalid_token")
	r := e.Get(t, "/v1/me", access2).ExpectProblem(t, http.StatusUnauthorized, "invalid_token")
	if r.Header.Get("WWW-Authenticate") == "" {
		t.Errorf("401 without WWW-Authenticate")
	}

	// Another session of the same user is unaffected.
	e.Get(t, "/v1/me", w.OwnerToken).Expect(t, http.StatusOK)

	// API keys cannot log out.
	e.Post(t, "/v1/auth/logout", w.APIKey, nil).ExpectProblem(t, http.StatusForbidden, "not_a_session")
}

func TestRefreshTokenExpires(t *testing.T) {
	e := apitest.New(t)
	w := e.NewWorkspace(t, "Acme")
	e.Clock.Advance(e.Config.RefreshTokenTTL + time.Second)
	e.Post(t, "/v1/auth/refresh", "", map[string]string{"refresh_token": w.RefreshToken}).ExpectProblem(t, http.StatusUnauthorized, "invalid_token")
}

func TestLoginFailures(t *testing.T) {
	e := apitest.New(t)
	w := e.NewWorkspace(t, "Acme")
	cases := []struct {
		name     string
		email    string
		password string
	}{
		{"wrong password", w.OwnerEmail, "wrong password!"},
		{"unknown email", "nobody@example.com", apitest.Password},
		{"empty password", w.OwnerEmail, ""},
		{"not an email", "not-an-email", apitest.Password},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			e.Post(t, "/v1/auth/login", "", map[string]string{"email": tc.email, "password": tc.password}).
				ExpectProblem(t, http.StatusUnauthorized, "invalid_credentials")
		})
	}
	// Email is matched case-insensitively.
	e.Post(t, "/v1/auth/login", "", map[string]string{"email": "  " + upper(w.OwnerEmail), "password": apitest.Password}).Expect(t, http.StatusOK)
}

func upper(s string) string {
	b := []byte(s)
	for i, c := range b {
		if c >= 'a' && c <= 'z' {
			b[i] = c - 32
		}
	}
	return string(b)
}

func TestForgedTokensAreRejected(t *testing.T) {
	e := apitest.New(t)
	w := e.NewWorkspace(t, "Acme")

	// Take the claims of a real token and re-sign them in the ways an attacker would.
	var claims jwt.MapClaims
	if _, _, err := jwt.NewParser().ParseUnverified(w.OwnerToken, &claims); err != nil {
		t.Fatal(err)
	}
	with := func(k string, v any) jwt.MapClaims {
		c := jwt.MapClaims{}
		for kk, vv := range claims {
			c[kk] = vv
		}
		c[k] = v
		return c
	}
	secret := e.Config.JWTSecret
	sign := func(m jwt.SigningMethod, c jwt.MapClaims, key any) string {
		s, err := jwt.NewWithClaims(m, c).SignedString(key)
		if err != nil {
			t.Fatal(err)
		}
		return s
	}
	now := e.Clock.Now()
	cases := []struct {
		name  string
		token string
	}{
		{"alg none", sign(jwt.SigningMethodNone, claims, jwt.UnsafeAllowNoneSignatureType)},
		{"other key", sign(jwt.SigningMethodHS256, claims, []byte("another-secret-another-secret-0123456789"))},
		{"other HMAC algorithm with the right key", sign(jwt.SigningMethodHS512, claims, secret)},
		{"expired", sign(jwt.SigningMethodHS256, with("exp", now.Add(-time.Second).Unix()), secret)},
		{"no expiry", sign(jwt.SigningMethodHS256, with("exp", nil), secret)},
		{"issued in the future", sign(jwt.SigningMethodHS256, with("iat", now.Add(time.Hour).Unix()), secret)},
		{"wrong audience", sign(jwt.SigningMethodHS256, with("aud", []string{"someone-else"}), secret)},
		{"wrong issuer", sign(jwt.SigningMethodHS256, with("iss", "evil"), secret)},
		{"other workspace", sign(jwt.SigningMethodHS256, with("ws", "0193a5b0-7c1e-7d2a-9f00-6b1c2d3e4f50"), secret)},
		{"garbage", "not.a.jwt"},
		{"unknown api key", "sbk_AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			r := e.Get(t, "/v1/me", tc.token).ExpectProblem(t, http.StatusUnauthorized, "invalid_token")
			if r.Header.Get("WWW-Authenticate") == "" {
				t.Error("401 without WWW-Authenticate")
			}
		})
	}
	// The untouched token still works, so the cases above failed for the forgery alone.
	e.Get(t, "/v1/me", sign(jwt.SigningMethodHS256, claims, secret)).Expect(t, http.StatusOK)

	for _, h := range []string{"", "Basic Zm9vOmJhcg==", "Bearer", "Bearer   "} {
		r := e.Do(t, apitest.Request{Method: http.MethodGet, Path: "/v1/me", Header: map[string]string{"Authorization": h}})
		r.ExpectProblem(t, http.StatusUnauthorized, "unauthenticated")
	}
}

// An access token is refused from its expiry on, however often it was accepted before (the
// server remembers tokens it verified, and must check their expiry again).
func TestAccessTokenExpiresWhileInUse(t *testing.T) {
	e := apitest.New(t)
	w := e.NewWorkspace(t, "Acme")
	e.Get(t, "/v1/me", w.OwnerToken).Expect(t, http.StatusOK)
	e.Clock.Advance(e.Config.AccessTokenTTL - time.Second)
	e.Get(t, "/v1/me", w.OwnerToken).Expect(t, http.StatusOK)
	e.Clock.Advance(time.Second)
	e.Get(t, "/v1/me", w.OwnerToken).ExpectProblem(t, http.StatusUnauthorized, "invalid_token")
	// A clock set back before the token's issue time refuses it too, as the first check would.
	e.Clock.Advance(-e.Config.AccessTokenTTL - time.Minute)
	e.Get(t, "/v1/me", w.OwnerToken).ExpectProblem(t, http.StatusUnauthorized, "invalid_token")
}
