package api_test

import (
	"net/http"
	"regexp"
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

// TestDocs opens the API reference as a reader would: /docs leads to Swagger UI configured
// with the committed /openapi.json alone, whose assets the binary serves, and swag's registry
// routes, which answered 500 and were what the UI loaded first, are gone.
func TestDocs(t *testing.T) {
	e := apitest.New(t)
	docs := e.Unvalidated(t, "/docs") // follows the redirect to /docs/index.html
	page := string(docs.Body)
	if docs.Status != http.StatusOK || !strings.Contains(page, "swagger-ui") {
		t.Fatalf("docs page: %d %.200s", docs.Status, docs.Body)
	}
	if ct := docs.Header.Get("Content-Type"); !strings.HasPrefix(ct, "text/html") {
		t.Errorf("docs page Content-Type %q", ct)
	}
	// html/template writes the JavaScript string "/openapi.json" as "\/openapi.json".
	urls := regexp.MustCompile(`\burl: "((?:\\/|[^"])*)"`).FindAllStringSubmatch(page, -1)
	if len(urls) != 1 || strings.ReplaceAll(urls[0][1], `\/`, "/") != "/openapi.json" {
		t.Errorf("docs page should load /openapi.json alone, loads %q", urls)
	}
	if strings.Contains(page, "doc.json") || strings.Contains(page, "doc.yaml") {
		t.Errorf("docs page still lists swag's registry documents")
	}
	if strings.Contains(page, "https://") && strings.Contains(page, "cdn") {
		t.Errorf("docs page loads assets from a CDN")
	}
	asset := e.Unvalidated(t, "/docs/swagger-ui-bundle.js")
	if asset.Status != http.StatusOK || len(asset.Body) < 10000 {
		t.Errorf("docs assets are not served by the binary: %d, %d bytes", asset.Status, len(asset.Body))
	}
	// The document the page loads.
	e.Get(t, "/openapi.json", "").Expect(t, http.StatusOK)
	for _, p := range []string{"/docs/doc.json", "/docs/doc.yaml"} {
		e.Get(t, p, "").ExpectProblem(t, http.StatusNotFound, "route_not_found")
	}
}

func TestUnknownRouteIsProblem(t *testing.T) {
	e := apitest.New(t)
	e.Get(t, "/v1/nope", "").ExpectProblem(t, http.StatusNotFound, "route_not_found")
	e.Do(t, apitest.Request{Method: http.MethodPut, Path: "/v1/contacts"}).ExpectProblem(t, http.StatusMethodNotAllowed, "method_not_allowed")
}

func TestChannelRulesTable(t *testing.T) {
	e := apitest.New(t)
	w := e.NewWorkspace(t, "Acme")
	agent := e.NewUser(t, w, "agent")
	var table struct {
		RuleVersion string `json:"rule_version"`
		Data        []struct {
			Type        string `json:"type"`
			WindowHours *int   `json:"window_hours"`
			Options     []struct {
				Name    string `json:"name"`
				Default any    `json:"default"`
			} `json:"options"`
			Sources []string `json:"sources"`
		} `json:"data"`
	}
	e.Get(t, "/v1/channel-rules", agent.Token).Expect(t, http.StatusOK).JSON(t, &table)
	if table.RuleVersion == "" || len(table.Data) != 11 {
		t.Fatalf("table: version %q, %d rows", table.RuleVersion, len(table.Data))
	}
	byType := map[string]int{}
	for i, r := range table.Data {
		byType[r.Type] = i
		if len(r.Sources) == 0 {
			t.Errorf("%s has no source", r.Type)
		}
	}
	want := map[string]*int{"whatsapp": ptr(24), "messenger": ptr(24), "instagram": ptr(24), "viber": ptr(24), "wechat": ptr(48),
		"telegram": nil, "line": nil, "webchat": nil, "sms": nil, "email": nil, "custom": nil}
	for typ, hours := range want {
		r := table.Data[byType[typ]]
		if r.Type != typ || (hours == nil) != (r.WindowHours == nil) || (hours != nil && *hours != *r.WindowHours) {
			t.Errorf("%s: window %v, want %v", typ, r.WindowHours, hours)
		}
	}
	m := table.Data[byType["messenger"]]
	if len(m.Options) != 1 || m.Options[0].Name != "human_agent_tag" || m.Options[0].Default != true {
		t.Errorf("messenger options: %+v", m.Options)
	}
	v := table.Data[byType["viber"]]
	if len(v.Options) != 2 || v.Options[0].Default != float64(10000) {
		t.Errorf("viber options: %+v", v.Options)
	}
	e.Get(t, "/v1/channel-rules", "").ExpectProblem(t, http.StatusUnauthorized, "unauthenticated")
}

func ptr(i int) *int { return &i }
