package store

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
	"github.com/riverqueue/river"

	"github.com/switchboard/switchboard/pkg/channel"
	"github.com/switchboard/switchboard/pkg/conversation"
	"github.com/switchboard/switchboard/pkg/dispatch"
	"github.com/switchboard/switchboard/pkg/errkind"
	"github.com/switchboard/switchboard/pkg/event"
	"github.com/switchboard/switchboard/pkg/job"
	"github.com/switchboard/switchboard/pkg/page"
	"github.com/switchboard/switchboard/pkg/resource"
	"github.com/switchboard/switchboard/pkg/rules"
)

// broadcastColumns are broadcastRow's columns, of broadcasts.
const broadcastColumns = `workspace_id, id, name, channel_id, status, message, audience, send_at, created_by_kind,
       created_by_id, user_id, total, sent, refused, failed, created_at, updated_at`

// broadcastRow is a row of broadcasts.
type broadcastRow struct {
	WorkspaceID   uuid.UUID
	ID            uuid.UUID
	Name          string
	ChannelID     uuid.UUID
	Status        string
	Message       nullJSON
	Audience      nullJSON
	SendAt        *time.Time
	CreatedByKind string
	CreatedByID   uuid.UUID
	UserID        *uuid.UUID
	Total         int32
	Sent          int32
	Refused       int32
	Failed        int32
	CreatedAt     time.Time
	UpdatedAt     time.Time
}

// audienceJSON is how the audience column keeps the audience: the tag, or how many ids were
// given (the ids themselves are the recipients).
type audienceJSON struct {
	ContactIDs *int   `json:"contact_ids,omitempty"`
	Tag        string `json:"tag,omitempty"`
}

func (r broadcastRow) domain() conversation.Broadcast {
	b := conversation.Broadcast{WorkspaceID: r.WorkspaceID, ID: r.ID, Name: r.Name, ChannelID: r.ChannelID,
		Status: conversation.BroadcastStatus(r.Status), SendAt: r.SendAt,
		CreatedBy: conversation.Actor{Kind: conversation.ActorKind(r.CreatedByKind), ID: r.CreatedByID}, UserID: r.UserID,
		Counts:    conversation.BroadcastCounts{Total: int(r.Total), Sent: int(r.Sent), Refused: int(r.Refused), Failed: int(r.Failed)},
		CreatedAt: r.CreatedAt, UpdatedAt: r.UpdatedAt}
	if d := fromNullJSON[draftJSON](r.Message); d != nil {
		b.Message = conversation.Draft{Type: d.Type, Text: d.Text, Template: d.Template, Tag: d.Tag}
	}
	if a := fromNullJSON[audienceJSON](r.Audience); a != nil {
		b.Audience.Tag = a.Tag
		if a.ContactIDs != nil {
			b.Audience.GivenIDs = *a.ContactIDs
		}
	}
	return b
}

// audienceWhere is the condition on contacts c that picks the audience, with its argument.
func audienceWhere(a conversation.Audience, args *params) string {
	if a.Tag != "" {
		// contacts_tags (GIN) finds them.
		return `c.tags @> ARRAY[` + args.add(a.Tag) + `]::text[]`
	}
	return `c.id = ANY(` + args.add(a.ContactIDs) + `)`
}

