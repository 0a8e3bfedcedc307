package config

import (
	"math"
	"slices"
	"strings"
	"testing"
	"time"
)

func TestGarbageCollectorSettings(t *testing.T) {
	tests := []struct {
		name, gogc, memlimit string
		percent              int
		limit                int64
		err                  string
	}{
		{name: "defaults", percent: 400, limit: 150 << 20},
		{name: "set", gogc: "100", memlimit: "1GiB", percent: 100, limit: 1 << 30},
		{name: "bytes", memlimit: "1048576", percent: 400, limit: 1 << 20},
		{name: "unit B", memlimit: "512B", percent: 400, limit: 512},
		{name: "off", gogc: "off", memlimit: "off", percent: -1, limit: math.MaxInt64},
		{name: "bad percent", gogc: "0", err: "GOGC:"},
		{name: "not a number", gogc: "lots", err: "GOGC:"},
		{name: "bad unit", memlimit: "150MB", err: "GOMEMLIMIT:"},
		{name: "negative", memlimit: "-1MiB", err: "GOMEMLIMIT:"},
		{name: "overflow", memlimit: "9999999999TiB", err: "GOMEMLIMIT:"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			c, ok := load(t, map[string]string{"GOGC": tc.gogc, "GOMEMLIMIT": tc.memlimit}, tc.err)
			if !ok {
				return
			}
			if c.GCPercent != tc.percent || c.MemoryLimit != tc.limit {
				t.Errorf("got %d, %d; want %d, %d", c.GCPercent, c.MemoryLimit, tc.percent, tc.limit)
			}
		})
	}
}

func TestLoginSettings(t *testing.T) {
	tests := []struct {
		name  string
		env   map[string]string
		check func(Config) bool
		err   string
	}{
		{name: "defaults", check: func(c Config) bool {
			return c.PasswordHashConcurrency >= 1 && c.PasswordHashWait.String() == "3s" && c.LoginFailuresPerEmail == 10 &&
				c.LoginFailuresPerAddress == 50 && len(c.TrustedProxies) == 0
		}},
		{name: "set", env: map[string]string{"PASSWORD_HASH_CONCURRENCY": "4", "LOGIN_FAILURES_PER_EMAIL": "6",
			"LOGIN_FAILURES_PER_ADDRESS": "200", "TRUSTED_PROXIES": "10.0.0.0/8, fd00::/8"},
			check: func(c Config) bool {
				return c.PasswordHashConcurrency == 4 && c.LoginFailuresPerEmail == 6 && c.LoginFailuresPerAddress == 200 &&
					strings.Join(c.TrustedProxies, " ") == "10.0.0.0/8 fd00::/8"
			}},
		{name: "email budget below 2", env: map[string]string{"LOGIN_FAILURES_PER_EMAIL": "1"}, err: "LOGIN_FAILURES_PER_EMAIL:"},
		{name: "address budget below 50", env: map[string]string{"LOGIN_FAILURES_PER_ADDRESS": "49"}, err: "LOGIN_FAILURES_PER_ADDRESS:"},
		{name: "negative concurrency", env: map[string]string{"PASSWORD_HASH_CONCURRENCY": "-1"}, err: "PASSWORD_HASH_CONCURRENCY:"},
		{name: "bad wait", env: map[string]string{"PASSWORD_HASH_WAIT": "soon"}, err: "PASSWORD_HASH_WAIT:"},
		{name: "proxy not a CIDR", env: map[string]string{"TRUSTED_PROXIES": "10.0.0.1"}, err: "TRUSTED_PROXIES:"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			c, ok := load(t, tc.env, tc.err)
			if !ok {
				return
			}
			if !tc.check(c) {
				t.Errorf("config %+v", c)
			}
		})
	}
}

