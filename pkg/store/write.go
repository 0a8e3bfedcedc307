package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"gorm.io/gorm"

	"github.com/switchboard/switchboard/pkg/conversation"
)

// The writes the send and ingest transactions share, as SQL with $n placeholders and their
// arguments. The hot paths queue them on a pgx batch, so a transaction's writes cost one round
// trip; the other paths run them one by one on gorm's transaction (execSQL).

// statement is one SQL statement with its arguments.
type statement struct {
	sql  string
	args []any
}

// queue adds the statement to a batch.
func (st statement) queue(b *pgx.Batch) *pgx.QueuedQuery { return b.Queue(st.sql, st.args...) }

// execSQL runs a $n statement on gorm's transaction, straight on database/sql: gorm would
// rewrite the placeholders and expand slice arguments.
func execSQL(tx *gorm.DB, st statement) error {
	sqlTx, ok := tx.Statement.ConnPool.(*sql.Tx)
	if !ok {
		return errors.New("not inside a transaction")
	}
	ctx := tx.Statement.Context
	if ctx == nil {
		ctx = context.Background()
	}
	_, err := sqlTx.ExecContext(ctx, st.sql, st.args...)
	return err
}

// jsonArg passes raw JSON to a jsonb parameter; nil is NULL.
func jsonArg(j nullJSON) any {
	if j == nil {
		return nil
	}
	return []byte(j)
}

const insertMessageSQL = `
INSERT INTO messages (workspace_id, id, conversation_id, contact_id, channel_id, identity_id, direction, type, text,
                      attachment, template, tag, sender_kind, sender_id, status, billable, provider_message_id,
                      external_id, error_code, error_message, attempts, last_attempt_at, created_at, updated_at)
VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10::jsonb, $11::jsonb, $12, $13, $14, $15, $16, $17, $18, $19, $20, $21, $22, $23, $24)`

// messageInsert stores a message, every column as the message has it.
func messageInsert(m conversation.Message) (statement, error) {
	r, err := toMessageRow(m)
	if err != nil {
		return statement{}, err
	}
	return statement{insertMessageSQL, []any{r.WorkspaceID, r.ID, r.ConversationID, r.ContactID, r.ChannelID, r.IdentityID,
		r.Direction, r.Type, r.Text, jsonArg(r.Attachment), jsonArg(r.Template), r.Tag, r.SenderKind, r.SenderID, r.Status,
		r.Billable, r.ProviderMessageID, r.ExternalID, r.ErrorCode, r.ErrorMessage, r.Attempts, r.LastAttemptAt,
		r.CreatedAt, r.UpdatedAt}}, nil
}

const updateConversationSQL = `
UPDATE conversations SET status = $1, assignee_id = $2, closed_at = $3,
       last_message_at = $4, last_message_id = $5, last_message_channel_id = $6,
       last_message_direction = $7, last_message_type = $8, last_message_text = $9,
       closing_category = $10, closing_summary = $11, closing_at = $12,
       closing_actor_kind = $13, closing_actor_id = $14, updated_at = $15
WHERE workspace_id = $16 AND id = $17`

// conversationUpdate writes a conversation's state, last message and closing note.
func conversationUpdate(c conversation.Conversation) statement {
	var lastID, lastChannel *uuid.UUID
	var lastDir, lastType, lastText *string
	if m := c.LastMessage; m != nil {
		id, ch := m.ID, m.ChannelID
		d, t, x := string(m.Direction), string(m.Type), m.Text
		lastID, lastChannel, lastDir, lastType, lastText = &id, &ch, &d, &t, &x
	}
	var cat, sum, kind *string
	var closingBy *uuid.UUID
	var at *time.Time
	if n := c.ClosingNote; n != nil {
		k := string(n.ClosedBy.Kind)
		cat, sum, kind, closingBy = n.Category, n.Summary, &k, actorID(n.ClosedBy)
		t := n.ClosedAt
		at = &t
	}
	return statement{updateConversationSQL, []any{string(c.Status), c.AssigneeID, c.ClosedAt, c.LastMessageAt, lastID,
		lastChannel, lastDir, lastType, lastText, cat, sum, at, kind, closingBy, c.UpdatedAt, c.WorkspaceID, c.ID}}
}