// AudienceState reads the channel (archived: channel.ErrArchived; unknown: 422 on
// channel_id, as a send answers), this month's chatbot-initiated count and the template the
// message names, then streams the audience: one query over the workspace's contacts joined
// to their identity on the channel, so a dry run over 100 000 contacts is one index walk and
// one pass in Go.
func (s *Store) AudienceState(ctx context.Context, ws, channelID uuid.UUID, a conversation.Audience, tmpl *conversation.TemplateRef,
	now time.Time, fn func(conversation.AudienceState) error) error {
	ch, err := s.broadcastChannel(ctx, s.Pool, ws, channelID)
	if err != nil {
		return err
	}
	st := conversation.AudienceState{Channel: ch}
	if ch.Type == rules.Viber {
		const q = `SELECT coalesce((SELECT initiated FROM channel_usage WHERE workspace_id = $1 AND channel_id = $2 AND month = $3), 0)`
		if err := s.Pool.QueryRow(ctx, q, ws, ch.ID, monthStart(now)).Scan(&st.MonthInitiated); err != nil {
			return fmt.Errorf("read channel usage: %w", err)
		}
	}
	if tmpl != nil {
		r, err := queryRow[templateRow](ctx, s.Pool, templateSQL, ws, channelID, tmpl.Name, tmpl.Language)
		switch {
		case err == nil:
			t := r.domain()
			st.Template = &t
		case !isNotFound(err):
			return fmt.Errorf("read template: %w", err)
		}
	}
	st.Members = func(each func(conversation.AudienceMember) error) error {
		args := params{ws, channelID}
		// The identity of each contact on the channel; a contact with two there (two
		// addresses) counts once, by its oldest, as lockSend reads the first.
		q := `
SELECT c.id, i.id IS NOT NULL, i.last_inbound_at, coalesce(i.outbound_since_inbound, 0)
FROM contacts c
LEFT JOIN LATERAL (
    SELECT i.id, i.last_inbound_at, i.outbound_since_inbound FROM contact_identities i
    WHERE i.workspace_id = c.workspace_id AND i.contact_id = c.id AND i.channel_id = $2
    ORDER BY i.created_at LIMIT 1) i ON true
WHERE c.workspace_id = $1 AND ` + audienceWhere(a, &args) + `
LIMIT ` + args.add(conversation.MaxAudience+1)
		rows, err := s.Pool.Query(ctx, q, args...)
		if err != nil {
			return fmt.Errorf("read audience: %w", err)
		}
		defer rows.Close()
		var m conversation.AudienceMember
		var sent int32
		for rows.Next() {
			if err := rows.Scan(&m.ContactID, &m.HasIdentity, &m.LastInboundAt, &sent); err != nil {
				return fmt.Errorf("read audience: %w", err)
			}
			m.OutboundSinceInbound = int(sent)
			if err := each(m); err != nil {
				return err
			}
		}
		if err := rows.Err(); err != nil {
			return fmt.Errorf("read audience: %w", err)
		}
		return nil
	}
	return fn(st)
}

// broadcastChannel reads the broadcast's channel: unknown is a 422 on channel_id and archived
// is channel.ErrArchived, as a send answers.
func (s *Store) broadcastChannel(ctx context.Context, db querier, ws, id uuid.UUID) (channel.Channel, error) {
	r, err := queryRow[channelRow](ctx, db, channelSQL, ws, id)
	if isNotFound(err) {
		return channel.Channel{}, errkind.Invalid(errkind.Field{Field: "channel_id", Message: "must be a channel of this workspace"})
	}
	if err != nil {
		return channel.Channel{}, fmt.Errorf("read channel: %w", err)
	}
	ch := r.domain()
	if ch.Archived() {
		return channel.Channel{}, channel.ErrArchived
	}
	return ch, nil
}

const insertBroadcastSQL = `
INSERT INTO broadcasts (` + broadcastColumns + `)
VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17)`

