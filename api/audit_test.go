package api_test

import (
	"context"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"

	"github.com/switchboard/switchboard/api/apitest"
	"github.com/switchboard/switchboard/pkg/audit"
	"github.com/switchboard/switchboard/pkg/config"
	"github.com/switchboard/switchboard/pkg/conversation"
	"github.com/switchboard/switchboard/pkg/job"
	"github.com/switchboard/switchboard/pkg/page"
	"github.com/switchboard/switchboard/pkg/store"
	"github.com/switchboard/switchboard/pkg/workspace"
)

type auditEntryBody struct {
	ID     string `json:"id"`
	Action string `json:"action"`
	Actor  struct {
		Kind string  `json:"kind"`
		ID   *string `json:"id"`
	} `json:"actor"`
	ClientIP  *string `json:"client_ip"`
	UserAgent string  `json:"user_agent"`
	Resource  struct {
		Type string  `json:"type"`
		ID   *string `json:"id"`
	} `json:"resource"`
	Changes   map[string]struct{ Before, After any } `json:"changes"`
	CreatedAt time.Time                              `json:"created_at"`
}

type auditPage struct {
	Data       []auditEntryBody `json:"data"`
	NextCursor *string          `json:"next_cursor"`
}

// auditUA is the user agent the audit tests' requests send.
const auditUA = "audit-test/1.0"

// as sends a request with the audit tests' user agent.
func as(t *testing.T, e *apitest.Env, method, path, token string, body any) *apitest.Response {
	t.Helper()
	return e.Do(t, apitest.Request{Method: method, Path: path, Token: token, Body: body, Header: map[string]string{"User-Agent": auditUA}})
}

// auditLog reads every page of the audit log the query selects, newest first.
func auditLog(t *testing.T, e *apitest.Env, token, query string) []auditEntryBody {
	t.Helper()
	var out []auditEntryBody
	cursor := ""
	for {
		q := url.Values{}
		if query != "" {
			var err error
			if q, err = url.ParseQuery(query); err != nil {
				t.Fatal(err)
			}
		}
		q.Set("limit", "100")
		if cursor != "" {
			q.Set("cursor", cursor)
		}
		var p auditPage
		e.Get(t, "/v1/audit-log?"+q.Encode(), token).Expect(t, http.StatusOK).JSON(t, &p)
		out = append(out, p.Data...)
		if p.NextCursor == nil {
			return out
		}
		cursor = *p.NextCursor
	}
}

// find returns the newest entry of the action on the resource ("": any).
func find(t *testing.T, log []auditEntryBody, action, resource string) auditEntryBody {
	t.Helper()
	for _, en := range log {
		if en.Action == action && (resource == "" || (en.Resource.ID != nil && *en.Resource.ID == resource)) {
			return en
		}
	}
	t.Fatalf("no %s entry for %q in the audit log", action, resource)
	return auditEntryBody{}
}

