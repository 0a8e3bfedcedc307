package store

import (
	"context"
	"fmt"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
	"github.com/riverqueue/river"

	"github.com/switchboard/switchboard/pkg/conversation"
	"github.com/switchboard/switchboard/pkg/errkind"
	"github.com/switchboard/switchboard/pkg/event"
	"github.com/switchboard/switchboard/pkg/job"
	"github.com/switchboard/switchboard/pkg/page"
	"github.com/switchboard/switchboard/pkg/resource"
	"github.com/switchboard/switchboard/pkg/rules"
	"github.com/switchboard/switchboard/pkg/template"
)

// scheduledColumns are scheduledRow's columns, of scheduled_messages.
const scheduledColumns = `workspace_id, id, contact_id, channel_id, status, send_at, draft, fallback_template,
       cancel_if_customer_replied, created_by_kind, created_by_id, user_id, preview_decision, decision, message_id,
       reason, created_at, updated_at`

// scheduledRow is a row of scheduled_messages.
type scheduledRow struct {
	WorkspaceID             uuid.UUID
	ID                      uuid.UUID
	ContactID               uuid.UUID
	ChannelID               uuid.UUID
	Status                  string
	SendAt                  time.Time
	Draft                   nullJSON
	FallbackTemplate        nullJSON
	CancelIfCustomerReplied bool
	CreatedByKind           string
	CreatedByID             uuid.UUID
	UserID                  *uuid.UUID
	PreviewDecision         nullJSON
	Decision                nullJSON
	MessageID               *uuid.UUID
	Reason                  *string
	CreatedAt               time.Time
	UpdatedAt               time.Time
}

// draftJSON is a draft as the draft column keeps it.
type draftJSON struct {
	Type        conversation.MessageType  `json:"type"`
	Text        string                    `json:"text,omitempty"`
	Template    *conversation.TemplateRef `json:"template,omitempty"`
	Attachments []conversation.Attachment `json:"attachments,omitempty"`
	Tag         string                    `json:"tag,omitempty"`
}

func (r scheduledRow) domain() conversation.Scheduled {
	sc := conversation.Scheduled{WorkspaceID: r.WorkspaceID, ID: r.ID, ContactID: r.ContactID, ChannelID: r.ChannelID,
		Status: conversation.ScheduledStatus(r.Status), SendAt: r.SendAt, Fallback: fromNullJSON[conversation.TemplateRef](r.FallbackTemplate),
		CancelIfCustomerReplied: r.CancelIfCustomerReplied,
		CreatedBy:               conversation.Actor{Kind: conversation.ActorKind(r.CreatedByKind), ID: r.CreatedByID},
		UserID:                  r.UserID, Decision: fromNullJSON[rules.Result](r.Decision), MessageID: r.MessageID, Reason: r.Reason,
		CreatedAt: r.CreatedAt, UpdatedAt: r.UpdatedAt}
	if d := fromNullJSON[draftJSON](r.Draft); d != nil {
		sc.Draft = conversation.Draft{Type: d.Type, Text: d.Text, Template: d.Template, Attachments: d.Attachments, Tag: d.Tag}
	}
	if p := fromNullJSON[rules.Result](r.PreviewDecision); p != nil {
		sc.PreviewDecision = *p
	}
	return sc
}

const insertScheduledSQL = `
INSERT INTO scheduled_messages (` + scheduledColumns + `)
VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18)`

func scheduledInsert(sc conversation.Scheduled) (statement, error) {
	d := sc.Draft
	draft, err := toNullJSON(&draftJSON{Type: d.Type, Text: d.Text, Template: d.Template, Attachments: d.Attachments, Tag: d.Tag})
	if err != nil {
		return statement{}, err
	}
	fallback, err := toNullJSON(sc.Fallback)
	if err != nil {
		return statement{}, err
	}
	preview, err := toNullJSON(&sc.PreviewDecision)
	if err != nil {
		return statement{}, err
	}
	return statement{insertScheduledSQL, []any{sc.WorkspaceID, sc.ID, sc.ContactID, sc.ChannelID, string(sc.Status), sc.SendAt,
		jsonArg(draft), jsonArg(fallback), sc.CancelIfCustomerReplied, string(sc.CreatedBy.Kind), sc.CreatedBy.ID, sc.UserID,
		jsonArg(preview), nil, nil, nil, sc.CreatedAt, sc.UpdatedAt}}, nil
}