// CreateBroadcast stores a broadcast in one transaction: it claims the Idempotency-Key (or
// answers the stored replay), checks the channel and the template, inserts the broadcast and
// its recipients (one INSERT ... SELECT over the audience, at most MaxAudience + 1 rows, so an
// audience too large is known without counting it first), and then its job (due at send_at,
// unique by the broadcast) and the idempotent answer.
func (s *Store) CreateBroadcast(ctx context.Context, in conversation.NewBroadcast) (conversation.Broadcast, []byte, *conversation.Replay, error) {
	out := in.Broadcast
	var body []byte
	var replay *conversation.Replay
	err := s.pgxTx(ctx, func(tx pgx.Tx) (*batch, error) {
		ws := out.WorkspaceID
		if idem := in.Idempotency; idem != nil {
			r, err := claimIdempotency(ctx, tx, ws, *idem, in.Now)
			if err != nil || r != nil {
				replay = r
				return nil, err
			}
		}
		if _, err := s.broadcastChannel(ctx, tx, ws, out.ChannelID); err != nil {
			return nil, err
		}
		if t := out.Message.Template; out.Message.Type == conversation.TypeTemplate && t != nil {
			found, err := exists(ctx, tx, `SELECT EXISTS (SELECT 1 FROM templates WHERE workspace_id = $1 AND channel_id = $2 AND name = $3 AND language = $4)`,
				ws, out.ChannelID, t.Name, t.Language)
			if err != nil {
				return nil, fmt.Errorf("read template: %w", err)
			}
			if !found {
				return nil, errkind.Invalid(errkind.Field{Field: "message.template.name",
					Message: fmt.Sprintf("the channel has no template %q in language %q", t.Name, t.Language)})
			}
		}
		d := out.Message
		message, err := toNullJSON(&draftJSON{Type: d.Type, Text: d.Text, Template: d.Template, Tag: d.Tag})
		if err != nil {
			return nil, err
		}
		aj := audienceJSON{Tag: out.Audience.Tag}
		if out.Audience.Tag == "" {
			n := len(out.Audience.ContactIDs)
			aj.ContactIDs = &n
		}
		audience, err := toNullJSON(&aj)
		if err != nil {
			return nil, err
		}
		args := params{ws, out.ID, in.Now}
		recipients := `
WITH r AS (
    INSERT INTO broadcast_recipients (workspace_id, broadcast_id, contact_id, updated_at)
    SELECT c.workspace_id, $2, c.id, $3 FROM contacts c
    WHERE c.workspace_id = $1 AND ` + audienceWhere(out.Audience, &args) + `
    LIMIT ` + args.add(conversation.MaxAudience+1) + `
    RETURNING 1)
SELECT count(*) FROM r`
		var n int
		b := &batch{}
		b.exec("insert broadcast", statement{insertBroadcastSQL, []any{ws, out.ID, out.Name, out.ChannelID, string(out.Status),
			jsonArg(message), jsonArg(audience), out.SendAt, string(out.CreatedBy.Kind), out.CreatedBy.ID, out.UserID, 0, 0, 0, 0,
			out.CreatedAt, out.UpdatedAt}})
		queueValue(b, "insert recipients", &n, statement{recipients, args})
		if err := b.send(ctx, tx); err != nil {
			return nil, err
		}
		switch {
		case n == 0:
			return nil, conversation.ErrAudienceEmpty
		case n > conversation.MaxAudience:
			return nil, conversation.ErrAudienceTooLarge
		}
		out.Counts.Total = n
		opts := &river.InsertOpts{}
		if out.SendAt != nil {
			opts.ScheduledAt = *out.SendAt
		}
		if err := s.queue.InsertTx(ctx, tx, job.BroadcastRun{WorkspaceID: ws, ID: out.ID, SendAt: out.SendAt}, opts); err != nil {
			return nil, err
		}
		last := &batch{}
		last.exec("count recipients", statement{`UPDATE broadcasts SET total = $1 WHERE workspace_id = $2 AND id = $3`, []any{n, ws, out.ID}})
		if idem := in.Idempotency; idem != nil {
			status, rendered, err := resource.BroadcastAnswer(out)
			if err != nil {
				return nil, fmt.Errorf("render idempotent answer: %w", err)
			}
			body = rendered
			last.exec("save idempotent answer", statement{saveAnswerSQL, []any{status, rendered, ws, idem.Key}})
		}
		return last, nil
	})
	if err != nil {
		return conversation.Broadcast{}, nil, nil, err
	}
	return out, body, replay, nil
}

// Broadcast reads one broadcast.
func (s *Store) Broadcast(ctx context.Context, ws, id uuid.UUID) (conversation.Broadcast, error) {
	r, err := queryRow[broadcastRow](ctx, s.Pool, `SELECT `+broadcastColumns+` FROM broadcasts WHERE workspace_id = $1 AND id = $2`, ws, id)
	if isNotFound(err) {
		return conversation.Broadcast{}, conversation.ErrBroadcastNotFound
	}
	if err != nil {
		return conversation.Broadcast{}, fmt.Errorf("read broadcast: %w", err)
	}
	return r.domain(), nil
}

var broadcastsByID = byID(func(r broadcastRow) uuid.UUID { return r.ID }, true)