func TestRateLimitSettings(t *testing.T) {
	tests := []struct {
		name  string
		env   map[string]string
		check func(Config) bool
		err   string
	}{
		{name: "defaults", check: func(c Config) bool {
			return c.RateLimits && c.RateLimitPerMinute == 1200 && c.RateLimitPerAddress == 600 && c.SendRatePerSecond == 100 && c.RedisURL == ""
		}},
		{name: "set", env: map[string]string{"RATE_LIMITS": "off", "RATE_LIMIT_PER_MINUTE": "60", "RATE_LIMIT_PER_ADDRESS": "50",
			"SEND_RATE_PER_SECOND": "1", "REDIS_URL": "redis://:secret@cache:6379/2"},
			check: func(c Config) bool {
				return !c.RateLimits && c.RateLimitPerMinute == 60 && c.RateLimitPerAddress == 50 && c.SendRatePerSecond == 1 &&
					c.RedisURL == "redis://:secret@cache:6379/2"
			}},
		{name: "switch neither on nor off", env: map[string]string{"RATE_LIMITS": "yes"}, err: "RATE_LIMITS:"},
		{name: "no credential budget", env: map[string]string{"RATE_LIMIT_PER_MINUTE": "0"}, err: "RATE_LIMIT_PER_MINUTE:"},
		{name: "address budget below 50", env: map[string]string{"RATE_LIMIT_PER_ADDRESS": "49"}, err: "RATE_LIMIT_PER_ADDRESS:"},
		{name: "send rate not a number", env: map[string]string{"SEND_RATE_PER_SECOND": "fast"}, err: "SEND_RATE_PER_SECOND:"},
		{name: "redis URL of another scheme", env: map[string]string{"REDIS_URL": "http://cache:6379"}, err: "REDIS_URL:"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			c, ok := load(t, tc.env, tc.err)
			if !ok {
				return
			}
			if !tc.check(c) {
				t.Errorf("config %+v", c)
			}
		})
	}
}

func TestHTTPTimeoutsAndStreamRecheck(t *testing.T) {
	tests := []struct {
		name string
		env  map[string]string
		want [5]time.Duration // read header, read, write, idle, stream recheck
		err  string
	}{
		{name: "defaults", want: [5]time.Duration{10 * time.Second, 30 * time.Second, time.Minute, 2 * time.Minute, 5 * time.Second}},
		{name: "set", env: map[string]string{"HTTP_READ_HEADER_TIMEOUT": "2s", "HTTP_READ_TIMEOUT": "5s",
			"HTTP_WRITE_TIMEOUT": "10s", "HTTP_IDLE_TIMEOUT": "30s", "EVENT_STREAM_RECHECK": "1s"},
			want: [5]time.Duration{2 * time.Second, 5 * time.Second, 10 * time.Second, 30 * time.Second, time.Second}},
		{name: "header longer than request", env: map[string]string{"HTTP_READ_HEADER_TIMEOUT": "40s"}, err: "HTTP_READ_HEADER_TIMEOUT:"},
		{name: "not a duration", env: map[string]string{"HTTP_READ_TIMEOUT": "30"}, err: "HTTP_READ_TIMEOUT:"},
		{name: "zero write timeout", env: map[string]string{"HTTP_WRITE_TIMEOUT": "0s"}, err: "HTTP_WRITE_TIMEOUT:"},
		{name: "negative idle timeout", env: map[string]string{"HTTP_IDLE_TIMEOUT": "-1s"}, err: "HTTP_IDLE_TIMEOUT:"},
		{name: "zero recheck", env: map[string]string{"EVENT_STREAM_RECHECK": "0"}, err: "EVENT_STREAM_RECHECK:"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			c, ok := load(t, tc.env, tc.err)
			if !ok {
				return
			}
			got := [5]time.Duration{c.HTTPReadHeaderTimeout, c.HTTPReadTimeout, c.HTTPWriteTimeout, c.HTTPIdleTimeout, c.EventStreamRecheck}
			if got != tc.want {
				t.Errorf("got %v, want %v", got, tc.want)
			}
		})
	}
}

