package deploy

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strings"
	"testing"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime/schema"
	utilyaml "k8s.io/apimachinery/pkg/util/yaml"
	"k8s.io/client-go/kubernetes/scheme"
	kustomize "sigs.k8s.io/kustomize/api/types"
	"sigs.k8s.io/yaml"
)

// decodeStrict decodes one YAML document into v and fails on anything a
// careful API server or tool would refuse: a duplicate key, or a field v's
// type does not have.
func decodeStrict(doc []byte, v any) error {
	js, err := yaml.YAMLToJSONStrict(doc)
	if err != nil {
		return err
	}
	dec := json.NewDecoder(bytes.NewReader(js))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		return err
	}
	if dec.More() {
		return errors.New("more than one value in the document")
	}
	return nil
}

// yamlDocuments splits a multi-document YAML file, dropping empty documents
// (a leading "---", comments only).
func yamlDocuments(data []byte) ([][]byte, error) {
	r := utilyaml.NewYAMLReader(bufio.NewReader(bytes.NewReader(data)))
	var docs [][]byte
	for {
		doc, err := r.Read()
		if errors.Is(err, io.EOF) {
			return docs, nil
		}
		if err != nil {
			return nil, err
		}
		js, err := yaml.YAMLToJSON(doc)
		if err != nil {
			return nil, err
		}
		if s := strings.TrimSpace(string(js)); s != "null" && s != "" {
			docs = append(docs, doc)
		}
	}
}

// localKinds are the kinds our manifests use that client-go's scheme does
// not know, with the Go type each decodes into.
var localKinds = map[schema.GroupVersionKind]func() any{
	{Group: "keda.sh", Version: "v1alpha1", Kind: "ScaledObject"}:                 func() any { return &scaledObject{} },
	{Group: "kustomize.config.k8s.io", Version: "v1beta1", Kind: "Kustomization"}: func() any { return &kustomize.Kustomization{} },
	{Group: "kustomize.config.k8s.io", Version: "v1alpha1", Kind: "Component"}:    func() any { return &kustomize.Kustomization{} },
}

// decodeManifest decodes one Kubernetes (or Kustomize, or KEDA) document
// strictly into its Go type: client-go's typed object for the built-in
// kinds, a local type for the others. An unknown kind is an error.
func decodeManifest(doc []byte) (any, error) {
	var tm metav1.TypeMeta
	if err := yaml.Unmarshal(doc, &tm); err != nil {
		return nil, err
	}
	if tm.APIVersion == "" || tm.Kind == "" {
		return nil, errors.New("no apiVersion or kind")
	}
	gvk := schema.FromAPIVersionAndKind(tm.APIVersion, tm.Kind)
	var obj any
	if newLocal, ok := localKinds[gvk]; ok {
		obj = newLocal()
	} else {
		typed, err := scheme.Scheme.New(gvk)
		if err != nil {
			return nil, fmt.Errorf("%s: not a kind client-go knows, nor one of this package's: %w", gvk, err)
		}
		obj = typed
	}
	if err := decodeStrict(doc, obj); err != nil {
		return nil, fmt.Errorf("%s: %w", gvk, err)
	}
	return obj, nil
}

// TestDecodeManifestIsStrict shows that the decoding the manifest tests rely
// on refuses what kubectl apply --validate=strict would: misspelled or
// misplaced fields, duplicate keys and unknown kinds.
func TestDecodeManifestIsStrict(t *testing.T) {
	const valid = `
apiVersion: v1
kind: ConfigMap
metadata:
  name: ok
data:
  A: "1"
`
	if _, err := decodeManifest([]byte(valid)); err != nil {
		t.Fatalf("a valid ConfigMap was refused: %v", err)
	}
	broken := map[string]string{
		"unknown field in a Deployment": `
apiVersion: apps/v1
kind: Deployment
metadata:
  name: broken
spec:
  selector:
    matchLabels: {app: broken}
  template:
    metadata:
      labels: {app: broken}
    spec:
      containers:
        - name: app
          image: app
          livenessProbes:
            httpGet: {path: /healthz, port: 8080}
`,
		"field at the wrong level": `
apiVersion: v1
kind: Service
metadata:
  name: broken
  ports:
    - port: 80
`,
		"duplicate key": `
apiVersion: v1
kind: ConfigMap
metadata:
  name: broken
  name: twice
`,
		"unknown kind": `
apiVersion: example.com/v1
kind: Widget
metadata:
  name: broken
`,
		"unknown field in a ScaledObject": `
apiVersion: keda.sh/v1alpha1
kind: ScaledObject
metadata:
  name: broken
spec:
  scaleTargetRef: {name: writer}
  maxReplicas: 3
`,
		"unknown field in a kustomization": `
apiVersion: kustomize.config.k8s.io/v1beta1
kind: Kustomization
resource:
  - deployment.yaml
`,
	}
	for name, doc := range broken {
		t.Run(name, func(t *testing.T) {
			if obj, err := decodeManifest([]byte(doc)); err == nil {
				t.Errorf("decoded without error into %T", obj)
			}
		})
	}
}