// TestAuditLogRecordsEveryAction makes each change the log records, as the owner with a user
// agent of its own, and checks who, from where, on what, and the before and after; then it
// searches the whole table for every secret the changes set.
func TestAuditLogRecordsEveryAction(t *testing.T) {
	e := apitest.New(t, func(c *config.Config) { c.WebhookAllowLoopback = true })
	w := e.NewWorkspace(t, "Acme")
	owner := w.OwnerToken

	// API keys.
	var key struct {
		ID  string `json:"id"`
		Key string `json:"key"`
	}
	as(t, e, http.MethodPost, "/v1/api-keys", owner, map[string]any{"name": "crm", "scopes": []string{"contacts:read"}}).
		Expect(t, http.StatusCreated).JSON(t, &key)
	as(t, e, http.MethodDelete, "/v1/api-keys/"+key.ID, owner, nil).Expect(t, http.StatusNoContent)

	// Users: created, role, password, name, deleted.
	const firstPassword, secondPassword = "first secret passphrase 1", "second secret passphrase 2"
	var user struct {
		ID string `json:"id"`
	}
	as(t, e, http.MethodPost, "/v1/users", owner, map[string]any{"email": "bea@example.com", "name": "Bea", "password": firstPassword, "role": "agent"}).
		Expect(t, http.StatusCreated).JSON(t, &user)
	as(t, e, http.MethodPatch, "/v1/users/"+user.ID, owner, map[string]any{"role": "manager"}).Expect(t, http.StatusOK)
	as(t, e, http.MethodPatch, "/v1/users/"+user.ID, owner, map[string]any{"password": secondPassword, "name": "Bea B"}).Expect(t, http.StatusOK)

	// Workspace settings.
	as(t, e, http.MethodPatch, "/v1/workspace", owner, map[string]any{"settings": map[string]any{"window_closing_minutes": 30, "audit_retention_days": 90}}).
		Expect(t, http.StatusOK)

	// Channels with secrets: created, a secret changed, deleted.
	const accessToken, appSecret, verifyToken, newAccessToken = "EAAG-audit-access-1", "audit-app-secret-1", "audit-verify-1", "EAAG-audit-access-2"
	var ch struct {
		ID string `json:"id"`
	}
	as(t, e, http.MethodPost, "/v1/channels", owner, map[string]any{"type": "whatsapp", "name": "WhatsApp", "provider": "whatsapp_cloud",
		"config": map[string]any{"phone_number_id": "1055", "access_token": accessToken, "app_secret": appSecret, "verify_token": verifyToken}}).
		Expect(t, http.StatusCreated).JSON(t, &ch)
	as(t, e, http.MethodPatch, "/v1/channels/"+ch.ID, owner, map[string]any{"type": "whatsapp", "provider": "whatsapp_cloud",
		"config": map[string]any{"phone_number_id": "2066", "access_token": newAccessToken}}).Expect(t, http.StatusOK)
	as(t, e, http.MethodPut, "/v1/channels/"+ch.ID+"/provider", owner, map[string]any{"type": "whatsapp", "provider": "whatsapp_cloud",
		"config": map[string]any{"phone_number_id": "3077", "access_token": newAccessToken, "app_secret": appSecret}}).Expect(t, http.StatusOK)

	// Templates.
	var tpl struct {
		ID string `json:"id"`
	}
	as(t, e, http.MethodPost, "/v1/channels/"+ch.ID+"/templates", owner, templateFields(nil)).Expect(t, http.StatusCreated).JSON(t, &tpl)
	as(t, e, http.MethodPatch, "/v1/templates/"+tpl.ID, owner, map[string]any{"status": "rejected"}).Expect(t, http.StatusOK)
	as(t, e, http.MethodDelete, "/v1/templates/"+tpl.ID, owner, nil).Expect(t, http.StatusNoContent)
	as(t, e, http.MethodDelete, "/v1/channels/"+ch.ID, owner, nil).Expect(t, http.StatusNoContent)

	// Webhooks.
	var hook struct {
		ID     string `json:"id"`
		Secret string `json:"secret"`
	}
	as(t, e, http.MethodPost, "/v1/webhooks", owner, map[string]any{"url": "http://127.0.0.1:9/hook", "events": []string{"*"}}).
		Expect(t, http.StatusCreated).JSON(t, &hook)
	as(t, e, http.MethodPatch, "/v1/webhooks/"+hook.ID, owner, map[string]any{"enabled": false}).Expect(t, http.StatusOK)
	as(t, e, http.MethodDelete, "/v1/webhooks/"+hook.ID, owner, nil).Expect(t, http.StatusNoContent)

	// Logins: one that works, one with a wrong password (recorded), one for an email no account
	// has (no workspace to record it in).
	as(t, e, http.MethodPost, "/v1/auth/login", "", map[string]any{"email": "bea@example.com", "password": secondPassword}).Expect(t, http.StatusOK)
	const wrongPassword = "not bea's passphrase at all"
	as(t, e, http.MethodPost, "/v1/auth/login", "", map[string]any{"email": "bea@example.com", "password": wrongPassword}).
		ExpectProblem(t, http.StatusUnauthorized, "invalid_credentials")
	as(t, e, http.MethodPost, "/v1/auth/login", "", map[string]any{"email": "nobody@example.com", "password": wrongPassword}).
		ExpectProblem(t, http.StatusUnauthorized, "invalid_credentials")

	as(t, e, http.MethodDelete, "/v1/users/"+user.ID, owner, nil).Expect(t, http.StatusNoContent)

	log := auditLog(t, e, owner, "")
	tests := []struct {
		action, resource, resourceType string
		actorKind, actorID             string // actorID "": none
		field                          string // a field of changes, "" for none
		before, after                  any
	}{
		{"api_key.created", key.ID, "api_key", "user", w.OwnerID, "name", nil, "crm"},
		{"api_key.revoked", key.ID, "api_key", "user", w.OwnerID, "revoked", false, true},
		{"user.created", user.ID, "user", "user", w.OwnerID, "password", nil, "changed"},
		{"user.role_changed", user.ID, "user", "user", w.OwnerID, "role", "agent", "manager"},
		{"user.password_changed", user.ID, "user", "user", w.OwnerID, "password", "changed", "changed"},
		{"user.updated", user.ID, "user", "user", w.OwnerID, "name", "Bea", "Bea B"},
		{"user.deleted", user.ID, "user", "user", w.OwnerID, "role", "manager", nil},
		{"workspace.settings_changed", w.ID, "workspace", "user", w.OwnerID, "window_closing_minutes", 60.0, 30.0},
		{"channel.created", ch.ID, "channel", "user", w.OwnerID, "config.access_token", nil, "changed"},
		{"channel.updated", ch.ID, "channel", "user", w.OwnerID, "config.phone_number_id", "2066", "3077"},
		{"channel.deleted", ch.ID, "channel", "user", w.OwnerID, "name", "WhatsApp", nil},
		{"template.created", tpl.ID, "template", "user", w.OwnerID, "name", nil, "order_update"},
		{"template.updated", tpl.ID, "template", "user", w.OwnerID, "status", "approved", "rejected"},
		{"template.deleted", tpl.ID, "template", "user", w.OwnerID, "", nil, nil},
		{"webhook.created", hook.ID, "webhook", "user", w.OwnerID, "secret", nil, "changed"},
		{"webhook.updated", hook.ID, "webhook", "user", w.OwnerID, "enabled", true, false},
		{"webhook.deleted", hook.ID, "webhook", "user", w.OwnerID, "", nil, nil},
		{"login.succeeded", user.ID, "user", "user", user.ID, "", nil, nil},
		{"login.failed", user.ID, "user", "anonymous", "", "email", nil, "bea@example.com"},
	}
	for _, tc := range tests {
		t.Run(tc.action, func(t *testing.T) {
			en := find(t, log, tc.action, tc.resource)
			if en.Resource.Type != tc.resourceType || en.Actor.Kind != tc.actorKind {
				t.Errorf("resource %s, actor %s; want %s, %s", en.Resource.Type, en.Actor.Kind, tc.resourceType, tc.actorKind)
			}
			if (tc.actorID == "") != (en.Actor.ID == nil) || (en.Actor.ID != nil && *en.Actor.ID != tc.actorID) {
				t.Errorf("actor id %v, want %q", en.Actor.ID, tc.actorID)
			}
			// The test client connects from loopback, and the server trusts no proxy.
			if en.ClientIP == nil || *en.ClientIP != "127.0.0.1" || en.UserAgent != auditUA {
				t.Errorf("client %v, user agent %q", en.ClientIP, en.UserAgent)
			}
			if tc.field != "" {
				c, ok := en.Changes[tc.field]
				if !ok || c.Before != tc.before || c.After != tc.after {
					t.Errorf("changes[%s] = %+v (present %v), want %v → %v; all: %+v", tc.field, c, ok, tc.before, tc.after, en.Changes)
				}
			}
		})
	}
	// The secret the patch replaced is "changed" on both sides, the one it kept is absent.
	upd := find(t, log, "channel.updated", ch.ID)
	for _, en := range log {
		if en.Action == "channel.updated" && en.Changes["config.phone_number_id"].After == "2066" {
			upd = en
		}
	}
	if c := upd.Changes["config.access_token"]; c.Before != "changed" || c.After != "changed" {
		t.Errorf("channel.updated access_token: %+v", upd.Changes)
	}
	if _, ok := upd.Changes["config.app_secret"]; ok {
		t.Errorf("an unchanged secret is recorded: %+v", upd.Changes)
	}
	// The provider switch dropped verify_token: set before, none after.
	if c := find(t, log, "channel.updated", ch.ID).Changes["config.verify_token"]; c.Before != "changed" || c.After != nil {
		t.Errorf("provider switch verify_token: %+v", c)
	}

	// No secret's value is anywhere in the log: every column of every row, as text.
	secrets := []string{accessToken, appSecret, verifyToken, newAccessToken, firstPassword,
		secondPassword, wrongPassword, key.Key, hook.Secret, apitest.Password, w.APIKey}
	for _, s := range secrets {
		var n int
		err := e.Store.Pool.QueryRow(context.Background(),
			`SELECT count(*) FROM audit_log a WHERE strpos(a::text, $1) > 0`, s).Scan(&n)
		if err != nil {
			t.Fatal(err)
		}
		if n != 0 {
			t.Errorf("the secret %q appears in %d audit entries", s, n)
		}
	}
	// The unknown email's failed login is in no workspace's log.
	var stray int
	if err := e.Store.Pool.QueryRow(context.Background(),
		`SELECT count(*) FROM audit_log WHERE strpos(changes::text, 'nobody@example.com') > 0`).Scan(&stray); err != nil || stray != 0 {
		t.Errorf("a failed login for an unknown email was recorded %d times (%v)", stray, err)
	}
}