// Schedule stores a scheduled message with its job, in one transaction: it claims the
// Idempotency-Key (or answers the stored replay), locks and reads what an immediate send
// would (lockSend) and the fallback template, lets Prepare check them and build the row, and
// inserts the row, the job due at send_at, and the idempotent answer.
func (s *Store) Schedule(ctx context.Context, in conversation.Schedule) (conversation.Scheduled, []byte, *conversation.Replay, error) {
	var out conversation.Scheduled
	var body []byte
	var replay *conversation.Replay
	err := s.pgxTx(ctx, func(tx pgx.Tx) (*batch, error) {
		ws := in.Send.WorkspaceID
		if idem := in.Send.Idempotency; idem != nil {
			r, err := claimIdempotency(ctx, tx, ws, *idem, in.Send.Now)
			if err != nil || r != nil {
				replay = r
				return nil, err
			}
		}
		st, _, err := lockSend(ctx, tx, in.Send)
		if err != nil {
			return nil, err
		}
		fallback, err := readTemplate(ctx, tx, ws, st.Channel.ID, in.Fallback)
		if err != nil {
			return nil, err
		}
		if out, err = in.Prepare(&st, fallback); err != nil {
			return nil, err
		}
		if err := s.queue.InsertTx(ctx, tx, job.ScheduledSend{WorkspaceID: ws, ID: out.ID, SendAt: out.SendAt},
			&river.InsertOpts{ScheduledAt: out.SendAt}); err != nil {
			return nil, err
		}
		insert, err := scheduledInsert(out)
		if err != nil {
			return nil, err
		}
		b := &batch{}
		b.exec("insert scheduled message", insert)
		if idem := in.Send.Idempotency; idem != nil {
			status, rendered, err := resource.ScheduledAnswer(out)
			if err != nil {
				return nil, fmt.Errorf("render idempotent answer: %w", err)
			}
			body = rendered
			b.exec("save idempotent answer", statement{saveAnswerSQL, []any{status, rendered, ws, idem.Key}})
		}
		return b, nil
	})
	if err != nil {
		return conversation.Scheduled{}, nil, nil, err
	}
	return out, body, replay, nil
}

// readTemplate reads the template ref names on the channel: nil without ref, or when the
// channel has none so named.
func readTemplate(ctx context.Context, tx pgx.Tx, ws, channelID uuid.UUID, ref *conversation.TemplateRef) (*template.Template, error) {
	if ref == nil {
		return nil, nil
	}
	r, err := queryRow[templateRow](ctx, tx, templateSQL, ws, channelID, ref.Name, ref.Language)
	if isNotFound(err) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("read fallback template: %w", err)
	}
	t := r.domain()
	return &t, nil
}

// lockScheduledSQL locks a scheduled message after its contact's conversation: the order
// ingestion takes them in (conversation, identity, then the contact's scheduled messages),
// so a fire and a customer's reply serialise on the conversation instead of deadlocking.
const lockScheduledSQL = `
WITH conv AS (
    SELECT v.id FROM conversations v
    WHERE v.workspace_id = $1 AND v.contact_id = (SELECT contact_id FROM scheduled_messages WHERE workspace_id = $1 AND id = $2)
    FOR UPDATE)
SELECT ` + scheduledColumns + ` FROM scheduled_messages
WHERE workspace_id = $1 AND id = $2 AND EXISTS (SELECT 1 FROM conv)
FOR UPDATE`

