package store

import (
	"context"
	"encoding/json"
	"fmt"
	"strconv"
	"time"

	"github.com/google/uuid"

	"github.com/switchboard/switchboard/pkg/conversation"
	"github.com/switchboard/switchboard/pkg/event"
)

// Customers' files on their way into the media store (dispatch.Fetcher): ingestion gives the
// media a webhook stored to the message's contact and inserts a fetch job per pending
// attachment (ingestOnce); the fetch settles the attachment here.

// settleAttachmentSQL replaces attachment $3 of a message while it is pending. The UPDATE
// locks the row, and the status is checked on its latest version, so two runs of a fetch
// settle it once.
const settleAttachmentSQL = `
UPDATE messages m SET attachments = jsonb_set(m.attachments, ARRAY[$4::text], $5::jsonb), updated_at = $6
WHERE m.workspace_id = $1 AND m.id = $2 AND m.attachments -> $3::int ->> 'status' = 'pending'`

// SettleAttachment replaces the message's attachment at index with a (ready or failed) if it
// is still pending, and publishes message.updated with the message, in one transaction. It
// reports whether it did: false when another run settled it first, or the message went.
func (s *Store) SettleAttachment(ctx context.Context, ws, id uuid.UUID, index int, a conversation.Attachment, at time.Time) (bool, error) {
	b, err := json.Marshal(a)
	if err != nil {
		return false, fmt.Errorf("encode attachment: %w", err)
	}
	n, err := s.changeMessages(ctx, statement{settleAttachmentSQL, []any{ws, id, index, strconv.Itoa(index), string(b), at}},
		event.MessageUpdated)
	if err != nil {
		return false, fmt.Errorf("settle attachment: %w", err)
	}
	return n > 0, nil
}

// DeleteMedia deletes a media row; its blob goes with the media sweep unless another row of
// the workspace shares it. Deleting none is no error.
func (s *Store) DeleteMedia(ctx context.Context, ws, id uuid.UUID) error {
	if _, err := s.Pool.Exec(ctx, `DELETE FROM media WHERE workspace_id = $1 AND id = $2`, ws, id); err != nil {
		return fmt.Errorf("delete media: %w", err)
	}
	return nil
}

// adoptMediaSQL gives the message's contact the media a webhook stored before the contact was
// known (an email's parts, stored without one): deleting the contact then deletes them.
// Media that already has an owner is left as it is.
const adoptMediaSQL = `
UPDATE media SET contact_id = $3 WHERE workspace_id = $1 AND id = ANY($2::uuid[]) AND contact_id IS NULL`

// queueAdoptMedia queues adoptMediaSQL for the stored media of an ingested message, if any.
func queueAdoptMedia(b *batch, m conversation.Message) {
	var ids []uuid.UUID
	for _, a := range m.Attachments {
		if a.MediaID != nil {
			ids = append(ids, *a.MediaID)
		}
	}
	if len(ids) > 0 {
		b.exec("give media to the contact", statement{adoptMediaSQL, []any{m.WorkspaceID, ids, m.ContactID}})
	}
}