func TestWebhookConcurrencySettings(t *testing.T) {
	tests := []struct {
		name        string
		env         map[string]string
		workers, ws int
		webhook     int
		err         string
	}{
		{name: "defaults", workers: 20, ws: 8, webhook: 4},
		{name: "set", env: map[string]string{"WEBHOOK_WORKERS": "50", "WEBHOOK_MAX_PER_WORKSPACE": "10", "WEBHOOK_MAX_PER_WEBHOOK": "1"}, workers: 50, ws: 10, webhook: 1},
		{name: "no workers", env: map[string]string{"WEBHOOK_WORKERS": "0"}, err: "WEBHOOK_WORKERS:"},
		{name: "no share", env: map[string]string{"WEBHOOK_MAX_PER_WORKSPACE": "0"}, err: "WEBHOOK_MAX_PER_WORKSPACE:"},
		{name: "not a number", env: map[string]string{"WEBHOOK_MAX_PER_WEBHOOK": "many"}, err: "WEBHOOK_MAX_PER_WEBHOOK:"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			c, ok := load(t, tc.env, tc.err)
			if !ok {
				return
			}
			if c.WebhookWorkers != tc.workers || c.WebhookMaxPerWorkspace != tc.ws || c.WebhookMaxPerWebhook != tc.webhook {
				t.Errorf("got %d, %d, %d; want %d, %d, %d", c.WebhookWorkers, c.WebhookMaxPerWorkspace, c.WebhookMaxPerWebhook,
					tc.workers, tc.ws, tc.webhook)
			}
		})
	}
}

// load runs Load on env (with a DATABASE_URL). With wantErr it fails the test unless Load's
// error says every one of them, and answers false; otherwise (none, or only empty ones) it
// fails on any error.
func load(t *testing.T, env map[string]string, wantErr ...string) (Config, bool) {
	t.Helper()
	wantErr = slices.DeleteFunc(wantErr, func(w string) bool { return w == "" })
	c, err := Load(func(name string) string {
		if name == "DATABASE_URL" {
			return "postgres://localhost/x"
		}
		return env[name]
	})
	if len(wantErr) > 0 {
		for _, w := range wantErr {
			if err == nil || !strings.Contains(err.Error(), w) {
				t.Fatalf("err = %v, want one saying %q", err, wantErr)
			}
		}
		return c, false
	}
	if err != nil {
		t.Fatal(err)
	}
	return c, true
}

func TestCORSAllowedOrigins(t *testing.T) {
	tests := []struct {
		name, env string
		want      []string // the origins as read back, normalized
		err       string
	}{
		{name: "unset: no CORS", want: nil},
		{name: "blanks only", env: " , ", want: nil},
		{name: "exact origins", env: "https://app.example.com, http://localhost:3000",
			want: []string{"https://app.example.com", "http://localhost:3000"}},
		{name: "case and default port normalized", env: "HTTPS://App.Example.com:443",
			want: []string{"https://app.example.com"}},
		{name: "port wildcard", env: "http://localhost:*,http://127.0.0.1:*,http://[::1]:*",
			want: []string{"http://localhost:*", "http://127.0.0.1:*", "http://[::1]:*"}},
		{name: "any origin alone", env: "*", want: []string{"*"}},
		{name: "any origin among others", env: "*,https://app.example.com", err: `"*" allows every origin`},
		{name: "path", env: "https://app.example.com/", err: "no path"},
		{name: "longer path", env: "https://app.example.com/app", err: "no path"},
		{name: "query", env: "https://app.example.com?x=1", err: "no path"},
		{name: "user", env: "https://me@app.example.com", err: "no path"},
		{name: "no scheme", env: "app.example.com", err: "scheme must be http or https"},
		{name: "other scheme", env: "ftp://app.example.com", err: "scheme must be http or https"},
		{name: "host wildcard", env: "https://*.example.com", err: "no wildcards"},
		{name: "empty host", env: "https://", err: "has a host"},
		{name: "empty port", env: "http://localhost:", err: "port is empty"},
		{name: "port out of range", env: "http://localhost:70000", err: "1..65535"},
		{name: "port not a number", env: "http://localhost:http", err: "1..65535"},
		{name: "bad IPv6", env: "http://[::1:*", err: "IPv6"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			wantErr := []string{tc.err}
			if tc.err != "" {
				wantErr = append(wantErr, "CORS_ALLOWED_ORIGINS: ")
			}
			c, ok := load(t, map[string]string{"CORS_ALLOWED_ORIGINS": tc.env}, wantErr...)
			if !ok {
				return
			}
			var got []string
			for _, o := range c.CORSAllowedOrigins {
				got = append(got, o.String())
			}
			if strings.Join(got, " ") != strings.Join(tc.want, " ") {
				t.Errorf("got %q, want %q", got, tc.want)
			}
		})
	}
}