// Broadcasts lists a page of the workspace's broadcasts, newest first (by id, UUIDv7: the
// primary key's walk backwards).
func (s *Store) Broadcasts(ctx context.Context, ws uuid.UUID, p page.Request) ([]conversation.Broadcast, string, error) {
	return list(broadcastsByID, p, func(after *idCursor, limit int) ([]broadcastRow, error) {
		args := params{ws}
		q := `SELECT ` + broadcastColumns + ` FROM broadcasts WHERE workspace_id = $1`
		if after != nil {
			q += ` AND id < ` + args.add(after.ID)
		}
		q += ` ORDER BY id DESC LIMIT ` + args.add(limit)
		rows, err := queryRows[broadcastRow](ctx, s.Pool, q, args...)
		if err != nil {
			return nil, fmt.Errorf("list broadcasts: %w", err)
		}
		return rows, nil
	}, broadcastRow.domain)
}

// recipientRow is a row of broadcast_recipients.
type recipientRow struct {
	ContactID uuid.UUID
	Status    string
	Decision  nullJSON
	MessageID *uuid.UUID
	Error     *string
	UpdatedAt time.Time
}

func (r recipientRow) domain() conversation.Recipient {
	return conversation.Recipient{ContactID: r.ContactID, Status: conversation.RecipientStatus(r.Status),
		Decision: fromNullJSON[rules.Result](r.Decision), MessageID: r.MessageID, Error: r.Error, UpdatedAt: r.UpdatedAt}
}

var recipientsByContact = byID(func(r recipientRow) uuid.UUID { return r.ContactID }, true)

// Recipients lists a page of a broadcast's recipients by contact id, filtered by status: a
// range of broadcast_recipients_status (or of the primary key without the filter). A broadcast
// of another workspace is ErrBroadcastNotFound.
func (s *Store) Recipients(ctx context.Context, ws, id uuid.UUID, f conversation.RecipientFilter, p page.Request) ([]conversation.Recipient, string, error) {
	found, err := exists(ctx, s.Pool, `SELECT EXISTS (SELECT 1 FROM broadcasts WHERE workspace_id = $1 AND id = $2)`, ws, id)
	if err != nil {
		return nil, "", fmt.Errorf("read broadcast: %w", err)
	}
	if !found {
		return nil, "", conversation.ErrBroadcastNotFound
	}
	return list(recipientsByContact, p, func(after *idCursor, limit int) ([]recipientRow, error) {
		args := params{ws, id}
		q := `SELECT contact_id, status, decision, message_id, error, updated_at FROM broadcast_recipients
WHERE workspace_id = $1 AND broadcast_id = $2`
		if f.Status != nil {
			q += ` AND status = ` + args.add(string(*f.Status))
		}
		if after != nil {
			q += ` AND contact_id > ` + args.add(after.ID)
		}
		q += ` ORDER BY contact_id LIMIT ` + args.add(limit)
		rows, err := queryRows[recipientRow](ctx, s.Pool, q, args...)
		if err != nil {
			return nil, fmt.Errorf("list recipients: %w", err)
		}
		return rows, nil
	}, recipientRow.domain)
}

// CancelBroadcast cancels a scheduled or running broadcast. The UPDATE's condition is the
// check; the worker sees the status after its batch and stops.
func (s *Store) CancelBroadcast(ctx context.Context, ws, id uuid.UUID, now time.Time) (conversation.Broadcast, error) {
	const q = `
UPDATE broadcasts SET status = 'cancelled', updated_at = $1
WHERE workspace_id = $2 AND id = $3 AND status IN ('scheduled', 'running')
RETURNING ` + broadcastColumns
	r, err := queryRow[broadcastRow](ctx, s.Pool, q, now, ws, id)
	if isNotFound(err) {
		if _, err := s.Broadcast(ctx, ws, id); err != nil {
			return conversation.Broadcast{}, err
		}
		return conversation.Broadcast{}, conversation.ErrBroadcastNotCancellable
	}
	if err != nil {
		return conversation.Broadcast{}, fmt.Errorf("cancel broadcast: %w", err)
	}
	return r.domain(), nil
}

// recountSQL sets a broadcast's counts from its recipients: one range of
// broadcast_recipients_status per status (an index-only count).
const recountSQL = `
UPDATE broadcasts b SET sent = n.sent, refused = n.refused, failed = n.failed, updated_at = $3
FROM (SELECT count(*) FILTER (WHERE status = 'sent') AS sent, count(*) FILTER (WHERE status = 'refused') AS refused,
             count(*) FILTER (WHERE status = 'failed') AS failed
      FROM broadcast_recipients WHERE workspace_id = $1 AND broadcast_id = $2 AND status <> 'pending') n
WHERE b.workspace_id = $1 AND b.id = $2`