// FireScheduled locks the scheduled message and, while it is still scheduled, tries the plan's
// sends in order through the ordinary send path (send): the first the rules allow commits with
// the row marked sent; when every one is refused the row is blocked with the last decision
// (event scheduled_message.blocked); when the send cannot be attempted (no identity, the
// channel archived, a medium gone) it is failed with the code (scheduled_message.failed). Anything else rolls back, for
// the job to retry.
func (s *Store) FireScheduled(ctx context.Context, in conversation.Firing) (conversation.Scheduled, error) {
	var out conversation.Scheduled
	err := s.pgxTx(ctx, func(tx pgx.Tx) (*batch, error) {
		r, err := queryRow[scheduledRow](ctx, tx, lockScheduledSQL, in.WorkspaceID, in.ID)
		if isNotFound(err) {
			return nil, conversation.ErrScheduledNotFound
		}
		if err != nil {
			return nil, fmt.Errorf("lock scheduled message: %w", err)
		}
		out = r.domain()
		if out.Status != conversation.ScheduledWaiting {
			return nil, nil // cancelled, or fired already
		}
		var last error
		for _, send := range in.Plan(out) {
			_, _, b, err := s.send(ctx, tx, send, func(b *batch, o conversation.Sent, evs []pending) ([]pending, error) {
				out.Status, out.MessageID, out.Decision, out.UpdatedAt = conversation.ScheduledSent, &o.Message.ID, &o.Decision, send.Now
				st, err := scheduledUpdate(out)
				if err != nil {
					return nil, err
				}
				b.exec("mark scheduled message sent", st)
				return append(evs, pending{typ: event.ScheduledMessageSent, conv: &o.Conversation.ID, v: out}), nil
			}, sendAlone)
			if err == nil {
				if b == nil {
					// The writes went out already (a counted send); commit on its own.
					return nil, nil
				}
				return b, nil
			}
			if _, ok := conversation.IsRefusal(err); !ok {
				if _, ok := errkind.As(err); !ok {
					return nil, err
				}
			}
			last = err
		}
		return s.unsent(out, last, in.Now)
	})
	return out, err
}

// unsent is the batch that marks a scheduled message blocked (a rule refusal, with its
// decision) or failed (another reason the send could not be made), with its event.
func (s *Store) unsent(sc conversation.Scheduled, why error, now time.Time) (*batch, error) {
	typ := event.ScheduledMessageBlocked
	sc.Status = conversation.ScheduledBlocked
	var code string
	if r, ok := conversation.IsRefusal(why); ok {
		code = r.Code
		if r.Decision.RuleVersion != "" {
			d := r.Decision
			sc.Decision = &d
		}
	} else if e, ok := errkind.As(why); ok {
		code = e.Code
		typ, sc.Status = event.ScheduledMessageFailed, conversation.ScheduledFailed
	}
	sc.Reason, sc.UpdatedAt = &code, now
	st, err := scheduledUpdate(sc)
	if err != nil {
		return nil, err
	}
	b := &batch{}
	b.exec("mark scheduled message "+string(sc.Status), st)
	return b, s.queuePublish(b, sc.WorkspaceID, []pending{{typ: typ, v: sc}})
}

// scheduledUpdate writes what a fire or a cancel changes.
func scheduledUpdate(sc conversation.Scheduled) (statement, error) {
	decision, err := toNullJSON(sc.Decision)
	if err != nil {
		return statement{}, err
	}
	const q = `
UPDATE scheduled_messages SET status = $1, decision = $2, message_id = $3, reason = $4, updated_at = $5
WHERE workspace_id = $6 AND id = $7`
	return statement{q, []any{string(sc.Status), jsonArg(decision), sc.MessageID, sc.Reason, sc.UpdatedAt, sc.WorkspaceID, sc.ID}}, nil
}

// ScheduledMessage reads one scheduled message.
func (s *Store) ScheduledMessage(ctx context.Context, ws, id uuid.UUID) (conversation.Scheduled, error) {
	r, err := queryRow[scheduledRow](ctx, s.Pool, `SELECT `+scheduledColumns+` FROM scheduled_messages WHERE workspace_id = $1 AND id = $2`, ws, id)
	if isNotFound(err) {
		return conversation.Scheduled{}, conversation.ErrScheduledNotFound
	}
	if err != nil {
		return conversation.Scheduled{}, fmt.Errorf("read scheduled message: %w", err)
	}
	return r.domain(), nil
}

