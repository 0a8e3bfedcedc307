package api

import (
	"context"
	"net/http"
	"unicode/utf8"

	"github.com/google/uuid"
	"github.com/labstack/echo/v4"

	"github.com/switchboard/switchboard/pkg/audit"
	"github.com/switchboard/switchboard/pkg/auth"
	"github.com/switchboard/switchboard/pkg/page"
	"github.com/switchboard/switchboard/pkg/resource"
)

type auditHandler struct {
	audit *audit.Service
}

// list godoc
// @Summary     List the audit log
// @ID          listAuditLog
// @Description Who (a user or an API key, from which client address and user agent) changed what and when, newest first, keyset-paginated: API keys (created, revoked), users (created, role and password changes, deleted), workspace settings, channels (an archive is channel.deleted with archived: true), templates, webhooks, contact merges (contact.merged), bulk actions (conversation.bulk: one entry per conversation the action changed, on that conversation, with action and the status, assignee_id, label_ids, snoozed_until or closing note it changed), and logins (login.succeeded; login.failed with the email tried, recorded in the workspace of each account that email names: a failed login for an email no account has is recorded nowhere). changes holds each changed field's before and after; a secret's is "changed" or null, never its value. Each entry is written in the same transaction as its change. action filters by an exact action, or by a prefix ending in ".*" (channel.* is every channel action); actor_id by the user or key; since by created_at (RFC 3339). Entries older than the workspace's audit_retention_days are purged. Owners, managers and admin keys.
// @Tags        workspace
// @Produce     json
// @Security    BearerAuth
// @Param       action   query string false "An action (channel.updated) or a prefix ending in .* (channel.*)" maxlength(100)
// @Param       actor_id query string false "Only the changes of this user or API key" format(uuid)
// @Param       since    query string false "Only entries created at or after this instant (RFC 3339)" format(date-time)
// @Param       limit    query int    false "Page size (1-100)" default(25)
// @Param       cursor   query string false "Cursor from the previous page's next_cursor"
// @Success     200 {object} resource.AuditLog
// @Failure     400 {object} Problem
// @Failure     401 {object} Problem
// @Failure     403 {object} Problem
// @Router      /v1/audit-log [get]
func (h *auditHandler) list(c echo.Context) error {
	var f audit.Filter
	var err error
	f.Action = c.QueryParam("action")
	if utf8.RuneCountInString(f.Action) > 100 {
		return invalidParam("action", "must be at most 100 characters")
	}
	if f.ActorID, err = uuidParam(c, "actor_id"); err != nil {
		return err
	}
	if f.Since, err = timeParam(c, "since"); err != nil {
		return err
	}
	data, next, err := listPage(c, func(ctx context.Context, ws uuid.UUID, p page.Request) ([]audit.Entry, string, error) {
		return h.audit.List(ctx, ws, f, p)
	}, resource.ToAuditEntry)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, resource.AuditLog{Data: data, NextCursor: next})
}

// withAuditOrigin puts the client's address (c.RealIP: X-Forwarded-For only from trusted
// proxies) and user agent in the request's context, for the audit entries of the changes the
// request makes; authenticate adds who acts. Before that, nobody has proved who they are.
func withAuditOrigin(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		ctx := audit.WithOrigin(c.Request().Context(), audit.Origin{Actor: audit.Actor{Kind: audit.ActorAnonymous},
			ClientIP: auditAddr(c), UserAgent: truncate(c.Request().UserAgent(), 512)})
		c.SetRequest(c.Request().WithContext(ctx))
		return next(c)
	}
}

// actorOf is the audit actor of a principal.
func actorOf(p auth.Principal) audit.Actor {
	if p.Kind == auth.KindAPIKey {
		id := p.KeyID
		return audit.Actor{Kind: audit.ActorAPIKey, ID: &id}
	}
	id := p.UserID
	return audit.Actor{Kind: audit.ActorUser, ID: &id}
}

// truncate cuts s to at most n bytes, at a rune boundary.
func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	for n > 0 && !utf8.RuneStart(s[n]) {
		n--
	}
	return s[:n]
}

// auditAddr is the client's address as the audit log stores it; "" when there is none.
func auditAddr(c echo.Context) string {
	if a := clientAddr(c); a.IsValid() {
		return a.Unmap().String()
	}
	return ""
}
