package tenant

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/harbor-ingest/harbor/pkg/devenv/devtest"
)

func openStore(t *testing.T) *Store {
	t.Helper()
	_, _, js := devtest.JetStream(t)
	s, err := Open(context.Background(), js, "harbor_tenants_test", 1)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func TestHarborsAndKeys(t *testing.T) {
	ctx := context.Background()
	s := openStore(t)
	if _, err := s.CreateHarbor(ctx, Harbor{ID: "fleet-a", Limits: Limits{ReadingsPerSecond: 100}}); err != nil {
		t.Fatal(err)
	}
	if _, err := s.CreateHarbor(ctx, Harbor{ID: "fleet-a"}); !errors.Is(err, ErrHarborExists) {
		t.Fatalf("second create: %v", err)
	}
	if _, err := s.CreateHarbor(ctx, Harbor{ID: "bad.id"}); err == nil {
		t.Fatal("a bad harbor id was accepted")
	}
	if _, _, err := s.CreateKey(ctx, "nope", []string{ScopeWrite}); !errors.Is(err, ErrHarborNotFound) {
		t.Fatalf("key for a missing harbor: %v", err)
	}
	if _, _, err := s.CreateKey(ctx, "fleet-a", []string{"admin"}); err == nil {
		t.Fatal("an unknown scope was accepted")
	}
	secret, key, err := s.CreateKey(ctx, "fleet-a", []string{ScopeWrite})
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(secret, key.Prefix()+"_") || len(secret) != 3+8+1+64 || strings.Contains(key.Hash, secret) {
		t.Fatalf("secret %q for key %+v", secret, key)
	}

	c, err := s.Watch(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if k, ok := c.Authenticate(secret); !ok || k.HarborID != "fleet-a" || !k.Has(ScopeWrite) || k.Has(ScopeRead) {
		t.Fatalf("authenticate: %+v %v", k, ok)
	}
	for _, wrong := range []string{"", secret[:len(secret)-1] + "0", "hb_" + key.ID, strings.ToUpper(secret)} {
		if _, ok := c.Authenticate(wrong); ok && wrong != secret {
			t.Errorf("%q authenticated", wrong)
		}
	}
	if h, ok := c.Harbor("fleet-a"); !ok || h.Limits.ReadingsPerSecond != 100 || h.Name != "fleet-a" {
		t.Fatalf("harbor in cache: %+v %v", h, ok)
	}

	// A new key and a revocation reach the cache by the watch.
	secret2, _, err := s.CreateKey(ctx, "fleet-a", []string{ScopeRead, ScopeWrite})
	if err != nil {
		t.Fatal(err)
	}
	devtest.WaitFor(t, 5*time.Second, "the new key to work", func() bool { _, ok := c.Authenticate(secret2); return ok })
	if err := s.RevokeKey(ctx, key.Prefix()); err != nil {
		t.Fatal(err)
	}
	devtest.WaitFor(t, 5*time.Second, "the revoked key to fail", func() bool { _, ok := c.Authenticate(secret); return !ok })

	keys, err := s.Keys(ctx, "fleet-a")
	if err != nil || len(keys) != 1 {
		t.Fatalf("keys after revoke: %v %v", keys, err)
	}
	if err := s.DeleteHarbor(ctx, "fleet-a"); err != nil {
		t.Fatal(err)
	}
	devtest.WaitFor(t, 5*time.Second, "the harbor's keys to fail", func() bool { _, ok := c.Authenticate(secret2); return !ok })
	if hs, err := s.Harbors(ctx); err != nil || len(hs) != 0 {
		t.Fatalf("harbors after delete: %v %v", hs, err)
	}
	// Its id stays reserved, and nothing of it comes back.
	if _, err := s.CreateHarbor(ctx, Harbor{ID: "fleet-a"}); !errors.Is(err, ErrHarborDeleted) || !strings.Contains(err.Error(), "choose another id") {
		t.Fatalf("create a deleted harbor's id again: %v", err)
	}
	if _, err := s.Harbor(ctx, "fleet-a"); !errors.Is(err, ErrHarborNotFound) {
		t.Fatalf("the refused harbor is stored: %v", err)
	}
	if _, _, err := s.CreateKey(ctx, "fleet-a", []string{ScopeRead}); !errors.Is(err, ErrHarborNotFound) {
		t.Fatalf("key for a deleted harbor: %v", err)
	}
	if err := s.DeleteHarbor(ctx, "fleet-a"); !errors.Is(err, ErrHarborNotFound) {
		t.Fatalf("delete it again: %v", err)
	}
	devtest.WaitFor(t, 5*time.Second, "the cache to drop the harbor", func() bool { _, ok := c.Harbor("fleet-a"); return !ok })
	if err := s.RevokeKey(ctx, "deadbeef"); !errors.Is(err, ErrKeyNotFound) {
		t.Fatalf("revoke missing key: %v", err)
	}
}
