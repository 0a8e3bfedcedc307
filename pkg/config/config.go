// Package config loads the server's settings from the environment and checks them at startup.
package config

import (
	"encoding/base64"
	"errors"
	"fmt"
	"math"
	"net/netip"
	"net/url"
	"runtime"
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
	// Live events (issue 8).
	EventHeartbeat      time.Duration
	EventRetention      time.Duration
	WebhookPoll         time.Duration
	WebhookRetryFor     time.Duration
	WebhookDisableAfter time.Duration
	WebhookTimeout      time.Duration
	// EventStreamRecheck is how often an open event stream checks that its API key or session
	// is still live, so a revocation or logout ends it within this long.
	EventStreamRecheck time.Duration
	BodyLimit          string
	// HTTP server timeouts (net/http.Server): a request's header and its whole body must arrive
	// within the read timeouts, so a client trickling a body cannot hold a connection open;
	// an answer must be written within the write timeout (event streams bound each write
	// instead); an idle keep-alive connection is closed after the idle timeout.
	HTTPReadHeaderTimeout time.Duration
	HTTPReadTimeout       time.Duration
	HTTPWriteTimeout      time.Duration
	HTTPIdleTimeout       time.Duration
	ShutdownTimeout       time.Duration
	EnablePprof           bool
	// DeliveryWorkers is how many deliveries `serve` and `worker` run at once (0: serve only
	// enqueues; another process delivers).
	DeliveryWorkers     int
	DeliveryMaxAttempts int
	DeliverySendTimeout time.Duration
	// PublicBaseURL is where providers reach this server ("https://api.example.com"); empty
	// means the request's own scheme and host.
	PublicBaseURL string
	// GCPercent and MemoryLimit tune Go's garbage collector (GOGC, GOMEMLIMIT): -1 and
	// math.MaxInt64 mean off.
	GCPercent   int
	MemoryLimit int64
	// PasswordHashConcurrency bounds the argon2id hashes running at once (19 MiB and a core
	// each); PasswordHashWait is how long a login waits for a turn before 503 server_busy.
	PasswordHashConcurrency int
	PasswordHashWait        time.Duration
	// LoginFailuresPerEmail and LoginFailuresPerAddress are the failed-login budgets a minute
	// (429 rate_limited beyond them).
	LoginFailuresPerEmail   int
	LoginFailuresPerAddress int
	// TrustedProxies are the CIDRs of reverse proxies whose X-Forwarded-For names the client;
	// empty: the connection's own address is the client's.
	TrustedProxies []string
	// CORSAllowedOrigins are the browser origins allowed to call the API from their pages
	// (CORS); empty: no CORS headers at all, so browsers keep pages on other origins out.
	CORSAllowedOrigins []Origin

	// WebhookWorkers is how many subscriber deliveries one process attempts at once;
	// WebhookMaxPerWorkspace and WebhookMaxPerWebhook bound one workspace's and one webhook's
	// deliveries in flight over all processes, so a hanging endpoint holds only its share.
	WebhookWorkers         int
	WebhookMaxPerWorkspace int
	WebhookMaxPerWebhook   int

	// EventPruneInterval is how often events past EventRetention are deleted;
	// IdempotencyPurgeInterval how often expired idempotency records are.
	EventPruneInterval       time.Duration
	IdempotencyPurgeInterval time.Duration
	// SnoozeWakeInterval is how often snoozes whose instant has passed are woken: at most
	// 30s, so that one wakes within a minute of its instant.
	SnoozeWakeInterval time.Duration

	// MediaStore is the blob store's URL (gocloud.dev/blob): file:///dir or
	// s3://bucket?region=...; every process of a deployment names the same one.
	MediaStore string
	// MediaMaxBytes is the largest file an upload or a media fetch takes.
	MediaMaxBytes int64
	// MediaURLTTL is how long a signed media URL stays valid.
	MediaURLTTL time.Duration
	// MediaProviderURLTTL is how long the signed URL of stored media that a provider fetches
	// (LINE, Twilio, Viber, custom channels) stays valid.
	MediaProviderURLTTL time.Duration
	// MediaSweepInterval is how often the blobs of deleted media are deleted.
	MediaSweepInterval time.Duration
	// RateLimits switches the request and send budgets on (RATE_LIMITS); off leaves them to a
	// gateway in front. The failed-login throttle is on either way.
	RateLimits bool
	// RateLimitPerMinute is each credential's budget of requests a minute, and the most a key
	// may be given; RateLimitPerAddress a client address's on the routes without a credential;
	// SendRatePerSecond a workspace's sends a second.
	RateLimitPerMinute  int
	RateLimitPerAddress int
	SendRatePerSecond   int
	// RedisURL names the Redis that shares the budgets between API processes; empty: each
	// process keeps its own.
	RedisURL string
	// WindowAlertInterval is how often the reply window alerts whose instant has come go out:
	// at most 30s, so that each goes out within a minute of its instant.
	WindowAlertInterval time.Duration
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
	{"PROVIDER_API_BASE_OVERRIDE", "false", "Accept a channel's provider api_base, and let api_base and SMTP hosts be loopback addresses (tests, staging; set it on worker processes too; private ranges stay refused)."},
	{"WEBHOOK_ALLOW_LOOPBACK", "false", "Allow webhooks (subscribers, custom channels) to loopback addresses (development only; private ranges stay refused)."},
	{"EVENT_HEARTBEAT", "15s", "Interval of heartbeat comments on idle event streams."},
	{"EVENT_RETENTION", "168h", "How long events are kept for replay (Last-Event-ID, GET /v1/events) and delivery logs."},
	{"EVENT_PRUNE_INTERVAL", "1h", "How often events past EVENT_RETENTION are deleted, with their delivery logs (one process does it at a time)."},
	{"IDEMPOTENCY_PURGE_INTERVAL", "10m", "How often expired Idempotency-Key records (kept 24h) are deleted (one process does it at a time)."},
	{"SNOOZE_WAKE_INTERVAL", "15s", "How often snoozed conversations whose instant has passed are woken (a periodic job; at most 30s, so each wakes within a minute of its instant)."},
	{"WINDOW_ALERT_INTERVAL", "15s", "How often the reply window alerts whose instant has come (window.expiring, window.closed) go out (a periodic job; at most 30s, so each goes out within a minute of its instant)."},
	{"WEBHOOK_POLL_INTERVAL", "1s", "How often the delivery worker looks for due webhook deliveries (new events also wake it)."},
	{"WEBHOOK_RETRY_FOR", "24h", "Keep retrying a failing webhook delivery at least this long (at least 24h)."},
	{"WEBHOOK_DISABLE_AFTER", "72h", "Disable a webhook whose deliveries have all failed for this long."},
	{"WEBHOOK_TIMEOUT", "10s", "Timeout of one webhook delivery attempt."},
	{"WEBHOOK_WORKERS", "20", "Webhook deliveries one process attempts at once; each runs on its own."},
	{"WEBHOOK_MAX_PER_WORKSPACE", "8", "Webhook deliveries of one workspace in flight at once, over all processes, so one tenant's slow endpoints cannot take every worker."},
	{"WEBHOOK_MAX_PER_WEBHOOK", "4", "Webhook deliveries to one webhook in flight at once, over all processes, so an endpoint that hangs holds only its own share."},
	{"EVENT_STREAM_RECHECK", "5s", "How often an open event stream checks that its API key or session is still live: a revoked key or a logout ends the stream within this long."},
	{"BODY_LIMIT", "1M", "Largest accepted request body."},
	{"HTTP_READ_HEADER_TIMEOUT", "10s", "A request's header must arrive within this long (at most HTTP_READ_TIMEOUT)."},
	{"HTTP_READ_TIMEOUT", "30s", "A request's header and body must arrive within this long; a slower body is cut with 408."},
	{"HTTP_WRITE_TIMEOUT", "60s", "An answer must be written within this long after its request arrived; event streams bound each write by it instead."},
	{"HTTP_IDLE_TIMEOUT", "120s", "An idle keep-alive connection is closed after this long."},
	{"SHUTDOWN_TIMEOUT", "20s", "How long SIGTERM waits for in-flight requests."},
	{"ENABLE_PPROF", "false", "Serve /debug/pprof (profiling; keep off in production)."},
	{"DELIVERY_WORKERS", "10", "Deliveries run at once by serve and worker; 0: serve only enqueues and a worker process delivers."},
	{"DELIVERY_MAX_ATTEMPTS", "8", "Provider calls per message before a transient error fails it."},
	{"DELIVERY_SEND_TIMEOUT", "20s", "Bound of one provider call; a worker killed mid-call has its jobs retried after about twice this plus 20s."},
	{"PUBLIC_BASE_URL", "", "Public URL of this server (https://api.example.com), for provider webhooks: Twilio's signature and StatusCallback. Empty: the request's scheme and host."},
	{"PASSWORD_HASH_CONCURRENCY", "0", "Password hashes (argon2id, 19 MiB each) run at once; 0: half the CPUs (GOMAXPROCS/2), at least 1, so a login flood leaves CPU and memory for other requests."},
	{"PASSWORD_HASH_WAIT", "3s", "How long a login waits for a password hash to start before it is answered 503 server_busy with Retry-After."},
	{"LOGIN_FAILURES_PER_EMAIL", "10", "Failed logins for one email in any minute before 429 rate_limited (2..1000; counted in Redis, shared by every API process, with REDIS_URL; else per process)."},
	{"LOGIN_FAILURES_PER_ADDRESS", "50", "Failed logins from one client address (IPv6: its /64) a minute before 429 rate_limited (50..100000; counted in Redis, shared by every API process, with REDIS_URL; else per process)."},
	{"TRUSTED_PROXIES", "", "Comma-separated CIDRs of reverse proxies whose X-Forwarded-For names the client (e.g. 10.0.0.0/8); empty: the connection's address is the client's."},
	{"CORS_ALLOWED_ORIGINS", "", "Comma-separated browser origins allowed to call the API (CORS), each scheme://host[:port] without a path; the port may be * (http://localhost:*: any port, or none). * alone allows every origin (credentials are bearer tokens, never cookies, so no origin is sent Allow-Credentials). Empty: no CORS headers."},
	{"MEDIA_STORE", "file://./.data/media", "Where media files are stored (gocloud.dev/blob URL): file:///a/dir (created if missing; file://./dir is relative to the working directory, the default is make run's .data/media), or s3://bucket?region=...&endpoint=...&use_path_style=true for any S3-compatible store (credentials from AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY or the usual AWS sources). Set it on worker processes too: they delete the files of deleted media."},
	{"MEDIA_MAX_BYTES", "26214400", "Largest media file, in bytes, an upload (POST /v1/media) or a media fetch takes (larger → 413 media_too_large); 25 MiB by default."},
	{"MEDIA_URL_TTL", "15m", "How long a signed media URL (GET /v1/media/{id}/url) stays valid (1s..24h)."},
	{"MEDIA_PROVIDER_URL_TTL", "168h", "How long the signed URL of stored media sent to a provider that fetches files by URL (LINE, Twilio, Viber, custom channels) stays valid (1h..720h); LINE fetches when the customer opens the message, so days. Such sends need PUBLIC_BASE_URL."},
	{"MEDIA_SWEEP_INTERVAL", "5m", "How often the stored files of deleted media (a deleted contact's, or workspace's) are deleted when nothing else refers to them (a periodic job; one process runs it)."},
	{"RATE_LIMITS", "on", "on: every credential, client address and workspace has the budgets below (429 rate_limited with Retry-After past them; RateLimit-Limit, -Remaining and -Reset on every answer of an authenticated route, login and refresh); off: none (a gateway in front limits). The failed-login throttle is on either way."},
	{"RATE_LIMIT_PER_MINUTE", "1200", "Requests a minute of each API key and each user (a user's sessions share it), 1..1000000; a key may be created with a lower rate_limit_per_minute. The whole budget may be spent at once; it refills evenly over the minute."},
	{"RATE_LIMIT_PER_ADDRESS", "600", "Requests a minute from one client address (IPv6: its /64) to login and refresh, and with a credential that does not check out (401), 50..1000000. Provider webhooks, signed media URLs and the probes are not counted."},
	{"SEND_RATE_PER_SECOND", "100", "Sends (POST /v1/contacts/{id}/messages, and broadcasts) a second of one workspace over all its credentials, 1..100000, so a script cannot flood the providers."},
	{"REDIS_URL", "", "redis://host:6379/0: the request and send budgets and the failed-login counts live in Redis, shared by every API process (GCRA), RATE_LIMITS on or off. Empty: each process keeps its own (per-process budgets). Redis down: each process decides alone until it answers again (fail open), with a warning in the log and switchboard_ratelimit_fail_open_total."},
	{"GOGC", "400", "Go's garbage collection target, percent of the live heap, or off (Go's own variable, with serve's and worker's default)."},
	{"GOMEMLIMIT", "150MiB", "Go's soft memory limit (B, KiB, MiB, GiB), or off: the collector runs sooner rather than let the heap pass it (Go's own variable, with serve's and worker's default)."},
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
		EventHeartbeat:          dur("EVENT_HEARTBEAT"),
		EventRetention:          dur("EVENT_RETENTION"),
		EventStreamRecheck:      dur("EVENT_STREAM_RECHECK"),
		HTTPReadHeaderTimeout:   dur("HTTP_READ_HEADER_TIMEOUT"),
		HTTPReadTimeout:         dur("HTTP_READ_TIMEOUT"),
		HTTPWriteTimeout:        dur("HTTP_WRITE_TIMEOUT"),
		HTTPIdleTimeout:         dur("HTTP_IDLE_TIMEOUT"),
		WebhookPoll:             dur("WEBHOOK_POLL_INTERVAL"),
		WebhookRetryFor:         dur("WEBHOOK_RETRY_FOR"),
		WebhookDisableAfter:     dur("WEBHOOK_DISABLE_AFTER"),
		WebhookTimeout:          dur("WEBHOOK_TIMEOUT"),
		ShutdownTimeout:         dur("SHUTDOWN_TIMEOUT"),
		EnablePprof:             boolean("ENABLE_PPROF"),
	}
	if c.WebhookRetryFor < 24*time.Hour {
		errs = append(errs, fmt.Errorf("WEBHOOK_RETRY_FOR: want at least 24h, got %q", get("WEBHOOK_RETRY_FOR")))
	}
	if c.HTTPReadHeaderTimeout > c.HTTPReadTimeout {
		errs = append(errs, fmt.Errorf("HTTP_READ_HEADER_TIMEOUT: want at most HTTP_READ_TIMEOUT (%s), got %q",
			c.HTTPReadTimeout, get("HTTP_READ_HEADER_TIMEOUT")))
	}
	if c.DatabaseURL == "" {
		errs = append(errs, errors.New("DATABASE_URL: required"))
	}
	n, err := strconv.Atoi(get("DB_MAX_CONNS"))
	if err != nil || n < 1 || n > 1000 {
		errs = append(errs, fmt.Errorf("DB_MAX_CONNS: want 1..1000, got %q", get("DB_MAX_CONNS")))
	}
	c.DBMaxConns = int32(n)
	if c.DeliveryWorkers, err = strconv.Atoi(get("DELIVERY_WORKERS")); err != nil || c.DeliveryWorkers < 0 || c.DeliveryWorkers > 1000 {
		errs = append(errs, fmt.Errorf("DELIVERY_WORKERS: want 0..1000, got %q", get("DELIVERY_WORKERS")))
	}
	if c.DeliveryMaxAttempts, err = strconv.Atoi(get("DELIVERY_MAX_ATTEMPTS")); err != nil || c.DeliveryMaxAttempts < 1 || c.DeliveryMaxAttempts > 100 {
		errs = append(errs, fmt.Errorf("DELIVERY_MAX_ATTEMPTS: want 1..100, got %q", get("DELIVERY_MAX_ATTEMPTS")))
	}
	c.DeliverySendTimeout = dur("DELIVERY_SEND_TIMEOUT")
	c.EventPruneInterval = dur("EVENT_PRUNE_INTERVAL")
	c.IdempotencyPurgeInterval = dur("IDEMPOTENCY_PURGE_INTERVAL")
	if c.SnoozeWakeInterval = dur("SNOOZE_WAKE_INTERVAL"); c.SnoozeWakeInterval > 30*time.Second {
		errs = append(errs, fmt.Errorf("SNOOZE_WAKE_INTERVAL: want at most 30s, got %q", get("SNOOZE_WAKE_INTERVAL")))
	}
	if c.WindowAlertInterval = dur("WINDOW_ALERT_INTERVAL"); c.WindowAlertInterval > 30*time.Second {
		errs = append(errs, fmt.Errorf("WINDOW_ALERT_INTERVAL: want at most 30s, got %q", get("WINDOW_ALERT_INTERVAL")))
	}
	for _, v := range []struct {
		name string
		to   *int
	}{{"WEBHOOK_WORKERS", &c.WebhookWorkers}, {"WEBHOOK_MAX_PER_WORKSPACE", &c.WebhookMaxPerWorkspace}, {"WEBHOOK_MAX_PER_WEBHOOK", &c.WebhookMaxPerWebhook}} {
		if *v.to, err = strconv.Atoi(get(v.name)); err != nil || *v.to < 1 || *v.to > 1000 {
			errs = append(errs, fmt.Errorf("%s: want 1..1000, got %q", v.name, get(v.name)))
		}
	}
	if c.PublicBaseURL = strings.TrimRight(get("PUBLIC_BASE_URL"), "/"); c.PublicBaseURL != "" {
		u, err := url.Parse(c.PublicBaseURL)
		if err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" || u.RawQuery != "" || u.Fragment != "" {
			errs = append(errs, fmt.Errorf("PUBLIC_BASE_URL: want an absolute http(s) URL such as https://api.example.com, got %q", c.PublicBaseURL))
		}
	}
	switch c.LogLevel {
	case "debug", "info", "warn", "error":
	default:
		errs = append(errs, fmt.Errorf("LOG_LEVEL: want debug, info, warn or error, got %q", c.LogLevel))
	}
	if v := get("GOGC"); v == "off" {
		c.GCPercent = -1
	} else if c.GCPercent, err = strconv.Atoi(v); err != nil || c.GCPercent < 1 {
		errs = append(errs, fmt.Errorf("GOGC: want a percentage of at least 1 or off, got %q", v))
	}
	if c.MemoryLimit, err = memoryLimit(get("GOMEMLIMIT")); err != nil {
		errs = append(errs, fmt.Errorf("GOMEMLIMIT: want a size such as 150MiB or off, got %q", get("GOMEMLIMIT")))
	}
	if c.PasswordHashConcurrency, err = strconv.Atoi(get("PASSWORD_HASH_CONCURRENCY")); err != nil || c.PasswordHashConcurrency < 0 || c.PasswordHashConcurrency > 1000 {
		errs = append(errs, fmt.Errorf("PASSWORD_HASH_CONCURRENCY: want 0..1000, got %q", get("PASSWORD_HASH_CONCURRENCY")))
	}
	if c.PasswordHashConcurrency == 0 {
		c.PasswordHashConcurrency = max(1, runtime.GOMAXPROCS(0)/2)
	}
	c.PasswordHashWait = dur("PASSWORD_HASH_WAIT")
	// DESIGN fixes the bounds: 429 per email after at most 10 failures a minute, per address
	// not before 50.
	if c.LoginFailuresPerEmail, err = strconv.Atoi(get("LOGIN_FAILURES_PER_EMAIL")); err != nil || c.LoginFailuresPerEmail < 2 || c.LoginFailuresPerEmail > 1000 {
		errs = append(errs, fmt.Errorf("LOGIN_FAILURES_PER_EMAIL: want 2..1000, got %q", get("LOGIN_FAILURES_PER_EMAIL")))
	}
	if c.LoginFailuresPerAddress, err = strconv.Atoi(get("LOGIN_FAILURES_PER_ADDRESS")); err != nil || c.LoginFailuresPerAddress < 50 || c.LoginFailuresPerAddress > 100000 {
		errs = append(errs, fmt.Errorf("LOGIN_FAILURES_PER_ADDRESS: want 50..100000, got %q", get("LOGIN_FAILURES_PER_ADDRESS")))
	}
	switch v := get("RATE_LIMITS"); v {
	case "on", "off":
		c.RateLimits = v == "on"
	default:
		errs = append(errs, fmt.Errorf("RATE_LIMITS: want on or off, got %q", v))
	}
	for _, v := range []struct {
		name   string
		to     *int
		lo, hi int
	}{{"RATE_LIMIT_PER_MINUTE", &c.RateLimitPerMinute, 1, 1_000_000}, {"RATE_LIMIT_PER_ADDRESS", &c.RateLimitPerAddress, 50, 1_000_000},
		{"SEND_RATE_PER_SECOND", &c.SendRatePerSecond, 1, 100_000}} {
		if *v.to, err = strconv.Atoi(get(v.name)); err != nil || *v.to < v.lo || *v.to > v.hi {
			errs = append(errs, fmt.Errorf("%s: want %d..%d, got %q", v.name, v.lo, v.hi, get(v.name)))
		}
	}
	if c.RedisURL = get("REDIS_URL"); c.RedisURL != "" {
		if u, err := url.Parse(c.RedisURL); err != nil || (u.Scheme != "redis" && u.Scheme != "rediss" && u.Scheme != "unix") {
			errs = append(errs, errors.New("REDIS_URL: want redis://[user:password@]host:port/db, rediss:// or unix://"))
		}
	}
	for _, p := range strings.Split(get("TRUSTED_PROXIES"), ",") {
		if p = strings.TrimSpace(p); p == "" {
			continue
		}
		if _, err := netip.ParsePrefix(p); err != nil {
			errs = append(errs, fmt.Errorf("TRUSTED_PROXIES: want comma-separated CIDRs such as 10.0.0.0/8, got %q", p))
		}
		c.TrustedProxies = append(c.TrustedProxies, p)
	}
	if c.CORSAllowedOrigins, err = ParseOrigins(get("CORS_ALLOWED_ORIGINS")); err != nil {
		errs = append(errs, fmt.Errorf("CORS_ALLOWED_ORIGINS: %w", err))
	}
	c.MediaStore = get("MEDIA_STORE")
	if u, err := url.Parse(c.MediaStore); err != nil || (u.Scheme != "file" && u.Scheme != "s3") || (u.Scheme == "s3" && u.Host == "") {
		errs = append(errs, fmt.Errorf("MEDIA_STORE: want file:///a/dir or s3://bucket?region=..., got %q", c.MediaStore))
	}
	if c.MediaMaxBytes, err = strconv.ParseInt(get("MEDIA_MAX_BYTES"), 10, 64); err != nil || c.MediaMaxBytes < 1024 || c.MediaMaxBytes > 1<<40 {
		errs = append(errs, fmt.Errorf("MEDIA_MAX_BYTES: want a number of bytes from 1024 to 1 TiB, got %q", get("MEDIA_MAX_BYTES")))
	}
	if c.MediaURLTTL = dur("MEDIA_URL_TTL"); c.MediaURLTTL > 24*time.Hour {
		errs = append(errs, fmt.Errorf("MEDIA_URL_TTL: want at most 24h, got %q", get("MEDIA_URL_TTL")))
	}
	if c.MediaProviderURLTTL = dur("MEDIA_PROVIDER_URL_TTL"); c.MediaProviderURLTTL < time.Hour || c.MediaProviderURLTTL > 720*time.Hour {
		errs = append(errs, fmt.Errorf("MEDIA_PROVIDER_URL_TTL: want 1h to 720h, got %q", get("MEDIA_PROVIDER_URL_TTL")))
	}
	c.MediaSweepInterval = dur("MEDIA_SWEEP_INTERVAL")
	if k := get("SECRETS_KEY"); k != "" {
		b, err := base64.StdEncoding.DecodeString(k)
		if err != nil || len(b) != 32 {
			errs = append(errs, errors.New("SECRETS_KEY: want base64 of exactly 32 bytes"))
		}
		c.SecretsKey = b
	}
	return c, errors.Join(errs...)
}

// memoryLimit parses a GOMEMLIMIT value as the Go runtime does: bytes with an optional unit
// B, KiB, MiB, GiB or TiB, or off.
func memoryLimit(v string) (int64, error) {
	if v == "off" {
		return math.MaxInt64, nil
	}
	num, mul := v, int64(1)
	for i, unit := range []string{"TiB", "GiB", "MiB", "KiB", "B"} {
		if n, ok := strings.CutSuffix(v, unit); ok {
			num, mul = n, int64(1)<<(10*(4-i))
			break
		}
	}
	n, err := strconv.ParseInt(num, 10, 64)
	if err != nil || n < 0 || n > math.MaxInt64/mul {
		return 0, errors.New("invalid size")
	}
	return n * mul, nil
}

// RequireServe checks what serving needs beyond the database.
func (c Config) RequireServe() error {
	if len(c.JWTSecret) < 32 {
		return errors.New("JWT_SECRET: required, at least 32 bytes")
	}
	return nil
}
