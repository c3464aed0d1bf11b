package k8spolicy

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// kustomize finds the pinned kustomize binary: RECMESH_KUSTOMIZE, the tools
// cache, or PATH. make test-k8s installs it; elsewhere the test skips.
func kustomize(t *testing.T) string {
	t.Helper()
	if p := os.Getenv("RECMESH_KUSTOMIZE"); p != "" {
		return p
	}
	home, _ := os.UserHomeDir()
	if p := filepath.Join(home, ".cache/recmesh/bin/kustomize"); fileExists(p) {
		return p
	}
	if p, err := exec.LookPath("kustomize"); err == nil {
		return p
	}
	if os.Getenv("RECMESH_REQUIRE_DEPS") != "" {
		t.Fatal("kustomize is missing: make test-k8s installs it")
	}
	t.Skip("kustomize is not installed (make test-k8s installs it)")
	return ""
}

func fileExists(p string) bool { _, err := os.Stat(p); return err == nil }

func build(t *testing.T, overlay string) []Object {
	t.Helper()
	out, err := exec.Command(kustomize(t), "build", filepath.Join("../../../../k8s/overlays", overlay)).Output()
	if err != nil {
		t.Fatalf("kustomize build %s: %v", overlay, err)
	}
	objs, err := DecodeBytes(out)
	if err != nil {
		t.Fatal(err)
	}
	return objs
}

// TestOverlaysFollowThePolicy: every workload of both overlays, the dev
// dependencies included, passes.
func TestOverlaysFollowThePolicy(t *testing.T) {
	for _, overlay := range []string{"dev", "prod"} {
		objs := build(t, overlay)
		kinds := map[string]int{}
		for _, o := range objs {
			kinds[str(o, "kind")]++
		}
		if kinds["Deployment"] < 6 || kinds["Job"] != 1 || kinds["NetworkPolicy"] < 4 || kinds["PodDisruptionBudget"] < 6 {
			t.Errorf("%s: unexpected set of objects %v", overlay, kinds)
		}
		if overlay == "prod" && kinds["HorizontalPodAutoscaler"] == 0 {
			t.Errorf("prod has no HPA")
		}
		for _, v := range Check(objs) {
			t.Errorf("%s: %s", overlay, v)
		}
	}
}

// TestPolicyCatchesEachFault breaks a good manifest one way at a time and
// expects the check to name the fault.
func TestPolicyCatchesEachFault(t *testing.T) {
	faults := map[string]func(c map[string]any){
		"no pinned tag":                     func(c map[string]any) { c["image"] = "recmesh/recmesh:latest" },
		"pinned tag behind a registry port": func(c map[string]any) { c["image"] = "registry:5000/recmesh" },
		"probes":                            func(c map[string]any) { delete(c, "readinessProbe") },
		"memory request":                    func(c map[string]any) { delete(get(c, "resources", "limits").(map[string]any), "memory") },
		"non-root":                          func(c map[string]any) { get(c, "securityContext").(map[string]any)["runAsNonRoot"] = false },
		"read-only root":                    func(c map[string]any) { delete(get(c, "securityContext").(map[string]any), "readOnlyRootFilesystem") },
		"allowPrivilegeEscal":               func(c map[string]any) { get(c, "securityContext").(map[string]any)["allowPrivilegeEscalation"] = true },
		"drop ALL":                          func(c map[string]any) { delete(get(c, "securityContext").(map[string]any), "capabilities") },
	}
	for want, breakIt := range faults {
		objs := build(t, "dev")
		var broke bool
		for _, o := range objs {
			if o.name() == "Deployment/ranking" {
				c := o.podSpec()["containers"].([]any)[0].(map[string]any)
				breakIt(c)
				broke = true
			}
		}
		if !broke {
			t.Fatal("no Deployment/ranking to break")
		}
		got := strings.Join(Check(objs), "\n")
		if !strings.Contains(got, "Deployment/ranking") || !strings.Contains(got, strings.Fields(want)[0]) {
			t.Errorf("fault %q: check said %q", want, got)
		}
	}
	// A recmesh Deployment without its PodDisruptionBudget.
	var objs []Object
	for _, o := range build(t, "dev") {
		if o.name() != "PodDisruptionBudget/ranking" {
			objs = append(objs, o)
		}
	}
	if got := strings.Join(Check(objs), "\n"); !strings.Contains(got, "Deployment/ranking: no PodDisruptionBudget") {
		t.Errorf("missing PDB not found: %q", got)
	}
}