// StartBroadcast marks a scheduled broadcast running and counts its recipients again, as a
// resumed one's counts may be a batch behind; it answers the broadcast as it is then.
func (s *Store) StartBroadcast(ctx context.Context, ws, id uuid.UUID, now time.Time) (conversation.Broadcast, error) {
	var out conversation.Broadcast
	err := s.pgxTx(ctx, func(tx pgx.Tx) (*batch, error) {
		r, err := queryRow[broadcastRow](ctx, tx, `SELECT `+broadcastColumns+` FROM broadcasts WHERE workspace_id = $1 AND id = $2 FOR UPDATE`, ws, id)
		if isNotFound(err) {
			return nil, conversation.ErrBroadcastNotFound
		}
		if err != nil {
			return nil, fmt.Errorf("lock broadcast: %w", err)
		}
		if r.Status != string(conversation.BroadcastScheduled) && r.Status != string(conversation.BroadcastRunning) {
			out = r.domain()
			return nil, nil
		}
		if _, err := tx.Exec(ctx, `UPDATE broadcasts SET status = 'running' WHERE workspace_id = $1 AND id = $2`, ws, id); err != nil {
			return nil, fmt.Errorf("start broadcast: %w", err)
		}
		if _, err := tx.Exec(ctx, recountSQL, ws, id, now); err != nil {
			return nil, fmt.Errorf("count recipients: %w", err)
		}
		r, err = queryRow[broadcastRow](ctx, tx, `SELECT `+broadcastColumns+` FROM broadcasts WHERE workspace_id = $1 AND id = $2`, ws, id)
		if err != nil {
			return nil, fmt.Errorf("read broadcast: %w", err)
		}
		out = r.domain()
		return nil, nil
	})
	return out, err
}

// PendingRecipients reads up to limit pending recipients after the contact id, in contact id
// order (a range of broadcast_recipients_status), with the fields their variables are filled
// from. A contact deleted since is answered with Found false.
func (s *Store) PendingRecipients(ctx context.Context, ws, id uuid.UUID, after uuid.UUID, limit int) ([]conversation.RecipientMember, error) {
	const q = `
SELECT r.contact_id, c.id IS NOT NULL AS found, coalesce(c.first_name, '') AS first_name, coalesce(c.last_name, '') AS last_name,
       coalesce(c.custom_fields, '{}') AS custom_fields
FROM broadcast_recipients r
LEFT JOIN contacts c ON c.workspace_id = r.workspace_id AND c.id = r.contact_id
WHERE r.workspace_id = $1 AND r.broadcast_id = $2 AND r.status = 'pending' AND r.contact_id > $3
ORDER BY r.contact_id
LIMIT $4`
	rows, err := queryRows[struct {
		ContactID    uuid.UUID
		Found        bool
		FirstName    string
		LastName     string
		CustomFields jsonObject
	}](ctx, s.Pool, q, ws, id, after, limit)
	if err != nil {
		return nil, fmt.Errorf("read pending recipients: %w", err)
	}
	out := make([]conversation.RecipientMember, len(rows))
	for i, r := range rows {
		out[i] = conversation.RecipientMember{ContactID: r.ContactID, Found: r.Found, FirstName: r.FirstName, LastName: r.LastName,
			CustomFields: map[string]any(r.CustomFields)}
	}
	return out, nil
}

const markRecipientSQL = `
UPDATE broadcast_recipients SET status = $1, decision = $2, message_id = $3, error = $4, updated_at = $5
WHERE workspace_id = $6 AND broadcast_id = $7 AND contact_id = $8`