func TestOriginMatches(t *testing.T) {
	tests := []struct {
		allowed, origin string
		want            bool
	}{
		{"https://app.example.com", "https://app.example.com", true},
		{"https://app.example.com", "http://app.example.com", false},
		{"https://app.example.com", "https://app.example.com:8443", false},
		{"https://app.example.com", "https://app.example.com:443", true},
		{"https://app.example.com", "https://evil.app.example.com", false},
		{"https://app.example.com", "https://app.example.com.evil.com", false},
		{"https://app.example.com", "null", false},
		{"https://app.example.com", "", false},
		{"http://localhost:3000", "http://localhost:3000", true},
		{"http://localhost:3000", "http://localhost:3001", false},
		{"http://localhost:*", "http://localhost:5173", true},
		{"http://localhost:*", "http://localhost", true},
		{"http://localhost:*", "https://localhost:5173", false},
		{"http://localhost:*", "http://localhost.evil.com:5173", false},
		{"http://localhost:*", "http://localhost:5173.evil.com", false},
		{"http://localhost:*", "http://localhost:*", false},
		{"http://localhost:*", "http://localhost:5173/path", false},
		{"http://[::1]:*", "http://[::1]:8080", true},
		{"*", "https://anything.example", true},
		{"*", "null", true},
	}
	for _, tc := range tests {
		t.Run(tc.allowed+" "+tc.origin, func(t *testing.T) {
			o, err := ParseOrigin(tc.allowed)
			if err != nil {
				t.Fatal(err)
			}
			if got := o.Matches(tc.origin); got != tc.want {
				t.Errorf("Matches = %v, want %v", got, tc.want)
			}
		})
	}
}

// SNOOZE_WAKE_INTERVAL is bounded so that a snooze wakes within a minute of its instant.
func TestSnoozeWakeInterval(t *testing.T) {
	tests := []struct {
		name string
		env  map[string]string
		want time.Duration
		err  string
	}{
		{name: "default", want: 15 * time.Second},
		{name: "set", env: map[string]string{"SNOOZE_WAKE_INTERVAL": "5s"}, want: 5 * time.Second},
		{name: "at the bound", env: map[string]string{"SNOOZE_WAKE_INTERVAL": "30s"}, want: 30 * time.Second},
		{name: "over the bound", env: map[string]string{"SNOOZE_WAKE_INTERVAL": "31s"}, err: "SNOOZE_WAKE_INTERVAL: want at most 30s"},
		{name: "zero", env: map[string]string{"SNOOZE_WAKE_INTERVAL": "0s"}, err: "SNOOZE_WAKE_INTERVAL:"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			c, ok := load(t, tc.env, tc.err)
			if ok && c.SnoozeWakeInterval != tc.want {
				t.Errorf("got %v, want %v", c.SnoozeWakeInterval, tc.want)
			}
		})
	}
}

