// Command schemagen turns the Kubernetes OpenAPI v2 spec (swagger.json of
// the k8s.io/kubernetes module) into the per-kind JSON schemas kubeconform
// reads, offline: one file per group/version/kind, named as kubeconform
// looks them up ({kind}-{group}-{version}.json), holding the definitions
// the kind reaches. Objects refuse unknown fields (kubeconform -strict),
// and the int-or-string and quantity types accept both forms.
package main

import (
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"strings"
)

func main() {
	spec := flag.String("swagger", "", "path of api/openapi-spec/swagger.json")
	out := flag.String("out", "", "directory the schemas are written to")
	flag.Parse()
	if err := run(*spec, *out); err != nil {
		fmt.Fprintln(os.Stderr, "schemagen:", err)
		os.Exit(1)
	}
}

type gvk struct{ Group, Version, Kind string }

func run(spec, out string) error {
	if spec == "" || out == "" {
		return fmt.Errorf("usage: schemagen -swagger swagger.json -out DIR")
	}
	b, err := os.ReadFile(spec)
	if err != nil {
		return err
	}
	var doc struct {
		Definitions map[string]map[string]any `json:"definitions"`
	}
	if err := json.Unmarshal(b, &doc); err != nil {
		return err
	}
	defs := doc.Definitions
	for name, d := range defs {
		defs[name] = strict(name, d).(map[string]any)
	}
	if err := os.MkdirAll(out, 0o755); err != nil {
		return err
	}
	n := 0
	for name, d := range defs {
		raw, _ := d["x-kubernetes-group-version-kind"].([]any)
		for _, r := range raw {
			m := r.(map[string]any)
			k := gvk{m["group"].(string), m["version"].(string), m["kind"].(string)}
			if err := write(out, k, name, defs); err != nil {
				return err
			}
			n++
		}
	}
	fmt.Fprintf(os.Stderr, "schemagen: %d schemas in %s\n", n, out)
	return nil
}

// write saves the schema of k: a $ref to its definition, with every
// definition it reaches.
func write(out string, k gvk, root string, defs map[string]map[string]any) error {
	reach := map[string]any{}
	var walk func(v any)
	walk = func(v any) {
		switch t := v.(type) {
		case map[string]any:
			if ref, ok := t["$ref"].(string); ok {
				name := strings.TrimPrefix(ref, "#/definitions/")
				if _, seen := reach[name]; !seen {
					reach[name] = defs[name]
					walk(defs[name])
				}
			}
			for _, c := range t {
				walk(c)
			}
		case []any:
			for _, c := range t {
				walk(c)
			}
		}
	}
	reach[root] = defs[root]
	walk(defs[root])
	schema := map[string]any{"$ref": "#/definitions/" + root, "definitions": reach}
	suffix := "-" + strings.ToLower(strings.Split(k.Group, ".")[0]) + "-" + k.Version
	if k.Group == "" {
		suffix = "-" + k.Version
	}
	b, err := json.Marshal(schema)
	if err != nil {
		return err
	}
	return os.WriteFile(filepath.Join(out, strings.ToLower(k.Kind)+suffix+".json"), b, 0o644)
}

// strict rewrites a definition for strict validation: unknown fields are
// refused, and the types Kubernetes accepts in two forms take both.
func strict(name string, v any) any {
	switch name {
	case "io.k8s.apimachinery.pkg.util.intstr.IntOrString":
		return map[string]any{"oneOf": []any{map[string]any{"type": "string"}, map[string]any{"type": "integer"}}}
	case "io.k8s.apimachinery.pkg.api.resource.Quantity":
		return map[string]any{"oneOf": []any{map[string]any{"type": "string"}, map[string]any{"type": "number"}}}
	}
	return tighten(v)
}

func tighten(v any) any {
	switch t := v.(type) {
	case map[string]any:
		for k, c := range t {
			if k != "properties" {
				t[k] = tighten(c)
				continue
			}
			props := c.(map[string]any)
			for p, pc := range props {
				props[p] = tighten(pc)
			}
		}
		if _, ok := t["properties"]; ok {
			if _, set := t["additionalProperties"]; !set {
				t["additionalProperties"] = false
			}
		}
		// kustomize writes "creationTimestamp: null"; a null is as good as absent.
		if ty, ok := t["type"].(string); ok {
			t["type"] = []any{ty, "null"}
		}
		return t
	case []any:
		for i, c := range t {
			t[i] = tighten(c)
		}
	}
	return v
}
