package api_test

import (
	"net/http"
	"strings"
	"testing"

	"github.com/switchboard/switchboard/api/apitest"
)

func TestOperations(t *testing.T) {
	e := apitest.New(t)
	e.Get(t, "/healthz", "").Expect(t, http.StatusOK)
	e.Get(t, "/readyz", "").Expect(t, http.StatusOK)

	r := e.Do(t, apitest.Request{Method: http.MethodGet, Path: "/healthz", Header: map[string]string{"X-Request-Id": "abc-123"}})
	if got := r.Header.Get("X-Request-Id"); got != "abc-123" {
		t.Errorf("valid incoming request id not echoed: %q", got)
	}
	r = e.Do(t, apitest.Request{Method: http.MethodGet, Path: "/healthz", Header: map[string]string{"X-Request-Id": "bad id with spaces"}})
	if got := r.Header.Get("X-Request-Id"); got == "" || strings.Contains(got, " ") {
		t.Errorf("invalid incoming request id should be replaced, got %q", got)
	}

	spec := e.Get(t, "/openapi.json", "").Expect(t, http.StatusOK).Map(t)
	if v, _ := spec["openapi"].(string); !strings.HasPrefix(v, "3.") {
		t.Errorf("/openapi.json is not OpenAPI 3: %v", spec["openapi"])
	}

	docs := e.Unvalidated(t, "/docs/index.html")
	if docs.Status != http.StatusOK || !strings.Contains(string(docs.Body), "swagger-ui") {
		t.Errorf("docs page: %d %.200s", docs.Status, docs.Body)
	}
	if strings.Contains(string(docs.Body), "https://") && strings.Contains(string(docs.Body), "cdn") {
		t.Errorf("docs page loads assets from a CDN")
	}
	asset := e.Unvalidated(t, "/docs/swagger-ui-bundle.js")
	if asset.Status != http.StatusOK || len(asset.Body) < 10000 {
		t.Errorf("docs assets are not served by the binary: %d, %d bytes", asset.Status, len(asset.Body))
	}

	// Generate some traffic with a route template, then read the metrics.
	e.Get(t, "/v1/contacts/00000000-0000-0000-0000-000000000000", "").ExpectProblem(t, http.StatusUnauthorized, "unauthenticated")
	m := e.Unvalidated(t, "/metrics")
	for _, want := range []string{
		`switchboard_http_requests_total{code="401",host=`,
		`url="/v1/contacts/:id"`,
		"switchboard_http_request_duration_seconds",
		"switchboard_db_pool_max_connections",
	} {
		if !strings.Contains(string(m.Body), want) {
			t.Errorf("metrics lack %q", want)
		}
	}

	if !strings.Contains(e.LogText(), `"request_id":`) {
		t.Errorf("access log lines carry no request id:\n%s", e.LogText())
	}
}

func TestUnknownRouteIsProblem(t *testing.T) {
	e := apitest.New(t)
	e.Get(t, "/v1/nope", "").ExpectProblem(t, http.StatusNotFound, "route_not_found")
	e.Do(t, apitest.Request{Method: http.MethodPut, Path: "/v1/contacts"}).ExpectProblem(t, http.StatusMethodNotAllowed, "method_not_allowed")
}
