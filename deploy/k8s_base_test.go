package deploy

import (
	"slices"
	"sort"
	"testing"

	appsv1 "k8s.io/api/apps/v1"
	autoscalingv2 "k8s.io/api/autoscaling/v2"
	corev1 "k8s.io/api/core/v1"
	policyv1 "k8s.io/api/policy/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"
)

// baseDeployments returns the Deployments of the Kustomize base by name,
// failing unless both services have one.
func baseDeployments(t *testing.T, ms []manifest) map[string]*appsv1.Deployment {
	t.Helper()
	out := map[string]*appsv1.Deployment{}
	for _, d := range objectsOf[*appsv1.Deployment](ms) {
		out[d.Name] = d
	}
	for _, name := range []string{"ingest-api", "writer"} {
		if out[name] == nil {
			t.Fatalf("deploy/k8s/base has no Deployment %q", name)
		}
	}
	return out
}

func TestDeploymentProbes(t *testing.T) {
	for name, d := range baseDeployments(t, loadManifests(t, "deploy/k8s/base")) {
		for _, c := range d.Spec.Template.Spec.Containers {
			checkProbe(t, name+"/"+c.Name+" liveness", c.LivenessProbe, "/healthz", c.Ports)
			checkProbe(t, name+"/"+c.Name+" readiness", c.ReadinessProbe, "/readyz", c.Ports)
			if c.StartupProbe != nil {
				checkProbe(t, name+"/"+c.Name+" startup", c.StartupProbe, "/healthz", c.Ports)
			}
		}
	}
}

// checkProbe checks that p is an HTTP GET of path on a port the container
// declares.
func checkProbe(t *testing.T, what string, p *corev1.Probe, path string, ports []corev1.ContainerPort) {
	t.Helper()
	if p == nil || p.HTTPGet == nil {
		t.Errorf("%s probe: none, or not an HTTP GET", what)
		return
	}
	if p.HTTPGet.Path != path {
		t.Errorf("%s probe: path %q, want %q", what, p.HTTPGet.Path, path)
	}
	declared := slices.ContainsFunc(ports, func(cp corev1.ContainerPort) bool {
		return cp.Name == p.HTTPGet.Port.String() || cp.ContainerPort == p.HTTPGet.Port.IntVal
	})
	if !declared {
		t.Errorf("%s probe: port %s is not one of the container's ports", what, p.HTTPGet.Port.String())
	}
}

func TestDeploymentResources(t *testing.T) {
	for name, d := range baseDeployments(t, loadManifests(t, "deploy/k8s/base")) {
		spec := d.Spec.Template.Spec
		for _, c := range append(spec.InitContainers, spec.Containers...) {
			for _, res := range []corev1.ResourceName{corev1.ResourceCPU, corev1.ResourceMemory} {
				if _, ok := c.Resources.Requests[res]; !ok {
					t.Errorf("%s/%s: no %s request", name, c.Name, res)
				}
				if _, ok := c.Resources.Limits[res]; !ok {
					t.Errorf("%s/%s: no %s limit", name, c.Name, res)
				}
			}
		}
	}
}

// TestDeploymentSecurity checks the "restricted" Pod Security Standard that
// the namespace enforces: non-root, no privilege escalation, no
// capabilities, a seccomp profile, and a read-only root filesystem besides.
func TestDeploymentSecurity(t *testing.T) {
	for name, d := range baseDeployments(t, loadManifests(t, "deploy/k8s/base")) {
		pod := d.Spec.Template.Spec.SecurityContext
		if pod == nil || pod.SeccompProfile == nil || pod.SeccompProfile.Type != corev1.SeccompProfileTypeRuntimeDefault {
			t.Errorf("%s: the pod has no RuntimeDefault seccomp profile", name)
		}
		for _, c := range d.Spec.Template.Spec.Containers {
			sc := c.SecurityContext
			if sc == nil {
				t.Errorf("%s/%s: no securityContext", name, c.Name)
				continue
			}
			nonRoot := sc.RunAsNonRoot
			if nonRoot == nil && pod != nil {
				nonRoot = pod.RunAsNonRoot
			}
			if nonRoot == nil || !*nonRoot {
				t.Errorf("%s/%s: runAsNonRoot is not true", name, c.Name)
			}
			if sc.ReadOnlyRootFilesystem == nil || !*sc.ReadOnlyRootFilesystem {
				t.Errorf("%s/%s: readOnlyRootFilesystem is not true", name, c.Name)
			}
			if sc.AllowPrivilegeEscalation == nil || *sc.AllowPrivilegeEscalation {
				t.Errorf("%s/%s: allowPrivilegeEscalation is not false", name, c.Name)
			}
			if sc.Capabilities == nil || !slices.Contains(sc.Capabilities.Drop, "ALL") || len(sc.Capabilities.Add) > 0 {
				t.Errorf("%s/%s: capabilities do not drop ALL (or add some back)", name, c.Name)
			}
		}
	}
}

// TestAutoscaledDeploymentsHaveNoReplicas: a replica count in a Deployment an
// autoscaler owns would be reset by every kubectl apply.
func TestAutoscaledDeploymentsHaveNoReplicas(t *testing.T) {
	for name, d := range baseDeployments(t, loadManifests(t, "deploy/k8s/base")) {
		if d.Spec.Replicas != nil {
			t.Errorf("Deployment %s sets replicas: %d, fighting its autoscaler", name, *d.Spec.Replicas)
		}
	}
}

