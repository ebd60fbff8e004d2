package deploy

import (
	"net"
	"strconv"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
)

// apiBounds are the ingest API's bounds against floods, which the base's
// ConfigMap sets explicitly so that an operator sees and sizes them.
var apiBounds = []string{"MAX_BODY_BYTES", "BODY_MEMORY_BYTES", "HARBOR_BODY_MEMORY_BYTES", "HARBOR_MAX_IN_FLIGHT", "ADMISSION_WAIT", "MAX_HEADER_BYTES", "MAX_CONNECTIONS", "PROBE_ADDR"}

// TestIngestAPIBounds checks that the ConfigMap sets every bound, with
// values the API accepts together (api.BodyConfig.Check, at start-up), and
// that the body memory they allow fits the container's memory limit.
func TestIngestAPIBounds(t *testing.T) {
	ms := loadManifests(t, "deploy/k8s/base")
	cm, _ := baseConfig(t, ms)
	checkDocumented(t, "the ingest API's bounds", apiBounds)
	number := func(name string) int64 {
		n, err := strconv.ParseInt(cm.Data[name], 10, 64)
		if err != nil || n < 1 {
			t.Errorf("ConfigMap %s: %s is %q, want a positive number", cm.Name, name, cm.Data[name])
		}
		return n
	}
	maxBody, harbor, total := number("MAX_BODY_BYTES"), number("HARBOR_BODY_MEMORY_BYTES"), number("BODY_MEMORY_BYTES")
	number("HARBOR_MAX_IN_FLIGHT")
	number("MAX_HEADER_BYTES")
	number("MAX_CONNECTIONS")
	if maxBody >= harbor || harbor > total {
		t.Errorf("want MAX_BODY_BYTES (%d) < HARBOR_BODY_MEMORY_BYTES (%d) <= BODY_MEMORY_BYTES (%d), or the API does not start", maxBody, harbor, total)
	}
	if d, err := time.ParseDuration(cm.Data["ADMISSION_WAIT"]); err != nil || d <= 0 {
		t.Errorf("ConfigMap %s: ADMISSION_WAIT is %q, want a positive duration", cm.Name, cm.Data["ADMISSION_WAIT"])
	}
	c := baseDeployments(t, ms)["ingest-api"].Spec.Template.Spec.Containers[0]
	if limit := c.Resources.Limits.Memory().Value(); 2*total > limit {
		t.Errorf("BODY_MEMORY_BYTES (%d) is more than half the container's memory limit (%d): with the Go heap's growth and the decoded readings, floods would reach it",
			total, limit)
	}
}

// TestIngestAPIProbeListener checks that the kubelet's probes and the
// Prometheus scrape go to the probe listener (PROBE_ADDR), which
// MAX_CONNECTIONS does not hold up, and that the Service does not expose it.
func TestIngestAPIProbeListener(t *testing.T) {
	ms := loadManifests(t, "deploy/k8s/base")
	cm, _ := baseConfig(t, ms)
	_, portText, err := net.SplitHostPort(cm.Data["PROBE_ADDR"])
	if err != nil {
		t.Fatalf("PROBE_ADDR %q: %v", cm.Data["PROBE_ADDR"], err)
	}
	port, err := strconv.Atoi(portText)
	if err != nil {
		t.Fatalf("PROBE_ADDR %q: %v", cm.Data["PROBE_ADDR"], err)
	}
	d := baseDeployments(t, ms)["ingest-api"]
	c := d.Spec.Template.Spec.Containers[0]
	var name string
	for _, p := range c.Ports {
		if p.ContainerPort == int32(port) {
			name = p.Name
		}
	}
	if name == "" {
		t.Fatalf("the ingest-api container declares no port %d (PROBE_ADDR)", port)
	}
	for what, p := range map[string]*corev1.Probe{"liveness": c.LivenessProbe, "readiness": c.ReadinessProbe} {
		if p == nil || p.HTTPGet == nil || (p.HTTPGet.Port.String() != name && p.HTTPGet.Port.IntVal != int32(port)) {
			t.Errorf("the %s probe does not use the probe listener's port %s (%d)", what, name, port)
		}
	}
	if got := d.Spec.Template.Annotations["prometheus.io/port"]; got != portText {
		t.Errorf("prometheus.io/port is %q, want the probe listener's %s", got, portText)
	}
	for _, s := range objectsOf[*corev1.Service](ms) {
		for _, sp := range s.Spec.Ports {
			if sp.TargetPort.IntVal == int32(port) || sp.TargetPort.String() == name {
				t.Errorf("Service %s exposes the probe listener's port", s.Name)
			}
		}
	}
}
