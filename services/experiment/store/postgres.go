package store

import (
	"context"
	"embed"
	"encoding/json"
	"fmt"
	"time"

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
	var defaults, holdout []byte
	if err := tx.QueryRow(ctx, `SELECT version, defaults, holdout, domain_salt FROM exp_state WHERE id = 1`+lock).
		Scan(&c.Version, &defaults, &holdout, &c.DomainSalt); err != nil {
		return nil, err
	}
	if err := json.Unmarshal(defaults, &c.Defaults); err != nil {
		return nil, fmt.Errorf("defaults: %w", err)
	}
	if holdout != nil {
		if err := json.Unmarshal(holdout, &c.Holdout); err != nil {
			return nil, fmt.Errorf("holdout: %w", err)
		}
	}
	t := tree{c: c}
	for _, step := range []func(context.Context, pgx.Tx) error{t.loadLaunches, t.loadDomains, t.loadLayers, t.loadExperiments,
		t.loadVariants, t.loadAllocations, t.loadOverrides} {
		if err := step(ctx, tx); err != nil {
			return nil, err
		}
	}
	return c, nil
}

// tree builds a config from its tables, parents before children.
type tree struct {
	c      *abtest.Config
	layers map[string]*abtest.Layer
}

// each runs query and calls fn after scanning every row into dest.
func each(ctx context.Context, tx pgx.Tx, query string, dest []any, fn func() error) error {
	rows, err := tx.Query(ctx, query)
	if err != nil {
		return err
	}
	_, err = pgx.ForEachRow(rows, dest, fn)
	return err
}

func (t *tree) experiment(layer, exp string) (*abtest.Experiment, error) {
	if l, ok := t.layers[layer]; ok {
		for i := range l.Experiments {
			if l.Experiments[i].Name == exp {
				return &l.Experiments[i], nil
			}
		}
	}
	return nil, fmt.Errorf("rows name experiment %s/%s, which does not exist", layer, exp)
}

func (t *tree) loadLaunches(ctx context.Context, tx pgx.Tx) error {
	var l abtest.Launch
	var params []byte
	return each(ctx, tx, `SELECT name, salt, buckets, params FROM exp_launches ORDER BY pos`, []any{&l.Name, &l.Salt, &l.Buckets, &params}, func() error {
		next := abtest.Launch{Name: l.Name, Salt: l.Salt, Buckets: l.Buckets}
		if err := json.Unmarshal(params, &next.Params); err != nil {
			return err
		}
		t.c.Launches = append(t.c.Launches, next)
		return nil
	})
}

func (t *tree) loadDomains(ctx context.Context, tx pgx.Tx) error {
	var name string
	if err := each(ctx, tx, `SELECT name FROM exp_domains ORDER BY pos`, []any{&name}, func() error {
		t.c.Domains = append(t.c.Domains, abtest.Domain{Name: name})
		return nil
	}); err != nil {
		return err
	}
	var r abtest.Range
	return each(ctx, tx, `SELECT domain, bucket_start, bucket_end FROM exp_domain_allocations ORDER BY domain, seq`, []any{&name, &r.Start, &r.End}, func() error {
		for i := range t.c.Domains {
			if t.c.Domains[i].Name == name {
				t.c.Domains[i].Buckets = append(t.c.Domains[i].Buckets, r)
				return nil
			}
		}
		return fmt.Errorf("an allocation names domain %s, which does not exist", name)
	})
}

func (t *tree) loadLayers(ctx context.Context, tx pgx.Tx) error {
	var l abtest.Layer
	var domain string
	err := each(ctx, tx, `SELECT name, salt, domain FROM exp_layers ORDER BY pos`, []any{&l.Name, &l.Salt, &domain}, func() error {
		next := abtest.Layer{Name: l.Name, Salt: l.Salt}
		if domain == "" {
			t.c.Layers = append(t.c.Layers, next)
			return nil
		}
		for i := range t.c.Domains {
			if t.c.Domains[i].Name == domain {
				t.c.Domains[i].Layers = append(t.c.Domains[i].Layers, next)
				return nil
			}
		}
		return fmt.Errorf("layer %s names domain %s, which does not exist", l.Name, domain)
	})
	all := t.c.AllLayers()
	t.layers = make(map[string]*abtest.Layer, len(all))
	for _, l := range all {
		t.layers[l.Name] = l
	}
	return err
}

