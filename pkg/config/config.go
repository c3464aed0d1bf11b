// Package config reads recmesh settings from flags whose defaults come from
// RECMESH_* environment variables, and prints them with secrets redacted.
package config

import (
	"flag"
	"fmt"
	"log/slog"
	"net/url"
	"os"
	"reflect"
	"strconv"
	"strings"
	"time"
)

// EnvName is the environment variable behind a flag: grpc-addr → RECMESH_GRPC_ADDR.
func EnvName(flagName string) string {
	return "RECMESH_" + strings.ToUpper(strings.ReplaceAll(flagName, "-", "_"))
}

// Flags binds flags whose defaults come from the environment. Parse errors of
// environment values are collected and reported by Err.
type Flags struct {
	FS   *flag.FlagSet
	errs []string
}

// NewFlags returns Flags over a new flag set that reports errors instead of exiting.
func NewFlags(name string) *Flags {
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	return &Flags{FS: fs}
}

func (f *Flags) env(name string) (string, bool) { return os.LookupEnv(EnvName(name)) }

func (f *Flags) usage(name, help string) string { return help + " (env " + EnvName(name) + ")" }

// shared is a flag bound by several components: setting it sets every
// bound variable, so that one flag means one thing in every component of a
// process (recmesh all binds -store once for features and experiment).
type shared[T any] struct {
	ptrs  []*T
	parse func(string) (T, error)
	show  func(T) string
}

func (s *shared[T]) String() string {
	if s == nil || len(s.ptrs) == 0 {
		return ""
	}
	return s.show(*s.ptrs[0])
}

func (s *shared[T]) Set(v string) error {
	x, err := s.parse(v)
	if err != nil {
		return err
	}
	for _, p := range s.ptrs {
		*p = x
	}
	return nil
}

// bind defines flag name over p, or, when a component already defined it,
// adds p to it: p then takes the flag's current value (the first binder's
// default) and every later setting. Two bindings of one name with
// different types are a programming error and panic, as flag does for a
// flag defined twice.
func bind[T any](f *Flags, p *T, name string, def T, help string, parse func(string) (T, error), show func(T) string) {
	if fl := f.FS.Lookup(name); fl != nil {
		s, ok := fl.Value.(*shared[T])
		if !ok {
			panic(fmt.Sprintf("flag -%s bound twice with different types", name))
		}
		*p = *s.ptrs[0]
		s.ptrs = append(s.ptrs, p)
		return
	}
	*p = def
	f.FS.Var(&shared[T]{ptrs: []*T{p}, parse: parse, show: show}, name, f.usage(name, help))
}

func parseString(s string) (string, error) { return s, nil }
func showString(s string) string           { return s }

// String binds a string flag.
func (f *Flags) String(p *string, name, def, help string) {
	if v, ok := f.env(name); ok {
		def = v
	}
	bind(f, p, name, def, help, parseString, showString)
}

// envDefault returns the parsed environment value for flag name, or def
// when it is unset; a value that does not parse is recorded for Parse.
func envDefault[T any](f *Flags, name string, def T, parse func(string) (T, error), what string) T {
	v, ok := f.env(name)
	if !ok {
		return def
	}
	x, err := parse(v)
	if err != nil {
		f.errs = append(f.errs, fmt.Sprintf("%s=%q is not %s", EnvName(name), v, what))
		return def
	}
	return x
}

// Int binds an int flag.
func (f *Flags) Int(p *int, name string, def int, help string) {
	bind(f, p, name, envDefault(f, name, def, strconv.Atoi, "an integer"), help, strconv.Atoi, strconv.Itoa)
}

func parseFloat(s string) (float64, error) { return strconv.ParseFloat(s, 64) }

// Float binds a float64 flag.
func (f *Flags) Float(p *float64, name string, def float64, help string) {
	bind(f, p, name, envDefault(f, name, def, parseFloat, "a number"), help, parseFloat,
		func(v float64) string { return strconv.FormatFloat(v, 'g', -1, 64) })
}

// Bool binds a boolean flag: -name alone sets it, -name=false clears it.
func (f *Flags) Bool(p *bool, name string, def bool, help string) {
	bind(f, p, name, envDefault(f, name, def, strconv.ParseBool, "true or false"), help, strconv.ParseBool, strconv.FormatBool)
}

// IsBoolFlag lets a boolean flag be given without a value (-name).
func (s *shared[T]) IsBoolFlag() bool {
	_, ok := any(s.ptrs[0]).(*bool)
	return ok
}

// Duration binds a duration flag such as 20ms.
func (f *Flags) Duration(p *time.Duration, name string, def time.Duration, help string) {
	bind(f, p, name, envDefault(f, name, def, time.ParseDuration, "a duration"), help, time.ParseDuration, time.Duration.String)
}

// Parse parses args and reports bad environment values too.
func (f *Flags) Parse(args []string) error {
	if len(f.errs) > 0 {
		return fmt.Errorf("bad environment: %s", strings.Join(f.errs, "; "))
	}
	return f.FS.Parse(args)
}

// Log prints every field of the config struct cfg, nested structs as
// groups; fields tagged `secret:"true"` are shown as "[redacted]" when set,
// and fields tagged `secret:"url"` (store URLs) with their password masked,
// at any depth.
func Log(l *slog.Logger, msg string, cfg any) {
	l.Info(msg, fields(reflect.Indirect(reflect.ValueOf(cfg)))...)
}

func fields(v reflect.Value) []any {
	t := v.Type()
	attrs := make([]any, 0, t.NumField())
	for i := 0; i < t.NumField(); i++ {
		f, fv := t.Field(i), v.Field(i)
		switch {
		case !f.IsExported():
		case f.Tag.Get("secret") == "true" && !fv.IsZero():
			attrs = append(attrs, slog.String(f.Name, "[redacted]"))
		case f.Tag.Get("secret") == "url" && fv.Kind() == reflect.String:
			attrs = append(attrs, slog.String(f.Name, redactURL(fv.String())))
		case fv.Kind() == reflect.Struct && fv.Type().PkgPath() != "time":
			attrs = append(attrs, slog.Group(f.Name, fields(fv)...))
		default:
			attrs = append(attrs, slog.Any(f.Name, fv.Interface()))
		}
	}
	return attrs
}

// redactURL masks the password of a URL; a string that does not parse as a
// URL with a password is shown whole only if it has no '@' at all.
func redactURL(s string) string {
	u, err := url.Parse(s)
	if err == nil {
		return u.Redacted()
	}
	if strings.Contains(s, "@") {
		return "[redacted]"
	}
	return s
}
