package deploy

import (
	"path/filepath"
	"testing"

	appsv1 "k8s.io/api/apps/v1"
	autoscalingv2 "k8s.io/api/autoscaling/v2"
	corev1 "k8s.io/api/core/v1"
	"sigs.k8s.io/kustomize/api/krusty"
	"sigs.k8s.io/kustomize/kyaml/filesys"
)

// namespace is where the kustomizations put Harbor.
const namespace = "harbor"

// renderKustomization runs what `kubectl apply -k dir` builds (dir from the
// repository root) and strictly decodes every resulting object.
func renderKustomization(t *testing.T, dir string) []manifest {
	t.Helper()
	k := krusty.MakeKustomizer(krusty.MakeDefaultOptions())
	resources, err := k.Run(filesys.MakeFsOnDisk(), filepath.Join(repoRoot, dir))
	if err != nil {
		t.Fatalf("kustomize build %s: %v", dir, err)
	}
	var out []manifest
	for _, r := range resources.Resources() {
		doc, err := r.AsYAML()
		if err != nil {
			t.Fatalf("kustomize build %s: %s: %v", dir, r.CurId(), err)
		}
		obj, err := decodeManifest(doc)
		if err != nil {
			t.Errorf("kustomize build %s: %s: %v", dir, r.CurId(), err)
			continue
		}
		out = append(out, manifest{path: dir, obj: obj})
		if r.GetKind() != "Namespace" && r.GetNamespace() != namespace {
			t.Errorf("kustomize build %s: %s is in namespace %q, want %q", dir, r.CurId(), r.GetNamespace(), namespace)
		}
	}
	return out
}

// autoscalersByTarget counts the HorizontalPodAutoscalers and KEDA
// ScaledObjects of each Deployment.
func autoscalersByTarget(ms []manifest) map[string][]string {
	out := map[string][]string{}
	for _, h := range objectsOf[*autoscalingv2.HorizontalPodAutoscaler](ms) {
		if h.Spec.ScaleTargetRef.Kind == "Deployment" {
			out[h.Spec.ScaleTargetRef.Name] = append(out[h.Spec.ScaleTargetRef.Name], "HorizontalPodAutoscaler "+h.Name)
		}
	}
	for _, s := range objectsOf[*scaledObject](ms) {
		if kind, name := s.scaleTarget(); kind == "Deployment" {
			out[name] = append(out[name], "ScaledObject "+s.Name)
		}
	}
	return out
}

// TestOverlaysScaleEachDeploymentOnce renders both overlays: each has the
// whole base, and exactly one autoscaler per Deployment, of the kind the
// overlay is named after for the writers. Two autoscalers on one Deployment
// would fight over its replica count.
func TestOverlaysScaleEachDeploymentOnce(t *testing.T) {
	for overlay, writerScaler := range map[string]string{
		"deploy/k8s/overlays/cpu-hpa": "HorizontalPodAutoscaler writer",
		"deploy/k8s/overlays/keda":    "ScaledObject writer",
	} {
		t.Run(filepath.Base(overlay), func(t *testing.T) {
			ms := renderKustomization(t, overlay)
			scalers := autoscalersByTarget(ms)
			deployments := objectsOf[*appsv1.Deployment](ms)
			if len(deployments) != 2 {
				t.Fatalf("%d Deployments, want ingest-api and writer", len(deployments))
			}
			for _, d := range deployments {
				if len(scalers[d.Name]) != 1 {
					t.Errorf("Deployment %s has autoscalers %v, want exactly one", d.Name, scalers[d.Name])
				}
			}
			if got := scalers["writer"]; len(got) != 1 || got[0] != writerScaler {
				t.Errorf("the writers are scaled by %v, want %s", got, writerScaler)
			}
			if len(objectsOf[*corev1.Namespace](ms)) != 1 || len(objectsOf[*corev1.Secret](ms)) != 1 {
				t.Error("the overlay lost the base's Namespace or Secret")
			}
		})
	}
}

// TestBaseHasNoWriterAutoscaler: the base leaves the writers' autoscaler to
// the overlays, so that no overlay has to remove one.
func TestBaseHasNoWriterAutoscaler(t *testing.T) {
	if got := autoscalersByTarget(renderKustomization(t, "deploy/k8s/base"))["writer"]; len(got) > 0 {
		t.Errorf("the base scales the writers with %v", got)
	}
}
