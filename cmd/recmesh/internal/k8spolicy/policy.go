// Package k8spolicy checks rendered Kubernetes manifests against what
// recmesh promises of every workload: probes, resource requests and limits,
// a non-root user, a read-only root filesystem, no privilege escalation,
// all capabilities dropped, pinned image tags; and, for recmesh's own
// Deployments, a PodDisruptionBudget and topology spread. schemagen (a
// subcommand directory) makes the schemas kubeconform validates against.
package k8spolicy

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"strings"

	"gopkg.in/yaml.v3"
)

// Object is one decoded manifest.
type Object map[string]any

// Decode splits a multi-document YAML stream (kustomize build's output).
func Decode(r io.Reader) ([]Object, error) {
	dec := yaml.NewDecoder(r)
	var out []Object
	for {
		// Into a plain map: yaml.v3 gives nested maps the target's type.
		var o map[string]any
		err := dec.Decode(&o)
		if errors.Is(err, io.EOF) {
			return out, nil
		}
		if err != nil {
			return nil, err
		}
		if o != nil {
			out = append(out, Object(o))
		}
	}
}

// DecodeBytes is Decode over b.
func DecodeBytes(b []byte) ([]Object, error) { return Decode(bytes.NewReader(b)) }

// get walks a path of map keys; nil when any is missing.
func get(v any, path ...string) any {
	for _, p := range path {
		m, ok := v.(map[string]any)
		if !ok {
			if o, isObj := v.(Object); isObj {
				m = o
			} else {
				return nil
			}
		}
		v = m[p]
	}
	return v
}

func str(v any, path ...string) string { s, _ := get(v, path...).(string); return s }

func (o Object) name() string {
	return fmt.Sprintf("%s/%s", str(o, "kind"), str(o, "metadata", "name"))
}

// podSpec is the pod template's spec of a workload, or nil.
func (o Object) podSpec() map[string]any {
	switch str(o, "kind") {
	case "Deployment", "StatefulSet", "DaemonSet", "Job":
		m, _ := get(o, "spec", "template", "spec").(map[string]any)
		return m
	case "CronJob":
		m, _ := get(o, "spec", "jobTemplate", "spec", "template", "spec").(map[string]any)
		return m
	}
	return nil
}

// Check returns every violation in objs, one line each.
func Check(objs []Object) []string {
	var bad []string
	add := func(o Object, c, format string, a ...any) {
		bad = append(bad, fmt.Sprintf("%s container %s: %s", o.name(), c, fmt.Sprintf(format, a...)))
	}
	for _, o := range objs {
		spec := o.podSpec()
		if spec == nil {
			continue
		}
		job := str(o, "kind") == "Job" || str(o, "kind") == "CronJob"
		podNonRoot, _ := get(spec, "securityContext", "runAsNonRoot").(bool)
		var containers []any
		for _, k := range []string{"initContainers", "containers"} {
			if l, ok := spec[k].([]any); ok {
				containers = append(containers, l...)
			}
		}
		for _, c := range containers {
			name := str(c, "name")
			image := str(c, "image")
			if i := strings.LastIndex(image, ":"); i < 0 || strings.Contains(image[i:], "/") || image[i+1:] == "latest" {
				add(o, name, "image %q has no pinned tag", image)
			}
			// A Job runs to completion: it has nothing to be ready for.
			if !job && (get(c, "readinessProbe") == nil || get(c, "livenessProbe") == nil) {
				add(o, name, "needs readiness and liveness probes")
			}
			for _, r := range []string{"cpu", "memory"} {
				if get(c, "resources", "limits", r) == nil || get(c, "resources", "requests", r) == nil {
					add(o, name, "needs a %s request and limit", r)
				}
			}
			if nonRoot, set := get(c, "securityContext", "runAsNonRoot").(bool); !(podNonRoot && !set || nonRoot) {
				add(o, name, "must run as non-root (runAsNonRoot)")
			}
			if ro, _ := get(c, "securityContext", "readOnlyRootFilesystem").(bool); !ro {
				add(o, name, "needs a read-only root filesystem")
			}
			if esc, ok := get(c, "securityContext", "allowPrivilegeEscalation").(bool); !ok || esc {
				add(o, name, "must set allowPrivilegeEscalation: false")
			}
			if drop, _ := get(c, "securityContext", "capabilities", "drop").([]any); len(drop) != 1 || drop[0] != "ALL" {
				add(o, name, "must drop ALL capabilities")
			}
		}
	}
	return append(bad, checkDisruption(objs)...)
}

// checkDisruption holds recmesh's Deployments to a PodDisruptionBudget that
// selects them and to topology spread across nodes.
func checkDisruption(objs []Object) []string {
	var bad []string
	pdbs := map[string]bool{}
	for _, o := range objs {
		if str(o, "kind") == "PodDisruptionBudget" {
			pdbs[str(o, "spec", "selector", "matchLabels", "app.kubernetes.io/name")] = true
		}
	}
	for _, o := range objs {
		if str(o, "kind") != "Deployment" || str(o, "metadata", "labels", "app.kubernetes.io/part-of") != "recmesh" {
			continue
		}
		app := str(o, "spec", "selector", "matchLabels", "app.kubernetes.io/name")
		if !pdbs[app] {
			bad = append(bad, o.name()+": no PodDisruptionBudget selects it")
		}
		if l, _ := get(o.podSpec(), "topologySpreadConstraints").([]any); len(l) == 0 {
			bad = append(bad, o.name()+": no topology spread")
		}
	}
	return bad
}
