package store

import (
	"context"
	"embed"
	"encoding/json"
	"fmt"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/recmesh/recmesh/pkg/abtest"
	"github.com/recmesh/recmesh/pkg/migrate"
)

// Migrations are the versioned schema of the PostgreSQL backend.
//
//go:embed migrations/*.sql
var migrations embed.FS

// Migrate applies the experiment schema migrations not yet applied.
func Migrate(ctx context.Context, pool *pgxpool.Pool) ([]string, error) {
	return migrate.Apply(ctx, pool, "experiment", migrations, "migrations")
}

// Postgres is the Store on PostgreSQL. A change locks exp_state, reads the
// config, applies and validates the change, rewrites the rows, bumps the
// version and appends the audit entry, all in one transaction.
type Postgres struct{ pool *pgxpool.Pool }

// NewPostgres returns a store over pool; the schema must be migrated.
func NewPostgres(pool *pgxpool.Pool) *Postgres { return &Postgres{pool: pool} }

// Version implements Store.
func (p *Postgres) Version(ctx context.Context) (int64, error) {
	var v int64
	if err := p.pool.QueryRow(ctx, `SELECT version FROM exp_state WHERE id = 1`).Scan(&v); err != nil {
		return 0, fmt.Errorf("experiment config version: %w", err)
	}
	return v, nil
}

