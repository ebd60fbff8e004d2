package api

import "testing"

func TestKeys(t *testing.T) {
	k := NewKeys(map[string]string{"secret-a": "harbor-a", "secret-b": "harbor-b"})
	for key, want := range map[string]string{"secret-a": "harbor-a", "secret-b": "harbor-b"} {
		if got, ok := k.Authenticate(key); !ok || got.HarborID != want || !got.Has("write") {
			t.Errorf("%s: %q %v", key, got, ok)
		}
	}
	for _, key := range []string{"", "secret-", "secret-a ", "SECRET-A", "harbor-a"} {
		if got, ok := k.Authenticate(key); ok {
			t.Errorf("%q opened %q", key, got)
		}
	}
}
