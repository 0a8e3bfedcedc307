package store

import (
	"bytes"
	"context"
	"fmt"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"

	"github.com/switchboard/switchboard/pkg/conversation"
	"github.com/switchboard/switchboard/pkg/errkind"
)

// IdempotencyTTL is how long a key's answer is kept for replay.
const IdempotencyTTL = 24 * time.Hour

// ErrIdempotencyKeyReused means the key was first used for a different request.
var ErrIdempotencyKeyReused = errkind.New(errkind.KindInvalid, "idempotency_key_reused",
	"This Idempotency-Key was used for a different request; use a new key for a new request.")

// claimIdempotency reserves the key inside tx, before any other work (send queues the answer
// with its writes). When the key is taken, it returns the stored answer: the INSERT waits on the unique index while another
// transaction holds the same key, so a concurrent duplicate replays the first answer once it
// commits, and takes over the key if the first rolls back. An expired record is reused.
func claimIdempotency(ctx context.Context, tx pgx.Tx, ws uuid.UUID, in conversation.Idempotency, now time.Time) (*conversation.Replay, error) {
	const claim = `
INSERT INTO idempotency_keys (workspace_id, key, request_hash, created_at, expires_at)
VALUES ($1, $2, $3, $4, $5)
ON CONFLICT (workspace_id, key) DO UPDATE
    SET request_hash = EXCLUDED.request_hash, response_status = NULL, response_body = NULL,
        created_at = EXCLUDED.created_at, expires_at = EXCLUDED.expires_at
    WHERE idempotency_keys.expires_at <= EXCLUDED.created_at
RETURNING key`
	// A batch of one, so that the transaction's BEGIN goes with it (see lazyTx).
	var claimed bool
	var key struct{ Key string }
	b := &batch{}
	queueRow(b, "claim idempotency key", &key, &claimed, statement{claim, []any{ws, in.Key, in.Hash, now, now.Add(IdempotencyTTL)}})
	if err := b.send(ctx, tx); err != nil {
		return nil, err
	}
	if claimed {
		return nil, nil
	}
	const read = `
SELECT request_hash, response_status, response_body FROM idempotency_keys WHERE workspace_id = $1 AND key = $2`
	stored, err := queryRow[storedAnswer](ctx, tx, read, ws, in.Key)
	if err != nil && !isNotFound(err) {
		return nil, fmt.Errorf("read idempotency key: %w", err)
	}
	hash, status, body := stored.RequestHash, stored.ResponseStatus, stored.ResponseBody
	if !bytes.Equal(hash, in.Hash) {
		return nil, ErrIdempotencyKeyReused
	}
	if status == nil {
		// Only reachable if a record was committed without its answer, which the send path
		// never does; refuse rather than run the request twice.
		return nil, errkind.New(errkind.KindConflict, "idempotency_in_progress", "A request with this Idempotency-Key is still in progress.")
	}
	return &conversation.Replay{Status: *status, Body: body}, nil
}

// storedAnswer is a claimed key's request and answer.
type storedAnswer struct {
	RequestHash    []byte
	ResponseStatus *int
	ResponseBody   []byte
}

// PurgeIdempotency deletes expired records, at most limit at a time.
func (s *Store) PurgeIdempotency(ctx context.Context, limit int) (int64, error) {
	tag, err := s.Pool.Exec(ctx, `
DELETE FROM idempotency_keys WHERE ctid IN (SELECT ctid FROM idempotency_keys WHERE expires_at < $1 LIMIT $2)`, s.Now(), limit)
	if err != nil {
		return 0, fmt.Errorf("purge idempotency keys: %w", err)
	}
	return tag.RowsAffected(), nil
}