// SendToRecipients sends to a group of recipients in one transaction, in the order given
// (contact id order, so two runs of one broadcast lock them in the same order). It locks the
// group's recipient rows in one statement and, for each still pending, runs the ordinary send
// (s.send: its locks and reads, the rules, the message) with the row marked sent and the
// message's id in the send's writes. A refusal by the rules marks it refused with the decision
// and its code; a send that cannot be made (no identity on the channel, the contact gone, the
// channel archived) marks it failed, or refused for no_channel_identity, with the code.
//
// A recipient costs one round trip, its send's locks and reads. Its writes touch only its own
// contact's rows, which no later send of the group reads, so they wait for the group's last
// batch, with the group's delivery jobs (inserted together before it), its events and COMMIT:
// the group's events are queued in one statement, the counters' slot is held for that
// batch alone, and the fsync is shared, which is what makes a broadcast faster than as many
// single sends. Anything else rolls the whole group back (its recipients stay pending) and is
// the error; conversation.ErrQuotaRace (a Viber count that lost its race before COMMIT) too,
// for the caller to try again. It answers each recipient's status afterwards (one no longer
// pending is left alone and answered as it is).
//
// A group holds all its conversations' locks until its COMMIT, so a send, an inbound
// or a close on one of them that waits in another order can deadlock with it; PostgreSQL then
// rolls one of the two back. Nothing of a rolled-back group was written, so it is tried again
// (at most groupAttempts times) rather than failing the broadcast's run, which would put its
// job into River's retry backoff for seconds.
func (s *Store) SendToRecipients(ctx context.Context, in []conversation.RecipientSend) ([]conversation.RecipientStatus, error) {
	for attempt := 1; ; attempt++ {
		out, err := s.sendToRecipients(ctx, in)
		if attempt < groupAttempts && lostToConcurrent(err) {
			continue
		}
		return out, err
	}
}

// groupAttempts bounds how often SendToRecipients tries a group that lost a deadlock.
const groupAttempts = 3