// TestAuditLogRollback checks that a change that fails writes no entry: the entry is in the
// change's transaction.
func TestAuditLogRollback(t *testing.T) {
	e := apitest.New(t)
	w := e.NewWorkspace(t, "Acme")
	ctx := context.Background()
	count := func(action string) int {
		var n int
		if err := e.Store.Pool.QueryRow(ctx, `SELECT count(*) FROM audit_log WHERE action = $1`, action).Scan(&n); err != nil {
			t.Fatal(err)
		}
		return n
	}
	// The record is written in the UPDATE's batch; the UPDATE breaks the table's CHECK, so the
	// transaction, entry included, rolls back.
	_, err := e.Store.UpdateWorkspace(ctx, uuid.MustParse(w.ID), func(ws *workspace.Workspace) ([]audit.Record, error) {
		ws.Settings.WindowClosingMinutes = 100000
		return []audit.Record{audit.On(audit.WorkspaceSettingsChanged, "workspace", ws.ID, nil)}, nil
	})
	if err == nil {
		t.Fatal("an update breaking the CHECK succeeded")
	}
	if n := count("workspace.settings_changed"); n != 0 {
		t.Fatalf("a rolled-back settings change left %d entries", n)
	}
	// A single-statement change (the insert and its entry in one statement) that fails.
	users := count("user.created")
	e.Post(t, "/v1/users", w.OwnerToken, map[string]any{"email": w.OwnerEmail, "name": "Twin", "password": apitest.Password, "role": "agent"}).
		ExpectProblem(t, http.StatusConflict, "email_taken")
	if n := count("user.created"); n != users {
		t.Fatalf("a refused user left an entry: %d, was %d", n, users)
	}
	// A change that finds nothing to change records nothing.
	e.Delete(t, "/v1/api-keys/"+uuid.NewString(), w.OwnerToken).ExpectProblem(t, http.StatusNotFound, "api_key_not_found")
	if n := count("api_key.revoked"); n != 0 {
		t.Fatalf("revoking no key left %d entries", n)
	}
	// A bulk action's change of one conversation: its entry is in the batch of the label writes,
	// and a label that does not exist breaks the insert's foreign key, so both roll back.
	ch := newChannel(t, e, w.OwnerToken, "custom")
	conv := uuid.MustParse(ingest(t, e, w.APIKey, ch, map[string]any{"identifier": "u1", "text": "hi"}).Conversation.ID)
	_, err = e.Store.ReplaceConversationLabels(audit.WithBulk(ctx, "label"), uuid.MustParse(w.ID), conv, nil,
		func(c *conversation.Conversation, _ []conversation.Label) (bool, error) {
			c.Labels = []conversation.Label{{ID: uuid.New(), Name: "gone"}}
			return true, nil
		})
	if err == nil {
		t.Fatal("writing a label that does not exist succeeded")
	}
	if n := count("conversation.bulk"); n != 0 {
		t.Fatalf("a rolled-back bulk change left %d entries", n)
	}
}

