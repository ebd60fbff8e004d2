// Package deploy holds no code: its tests check Harbor's deployment files
// (the service Dockerfiles, docker-compose.yml with its Prometheus and
// Grafana files under compose/, the Kustomize tree under k8s/ and the Helm
// values under helm/) without Docker or a Kubernetes cluster. They load the
// compose file with compose-go and render the Kustomize overlays with
// kustomize's own library, decode Kubernetes manifests strictly into their
// API types, and cross-check the files against each other, against the
// README's settings tables and against pkg/schema's ClickHouse table.
package deploy
