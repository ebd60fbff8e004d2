package tenant

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"time"
)

// ErrHarborDeleted means a harbor id belonged to a deleted harbor. Its
// readings are still stored under that id (in ClickHouse, and in the stream
// for replays), so the id stays reserved: a new harbor with it would read
// them.
var ErrHarborDeleted = errors.New("harbor id reserved")

// Tombstone is what a deleted harbor leaves at "tombstones.H": the harbor as
// it was, and when it was deleted. It keeps the id from being used again.
type Tombstone struct {
	Harbor
	DeletedAt time.Time `json:"deleted_at"`
}

// bury leaves the tombstone of harbor h, before the harbor itself goes.
func (s *Store) bury(ctx context.Context, h Harbor) error {
	b, _ := json.Marshal(Tombstone{Harbor: h, DeletedAt: time.Now().UTC().Truncate(time.Second)})
	if _, err := s.kv.Put(ctx, "tombstones."+h.ID, b); err != nil {
		return fmt.Errorf("store the tombstone of harbor %s: %w", h.ID, err)
	}
	return nil
}

// checkNotDeleted refuses the id of a deleted harbor with ErrHarborDeleted.
func (s *Store) checkNotDeleted(ctx context.Context, id string) error {
	var ts Tombstone
	err := s.get(ctx, "tombstones."+id, &ts, ErrHarborNotFound)
	if errors.Is(err, ErrHarborNotFound) {
		return nil
	}
	if err != nil {
		return err
	}
	return fmt.Errorf("%w: harbor %s was deleted on %s, and its readings are still stored under that id (a new harbor with it would read them): choose another id",
		ErrHarborDeleted, id, ts.DeletedAt.Format(time.RFC3339))
}