var scheduledByID = byID(func(r scheduledRow) uuid.UUID { return r.ID }, true)

// ScheduledMessages lists a page of the workspace's scheduled messages by id (the order they
// were scheduled in), filtered by contact and status: each filter walks its index
// (scheduled_messages_contact, scheduled_messages_status).
func (s *Store) ScheduledMessages(ctx context.Context, ws uuid.UUID, f conversation.ScheduledFilter, p page.Request) ([]conversation.Scheduled, string, error) {
	return list(scheduledByID, p, func(after *idCursor, limit int) ([]scheduledRow, error) {
		args := params{ws}
		q := `SELECT ` + scheduledColumns + ` FROM scheduled_messages WHERE workspace_id = $1`
		if f.ContactID != nil {
			q += ` AND contact_id = ` + args.add(*f.ContactID)
		}
		if f.Status != nil {
			q += ` AND status = ` + args.add(string(*f.Status))
		}
		if after != nil {
			q += ` AND id > ` + args.add(after.ID)
		}
		q += ` ORDER BY id LIMIT ` + args.add(limit)
		rows, err := queryRows[scheduledRow](ctx, s.Pool, q, args...)
		if err != nil {
			return nil, fmt.Errorf("list scheduled messages: %w", err)
		}
		return rows, nil
	}, scheduledRow.domain)
}

// CancelScheduled cancels a scheduled message still waiting, with its event. The UPDATE's
// condition is the check: a fire holding the row makes it wait, and then finds it sent.
func (s *Store) CancelScheduled(ctx context.Context, ws, id uuid.UUID, now time.Time) (conversation.Scheduled, error) {
	var out conversation.Scheduled
	err := s.pgxTx(ctx, func(tx pgx.Tx) (*batch, error) {
		const q = `
UPDATE scheduled_messages SET status = 'cancelled', reason = 'cancelled', updated_at = $1
WHERE workspace_id = $2 AND id = $3 AND status = 'scheduled'
RETURNING ` + scheduledColumns
		r, err := queryRow[scheduledRow](ctx, tx, q, now, ws, id)
		if isNotFound(err) {
			if _, err := s.ScheduledMessage(ctx, ws, id); err != nil {
				return nil, err
			}
			return nil, conversation.ErrScheduledNotCancellable
		}
		if err != nil {
			return nil, fmt.Errorf("cancel scheduled message: %w", err)
		}
		out = r.domain()
		b := &batch{}
		return b, s.queuePublish(b, ws, []pending{{typ: event.ScheduledMessageCancelled, v: out}})
	})
	return out, err
}

// replyCancelSQL cancels, as a customer's message is ingested, the contact's scheduled
// messages that asked for it and are not yet due (ingestion time, not received_at), through
// scheduled_messages_reply_cancel.
const replyCancelSQL = `
UPDATE scheduled_messages SET status = 'cancelled', reason = 'customer_replied', updated_at = $1
WHERE workspace_id = $2 AND contact_id = $3 AND status = 'scheduled' AND cancel_if_customer_replied AND send_at > $1
RETURNING ` + scheduledColumns

// queueReplyCancel queues replyCancelSQL on an ingestion's batch; dst gets the rows it cancelled.
func queueReplyCancel(b *batch, ws, contactID uuid.UUID, now time.Time, dst *[]scheduledRow) {
	queueRows(b, "cancel scheduled messages", dst, statement{replyCancelSQL, []any{now, ws, contactID}})
}

// replyCancelled are the events of the scheduled messages a reply cancelled.
func replyCancelled(rows []scheduledRow, conv uuid.UUID) []pending {
	out := make([]pending, len(rows))
	for i, r := range rows {
		out[i] = pending{typ: event.ScheduledMessageCancelled, conv: &conv, v: r.domain()}
	}
	return out
}