// conversationSaveError maps the errors of conversationUpdate.
func conversationSaveError(err error) error {
	if code, constraint := pgCode(err); code == foreignKeyViolation && constraint == "conversations_workspace_id_assignee_id_fkey" {
		return conversation.ErrUnknownAssignee
	}
	return fmt.Errorf("update conversation: %w", err)
}

// eventsInsert records a conversation's lifecycle events, one row each, in one statement.
func eventsInsert(events []conversation.Event) statement {
	var b strings.Builder
	b.WriteString(`INSERT INTO conversation_events (workspace_id, id, conversation_id, type, actor_kind, actor_id,
    assignee_id, closing_category, closing_summary, at) VALUES `)
	var args params
	for i, e := range events {
		if i > 0 {
			b.WriteString(", ")
		}
		b.WriteString("(" + strings.Join([]string{args.add(e.WorkspaceID), args.add(e.ID), args.add(e.ConversationID),
			args.add(string(e.Type)), args.add(string(e.Actor.Kind)), args.add(actorID(e.Actor)), args.add(e.AssigneeID),
			args.add(e.Category), args.add(e.Summary), args.add(e.At)}, ", ") + ")")
	}
	return statement{b.String(), args}
}

// batchResults reads a sent batch's results in order: exec for statements whose answer is
// only an error, query for the ones that return a row. The first error wins; PostgreSQL
// skips the rest of the batch after it.
type batchResults struct {
	br  pgx.BatchResults
	err error
}

func (r *batchResults) exec(wrap func(error) error) {
	if r.err != nil {
		return
	}
	if _, err := r.br.Exec(); err != nil {
		r.err = wrap(err)
	}
}

func (r *batchResults) close() error {
	err := r.br.Close()
	if r.err != nil {
		return r.err
	}
	return err
}

// wrapf returns a wrapper that adds context to an error.
func wrapf(msg string) func(error) error {
	return func(err error) error { return fmt.Errorf("%s: %w", msg, err) }
}

// pgxTx runs fn in a transaction on one pooled connection, on pgx. fn returns the
// transaction's last batch and the function that reads its results, or a nil batch when it has
// nothing more to write. COMMIT goes out in that batch: a lock the batch takes (publish's) is
// held while PostgreSQL runs the batch and commits, not also for a round trip to the server
// and back. A statement that fails makes PostgreSQL skip the rest of the batch, COMMIT
// included, and the transaction is rolled back. BEGIN goes out with fn's first batch (see
// lazyTx), so a transaction whose statements all go in batches costs one round trip per batch.
func (s *Store) pgxTx(ctx context.Context, fn func(tx pgx.Tx) (*pgx.Batch, func(*batchResults), error)) error {
	c, err := s.Pool.Acquire(ctx)
	if err != nil {
		return fmt.Errorf("acquire connection: %w", err)
	}
	defer c.Release() // a connection left inside a transaction is closed, not reused
	tx := &lazyTx{conn: c.Conn()}
	last, read, err := fn(tx)
	if err != nil {
		_ = tx.Rollback(ctx)
		return err
	}
	if last == nil {
		if err := tx.Commit(ctx); err != nil {
			return fmt.Errorf("commit: %w", err)
		}
		return nil
	}
	last.Queue("COMMIT")
	r := batchResults{br: tx.SendBatch(ctx, last)}
	read(&r)
	if r.err == nil {
		tag, err := r.br.Exec()
		switch {
		case err != nil:
			r.err = fmt.Errorf("commit: %w", err)
		case tag.String() != "COMMIT":
			r.err = pgx.ErrTxCommitRollback
		}
	}
	if err := r.close(); err != nil {
		_ = tx.Rollback(ctx)
		return err
	}
	return nil
}

