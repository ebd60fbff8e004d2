package e2e

import (
	"encoding/json"
	"net/http"
	"strings"
	"testing"
	"time"
)

// TestDeletedHarborIDIsNotReused deletes a harbor that has readings and
// creates it again, with harborctl and over the admin API: both are refused
// with 409 (a clear error for harborctl) saying why and what to do, and no
// key made afterwards reads the old tenant's readings.
func TestDeletedHarborIDIsNotReused(t *testing.T) {
	p := startPipeline(t, options{writers: 1, environment: map[string]string{"ADMIN_TOKEN": "admin-secret", "READ_API_ENABLED": "true"}})
	p.harborctl("harbor", "create", "fleet-old")
	secret, _ := p.createKey("fleet-old", "write,read")
	p.statusWithin(p.url, "fleet-old", secret, http.StatusOK, 2*time.Second)
	p.waitForRows(1, 30*time.Second)
	ships := "/api/v1/harbors/fleet-old/ships"
	if status, _, body := p.get(ships, secret); status != http.StatusOK || !strings.Contains(string(body), `"ship_id":"s"`) {
		t.Fatalf("the owner reads its ships: %d %s", status, body)
	}

	p.harborctl("harbor", "delete", "fleet-old")
	_, err := p.harborctlErr("harbor", "create", "fleet-old")
	if err == nil || !strings.Contains(err.Error(), "fleet-old was deleted") || !strings.Contains(err.Error(), "choose another id") {
		t.Fatalf("harbor create of a deleted id: %v", err)
	}
	status, _, body := p.request(http.MethodPost, p.url+"/api/v1/admin/harbors", "", []byte(`{"id":"fleet-old"}`),
		"Content-Type", "application/json", "Authorization", "Bearer admin-secret")
	if status != http.StatusConflict || !strings.Contains(string(body), "was deleted") {
		t.Fatalf("admin create of a deleted id: %d %s", status, body)
	}
	if out := p.harborctl("harbor", "list"); strings.Contains(out, "fleet-old") {
		t.Fatalf("harbor list shows the deleted harbor:\n%s", out)
	}
	if _, err := p.harborctlErr("key", "create", "fleet-old"); err == nil {
		t.Fatal("a key was made for the deleted harbor")
	}
	// The old key reads nothing any more, on any harbor.
	for deadline := time.Now().Add(5 * time.Second); ; time.Sleep(20 * time.Millisecond) {
		if status, _, _ := p.get(ships, secret); status == http.StatusUnauthorized {
			break
		} else if time.Now().After(deadline) {
			t.Fatalf("the deleted harbor's key still reads: %d", status)
		}
	}
	// A new tenant, under a new id, sees none of the old readings.
	p.harborctl("harbor", "create", "fleet-new")
	fresh, _ := p.createKey("fleet-new", "write,read")
	for deadline := time.Now().Add(5 * time.Second); ; time.Sleep(20 * time.Millisecond) {
		status, _, body := p.get("/api/v1/harbors/fleet-new/ships", fresh)
		if status == http.StatusOK {
			var page struct {
				Ships []json.RawMessage `json:"ships"`
			}
			if err := json.Unmarshal(body, &page); err != nil || len(page.Ships) != 0 {
				t.Fatalf("the new harbor reads %s", body)
			}
			break
		} else if time.Now().After(deadline) {
			t.Fatalf("the new harbor's key: %d %s", status, body)
		}
	}
	if status, _, _ := p.get(ships, fresh); status != http.StatusForbidden {
		t.Fatalf("the new key on the old harbor: %d", status)
	}
}
