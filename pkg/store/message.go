package store

import (
	"context"
	"fmt"
	"time"

	"github.com/google/uuid"

	"github.com/switchboard/switchboard/pkg/conversation"
	"github.com/switchboard/switchboard/pkg/page"
)

// messageRow is a message as stored.
type messageRow struct {
	WorkspaceID       uuid.UUID
	ID                uuid.UUID
	ConversationID    uuid.UUID
	ContactID         uuid.UUID
	ChannelID         *uuid.UUID // NULL for a note
	IdentityID        *uuid.UUID
	Direction         string
	Type              string
	Text              string
	Attachments       nullJSON
	Template          nullJSON
	Tag               *string
	SenderKind        string
	SenderID          *uuid.UUID
	Status            string
	Billable          bool
	ProviderMessageID *string
	ExternalID        *string
	ErrorCode         *string
	ErrorMessage      *string
	Attempts          int
	LastAttemptAt     *time.Time
	Mentions          []uuid.UUID // a note's; NULL for other messages
	CreatedAt         time.Time
	UpdatedAt         time.Time
}

// messageColumns are messageRow's columns, of messages m: every read of a message (one, a
// thread, an ingested or changed one, a delivery) reads these, so no read can leave one out.
const messageColumns = `m.workspace_id, m.id, m.conversation_id, m.contact_id, m.channel_id, m.identity_id,
       m.direction, m.type, m.text, m.attachments, m.template, m.tag, m.sender_kind, m.sender_id, m.status, m.billable,
       m.provider_message_id, m.external_id, m.error_code, m.error_message, m.attempts, m.last_attempt_at,
       m.mentions, m.created_at, m.updated_at`

func (r messageRow) domain() conversation.Message {
	return conversation.Message{WorkspaceID: r.WorkspaceID, ID: r.ID, ConversationID: r.ConversationID,
		ContactID: r.ContactID, ChannelID: idOrNil(r.ChannelID), IdentityID: r.IdentityID,
		Direction: conversation.Direction(r.Direction), Type: conversation.MessageType(r.Type), Text: r.Text,
		Attachments: attachmentsOf(r.Attachments), Template: fromNullJSON[conversation.TemplateRef](r.Template),
		Tag: r.Tag, Sender: actorOf(r.SenderKind, r.SenderID), Status: conversation.MessageStatus(r.Status),
		Billable: r.Billable, ProviderMessageID: r.ProviderMessageID, ExternalID: r.ExternalID, ErrorCode: r.ErrorCode,
		ErrorMessage: r.ErrorMessage, Attempts: r.Attempts, LastAttemptAt: r.LastAttemptAt, Mentions: r.Mentions,
		CreatedAt: r.CreatedAt, UpdatedAt: r.UpdatedAt}
}

func toMessageRow(m conversation.Message) (messageRow, error) {
	var att nullJSON
	var err error
	if len(m.Attachments) > 0 {
		att, err = toNullJSON(&m.Attachments)
	}
	if err != nil {
		return messageRow{}, err
	}
	tpl, err := toNullJSON(m.Template)
	if err != nil {
		return messageRow{}, err
	}
	return messageRow{WorkspaceID: m.WorkspaceID, ID: m.ID, ConversationID: m.ConversationID, ContactID: m.ContactID,
		ChannelID: nilIfZero(m.ChannelID), IdentityID: m.IdentityID, Direction: string(m.Direction), Type: string(m.Type),
		Text: m.Text, Attachments: att, Template: tpl, Tag: m.Tag, SenderKind: string(m.Sender.Kind),
		SenderID: actorID(m.Sender), Status: string(m.Status), Billable: m.Billable,
		ProviderMessageID: m.ProviderMessageID, ExternalID: m.ExternalID, ErrorCode: m.ErrorCode,
		ErrorMessage: m.ErrorMessage, Attempts: m.Attempts, LastAttemptAt: m.LastAttemptAt, Mentions: m.Mentions,
		CreatedAt: m.CreatedAt, UpdatedAt: m.UpdatedAt}, nil
}