func (t *tree) loadExperiments(ctx context.Context, tx pgx.Tx) error {
	var layer, name string
	var started *time.Time
	return each(ctx, tx, `SELECT layer, name, started_at FROM exp_experiments ORDER BY layer, pos`, []any{&layer, &name, &started}, func() error {
		l, ok := t.layers[layer]
		if !ok {
			return fmt.Errorf("experiment %s names layer %s, which does not exist", name, layer)
		}
		e := abtest.Experiment{Name: name}
		if started != nil {
			s := started.UTC()
			e.Started = &s
		}
		l.Experiments = append(l.Experiments, e)
		return nil
	})
}

func (t *tree) loadVariants(ctx context.Context, tx pgx.Tx) error {
	var layer, exp, name string
	var params, routes []byte
	return each(ctx, tx, `SELECT layer, experiment, name, params, routes FROM exp_variants ORDER BY layer, experiment, pos`,
		[]any{&layer, &exp, &name, &params, &routes}, func() error {
			v := abtest.Variant{Name: name}
			if err := json.Unmarshal(params, &v.Params); err != nil {
				return err
			}
			if err := json.Unmarshal(routes, &v.Routes); err != nil {
				return err
			}
			e, err := t.experiment(layer, exp)
			if err != nil {
				return err
			}
			e.Variants = append(e.Variants, v)
			return nil
		})
}

func (t *tree) loadAllocations(ctx context.Context, tx pgx.Tx) error {
	var layer, exp, name string
	var r abtest.Range
	return each(ctx, tx, `SELECT layer, experiment, variant, bucket_start, bucket_end FROM exp_allocations ORDER BY layer, experiment, variant, seq`,
		[]any{&layer, &exp, &name, &r.Start, &r.End}, func() error {
			e, err := t.experiment(layer, exp)
			if err != nil {
				return err
			}
			for i := range e.Variants {
				if e.Variants[i].Name == name {
					e.Variants[i].Buckets = append(e.Variants[i].Buckets, r)
					return nil
				}
			}
			return fmt.Errorf("an allocation names variant %s/%s/%s, which does not exist", layer, exp, name)
		})
}

func (t *tree) loadOverrides(ctx context.Context, tx pgx.Tx) error {
	var layer, exp, user, name string
	return each(ctx, tx, `SELECT layer, experiment, user_id, variant FROM exp_overrides`, []any{&layer, &exp, &user, &name}, func() error {
		e, err := t.experiment(layer, exp)
		if err != nil {
			return err
		}
		if e.Overrides == nil {
			e.Overrides = map[string]string{}
		}
		e.Overrides[user] = name
		return nil
	})
}

// write replaces every row with c's.
func write(ctx context.Context, tx pgx.Tx, c *abtest.Config) error {
	defaults, err := json.Marshal(c.Defaults)
	if err != nil {
		return err
	}
	var holdout []byte
	if c.Holdout != nil {
		if holdout, err = json.Marshal(c.Holdout); err != nil {
			return err
		}
	}
	b := &pgx.Batch{}
	b.Queue(`DELETE FROM exp_layers`) // cascades to everything below
	b.Queue(`DELETE FROM exp_launches`)
	b.Queue(`DELETE FROM exp_domains`)
	b.Queue(`UPDATE exp_state SET version = $1, defaults = $2, holdout = $3, domain_salt = $4, updated_at = now() WHERE id = 1`,
		c.Version, defaults, holdout, c.DomainSalt)
	for i, l := range c.Launches {
		params, err := json.Marshal(l.Params)
		if err != nil {
			return err
		}
		b.Queue(`INSERT INTO exp_launches (name, salt, buckets, params, pos) VALUES ($1, $2, $3, $4, $5)`, l.Name, l.Salt, l.Buckets, params, i)
	}
	type placed struct {
		layer  abtest.Layer
		domain string
	}
	var layers []placed
	for _, l := range c.Layers {
		layers = append(layers, placed{l, ""})
	}
	for di, d := range c.Domains {
		b.Queue(`INSERT INTO exp_domains (name, pos) VALUES ($1, $2)`, d.Name, di)
		for seq, r := range d.Buckets {
			b.Queue(`INSERT INTO exp_domain_allocations (domain, seq, bucket_start, bucket_end) VALUES ($1, $2, $3, $4)`, d.Name, seq, r.Start, r.End)
		}
		for _, l := range d.Layers {
			layers = append(layers, placed{l, d.Name})
		}
	}
	for li, pl := range layers {
		l := pl.layer
		b.Queue(`INSERT INTO exp_layers (name, salt, pos, domain) VALUES ($1, $2, $3, $4)`, l.Name, l.Salt, li, pl.domain)
		for ei, e := range l.Experiments {
			b.Queue(`INSERT INTO exp_experiments (layer, name, pos, started_at) VALUES ($1, $2, $3, $4)`, l.Name, e.Name, ei, e.Started)
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
