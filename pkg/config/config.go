// Package config loads the server's settings from the environment and checks them at startup.
package config

import (
	"encoding/base64"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"
)

// Config is every setting the process reads. It is passed down, never read globally.
type Config struct {
	DatabaseURL     string
	HTTPAddr        string
	JWTSecret       []byte
	JWTIssuer       string
	JWTAudience     string
	AccessTokenTTL  time.Duration
	RefreshTokenTTL time.Duration
	DBMaxConns      int32
	LogLevel        string
	// SecretsKey encrypts provider secrets at rest (AES-256-GCM); nil when unset.
	SecretsKey              []byte
	ProviderAPIBaseOverride bool
	WebhookAllowLoopback    bool
	BodyLimit               string
	ShutdownTimeout         time.Duration
	EnablePprof             bool
	ProductionErrors        bool
}

// Var documents one environment variable; README's table is made from the same facts.
type Var struct {
	Name, Default, Description string
}

// Vars lists every variable Load reads.
var Vars = []Var{
	{"DATABASE_URL", "", "PostgreSQL connection URL (required)."},
	{"HTTP_ADDR", ":8080", "Address the API listens on."},
	{"JWT_SECRET", "", "HMAC key for access tokens, at least 32 bytes (required for serve)."},
	{"JWT_ISSUER", "switchboard", "iss claim of issued and accepted tokens."},
	{"JWT_AUDIENCE", "switchboard-api", "aud claim of issued and accepted tokens."},
	{"ACCESS_TOKEN_TTL", "15m", "Lifetime of access tokens."},
	{"REFRESH_TOKEN_TTL", "720h", "Lifetime of refresh tokens."},
	{"DB_MAX_CONNS", "8", "Upper bound of the database connection pool."},
	{"LOG_LEVEL", "info", "debug, info, warn or error."},
	{"SECRETS_KEY", "", "Base64 of 32 random bytes; encrypts provider secrets at rest (required to store channel secrets)."},
	{"PROVIDER_API_BASE_OVERRIDE", "false", "Accept a channel's provider api_base (tests, staging)."},
	{"WEBHOOK_ALLOW_LOOPBACK", "false", "Allow subscriber webhooks to loopback addresses (development only)."},
	{"BODY_LIMIT", "1M", "Largest accepted request body."},
	{"SHUTDOWN_TIMEOUT", "20s", "How long SIGTERM waits for in-flight requests."},
	{"ENABLE_PPROF", "false", "Serve /debug/pprof (profiling; keep off in production)."},
}

// Load reads the environment through getenv. It names the variable at fault.
func Load(getenv func(string) string) (Config, error) {
	get := func(name string) string {
		if v := strings.TrimSpace(getenv(name)); v != "" {
			return v
		}
		for _, v := range Vars {
			if v.Name == name {
				return v.Default
			}
		}
		return ""
	}
	var errs []error
	dur := func(name string) time.Duration {
		d, err := time.ParseDuration(get(name))
		if err != nil || d <= 0 {
			errs = append(errs, fmt.Errorf("%s: want a positive duration like 15m, got %q", name, get(name)))
		}
		return d
	}
	boolean := func(name string) bool {
		b, err := strconv.ParseBool(get(name))
		if err != nil {
			errs = append(errs, fmt.Errorf("%s: want true or false, got %q", name, get(name)))
		}
		return b
	}
	c := Config{
		DatabaseURL:             get("DATABASE_URL"),
		HTTPAddr:                get("HTTP_ADDR"),
		JWTSecret:               []byte(get("JWT_SECRET")),
		JWTIssuer:               get("JWT_ISSUER"),
		JWTAudience:             get("JWT_AUDIENCE"),
		AccessTokenTTL:          dur("ACCESS_TOKEN_TTL"),
		RefreshTokenTTL:         dur("REFRESH_TOKEN_TTL"),
		LogLevel:                get("LOG_LEVEL"),
		ProviderAPIBaseOverride: boolean("PROVIDER_API_BASE_OVERRIDE"),
		WebhookAllowLoopback:    boolean("WEBHOOK_ALLOW_LOOPBACK"),
		BodyLimit:               get("BODY_LIMIT"),
		ShutdownTimeout:         dur("SHUTDOWN_TIMEOUT"),
		EnablePprof:             boolean("ENABLE_PPROF"),
		ProductionErrors:        true,
	}
	if c.DatabaseURL == "" {
		errs = append(errs, errors.New("DATABASE_URL: required"))
	}
	n, err := strconv.Atoi(get("DB_MAX_CONNS"))
	if err != nil || n < 1 || n > 1000 {
		errs = append(errs, fmt.Errorf("DB_MAX_CONNS: want 1..1000, got %q", get("DB_MAX_CONNS")))
	}
	c.DBMaxConns = int32(n)
	switch c.LogLevel {
	case "debug", "info", "warn", "error":
	default:
		errs = append(errs, fmt.Errorf("LOG_LEVEL: want debug, info, warn or error, got %q", c.LogLevel))
	}
	if k := get("SECRETS_KEY"); k != "" {
		b, err := base64.StdEncoding.DecodeString(k)
		if err != nil || len(b) != 32 {
			errs = append(errs, errors.New("SECRETS_KEY: want base64 of exactly 32 bytes"))
		}
		c.SecretsKey = b
	}
	return c, errors.Join(errs...)
}

// RequireServe checks what serving needs beyond the database.
func (c Config) RequireServe() error {
	if len(c.JWTSecret) < 32 {
		return errors.New("JWT_SECRET: required, at least 32 bytes")
	}
	return nil
}
