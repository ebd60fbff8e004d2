package deploy

import (
	"os"
	"path/filepath"
	"testing"
)

// repoRoot is the repository root, seen from this package's directory.
const repoRoot = ".."

// readRepoFile returns the file at rel, a path from the repository root.
func readRepoFile(t *testing.T, rel string) []byte {
	t.Helper()
	data, err := os.ReadFile(filepath.Join(repoRoot, rel))
	if err != nil {
		t.Fatalf("read %s: %v", rel, err)
	}
	return data
}
