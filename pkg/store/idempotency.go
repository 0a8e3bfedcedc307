package store

import (
	"bytes"
	"fmt"
	"time"

	"github.com/google/uuid"
	"gorm.io/gorm"

	"github.com/switchboard/switchboard/pkg/conversation"
	"github.com/switchboard/switchboard/pkg/errkind"
)

// IdempotencyTTL is how long a key's answer is kept for replay.
const IdempotencyTTL = 24 * time.Hour

// ErrIdempotencyKeyReused means the key was first used for a different request.
var ErrIdempotencyKeyReused = errkind.New(errkind.KindInvalid, "idempotency_key_reused",
	"This Idempotency-Key was used for a different request; use a new key for a new request.")

// claimIdempotency reserves the key inside tx, before any other work. When the key is taken,
// it returns the stored answer: the INSERT waits on the unique index while another
// transaction holds the same key, so a concurrent duplicate replays the first answer once it
// commits, and takes over the key if the first rolls back. An expired record is reused.
func claimIdempotency(tx *gorm.DB, ws uuid.UUID, in conversation.Idempotency, now time.Time) (*conversation.Replay, error) {
	const claim = `
INSERT INTO idempotency_keys (workspace_id, key, request_hash, created_at, expires_at)
VALUES (?, ?, ?, ?, ?)
ON CONFLICT (workspace_id, key) DO UPDATE
    SET request_hash = EXCLUDED.request_hash, response_status = NULL, response_body = NULL,
        created_at = EXCLUDED.created_at, expires_at = EXCLUDED.expires_at
    WHERE idempotency_keys.expires_at <= EXCLUDED.created_at
RETURNING key`
	var claimed []string
	if err := tx.Raw(claim, ws, in.Key, in.Hash, now, now.Add(IdempotencyTTL)).Scan(&claimed).Error; err != nil {
		return nil, fmt.Errorf("claim idempotency key: %w", err)
	}
	if len(claimed) == 1 {
		return nil, nil
	}
	var row struct {
		RequestHash    []byte
		ResponseStatus *int
		ResponseBody   []byte
	}
	if err := tx.Raw(`SELECT request_hash, response_status, response_body FROM idempotency_keys WHERE workspace_id = ? AND key = ?`,
		ws, in.Key).Scan(&row).Error; err != nil {
		return nil, fmt.Errorf("read idempotency key: %w", err)
	}
	if !bytes.Equal(row.RequestHash, in.Hash) {
		return nil, ErrIdempotencyKeyReused
	}
	if row.ResponseStatus == nil {
		// Only reachable if a record was committed without its answer, which the send path
		// never does; refuse rather than run the request twice.
		return nil, errkind.New(errkind.KindConflict, "idempotency_in_progress", "A request with this Idempotency-Key is still in progress.")
	}
	return &conversation.Replay{Status: *row.ResponseStatus, Body: row.ResponseBody}, nil
}

// saveIdempotency stores the answer for the key claimed in the same transaction.
func saveIdempotency(tx *gorm.DB, ws uuid.UUID, key string, status int, body []byte) error {
	err := tx.Exec(`UPDATE idempotency_keys SET response_status = ?, response_body = ? WHERE workspace_id = ? AND key = ?`,
		status, body, ws, key).Error
	if err != nil {
		return fmt.Errorf("save idempotent answer: %w", err)
	}
	return nil
}

// PurgeIdempotency deletes expired records, at most limit at a time.
func (s *Store) PurgeIdempotency(limit int) (int64, error) {
	res := s.db.Exec(`DELETE FROM idempotency_keys WHERE ctid IN (SELECT ctid FROM idempotency_keys WHERE expires_at < ? LIMIT ?)`, s.Now(), limit)
	if res.Error != nil {
		return 0, fmt.Errorf("purge idempotency keys: %w", res.Error)
	}
	return res.RowsAffected, nil
}
