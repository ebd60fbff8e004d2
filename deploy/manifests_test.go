package deploy

import (
	"io/fs"
	"path/filepath"
	"strings"
	"testing"
)

// manifest is one decoded document of a file under k8s/.
type manifest struct {
	path string // from the repository root
	obj  any    // *appsv1.Deployment, *scaledObject, *kustomize.Kustomization...
}

// loadManifests strictly decodes every YAML document under dir, a path from
// the repository root, failing the test on any it cannot.
func loadManifests(t *testing.T, dir string) []manifest {
	t.Helper()
	var out []manifest
	err := filepath.WalkDir(filepath.Join(repoRoot, dir), func(path string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() || !(strings.HasSuffix(path, ".yaml") || strings.HasSuffix(path, ".yml")) {
			return err
		}
		rel, err := filepath.Rel(repoRoot, path)
		if err != nil {
			return err
		}
		docs, err := yamlDocuments(readRepoFile(t, rel))
		if err != nil {
			t.Errorf("%s: not YAML: %v", rel, err)
			return nil
		}
		for i, doc := range docs {
			obj, err := decodeManifest(doc)
			if err != nil {
				t.Errorf("%s, document %d: %v", rel, i+1, err)
				continue
			}
			out = append(out, manifest{path: rel, obj: obj})
		}
		return nil
	})
	if err != nil {
		t.Fatalf("walk %s: %v", dir, err)
	}
	if len(out) == 0 {
		t.Fatalf("no manifests under %s", dir)
	}
	return out
}

// objectsOf returns the decoded objects of type T among ms.
func objectsOf[T any](ms []manifest) []T {
	var out []T
	for _, m := range ms {
		if obj, ok := m.obj.(T); ok {
			out = append(out, obj)
		}
	}
	return out
}

// TestEveryManifestDecodesStrictly decodes every file under deploy/k8s; the
// other tests rely on it for the types they check.
func TestEveryManifestDecodesStrictly(t *testing.T) {
	for _, m := range loadManifests(t, "deploy/k8s") {
		t.Logf("%s: %T", m.path, m.obj)
	}
}
