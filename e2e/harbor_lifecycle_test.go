package e2e

import (
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/harbor-ingest/harbor/cmd/harborctl/ctl"
)

// harborctlErr runs the CLI like harborctl and returns its error.
func (p *pipeline) harborctlErr(args ...string) error {
	p.t.Helper()
	cfg := parseConfig[ctl.Config](p.t, p.env)
	return ctl.Run(context.Background(), cfg, args, io.Discard, slog.New(slog.NewTextHandler(io.Discard, nil)))
}

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
	err := p.harborctlErr("harbor", "create", "fleet-old")
	if err == nil || !strings.Contains(err.Error(), "fleet-old was deleted") || !strings.Contains(err.Error(), "choose another id") {
		t.Fatalf("harbor create of a deleted id: %v", err)
	}
	req, _ := http.NewRequest(http.MethodPost, p.url+"/api/v1/admin/harbors", strings.NewReader(`{"id":"fleet-old"}`))
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Authorization", "Bearer admin-secret")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusConflict || !strings.Contains(string(body), "was deleted") {
		t.Fatalf("admin create of a deleted id: %d %s", resp.StatusCode, body)
	}
	if out := p.harborctl("harbor", "list"); strings.Contains(out, "fleet-old") {
		t.Fatalf("harbor list shows the deleted harbor:\n%s", out)
	}
	if err := p.harborctlErr("key", "create", "fleet-old"); err == nil {
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