// lazyTx is a transaction whose BEGIN is sent with its first batch, in the same round trip;
// any other first statement sends BEGIN on its own first. It serves the store's pgx paths and
// River's inserts (which run Exec and Query on it); it has no nested transactions or large
// objects. pgxTx commits or rolls it back.
type lazyTx struct {
	conn  *pgx.Conn
	begun bool
}

var _ pgx.Tx = (*lazyTx)(nil)

func (t *lazyTx) begin(ctx context.Context) error {
	if t.begun {
		return nil
	}
	if _, err := t.conn.Exec(ctx, "BEGIN"); err != nil {
		return fmt.Errorf("begin: %w", err)
	}
	t.begun = true
	return nil
}

// Begin refuses: nothing on these paths nests a transaction.
func (t *lazyTx) Begin(context.Context) (pgx.Tx, error) {
	return nil, errors.New("nested transactions are not supported")
}

func (t *lazyTx) Commit(ctx context.Context) error {
	if !t.begun {
		return nil
	}
	t.begun = false
	tag, err := t.conn.Exec(ctx, "COMMIT")
	if err == nil && tag.String() != "COMMIT" {
		err = pgx.ErrTxCommitRollback
	}
	return err
}

func (t *lazyTx) Rollback(ctx context.Context) error {
	if !t.begun {
		return nil
	}
	t.begun = false
	_, err := t.conn.Exec(ctx, "ROLLBACK")
	return err
}

func (t *lazyTx) SendBatch(ctx context.Context, b *pgx.Batch) pgx.BatchResults {
	if t.begun {
		return t.conn.SendBatch(ctx, b)
	}
	t.begun = true
	withBegin := &pgx.Batch{}
	withBegin.Queue("BEGIN")
	withBegin.QueuedQueries = append(withBegin.QueuedQueries, b.QueuedQueries...)
	br := t.conn.SendBatch(ctx, withBegin)
	if _, err := br.Exec(); err != nil {
		_ = br.Close()
		return pgx.FailedBatchResults(b, fmt.Errorf("begin: %w", err))
	}
	return br
}

func (t *lazyTx) CopyFrom(ctx context.Context, table pgx.Identifier, columns []string, src pgx.CopyFromSource) (int64, error) {
	if err := t.begin(ctx); err != nil {
		return 0, err
	}
	return t.conn.CopyFrom(ctx, table, columns, src)
}

func (t *lazyTx) LargeObjects() pgx.LargeObjects { return pgx.LargeObjects{} }

func (t *lazyTx) Prepare(ctx context.Context, name, sql string) (*pgconn.StatementDescription, error) {
	return t.conn.Prepare(ctx, name, sql)
}

func (t *lazyTx) Exec(ctx context.Context, sql string, args ...any) (pgconn.CommandTag, error) {
	if err := t.begin(ctx); err != nil {
		return pgconn.CommandTag{}, err
	}
	return t.conn.Exec(ctx, sql, args...)
}

func (t *lazyTx) Query(ctx context.Context, sql string, args ...any) (pgx.Rows, error) {
	if err := t.begin(ctx); err != nil {
		return nil, err
	}
	return t.conn.Query(ctx, sql, args...)
}

func (t *lazyTx) QueryRow(ctx context.Context, sql string, args ...any) pgx.Row {
	if err := t.begin(ctx); err != nil {
		return failedRow{err}
	}
	return t.conn.QueryRow(ctx, sql, args...)
}

func (t *lazyTx) Conn() *pgx.Conn { return t.conn }

type failedRow struct{ err error }

func (f failedRow) Scan(...any) error { return f.err }

// runBatch sends a batch inside tx and reads its results.
func runBatch(ctx context.Context, tx pgx.Tx, b *pgx.Batch, read func(*batchResults)) error {
	r := batchResults{br: tx.SendBatch(ctx, b)}
	read(&r)
	return r.close()
}
