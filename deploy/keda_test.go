package deploy

import (
	"strings"
	"testing"
)

// TestKEDAScaledObject checks the nats-jetstream trigger against the names
// Harbor uses (README: stream TELEMETRY, consumer CONSUMER_NAME "writers",
// no NATS accounts) and the NATS chart's monitoring service.
func TestKEDAScaledObject(t *testing.T) {
	objs := objectsOf[*scaledObject](loadManifests(t, "deploy/k8s/keda"))
	if len(objs) != 1 {
		t.Fatalf("deploy/k8s/keda has %d ScaledObjects, want one", len(objs))
	}
	so := objs[0]
	if kind, name := so.scaleTarget(); kind != "Deployment" || name != "writer" {
		t.Errorf("the ScaledObject scales %s %s, want Deployment writer", kind, name)
	}
	if so.Spec.MinReplicaCount == nil || *so.Spec.MinReplicaCount < 1 {
		t.Error("the ScaledObject may scale the writers to zero; nothing would then create the consumer or drain the stream")
	}
	if len(so.Spec.Triggers) != 1 || so.Spec.Triggers[0].Type != "nats-jetstream" {
		t.Fatalf("want one nats-jetstream trigger, have %+v", so.Spec.Triggers)
	}
	md := so.Spec.Triggers[0].Metadata
	for key, want := range map[string]string{"stream": "TELEMETRY", "consumer": "writers", "account": "$G"} {
		if md[key] != want {
			t.Errorf("trigger %s is %q, want %q", key, md[key], want)
		}
	}
	if !strings.HasSuffix(md["natsServerMonitoringEndpoint"], ":"+natsMonitorPort(t)) {
		t.Errorf("natsServerMonitoringEndpoint %q is not on the monitoring port of deploy/helm/nats-values.yaml", md["natsServerMonitoringEndpoint"])
	}
	if md["lagThreshold"] == "" {
		t.Error("the trigger has no lagThreshold")
	}
}
