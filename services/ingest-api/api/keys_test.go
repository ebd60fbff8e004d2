package api

import "testing"

func TestKeys(t *testing.T) {
	k := mustKeys(t, map[string]string{"secret-a": "harbor-a", "secret-b": "harbor-b"})
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

// mustKeys is NewKeys for a test's valid API_KEYS.
func mustKeys(t testing.TB, keyToHarbor map[string]string) *Keys {
	t.Helper()
	k, err := NewKeys(keyToHarbor)
	if err != nil {
		t.Fatal(err)
	}
	return k
}

func TestStaticKeysRefuseReservedHarborIDs(t *testing.T) {
	for _, id := range []string{"batch", "ttn", "gps", "ingest", "a b"} {
		if _, err := NewKeys(map[string]string{"k": id}); err == nil {
			t.Errorf("API_KEYS with harbor %q accepted", id)
		}
	}
}
