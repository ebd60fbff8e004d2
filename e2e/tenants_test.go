package e2e

import (
	"bytes"
	"context"
	"encoding/json"
	"log/slog"
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/harbor-ingest/harbor/cmd/harborctl/ctl"
)

// harborctl runs the CLI in-process with the pipeline's settings and
// returns what it printed; it fails the test if the command fails.
func (p *pipeline) harborctl(args ...string) string {
	p.t.Helper()
	out, err := p.harborctlErr(args...)
	if err != nil {
		p.t.Fatalf("harborctl %v: %v", args, err)
	}
	return out
}

// harborctlErr is harborctl that returns the command's error instead.
func (p *pipeline) harborctlErr(args ...string) (string, error) {
	p.t.Helper()
	cfg := parseConfig[ctl.Config](p.t, p.env)
	var out bytes.Buffer
	err := ctl.Run(context.Background(), cfg, args, &out, slog.New(slog.DiscardHandler))
	return out.String(), err
}

// createKey makes a key with the CLI and returns its secret and id.
func (p *pipeline) createKey(harbor, scopes string) (secret, id string) {
	p.t.Helper()
	var created struct {
		Key struct {
			ID string `json:"id"`
		} `json:"key"`
		Secret string `json:"secret"`
	}
	out := p.harborctl("-json", "key", "create", harbor, "-scopes", scopes)
	if err := json.Unmarshal([]byte(out), &created); err != nil || created.Secret == "" {
		p.t.Fatalf("key create printed %q: %v", out, err)
	}
	return created.Secret, created.Key.ID
}