// Load implements Store, reading one consistent snapshot.
func (p *Postgres) Load(ctx context.Context) (*abtest.Config, error) {
	var c *abtest.Config
	err := pgx.BeginTxFunc(ctx, p.pool, pgx.TxOptions{IsoLevel: pgx.RepeatableRead, AccessMode: pgx.ReadOnly}, func(tx pgx.Tx) error {
		var err error
		c, err = load(ctx, tx, "")
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("load experiment config: %w", err)
	}
	return c, nil
}

// Update implements Store.
func (p *Postgres) Update(ctx context.Context, ch Change) (*abtest.Config, error) {
	var out *abtest.Config
	err := pgx.BeginFunc(ctx, p.pool, func(tx pgx.Tx) error {
		cur, err := load(ctx, tx, " FOR UPDATE")
		if err != nil {
			return err
		}
		c, detail, err := next(cur, ch)
		if err != nil {
			return err
		}
		if err := write(ctx, tx, c); err != nil {
			return err
		}
		if _, err := tx.Exec(ctx, `INSERT INTO exp_audit (version, actor, action, detail) VALUES ($1, $2, $3, $4)`,
			c.Version, ch.Actor, ch.Action, detail); err != nil {
			return err
		}
		out = c
		return nil
	})
	return out, err
}

// load reads the whole config; lock is appended to the exp_state query.
func load(ctx context.Context, tx pgx.Tx, lock string) (*abtest.Config, error) {
	c := &abtest.Config{}
	var defaults []byte
	if err := tx.QueryRow(ctx, `SELECT version, defaults FROM exp_state WHERE id = 1`+lock).Scan(&c.Version, &defaults); err != nil {
		return nil, err
	}
	if err := json.Unmarshal(defaults, &c.Defaults); err != nil {
		return nil, fmt.Errorf("defaults: %w", err)
	}
	layers := map[string]*abtest.Layer{}
	rows, _ := tx.Query(ctx, `SELECT name, salt FROM exp_layers ORDER BY pos`)
	var l abtest.Layer
	if _, err := pgx.ForEachRow(rows, []any{&l.Name, &l.Salt}, func() error {
		c.Layers = append(c.Layers, abtest.Layer{Name: l.Name, Salt: l.Salt})
		return nil
	}); err != nil {
		return nil, err
	}
	for i := range c.Layers {
		layers[c.Layers[i].Name] = &c.Layers[i]
	}
	var layer, exp, name string
	rows, _ = tx.Query(ctx, `SELECT layer, name FROM exp_experiments ORDER BY layer, pos`)
	if _, err := pgx.ForEachRow(rows, []any{&layer, &name}, func() error {
		layers[layer].Experiments = append(layers[layer].Experiments, abtest.Experiment{Name: name})
		return nil
	}); err != nil {
		return nil, err
	}
	find := func(layer, exp string) *abtest.Experiment {
		es := layers[layer].Experiments
		for i := range es {
			if es[i].Name == exp {
				return &es[i]
			}
		}
		return nil
	}
	var params, routes []byte
	rows, _ = tx.Query(ctx, `SELECT layer, experiment, name, params, routes FROM exp_variants ORDER BY layer, experiment, pos`)
	if _, err := pgx.ForEachRow(rows, []any{&layer, &exp, &name, &params, &routes}, func() error {
		v := abtest.Variant{Name: name}
		if err := json.Unmarshal(params, &v.Params); err != nil {
			return err
		}
		if err := json.Unmarshal(routes, &v.Routes); err != nil {
			return err
		}
		e := find(layer, exp)
		e.Variants = append(e.Variants, v)
		return nil
	}); err != nil {
		return nil, err
	}
	variant := func(layer, exp, name string) *abtest.Variant {
		e := find(layer, exp)
		for i := range e.Variants {
			if e.Variants[i].Name == name {
				return &e.Variants[i]
			}
		}
		return nil
	}
	var r abtest.Range
	rows, _ = tx.Query(ctx, `SELECT layer, experiment, variant, bucket_start, bucket_end FROM exp_allocations ORDER BY layer, experiment, variant, seq`)
	if _, err := pgx.ForEachRow(rows, []any{&layer, &exp, &name, &r.Start, &r.End}, func() error {
		v := variant(layer, exp, name)
		v.Buckets = append(v.Buckets, r)
		return nil
	}); err != nil {
		return nil, err
	}
	var user string
	rows, _ = tx.Query(ctx, `SELECT layer, experiment, user_id, variant FROM exp_overrides`)
	if _, err := pgx.ForEachRow(rows, []any{&layer, &exp, &user, &name}, func() error {
		e := find(layer, exp)
		if e.Overrides == nil {
			e.Overrides = map[string]string{}
		}
		e.Overrides[user] = name
		return nil
	}); err != nil {
		return nil, err
	}
	return c, nil
}

// write replaces every row with c's.
func write(ctx context.Context, tx pgx.Tx, c *abtest.Config) error {
	defaults, err := json.Marshal(c.Defaults)
	if err != nil {
		return err
	}
	b := &pgx.Batch{}
	b.Queue(`DELETE FROM exp_layers`) // cascades to everything below
	b.Queue(`UPDATE exp_state SET version = $1, defaults = $2, updated_at = now() WHERE id = 1`, c.Version, defaults)
	for li, l := range c.Layers {
		b.Queue(`INSERT INTO exp_layers (name, salt, pos) VALUES ($1, $2, $3)`, l.Name, l.Salt, li)
		for ei, e := range l.Experiments {
			b.Queue(`INSERT INTO exp_experiments (layer, name, pos) VALUES ($1, $2, $3)`, l.Name, e.Name, ei)
			for vi, v := range e.Variants {
				params, err := json.Marshal(v.Params)
				if err != nil {
					return err
				}
				routes, err := json.Marshal(v.Routes)
				if err != nil {
					return err
				}
				b.Queue(`INSERT INTO exp_variants (layer, experiment, name, pos, params, routes) VALUES ($1, $2, $3, $4, $5, $6)`,
					l.Name, e.Name, v.Name, vi, params, routes)
				for seq, r := range v.Buckets {
					b.Queue(`INSERT INTO exp_allocations (layer, experiment, variant, seq, bucket_start, bucket_end) VALUES ($1, $2, $3, $4, $5, $6)`,
						l.Name, e.Name, v.Name, seq, r.Start, r.End)
				}
			}
			for user, v := range e.Overrides {
				b.Queue(`INSERT INTO exp_overrides (layer, experiment, user_id, variant) VALUES ($1, $2, $3, $4)`, l.Name, e.Name, user, v)
			}
		}
	}
	return tx.SendBatch(ctx, b).Close()
}

// Audit implements Store.
func (p *Postgres) Audit(ctx context.Context, limit int) ([]AuditEntry, error) {
	rows, _ := p.pool.Query(ctx, `SELECT id, version, at, actor, action, detail FROM exp_audit ORDER BY id DESC LIMIT $1`, limit)
	out, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (AuditEntry, error) {
		var a AuditEntry
		err := r.Scan(&a.ID, &a.Version, &a.At, &a.Actor, &a.Action, &a.Detail)
		a.At = a.At.UTC()
		return a, err
	})
	if err != nil {
		return nil, fmt.Errorf("experiment audit: %w", err)
	}
	return out, nil
}
