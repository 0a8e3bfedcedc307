package config

import (
	"math"
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
			c, err := Load(func(name string) string {
				switch name {
				case "DATABASE_URL":
					return "postgres://localhost/x"
				case "GOGC":
					return tc.gogc
				case "GOMEMLIMIT":
					return tc.memlimit
				}
				return ""
			})
			if tc.err != "" {
				if err == nil || !strings.Contains(err.Error(), tc.err) {
					t.Fatalf("err = %v, want one naming %s", err, tc.err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
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
// error names wantErr, and answers false; otherwise it fails on any error.
func load(t *testing.T, env map[string]string, wantErr string) (Config, bool) {
	t.Helper()
	c, err := Load(func(name string) string {
		if name == "DATABASE_URL" {
			return "postgres://localhost/x"
		}
		return env[name]
	})
	if wantErr != "" {
		if err == nil || !strings.Contains(err.Error(), wantErr) {
			t.Fatalf("err = %v, want one naming %s", err, wantErr)
		}
		return c, false
	}
	if err != nil {
		t.Fatal(err)
	}
	return c, true
}