// statusWithin posts until the API at url answers want, and fails the test
// if it does not within timeout.
func (p *pipeline) statusWithin(url, harbor, key string, want int, timeout time.Duration) {
	p.t.Helper()
	deadline := time.Now().Add(timeout)
	for {
		status, _, body := p.postTo(url, "/api/v1/ingest/ingest/"+harbor, key, []byte(`{"ship_id":"s","cargo_id":"c","value":1}`))
		if status == want {
			return
		}
		if time.Now().After(deadline) {
			p.t.Fatalf("%s answered %d after %s, want %d: %s", url, status, timeout, want, body)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// TestManagedKeysOnEveryReplica creates a harbor and a key with harborctl,
// posts with it to two API replicas, revokes it, and sees 401 on both.
func TestManagedKeysOnEveryReplica(t *testing.T) {
	p := startPipeline(t, options{noCH: true})
	second := p.startAPI()

	out := p.harborctl("harbor", "create", "fleet-x", "-name", "Fleet X")
	if !strings.Contains(out, "fleet-x") || !strings.Contains(out, "Fleet X") {
		t.Fatalf("harbor create printed:\n%s", out)
	}
	p.harborctl("harbor", "create", "fleet-y")
	secret, id := p.createKey("fleet-x", "write")
	readOnly, _ := p.createKey("fleet-x", "read")
	other, _ := p.createKey("fleet-y", "write,read")

	for _, url := range []string{p.url, second} {
		p.statusWithin(url, "fleet-x", secret, http.StatusOK, 2*time.Second)
		p.statusWithin(url, "fleet-y", secret, http.StatusForbidden, time.Second) // a key of harbor X on Y
		p.statusWithin(url, "fleet-x", other, http.StatusForbidden, time.Second)  // and of Y on X
		p.statusWithin(url, "fleet-x", readOnly, http.StatusForbidden, time.Second)
	}
	list := p.harborctl("key", "list", "fleet-x")
	if !strings.Contains(list, "hb_"+id) || strings.Contains(list, secret) {
		t.Fatalf("key list shows no prefix or the secret:\n%s", list)
	}

	p.harborctl("key", "revoke", "hb_"+id)
	revoked := time.Now()
	for _, url := range []string{p.url, second} {
		p.statusWithin(url, "fleet-x", secret, http.StatusUnauthorized, 2*time.Second)
	}
	t.Logf("revocation seen by both replicas %s after harborctl returned", time.Since(revoked))

	p.harborctl("harbor", "delete", "fleet-y")
	p.statusWithin(second, "fleet-y", other, http.StatusUnauthorized, 2*time.Second)
	var harbors []struct{ ID string }
	if err := json.Unmarshal([]byte(p.harborctl("-json", "harbor", "list")), &harbors); err != nil || len(harbors) != 1 || harbors[0].ID != "fleet-x" {
		t.Fatalf("harbor list -json: %+v %v", harbors, err)
	}
}

// TestAdminAPI checks the admin token and manages a harbor and a key over
// HTTP.
func TestAdminAPI(t *testing.T) {
	p := startPipeline(t, options{noCH: true, environment: map[string]string{"ADMIN_TOKEN": "admin-secret"}})
	call := func(method, path, token, body string) (int, []byte) {
		headers := []string{"Content-Type", "application/json"}
		if token != "" {
			headers = append(headers, "Authorization", "Bearer "+token)
		}
		status, _, b := p.request(method, p.url+"/api/v1/admin"+path, "", []byte(body), headers...)
		return status, b
	}
	for _, token := range []string{"", "wrong", "Admin-secret", "admin-secre"} {
		if status, body := call(http.MethodGet, "/harbors", token, ""); status != http.StatusUnauthorized || !strings.Contains(string(body), "admin token") {
			t.Errorf("token %q: %d %s", token, status, body)
		}
	}
	if status, body := call(http.MethodPost, "/harbors", "admin-secret", `{"id":"fleet-z","limits":{"readings_per_second":5000}}`); status != http.StatusCreated {
		t.Fatalf("create harbor: %d %s", status, body)
	}
	if status, _ := call(http.MethodPost, "/harbors", "admin-secret", `{"id":"fleet-z"}`); status != http.StatusConflict {
		t.Fatalf("create it again: %d", status)
	}
	if status, _ := call(http.MethodPost, "/harbors", "admin-secret", `{"id":"bad id"}`); status != http.StatusBadRequest {
		t.Fatalf("bad harbor id: %d", status)
	}
	status, body := call(http.MethodPost, "/harbors/fleet-z/keys", "admin-secret", `{"scopes":["write"]}`)
	var created struct {
		Key    struct{ ID string } `json:"key"`
		Secret string              `json:"secret"`
	}
	if status != http.StatusCreated || json.Unmarshal(body, &created) != nil || created.Secret == "" {
		t.Fatalf("create key: %d %s", status, body)
	}
	p.statusWithin(p.url, "fleet-z", created.Secret, http.StatusOK, 2*time.Second)
	if status, body := call(http.MethodGet, "/harbors/fleet-z/keys", "admin-secret", ""); status != http.StatusOK || !strings.Contains(string(body), created.Key.ID) || strings.Contains(string(body), created.Secret) {
		t.Fatalf("list keys: %d %s", status, body)
	}
	if status, _ := call(http.MethodDelete, "/keys/"+created.Key.ID, "admin-secret", ""); status != http.StatusNoContent {
		t.Fatalf("revoke: %d", status)
	}
	p.statusWithin(p.url, "fleet-z", created.Secret, http.StatusUnauthorized, 2*time.Second)
	if status, _ := call(http.MethodDelete, "/keys/"+created.Key.ID, "admin-secret", ""); status != http.StatusNotFound {
		t.Fatalf("revoke again: %d", status)
	}
}

// TestAdminAPIIsOffWithoutToken: no ADMIN_TOKEN, no admin routes.
func TestAdminAPIIsOffWithoutToken(t *testing.T) {
	p := startPipeline(t, options{noCH: true})
	if status, _ := get(t, p.url+"/api/v1/admin/harbors"); status != http.StatusNotFound {
		t.Fatalf("admin API without a token: %d", status)
	}
}

// TestRateLimitsHoldAcrossReplicas gives a harbor 1,000 readings per second
// and posts 100-reading batches to two replicas: each replica enforces half,
// answering 429 with Retry-After and the X-RateLimit headers past it, and
// nothing of a refused request is stored.
func TestRateLimitsHoldAcrossReplicas(t *testing.T) {
	p := startPipeline(t, options{noCH: true, environment: map[string]string{"REPLICA_TTL": "1s"}})
	second := p.startAPI()
	p.harborctl("harbor", "create", "limited", "-readings-per-second", "1000")
	secret, _ := p.createKey("limited", "write")
	p.statusWithin(second, "limited", secret, http.StatusOK, 2*time.Second)
	time.Sleep(1500 * time.Millisecond) // both replicas count each other, buckets refill

	total := 0
	for _, url := range []string{p.url, second} {
		accepted, start := 0, time.Now()
		for i := range 20 {
			status, header, body := p.postTo(url, "/api/v1/ingest/ingest/limited/batch", secret, batchBody("s"+strconv.Itoa(i), time.Now().Add(-time.Minute), 100, 0))
			if status == http.StatusOK {
				accepted++
				continue
			}
			if status != http.StatusTooManyRequests || header.Get("Retry-After") == "" ||
				header.Get("X-RateLimit-Limit") != "1000" || header.Get("X-RateLimit-Remaining") == "" {
				t.Fatalf("over the limit: %d, headers %v, %s", status, header, body)
			}
			break
		}
		// A replica's share is 500 readings a second and its bucket holds one
		// second of it: 5 batches at once, and one more for every 200 ms the
		// posting took (refill). Without the division by two replicas the
		// bucket would hold 10.
		elapsed := time.Since(start)
		most := 5 + int(elapsed.Seconds()*5) + 1
		if accepted < 5 || accepted > most || (elapsed < 800*time.Millisecond && accepted >= 10) {
			t.Fatalf("%s accepted %d batches of 100 in %s, want 5 to %d of the harbor's 1,000/s shared by 2 replicas", url, accepted, elapsed, most)
		}
		total += accepted
	}
	if n := p.streamMessages(); n != uint64(total+1) { // +1: the statusWithin probe
		t.Fatalf("stream holds %d messages, want the %d accepted", n, total+1)
	}
}