func TestPodDisruptionBudgets(t *testing.T) {
	ms := loadManifests(t, "deploy/k8s/base")
	pdbs := objectsOf[*policyv1.PodDisruptionBudget](ms)
	for name, d := range baseDeployments(t, ms) {
		podLabels := labels.Set(d.Spec.Template.Labels)
		covered := slices.ContainsFunc(pdbs, func(p *policyv1.PodDisruptionBudget) bool {
			return selects(t, p.Spec.Selector, podLabels)
		})
		if !covered {
			t.Errorf("no PodDisruptionBudget selects the pods of Deployment %s", name)
		}
	}
}

// selects reports whether sel selects pods with the labels set.
func selects(t *testing.T, sel *metav1.LabelSelector, set labels.Set) bool {
	t.Helper()
	s, err := metav1.LabelSelectorAsSelector(sel)
	if err != nil {
		t.Errorf("bad selector %v: %v", sel, err)
		return false
	}
	return !s.Empty() && s.Matches(set)
}

func TestIngestAPIServiceAndHPA(t *testing.T) {
	ms := loadManifests(t, "deploy/k8s/base")
	api := baseDeployments(t, ms)["ingest-api"]

	services := objectsOf[*corev1.Service](ms)
	if len(services) != 1 || services[0].Name != "ingest-api" {
		t.Fatalf("want one Service, ingest-api; have %d", len(services))
	}
	if !selects(t, &metav1.LabelSelector{MatchLabels: services[0].Spec.Selector}, api.Spec.Template.Labels) {
		t.Error("Service ingest-api does not select the ingest-api pods")
	}

	hpas := objectsOf[*autoscalingv2.HorizontalPodAutoscaler](ms)
	if len(hpas) != 1 {
		t.Fatalf("the base has %d HorizontalPodAutoscalers, want one (the API's; the writers' is in an overlay)", len(hpas))
	}
	ref := hpas[0].Spec.ScaleTargetRef
	if ref.APIVersion != "apps/v1" || ref.Kind != "Deployment" || ref.Name != "ingest-api" {
		t.Errorf("the base HorizontalPodAutoscaler targets %s %s %s, want apps/v1 Deployment ingest-api", ref.APIVersion, ref.Kind, ref.Name)
	}
	if !scalesOnCPU(hpas[0]) {
		t.Error("the ingest-api HorizontalPodAutoscaler does not scale on CPU")
	}
}

// scalesOnCPU reports whether h has a CPU utilization target.
func scalesOnCPU(h *autoscalingv2.HorizontalPodAutoscaler) bool {
	return slices.ContainsFunc(h.Spec.Metrics, func(m autoscalingv2.MetricSpec) bool {
		return m.Type == autoscalingv2.ResourceMetricSourceType && m.Resource != nil &&
			m.Resource.Name == corev1.ResourceCPU && m.Resource.Target.AverageUtilization != nil
	})
}

// baseConfig returns the base's ConfigMap and Secret.
func baseConfig(t *testing.T, ms []manifest) (*corev1.ConfigMap, *corev1.Secret) {
	t.Helper()
	cms := objectsOf[*corev1.ConfigMap](ms)
	secrets := objectsOf[*corev1.Secret](ms)
	if len(cms) != 1 || len(secrets) != 1 {
		t.Fatalf("want one ConfigMap and one Secret in deploy/k8s/base, have %d and %d", len(cms), len(secrets))
	}
	return cms[0], secrets[0]
}

func TestConfigMapAndSecret(t *testing.T) {
	ms := loadManifests(t, "deploy/k8s/base")
	cm, secret := baseConfig(t, ms)
	if got := cm.Data["STREAM_REPLICAS"]; got != "3" {
		t.Errorf("ConfigMap %s: STREAM_REPLICAS is %q, want \"3\" (the NATS cluster has three servers)", cm.Name, got)
	}
	keys := make([]string, 0, len(cm.Data))
	for k := range cm.Data {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	checkDocumented(t, "ConfigMap "+cm.Name, keys)

	for _, key := range []string{"API_KEYS", "CLICKHOUSE_PASSWORD"} {
		if _, ok := secret.StringData[key]; !ok {
			t.Errorf("Secret %s has no %s", secret.Name, key)
		}
	}
	for key := range secret.StringData {
		if _, clash := cm.Data[key]; clash {
			t.Errorf("%s is both in the ConfigMap and in the Secret", key)
		}
	}
}

// TestDeploymentEnvironment checks that the containers read only documented
// settings, from the base's ConfigMap and Secret and keys that exist there.
func TestDeploymentEnvironment(t *testing.T) {
	ms := loadManifests(t, "deploy/k8s/base")
	cm, secret := baseConfig(t, ms)
	for name, d := range baseDeployments(t, ms) {
		for _, c := range d.Spec.Template.Spec.Containers {
			where := "Deployment " + name + "/" + c.Name
			var names []string
			for _, from := range c.EnvFrom {
				if from.ConfigMapRef == nil || from.ConfigMapRef.Name != cm.Name {
					t.Errorf("%s: envFrom other than ConfigMap %s", where, cm.Name)
				}
			}
			for _, env := range c.Env {
				names = append(names, env.Name)
				if env.ValueFrom == nil || env.ValueFrom.SecretKeyRef == nil {
					continue
				}
				ref := env.ValueFrom.SecretKeyRef
				if _, ok := secret.StringData[ref.Key]; ref.Name != secret.Name || !ok {
					t.Errorf("%s: %s comes from secret %s key %s, which the base does not have", where, env.Name, ref.Name, ref.Key)
				}
			}
			checkDocumented(t, where, names)
		}
	}
}
