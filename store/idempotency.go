package store

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
)

// IdempotencyTTL is how long an Idempotency-Key and its answer are kept.
// A retry comes within minutes; a day covers a clerk who retries the next
// morning, and after it the same key starts a new request.
const IdempotencyTTL = 24 * time.Hour

// IdempotencyLease is how long a claimed key may stay unanswered before
// another request may take it over. It only matters when the process that
// claimed the key died mid-request; every request ends well within it.
const IdempotencyLease = 2 * time.Minute

// IdempotencyState is what ClaimIdempotencyKey found.
type IdempotencyState int

// The states of a claimed key.
const (
	// IdempotencyNew: the caller holds the key and must answer, then call
	// CompleteIdempotencyKey or ReleaseIdempotencyKey with the claim.
	IdempotencyNew IdempotencyState = iota
	// IdempotencyDone: the first request was answered; replay Response.
	IdempotencyDone
	// IdempotencyBusy: the first request is still being answered.
	IdempotencyBusy
	// IdempotencyMismatch: the key was used for a different request.
	IdempotencyMismatch
)

// IdempotencyClaim is the outcome of claiming a key.
type IdempotencyClaim struct {
	State IdempotencyState
	// Claim identifies the holder when State is IdempotencyNew.
	Claim string
	// Response is the first answer when State is IdempotencyDone.
	Response *IdempotentResponse
}

// IdempotentResponse is an answer kept to be replayed.
type IdempotentResponse struct {
	Status int
	Header map[string]string
	Body   []byte
}

// ClaimIdempotencyKey claims key for userID's request with the given
// fingerprint, or reports that the key already answered, is being
// answered, or belongs to another request. Keys older than IdempotencyTTL
// are pruned first, so they start afresh.
func (db *DB) ClaimIdempotencyKey(ctx context.Context, userID int64, key string, fingerprint []byte) (*IdempotencyClaim, error) {
	now := db.Now()
	if _, err := db.Pool.Exec(ctx, `DELETE FROM idempotency_keys WHERE created_at < $1`, now.Add(-IdempotencyTTL)); err != nil {
		return nil, fmt.Errorf("prune idempotency keys: %w", err)
	}
	claim := uuid.NewString()
	var out *IdempotencyClaim
	err := pgx.BeginFunc(ctx, db.Pool, func(tx pgx.Tx) error {
		// A key released between our insert and our read is gone again:
		// try the insert once more rather than report a state it no
		// longer has.
		for range 3 {
			// A concurrent insert of the same key waits here for the other
			// transaction, so exactly one of two simultaneous requests wins.
			tag, err := tx.Exec(ctx, `
				INSERT INTO idempotency_keys (user_id, key, fingerprint, claim, created_at, claimed_at)
				VALUES ($1, $2, $3, $4, $5, $5)
				ON CONFLICT (user_id, key) DO NOTHING`, userID, key, fingerprint, claim, now)
			if err != nil {
				return err
			}
			if tag.RowsAffected() == 1 {
				out = &IdempotencyClaim{State: IdempotencyNew, Claim: claim}
				return nil
			}
			var fp, header, body []byte
			var status *int
			var claimedAt time.Time
			err = tx.QueryRow(ctx, `
				SELECT fingerprint, status, header, body, claimed_at
				FROM idempotency_keys WHERE user_id = $1 AND key = $2
				FOR UPDATE`, userID, key).Scan(&fp, &status, &header, &body, &claimedAt)
			if errors.Is(err, pgx.ErrNoRows) {
				continue
			} else if err != nil {
				return err
			}
			switch {
			case !bytes.Equal(fp, fingerprint):
				out = &IdempotencyClaim{State: IdempotencyMismatch}
			case status != nil:
				r := &IdempotentResponse{Status: *status, Body: body}
				if len(header) > 0 {
					if err := json.Unmarshal(header, &r.Header); err != nil {
						return fmt.Errorf("decode kept header: %w", err)
					}
				}
				out = &IdempotencyClaim{State: IdempotencyDone, Response: r}
			case claimedAt.After(now.Add(-IdempotencyLease)):
				out = &IdempotencyClaim{State: IdempotencyBusy}
			default:
				// The holder died without answering: nothing it did was
				// acknowledged, so this request may do the work.
				if _, err := tx.Exec(ctx, `
					UPDATE idempotency_keys SET claim = $3, claimed_at = $4
					WHERE user_id = $1 AND key = $2`, userID, key, claim, now); err != nil {
					return err
				}
				out = &IdempotencyClaim{State: IdempotencyNew, Claim: claim}
			}
			return nil
		}
		return fmt.Errorf("idempotency key %q keeps vanishing", key)
	})
	if err != nil {
		return nil, fmt.Errorf("claim idempotency key: %w", err)
	}
	return out, nil
}

// CompleteIdempotencyKey keeps the answer to the request holding claim on
// key, to be replayed to retries. It returns an error when the claim was
// lost (taken over after IdempotencyLease).
func (db *DB) CompleteIdempotencyKey(ctx context.Context, userID int64, key, claim string, r IdempotentResponse) error {
	header, err := json.Marshal(r.Header)
	if err != nil {
		return err
	}
	tag, err := db.Pool.Exec(ctx, `
		UPDATE idempotency_keys SET status = $4, header = $5, body = $6
		WHERE user_id = $1 AND key = $2 AND claim = $3 AND status IS NULL`,
		userID, key, claim, r.Status, header, r.Body)
	if err != nil {
		return fmt.Errorf("complete idempotency key: %w", err)
	}
	if tag.RowsAffected() == 0 {
		return fmt.Errorf("complete idempotency key %q: the claim was lost", key)
	}
	return nil
}

// ReleaseIdempotencyKey forgets a key whose request did not complete (a
// server error), so that a retry does the work instead of replaying the
// failure.
func (db *DB) ReleaseIdempotencyKey(ctx context.Context, userID int64, key, claim string) error {
	_, err := db.Pool.Exec(ctx, `
		DELETE FROM idempotency_keys
		WHERE user_id = $1 AND key = $2 AND claim = $3 AND status IS NULL`, userID, key, claim)
	if err != nil {
		return fmt.Errorf("release idempotency key: %w", err)
	}
	return nil
}
