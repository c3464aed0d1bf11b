// Package store keeps the experiment config: layers, experiments, variants,
// their bucket allocations and overrides, every change versioned and
// audited. Store is the interface; Memory is the in-process backend and
// Postgres the real one; storetest is the contract both pass.
package store

import (
	"context"
	"encoding/json"
	"fmt"
	"time"

	"github.com/recmesh/recmesh/pkg/abtest"
	"github.com/recmesh/recmesh/pkg/apierr"
)

// Change is one admin change: Apply edits a copy of the current config.
type Change struct {
	// Actor is who made the change; Action names it (e.g. "add_experiment").
	Actor, Action string
	// Detail is recorded in the audit log (the request, typically).
	Detail any
	Apply  func(*abtest.Config) error
}

// AuditEntry is one recorded change.
type AuditEntry struct {
	ID      int64           `json:"id"`
	Version int64           `json:"version"`
	At      time.Time       `json:"at"`
	Actor   string          `json:"actor"`
	Action  string          `json:"action"`
	Detail  json.RawMessage `json:"detail"`
}

// Store is the experiment config's storage.
type Store interface {
	// Load returns the current config; an empty store holds version 0.
	Load(ctx context.Context) (*abtest.Config, error)
	// Version is the current version, cheaply.
	Version(ctx context.Context) (int64, error)
	// Update applies ch to the current config atomically: the result is
	// validated, stored as the next version and audited, or nothing is
	// written at all.
	Update(ctx context.Context, ch Change) (*abtest.Config, error)
	// Audit returns up to limit entries, newest first.
	Audit(ctx context.Context, limit int) ([]AuditEntry, error)
}

// next is the config ch makes of cur: a deep copy with ch applied, the
// version bumped, and validated.
func next(cur *abtest.Config, ch Change) (*abtest.Config, []byte, error) {
	c, err := Clone(cur)
	if err != nil {
		return nil, nil, err
	}
	if err := ch.Apply(c); err != nil {
		return nil, nil, err
	}
	if err := c.Validate(); err != nil {
		return nil, nil, apierr.Invalid("%v", err)
	}
	c.Version = cur.Version + 1
	detail, err := json.Marshal(ch.Detail)
	if err != nil {
		return nil, nil, fmt.Errorf("audit detail: %w", err)
	}
	return c, detail, nil
}

// Clone deep-copies a config.
func Clone(c *abtest.Config) (*abtest.Config, error) {
	b, err := json.Marshal(c)
	if err != nil {
		return nil, err
	}
	var out abtest.Config
	if err := json.Unmarshal(b, &out); err != nil {
		return nil, err
	}
	return &out, nil
}

// Seed stores cfg as the first version when the store is still empty, and
// does nothing otherwise. It reports whether it seeded.
func Seed(ctx context.Context, s Store, cfg *abtest.Config, actor string) (bool, error) {
	v, err := s.Version(ctx)
	if err != nil || v > 0 {
		return false, err
	}
	_, err = s.Update(ctx, Change{Actor: actor, Action: "seed", Detail: cfg, Apply: func(c *abtest.Config) error {
		if c.Version != 0 { // another instance seeded first
			return errAlreadySeeded
		}
		c.Defaults, c.Layers = cfg.Defaults, cfg.Layers
		return nil
	}})
	if err == errAlreadySeeded {
		return false, nil
	}
	return err == nil, err
}

var errAlreadySeeded = fmt.Errorf("already seeded")