// TestAuditLogListing checks who may read the log, its filters and its pages, and the
// retention setting with its purge.
func TestAuditLogListing(t *testing.T) {
	e := apitest.New(t)
	w := e.NewWorkspace(t, "Acme")
	agent := e.NewUser(t, w, "agent")
	manager := e.NewUser(t, w, "manager")
	for i := range 3 {
		e.Post(t, "/v1/channels", w.OwnerToken, map[string]any{"type": "sms", "name": "SMS " + string(rune('A'+i))}).Expect(t, http.StatusCreated)
	}
	readOnly := e.NewKey(t, w, "contacts:read", "conversations:read")

	e.Get(t, "/v1/audit-log", agent.Token).ExpectProblem(t, http.StatusForbidden, "forbidden")
	e.Get(t, "/v1/audit-log", readOnly).ExpectProblem(t, http.StatusForbidden, "forbidden")
	e.Get(t, "/v1/audit-log", manager.Token).Expect(t, http.StatusOK)
	e.Get(t, "/v1/audit-log", w.APIKey).Expect(t, http.StatusOK)
	e.Get(t, "/v1/audit-log?since=yesterday", w.OwnerToken).ExpectProblem(t, http.StatusBadRequest, "invalid_parameter")
	e.Get(t, "/v1/audit-log?actor_id=nope", w.OwnerToken).ExpectProblem(t, http.StatusBadRequest, "invalid_parameter")

	all := auditLog(t, e, w.OwnerToken, "")
	for i := 1; i < len(all); i++ {
		if all[i-1].ID <= all[i].ID {
			t.Fatalf("not newest first: %s before %s", all[i-1].ID, all[i].ID)
		}
	}
	// Pages of two walk the same entries.
	var paged []auditEntryBody
	cursor := ""
	for {
		var p auditPage
		path := "/v1/audit-log?limit=2"
		if cursor != "" {
			path += "&cursor=" + url.QueryEscape(cursor)
		}
		e.Get(t, path, w.OwnerToken).Expect(t, http.StatusOK).JSON(t, &p)
		paged = append(paged, p.Data...)
		if p.NextCursor == nil {
			break
		}
		cursor = *p.NextCursor
	}
	if len(paged) != len(all) {
		t.Fatalf("pages of 2 hold %d entries, one page %d", len(paged), len(all))
	}

	filters := []struct {
		name, query string
		want        func(auditEntryBody) bool
		atLeast     int
	}{
		{"exact action", "action=channel.created", func(en auditEntryBody) bool { return en.Action == "channel.created" }, 3},
		{"action prefix", "action=channel.*", func(en auditEntryBody) bool { return en.Action == "channel.created" }, 3},
		{"other prefix", "action=user.*", func(en auditEntryBody) bool { return en.Action == "user.created" }, 2},
		{"wildcards are literal", "action=%25", func(auditEntryBody) bool { return false }, 0},
		{"actor", "actor_id=" + agent.ID, func(en auditEntryBody) bool { return en.Actor.ID != nil && *en.Actor.ID == agent.ID }, 1},
		{"since", "since=" + url.QueryEscape(e.Clock.Now().Add(-time.Minute).Format(time.RFC3339)), func(auditEntryBody) bool { return true }, len(all)},
		{"since later", "since=" + url.QueryEscape(e.Clock.Now().Add(time.Hour).Format(time.RFC3339)), func(auditEntryBody) bool { return false }, 0},
	}
	for _, tc := range filters {
		t.Run(tc.name, func(t *testing.T) {
			got := auditLog(t, e, w.OwnerToken, tc.query)
			if len(got) < tc.atLeast || (tc.atLeast == 0 && len(got) != 0) {
				t.Fatalf("%d entries, want at least %d: %+v", len(got), tc.atLeast, got)
			}
			for _, en := range got {
				if !tc.want(en) {
					t.Errorf("entry %s %s does not match", en.Action, en.ID)
				}
			}
		})
	}

	// Retention: 1 to 3650 days; older entries are purged by the periodic job.
	for _, bad := range []int{0, 3651} {
		e.Patch(t, "/v1/workspace", w.OwnerToken, map[string]any{"settings": map[string]any{"audit_retention_days": bad}}).
			ExpectProblem(t, http.StatusUnprocessableEntity, "validation_failed")
	}
	ws := e.Patch(t, "/v1/workspace", w.OwnerToken, map[string]any{"settings": map[string]any{"audit_retention_days": 2}}).Expect(t, http.StatusOK).Map(t)
	if ws["settings"].(map[string]any)["audit_retention_days"] != 2.0 {
		t.Fatalf("settings: %v", ws["settings"])
	}
	other := e.NewWorkspace(t, "Other") // keeps its default of 365 days
	e.Clock.Advance(3 * 24 * time.Hour) // the access tokens expire: keys from here on
	e.Post(t, "/v1/channels", w.APIKey, map[string]any{"type": "sms", "name": "After"}).Expect(t, http.StatusCreated)
	if err := e.Jobs.Run(context.Background(), job.PurgeAuditLog{}); err != nil {
		t.Fatal(err)
	}
	left := auditLog(t, e, w.APIKey, "")
	if len(left) != 1 || left[0].Action != "channel.created" {
		t.Fatalf("after the purge: %+v", left)
	}
	if len(auditLog(t, e, other.APIKey, "")) == 0 {
		t.Fatal("the purge took another workspace's entries, within its retention")
	}
}

