package store

import (
	"context"
	"fmt"
)

var _ Users = (*RealTime)(nil)

// userKeys are every key RealTime keeps for the user.
func (r *RealTime) userKeys(user string) []string {
	return []string{r.key("recent", user), r.key("seen", user), r.key("count", user), r.key("exposed", user), r.key("profile", user), r.key("eventids", user)}
}

// PutProfile implements Users: the hash is replaced in one MULTI/EXEC.
func (r *RealTime) PutProfile(ctx context.Context, user string, profile map[string]string) error {
	k := r.key("profile", user)
	p := r.rdb.TxPipeline()
	p.Del(ctx, k)
	if len(profile) > 0 {
		p.HSet(ctx, k, profile)
	}
	if _, err := p.Exec(ctx); err != nil {
		return fmt.Errorf("redis profile of %s: %w", user, err)
	}
	return nil
}

// ForgetUser implements Users: it deletes every key of the user. Redis
// keeps no event log, so it counts the events by the user's counter and
// the exposures by their set.
func (r *RealTime) ForgetUser(ctx context.Context, user string) (Forgotten, error) {
	p := r.rdb.TxPipeline()
	count := p.Get(ctx, r.key("count", user))
	exposed := p.ZCard(ctx, r.key("exposed", user))
	p.Del(ctx, r.userKeys(user)...)
	if _, err := p.Exec(ctx); err != nil && count.Err() == nil {
		return Forgotten{}, fmt.Errorf("redis forget %s: %w", user, err)
	}
	n, _ := count.Int64()
	return Forgotten{Events: n, Exposures: exposed.Val()}, nil
}