func TestMediaSettings(t *testing.T) {
	type media struct {
		store string
		max   int64
		ttl   time.Duration
	}
	def := media{"file://./.data/media", 25 << 20, 15 * time.Minute}
	tests := []struct {
		name string
		env  map[string]string
		want media
		err  string
	}{
		{name: "defaults", want: def},
		{name: "a directory", env: map[string]string{"MEDIA_STORE": "file:///var/lib/switchboard/media"},
			want: media{"file:///var/lib/switchboard/media", def.max, def.ttl}},
		{name: "an S3-compatible store", env: map[string]string{"MEDIA_STORE": "s3://media?region=eu-west-1&endpoint=https://s3.example.com&use_path_style=true"},
			want: media{"s3://media?region=eu-west-1&endpoint=https://s3.example.com&use_path_style=true", def.max, def.ttl}},
		{name: "a small cap, a short URL", env: map[string]string{"MEDIA_MAX_BYTES": "1024", "MEDIA_URL_TTL": "1m"},
			want: media{def.store, 1024, time.Minute}},
		{name: "an unknown scheme", env: map[string]string{"MEDIA_STORE": "gs://media"}, err: "MEDIA_STORE: want"},
		{name: "a path alone", env: map[string]string{"MEDIA_STORE": "/var/lib/media"}, err: "MEDIA_STORE: want"},
		{name: "s3 without a bucket", env: map[string]string{"MEDIA_STORE": "s3:///x"}, err: "MEDIA_STORE: want"},
		{name: "a cap under 1 KiB", env: map[string]string{"MEDIA_MAX_BYTES": "1023"}, err: "MEDIA_MAX_BYTES: want"},
		{name: "a cap with a unit", env: map[string]string{"MEDIA_MAX_BYTES": "25MiB"}, err: "MEDIA_MAX_BYTES: want"},
		{name: "a URL valid for days", env: map[string]string{"MEDIA_URL_TTL": "48h"}, err: "MEDIA_URL_TTL: want at most 24h"},
		{name: "a provider's URL valid for minutes", env: map[string]string{"MEDIA_PROVIDER_URL_TTL": "30m"}, err: "MEDIA_PROVIDER_URL_TTL: want 1h to 720h"},
		{name: "a provider's URL valid for months", env: map[string]string{"MEDIA_PROVIDER_URL_TTL": "1000h"}, err: "MEDIA_PROVIDER_URL_TTL: want 1h to 720h"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			c, ok := load(t, tc.env, tc.err)
			if got := (media{c.MediaStore, c.MediaMaxBytes, c.MediaURLTTL}); ok && got != tc.want {
				t.Errorf("got %+v, want %+v", got, tc.want)
			}
		})
	}
}

// WINDOW_ALERT_INTERVAL is bounded so that a window alert goes out within a minute of its
// instant.
func TestWindowAlertInterval(t *testing.T) {
	tests := []struct {
		name string
		env  map[string]string
		want time.Duration
		err  string
	}{
		{name: "default", want: 15 * time.Second},
		{name: "set", env: map[string]string{"WINDOW_ALERT_INTERVAL": "1s"}, want: time.Second},
		{name: "at the bound", env: map[string]string{"WINDOW_ALERT_INTERVAL": "30s"}, want: 30 * time.Second},
		{name: "over the bound", env: map[string]string{"WINDOW_ALERT_INTERVAL": "31s"}, err: "WINDOW_ALERT_INTERVAL: want at most 30s"},
		{name: "zero", env: map[string]string{"WINDOW_ALERT_INTERVAL": "0s"}, err: "WINDOW_ALERT_INTERVAL:"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			c, ok := load(t, tc.env, tc.err)
			if ok && c.WindowAlertInterval != tc.want {
				t.Errorf("got %v, want %v", c.WindowAlertInterval, tc.want)
			}
		})
	}
}