// TestAuditLogPlans checks that each filter of the list walks its index (migration 0022), on
// 20 000 entries over 200 days, and that the purge finds what is past retention by
// audit_log_created.
func TestAuditLogPlans(t *testing.T) {
	e := apitest.New(t)
	w := e.NewWorkspace(t, "Acme")
	ctx := context.Background()
	rare := uuid.New()
	// ids are UUID v7 of created_at, as the store makes them; a few entries are the rare actor's.
	if _, err := e.Store.Pool.Exec(ctx, `
INSERT INTO audit_log (workspace_id, id, action, actor_kind, actor_id, client_ip, user_agent, resource_type, resource_id, changes, created_at)
SELECT $1, uuid(lpad(to_hex((extract(epoch FROM at) * 1000)::bigint), 12, '0') || '7' || substr(md5(i::text), 1, 19)),
       CASE WHEN i % 500 = 0 THEN 'webhook.deleted'
            ELSE (ARRAY['channel.created', 'channel.updated', 'user.created', 'login.succeeded', 'api_key.created'])[1 + i % 5] END,
       'user', CASE WHEN i % 1000 = 0 THEN $2::uuid ELSE $3::uuid END, '127.0.0.1', 'bench', 'channel', gen_random_uuid(), '{}', at
FROM generate_series(1, 20000) i, LATERAL (SELECT $4::timestamptz - make_interval(secs => (20000 - i) * 864) AS at) t`,
		w.ID, rare, w.OwnerID, e.Clock.Now()); err != nil {
		t.Fatal(err)
	}
	if _, err := e.Store.Pool.Exec(ctx, "VACUUM (ANALYZE) audit_log"); err != nil {
		t.Fatal(err)
	}
	ws := uuid.MustParse(w.ID)
	since := e.Clock.Now().Add(-time.Hour)
	cases := []struct {
		name    string
		f       audit.Filter
		indexes []string // any of these
	}{
		{"all", audit.Filter{}, []string{"audit_log_pkey"}},
		{"action", audit.Filter{Action: "user.created"}, []string{"audit_log_action"}},
		{"rare action prefix", audit.Filter{Action: "webhook.*"}, []string{"audit_log_action"}},
		// Two in five entries: walking the newest ones and skipping the others reads less.
		{"common action prefix", audit.Filter{Action: "channel.*"}, []string{"audit_log_action", "audit_log_pkey"}},
		{"actor", audit.Filter{ActorID: &rare}, []string{"audit_log_actor"}},
		// ids grow with created_at, so walking the primary key back from the newest is as good.
		{"since", audit.Filter{Since: &since}, []string{"audit_log_created", "audit_log_pkey"}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			tctx, trace := store.Traced(ctx)
			if _, _, err := e.Store.AuditLog(tctx, ws, tc.f, page.Request{Limit: 25}); err != nil {
				t.Fatal(err)
			}
			st := trace.Statements()[0]
			plan := explain(t, e, st.SQL, st.Args...)
			ok := false
			for _, ix := range tc.indexes {
				ok = ok || strings.Contains(plan, ix)
			}
			if !ok || strings.Contains(plan, "Seq Scan") {
				t.Fatalf("the page does not walk %v:\n%s", tc.indexes, plan)
			}
			t.Logf("EXPLAIN ANALYZE, audit log %s, 20 000 entries:\n%s", tc.name, plan)
		})
	}
	t.Run("purge", func(t *testing.T) {
		plan := explain(t, e, store.PurgeAuditSQL, e.Clock.Now(), audit.PurgeBatch)
		if !strings.Contains(plan, "audit_log_created") || !strings.Contains(plan, "Tid Scan") || strings.Contains(plan, "Seq Scan on audit_log") {
			t.Fatalf("the purge does not use audit_log_created:\n%s", plan)
		}
		t.Logf("EXPLAIN ANALYZE, audit purge:\n%s", plan)
	})
}

