package deploy

import (
	"testing"

	corev1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"
)

// pod is one end of a connection, for evaluating NetworkPolicies; no
// namespace is an address outside the cluster.
type pod struct {
	namespace string
	labels    labels.Set
}

// admits evaluates the NetworkPolicies (Kubernetes' semantics, for the
// peers our policies use: pod and namespace selectors) for a TCP connection
// from src to port of dst. A pod no policy selects for ingress admits
// everything.
func admits(t *testing.T, policies []*networkingv1.NetworkPolicy, src, dst pod, port int32) bool {
	t.Helper()
	matches := func(sel *metav1.LabelSelector, set labels.Set) bool {
		s, err := metav1.LabelSelectorAsSelector(sel)
		if err != nil {
			t.Fatalf("bad selector %v: %v", sel, err)
		}
		return s.Matches(set)
	}
	nsLabels := func(ns string) labels.Set { return labels.Set{"kubernetes.io/metadata.name": ns} }
	isolated := false
	for _, np := range policies {
		if np.Namespace != dst.namespace || !matches(&np.Spec.PodSelector, dst.labels) {
			continue
		}
		ingress := len(np.Spec.PolicyTypes) == 0
		for _, pt := range np.Spec.PolicyTypes {
			ingress = ingress || pt == networkingv1.PolicyTypeIngress
		}
		if !ingress {
			continue
		}
		isolated = true
		for _, rule := range np.Spec.Ingress {
			portOK := len(rule.Ports) == 0
			for _, p := range rule.Ports {
				if p.Port == nil || (p.Port.IntVal == port && (p.Protocol == nil || *p.Protocol == corev1.ProtocolTCP)) {
					portOK = true
				}
			}
			peerOK := len(rule.From) == 0
			for _, peer := range rule.From {
				switch {
				case peer.IPBlock != nil:
					peerOK = true // our policies use none; any address would do
				case src.namespace == "":
					// Outside the cluster: no pod or namespace selector matches.
				case peer.NamespaceSelector != nil:
					peerOK = peerOK || (matches(peer.NamespaceSelector, nsLabels(src.namespace)) &&
						(peer.PodSelector == nil || matches(peer.PodSelector, src.labels)))
				case peer.PodSelector != nil:
					peerOK = peerOK || (src.namespace == np.Namespace && matches(peer.PodSelector, src.labels))
				}
			}
			if portOK && peerOK {
				return true
			}
		}
	}
	return !isolated
}

// networkPolicies are the base's policies (namespace harbor, as kustomize
// puts them) and those applied beside the NATS and ClickHouse charts.
func networkPolicies(t *testing.T) []*networkingv1.NetworkPolicy {
	t.Helper()
	policies := objectsOf[*networkingv1.NetworkPolicy](renderKustomization(t, "deploy/k8s/base"))
	for _, rel := range []string{"deploy/helm/nats-networkpolicy.yaml", "deploy/helm/clickhouse-networkpolicy.yaml"} {
		docs, err := yamlDocuments(readRepoFile(t, rel))
		if err != nil {
			t.Fatalf("%s: %v", rel, err)
		}
		for _, doc := range docs {
			obj, err := decodeManifest(doc)
			if err != nil {
				t.Fatalf("%s: %v", rel, err)
			}
			np, ok := obj.(*networkingv1.NetworkPolicy)
			if !ok {
				t.Fatalf("%s holds a %T, want NetworkPolicies only", rel, obj)
			}
			policies = append(policies, np)
		}
	}
	return policies
}

// TestNetworkPolicies admits Harbor's pods, and only them, to NATS and
// ClickHouse, and the API's port to anyone.
func TestNetworkPolicies(t *testing.T) {
	policies := networkPolicies(t)
	ms := loadManifests(t, "deploy/k8s/base")
	deployments := baseDeployments(t, ms)
	api := pod{namespace, labels.Set(deployments["ingest-api"].Spec.Template.Labels)}
	writer := pod{namespace, labels.Set(deployments["writer"].Spec.Template.Labels)}
	natsServer := pod{"nats", labels.Set{"app.kubernetes.io/name": "nats"}}
	clickhouse := pod{"clickhouse", labels.Set{"clickhouse.altinity.com/chi": "harbor"}}
	stranger := pod{"default", labels.Set{"app.kubernetes.io/name": "writer"}} // looks like a writer, elsewhere
	intruder := pod{namespace, labels.Set{"app": "debug"}}                     // in Harbor's namespace, not Harbor's
	outside := pod{}

	for _, c := range []struct {
		what     string
		src, dst pod
		port     int32
		want     bool
	}{
		{"the API to NATS", api, natsServer, 4222, true},
		{"a writer to NATS", writer, natsServer, 4222, true},
		{"a writer to ClickHouse", writer, clickhouse, 9000, true},
		{"the read API to ClickHouse", api, clickhouse, 9000, true},
		{"NATS routes between servers", natsServer, natsServer, 6222, true},
		{"ClickHouse replication", clickhouse, clickhouse, 9009, true},
		{"KEDA's scaler to NATS monitoring", pod{"keda", labels.Set{}}, natsServer, 8222, true},
		{"anyone to the API", outside, api, 8080, true},
		{"Prometheus to a writer's metrics", pod{"monitoring", labels.Set{}}, writer, 8081, true},

		{"a pod of another namespace to NATS", stranger, natsServer, 4222, false},
		{"a stray pod in Harbor's namespace to NATS", intruder, natsServer, 4222, false},
		{"a pod of another namespace to ClickHouse", stranger, clickhouse, 9000, false},
		{"a stray pod in Harbor's namespace to ClickHouse", intruder, clickhouse, 9000, false},
		{"the API to ClickHouse's HTTP port", api, clickhouse, 8123, false},
		{"a writer to NATS routes", writer, natsServer, 6222, false},
		{"anyone to the API on another port", outside, api, 9090, false},
		{"anyone to a writer", outside, writer, 8081, false},
	} {
		if got := admits(t, policies, c.src, c.dst, c.port); got != c.want {
			t.Errorf("%s (port %d): admitted %v, want %v", c.what, c.port, got, c.want)
		}
	}
}
