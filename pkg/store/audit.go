package store

import (
	"context"
	"encoding/json"
	"fmt"
	"time"

	"github.com/google/uuid"

	"github.com/switchboard/switchboard/pkg/audit"
	"github.com/switchboard/switchboard/pkg/page"
)

// The audit log: its entries go into the transaction of the change they record (auditInsert
// in the change's last batch, or audited around a single statement), so a change that rolls
// back leaves none.

type auditRow struct {
	WorkspaceID  uuid.UUID
	ID           uuid.UUID
	Action       string
	ActorKind    string
	ActorID      *uuid.UUID
	ClientIP     *string
	UserAgent    string
	ResourceType string
	ResourceID   *uuid.UUID
	Changes      jsonObject
	CreatedAt    time.Time
}

// auditColumns are auditRow's columns; client_ip is read as text.
const auditColumns = `workspace_id, id, action, actor_kind, actor_id, host(client_ip) AS client_ip, user_agent,
       resource_type, resource_id, changes, created_at`

func (r auditRow) domain() audit.Entry {
	e := audit.Entry{WorkspaceID: r.WorkspaceID, ID: r.ID, Action: r.Action, Actor: audit.Actor{Kind: r.ActorKind, ID: r.ActorID},
		UserAgent: r.UserAgent, Resource: audit.Resource{Type: r.ResourceType, ID: r.ResourceID}, Changes: audit.Changes{},
		CreatedAt: r.CreatedAt}
	if r.ClientIP != nil {
		e.ClientIP = *r.ClientIP
	}
	for field, v := range r.Changes {
		c, _ := v.(map[string]any)
		e.Changes[field] = audit.Change{Before: c["before"], After: c["after"]}
	}
	return e
}

// insertAudit starts the INSERT of audit entries; auditRowSQL gives each row's values.
const insertAudit = `INSERT INTO audit_log (workspace_id, id, action, actor_kind, actor_id, client_ip, user_agent,
                       resource_type, resource_id, changes, created_at)`

// auditRowSQL adds the values of r's entry in workspace ws, stamped with ctx's origin, to
// args and returns them as the comma-separated expressions of insertAudit's columns.
func (s *Store) auditRowSQL(ctx context.Context, args *params, ws uuid.UUID, r audit.Record) (string, error) {
	e := audit.Stamp(ctx, ws, r, s.Now())
	changes, err := json.Marshal(e.Changes)
	if err != nil {
		return "", fmt.Errorf("encode audit changes: %w", err)
	}
	return args.add(e.WorkspaceID) + ", " + args.add(e.ID) + ", " + args.add(e.Action) + ", " + args.add(e.Actor.Kind) + ", " +
		args.add(e.Actor.ID) + ", CAST(NULLIF(" + args.add(e.ClientIP) + ", '') AS inet), " + args.add(e.UserAgent) + ", " +
		args.add(e.Resource.Type) + ", " + args.add(e.Resource.ID) + ", CAST(" + args.add(string(changes)) + " AS jsonb), " +
		args.add(e.CreatedAt), nil
}

// auditInsert is the statement that writes records to workspace ws's log, stamped with the
// origin ctx carries; nil when there are none.
func (s *Store) auditInsert(ctx context.Context, ws uuid.UUID, recs ...audit.Record) (*statement, error) {
	if len(recs) == 0 {
		return nil, nil
	}
	var args params
	q := insertAudit + ` VALUES `
	for i, r := range recs {
		row, err := s.auditRowSQL(ctx, &args, ws, r)
		if err != nil {
			return nil, err
		}
		if i > 0 {
			q += ", "
		}
		q += "(" + row + ")"
	}
	return &statement{q, args}, nil
}

// queueAudit adds the records' insert to b, the change's last batch.
func (s *Store) queueAudit(ctx context.Context, b *batch, ws uuid.UUID, recs ...audit.Record) error {
	st, err := s.auditInsert(ctx, ws, recs...)
	if err != nil || st == nil {
		return err
	}
	b.exec("insert audit entry", *st)
	return nil
}