// explain is the EXPLAIN ANALYZE of q, run in a transaction that rolls back (the purge deletes).
func explain(t *testing.T, e *apitest.Env, q string, args ...any) string {
	t.Helper()
	ctx := context.Background()
	tx, err := e.Store.Pool.Begin(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = tx.Rollback(ctx) }()
	rows, err := tx.Query(ctx, "EXPLAIN (ANALYZE, BUFFERS) "+q, args...)
	if err != nil {
		t.Fatal(err)
	}
	lines, err := pgx.CollectRows(rows, pgx.RowTo[string])
	if err != nil {
		t.Fatal(err)
	}
	return strings.Join(lines, "\n")
}

// TestAuditLogClientAddress checks the address an entry records follows the server's proxy
// policy: X-Forwarded-For counts only from TRUSTED_PROXIES, as for the login throttle.
func TestAuditLogClientAddress(t *testing.T) {
	for _, tc := range []struct {
		name    string
		trusted []string
		want    string
	}{
		{"no trusted proxy: the connection's address", nil, "127.0.0.1"},
		{"behind a trusted proxy: the forwarded client", []string{"127.0.0.0/8", "::1/128"}, "203.0.113.7"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			e := apitest.New(t, func(c *config.Config) { c.TrustedProxies = tc.trusted })
			w := e.NewWorkspace(t, "Acme")
			e.Do(t, apitest.Request{Method: http.MethodPost, Path: "/v1/api-keys", Token: w.OwnerToken,
				Body:   map[string]any{"name": "forwarded"},
				Header: map[string]string{"X-Forwarded-For": "203.0.113.7", "User-Agent": auditUA}}).Expect(t, http.StatusCreated)
			en := auditLog(t, e, w.OwnerToken, "action=api_key.created")[0]
			if en.ClientIP == nil || *en.ClientIP != tc.want || en.UserAgent != auditUA {
				t.Fatalf("client %v, user agent %q; want %s", en.ClientIP, en.UserAgent, tc.want)
			}
		})
	}
}