func (s *Store) sendToRecipients(ctx context.Context, in []conversation.RecipientSend) ([]conversation.RecipientStatus, error) {
	if len(in) == 0 {
		return nil, nil
	}
	out := make([]conversation.RecipientStatus, len(in))
	ws := in[0].WorkspaceID
	err := s.pgxTx(ctx, func(tx pgx.Tx) (*batch, error) {
		status, err := lockRecipients(ctx, tx, in)
		if err != nil {
			return nil, err
		}
		var held []pending
		var deliveries []river.JobArgs
		last := &batch{}
		for k, r := range in {
			st, ok := status[r.ContactID]
			if !ok {
				out[k] = conversation.RecipientFailed // the broadcast is gone
				continue
			}
			if out[k] = st; st != conversation.RecipientPending {
				continue // sent, refused or failed already: by a run that died after its commit
			}
			_, _, b, err := s.send(ctx, tx, r.Send, func(b *batch, o conversation.Sent, evs []pending) ([]pending, error) {
				decision, err := toNullJSON(&o.Decision)
				if err != nil {
					return nil, err
				}
				b.exec("mark recipient sent", statement{markRecipientSQL, []any{string(conversation.RecipientSent), jsonArg(decision),
					o.Message.ID, nil, r.Send.Now, r.WorkspaceID, r.BroadcastID, r.ContactID}})
				held = append(held, evs...)
				deliveries = append(deliveries, dispatch.Args{WorkspaceID: ws, MessageID: o.Message.ID})
				return nil, nil
			}, sendGrouped)
			if err == nil {
				out[k] = conversation.RecipientSent
				if b != nil { // nil: the writes went out already (a counted send)
					last.append(b)
				}
				continue
			}
			st, mark, err := unsentRecipient(r, err)
			if err != nil {
				return nil, err
			}
			out[k] = st
			last.exec("mark recipient "+string(st), mark)
		}
		if len(deliveries) > 0 {
			if err := s.queue.InsertManyTx(ctx, tx, deliveries...); err != nil {
				return nil, fmt.Errorf("enqueue deliveries: %w", err)
			}
		}
		return last, s.queuePublish(last, ws, held)
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

// lockRecipientsSQL locks a group's recipient rows, in contact id order (the order a group is
// given in, so two runs of one broadcast take them in the same order): whoever holds one is
// the one sending to it. They are taken before the sends' locks (conversations, identities);
// nothing else locks recipients.
const lockRecipientsSQL = `
SELECT contact_id, status FROM broadcast_recipients
WHERE workspace_id = $1 AND broadcast_id = $2 AND contact_id = ANY($3)
ORDER BY contact_id
FOR UPDATE`

// lockRecipients locks a group's recipients in one statement and answers their statuses by
// contact; a recipient missing from the answer is gone with its broadcast.
func lockRecipients(ctx context.Context, tx pgx.Tx, in []conversation.RecipientSend) (map[uuid.UUID]conversation.RecipientStatus, error) {
	ids := make([]uuid.UUID, len(in))
	for k, r := range in {
		ids[k] = r.ContactID
	}
	rows, _ := tx.Query(ctx, lockRecipientsSQL, in[0].WorkspaceID, in[0].BroadcastID, ids)
	found, err := collect[struct {
		ContactID uuid.UUID
		Status    string
	}](rows, len(in))
	if err != nil {
		return nil, fmt.Errorf("lock recipients: %w", err)
	}
	out := make(map[uuid.UUID]conversation.RecipientStatus, len(found))
	for _, r := range found {
		out[r.ContactID] = conversation.RecipientStatus(r.Status)
	}
	return out, nil
}

// unsentRecipient is the status and the update of a recipient whose send was not made: refused
// by the rules (with the decision), refused for want of an identity on the channel, or failed
// for another reason the send could not be made (an errkind error). Any other error is
// returned: the transaction must roll back.
func unsentRecipient(r conversation.RecipientSend, why error) (conversation.RecipientStatus, statement, error) {
	var decision *rules.Result
	var status conversation.RecipientStatus
	var code string
	if ref, ok := conversation.IsRefusal(why); ok {
		status, code = conversation.RecipientRefused, ref.Code
		if ref.Decision.RuleVersion != "" {
			d := ref.Decision
			decision = &d
		}
	} else if e, ok := errkind.As(why); ok && !errors.Is(why, conversation.ErrQuotaRace) {
		status, code = conversation.RecipientFailed, e.Code
		if e.Kind == errkind.KindRefused {
			status = conversation.RecipientRefused // no_channel_identity: the rules' kind, without a decision
		}
	} else {
		return "", statement{}, why
	}
	dj, err := toNullJSON(decision)
	if err != nil {
		return "", statement{}, err
	}
	return status, statement{markRecipientSQL, []any{string(status), jsonArg(dj), nil, code, r.Send.Now, r.WorkspaceID,
		r.BroadcastID, r.ContactID}}, nil
}

// AddBroadcastCounts adds a batch's outcomes to the broadcast's counts and answers it (its
// status says whether it was cancelled meanwhile).
func (s *Store) AddBroadcastCounts(ctx context.Context, ws, id uuid.UUID, add conversation.BroadcastCounts, now time.Time) (conversation.Broadcast, error) {
	const q = `
UPDATE broadcasts SET sent = sent + $1, refused = refused + $2, failed = failed + $3, updated_at = $4
WHERE workspace_id = $5 AND id = $6
RETURNING ` + broadcastColumns
	r, err := queryRow[broadcastRow](ctx, s.Pool, q, add.Sent, add.Refused, add.Failed, now, ws, id)
	if isNotFound(err) {
		return conversation.Broadcast{}, conversation.ErrBroadcastNotFound
	}
	if err != nil {
		return conversation.Broadcast{}, fmt.Errorf("count broadcast: %w", err)
	}
	return r.domain(), nil
}

// FinishBroadcast counts the recipients again and marks a running broadcast done, with event
// broadcast.completed (the broadcast as payload), in one transaction; one cancelled meanwhile
// keeps its status.
func (s *Store) FinishBroadcast(ctx context.Context, ws, id uuid.UUID, now time.Time) (conversation.Broadcast, error) {
	var out conversation.Broadcast
	err := s.pgxTx(ctx, func(tx pgx.Tx) (*batch, error) {
		if _, err := tx.Exec(ctx, recountSQL, ws, id, now); err != nil {
			return nil, fmt.Errorf("count recipients: %w", err)
		}
		const q = `
UPDATE broadcasts SET status = 'done', updated_at = $1 WHERE workspace_id = $2 AND id = $3 AND status = 'running'
RETURNING ` + broadcastColumns
		r, err := queryRow[broadcastRow](ctx, tx, q, now, ws, id)
		if isNotFound(err) {
			return nil, nil // cancelled (or done by another run)
		}
		if err != nil {
			return nil, fmt.Errorf("finish broadcast: %w", err)
		}
		out = r.domain()
		b := &batch{}
		return b, s.queuePublish(b, ws, []pending{{typ: event.BroadcastCompleted, v: out}})
	})
	return out, err
}