// audited wraps st, one data-modifying statement with a RETURNING clause, so that the same
// statement writes r to the log when st changed a row: one statement is one transaction. Its
// command tag counts the entry written (1) or not (0: st changed nothing).
func (s *Store) audited(ctx context.Context, ws uuid.UUID, st statement, r audit.Record) (statement, error) {
	args := params(st.args)
	row, err := s.auditRowSQL(ctx, &args, ws, r)
	if err != nil {
		return statement{}, err
	}
	q := `WITH changed AS (` + st.sql + `)
` + insertAudit + `
SELECT ` + row + `
WHERE EXISTS (SELECT 1 FROM changed)`
	return statement{q, args}, nil
}

// execAudited runs st with r (audited); it reports whether st changed a row.
func (s *Store) execAudited(ctx context.Context, ws uuid.UUID, st statement, r audit.Record) (bool, error) {
	a, err := s.audited(ctx, ws, st, r)
	if err != nil {
		return false, err
	}
	tag, err := s.Pool.Exec(ctx, a.sql, a.args...)
	if err != nil {
		return false, err
	}
	return tag.RowsAffected() > 0, nil
}

// RecordAudit writes records to workspace ws's log on their own: for what changes nothing
// else (a failed login).
func (s *Store) RecordAudit(ctx context.Context, ws uuid.UUID, recs ...audit.Record) error {
	st, err := s.auditInsert(ctx, ws, recs...)
	if err != nil || st == nil {
		return err
	}
	if _, err := s.Pool.Exec(ctx, st.sql, st.args...); err != nil {
		return fmt.Errorf("insert audit entry: %w", err)
	}
	return nil
}

var auditByID = byID(func(r auditRow) uuid.UUID { return r.ID }, true)

// AuditLog lists a workspace's entries newest first. Each filter has its index (migration
// 0022), with id last, so a page is a backward walk of one index.
func (s *Store) AuditLog(ctx context.Context, ws uuid.UUID, f audit.Filter, p page.Request) ([]audit.Entry, string, error) {
	return list(auditByID, p, func(after *idCursor, limit int) ([]auditRow, error) {
		args := params{ws}
		q := `SELECT ` + auditColumns + ` FROM audit_log WHERE workspace_id = $1`
		if prefix, ok := f.ActionPrefix(); ok {
			// A range rather than LIKE, so that the prepared statement's generic plan can walk
			// audit_log_action too: under the column's "C" collation the actions starting with
			// "channel." are those from it up to "channel/" ('/' follows '.').
			q += ` AND action >= ` + args.add(prefix) + ` AND action < ` + args.add(prefix[:len(prefix)-1]+"/")
		} else if f.Action != "" {
			q += ` AND action = ` + args.add(f.Action)
		}
		if f.ActorID != nil {
			q += ` AND actor_id = ` + args.add(*f.ActorID)
		}
		if f.Since != nil {
			q += ` AND created_at >= ` + args.add(*f.Since)
		}
		if after != nil {
			q += ` AND id < ` + args.add(after.ID)
		}
		q += ` ORDER BY id DESC LIMIT ` + args.add(limit)
		rows, err := queryRows[auditRow](ctx, s.Pool, q, args...)
		if err != nil {
			return nil, fmt.Errorf("list audit log: %w", err)
		}
		return rows, nil
	}, auditRow.domain)
}

// PurgeAuditSQL (exported for its plan test) deletes at most $2 entries older than their
// workspace's retention: per workspace a walk of audit_log_created up to its cut-off, and the
// rows it found by their ctid (a TID scan; a join back on the key would read the whole table).
// Entries are never updated, so a ctid stays the entry's within the statement.
const PurgeAuditSQL = `
DELETE FROM audit_log WHERE ctid = ANY (ARRAY(
    SELECT a.ctid
    FROM workspaces w
    CROSS JOIN LATERAL (
        SELECT ctid FROM audit_log
        WHERE workspace_id = w.id AND created_at < CAST($1 AS timestamptz) - make_interval(days => w.audit_retention_days)
        LIMIT $2) a
    LIMIT $2))`

// PurgeAudit deletes up to limit entries past their workspace's audit_retention_days at now,
// and says how many it deleted; the job repeats it until fewer than limit go.
func (s *Store) PurgeAudit(ctx context.Context, now time.Time, limit int) (int, error) {
	tag, err := s.Pool.Exec(ctx, PurgeAuditSQL, now, limit)
	if err != nil {
		return 0, fmt.Errorf("purge audit log: %w", err)
	}
	return int(tag.RowsAffected()), nil
}