const insertMessageSQL = `
INSERT INTO messages (workspace_id, id, conversation_id, contact_id, channel_id, identity_id, direction, type, text,
                      attachments, template, tag, sender_kind, sender_id, status, billable, provider_message_id,
                      external_id, error_code, error_message, attempts, last_attempt_at, mentions, created_at, updated_at)
VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10::jsonb, $11::jsonb, $12, $13, $14, $15, $16, $17, $18, $19, $20, $21, $22, $23, $24, $25)`

// messageInsert stores a message, every column as the message has it.
func messageInsert(m conversation.Message) (statement, error) {
	r, err := toMessageRow(m)
	if err != nil {
		return statement{}, err
	}
	return statement{insertMessageSQL, []any{r.WorkspaceID, r.ID, r.ConversationID, r.ContactID, r.ChannelID, r.IdentityID,
		r.Direction, r.Type, r.Text, jsonArg(r.Attachments), jsonArg(r.Template), r.Tag, r.SenderKind, r.SenderID, r.Status,
		r.Billable, r.ProviderMessageID, r.ExternalID, r.ErrorCode, r.ErrorMessage, r.Attempts, r.LastAttemptAt,
		r.Mentions, r.CreatedAt, r.UpdatedAt}}, nil
}

// attachmentsOf is a message's attachments column as the domain has it: nil for NULL.
func attachmentsOf(j nullJSON) []conversation.Attachment {
	if a := fromNullJSON[[]conversation.Attachment](j); a != nil {
		return *a
	}
	return nil
}

// idOrNil is a nullable id column as the domain has it: uuid.Nil for NULL.
func idOrNil(id *uuid.UUID) uuid.UUID {
	if id == nil {
		return uuid.Nil
	}
	return *id
}

// nilIfZero is an id for a nullable column: NULL for uuid.Nil.
func nilIfZero(id uuid.UUID) *uuid.UUID {
	if id == uuid.Nil {
		return nil
	}
	return &id
}

// jsonArg passes raw JSON to a jsonb parameter; nil is NULL.
func jsonArg(j nullJSON) any {
	if j == nil {
		return nil
	}
	return []byte(j)
}

// messageByID reads one message.
func messageByID(ws, id uuid.UUID) statement {
	return statement{`SELECT ` + messageColumns + ` FROM messages m WHERE m.workspace_id = $1 AND m.id = $2`, []any{ws, id}}
}

// Message returns one message of the workspace.
func (s *Store) Message(ctx context.Context, ws, id uuid.UUID) (conversation.Message, error) {
	st := messageByID(ws, id)
	r, err := queryRow[messageRow](ctx, s.Pool, st.sql, st.args...)
	if isNotFound(err) {
		return conversation.Message{}, conversation.ErrMessageNotFound
	}
	if err != nil {
		return conversation.Message{}, fmt.Errorf("get message: %w", err)
	}
	return r.domain(), nil
}

type conversationCursor struct {
	At time.Time `json:"t"`
	ID uuid.UUID `json:"id"`
}

// threadOrder pages a conversation's messages newest first, by (created_at, id).
var threadOrder = keyset[messageRow, conversationCursor]{
	key:   func(r messageRow) conversationCursor { return conversationCursor{At: r.CreatedAt, ID: r.ID} },
	valid: func(c conversationCursor) bool { return !c.At.IsZero() && c.ID != uuid.Nil },
}

// Messages lists a conversation's messages newest first.
func (s *Store) Messages(ctx context.Context, ws, id uuid.UUID, p page.Request) ([]conversation.Message, string, error) {
	if err := s.conversationExists(ctx, ws, id); err != nil {
		return nil, "", err
	}
	return list(threadOrder, p, func(after *conversationCursor, limit int) ([]messageRow, error) {
		var args params
		q := `SELECT ` + messageColumns + `
FROM messages m
WHERE m.workspace_id = ` + args.add(ws) + ` AND m.conversation_id = ` + args.add(id)
		if after != nil {
			q += ` AND (m.created_at, m.id) < (` + args.add(after.At) + `, ` + args.add(after.ID) + `)`
		}
		q += `
ORDER BY m.created_at DESC, m.id DESC
LIMIT ` + args.add(limit)
		rows, _ := s.Pool.Query(ctx, q, args...)
		found, err := collect[messageRow](rows, limit)
		if err != nil {
			return nil, fmt.Errorf("list messages: %w", err)
		}
		return found, nil
	}, messageRow.domain)
}
