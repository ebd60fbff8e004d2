package e2e

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/harbor-ingest/harbor/cmd/harborctl/ctl"
	"github.com/harbor-ingest/harbor/pkg/devenv"
	"github.com/harbor-ingest/harbor/pkg/devenv/devtest"
	"github.com/harbor-ingest/harbor/pkg/stream"
	"github.com/harbor-ingest/harbor/pkg/tenant"
	ingest "github.com/harbor-ingest/harbor/services/ingest-api/service"
	"github.com/harbor-ingest/harbor/services/writer/deadletter"
	"github.com/harbor-ingest/harbor/services/writer/replay"
	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
)

// securedNATS is an embedded NATS server that knows only Harbor's users
// (stream.Roles), each with a password of its own, and records the
// permission violations it logs.
type securedNATS struct {
	url        string
	passwords  map[string]string // by role
	violations *violationLog
	streamCfg  stream.Config
	buckets    stream.Buckets
}

func startSecuredNATS(t *testing.T) *securedNATS {
	t.Helper()
	ingestCfg := parseConfig[ingest.Config](t, map[string]string{})
	s := &securedNATS{
		passwords:  map[string]string{},
		violations: &violationLog{},
		streamCfg:  ingestCfg.Stream,
		buckets:    stream.Buckets{Tenants: ingestCfg.Tenants.Bucket, Replicas: ingestCfg.ReplicasBucket, Writers: ingestCfg.WriterStatus.Bucket},
	}
	var users []devenv.NATSUser
	for _, r := range stream.Roles(s.streamCfg, s.buckets) {
		s.passwords[r.User] = devenv.NewPassword()
		users = append(users, devenv.NATSUser{Name: r.User, Password: s.passwords[r.User], Publish: r.Publish(), Subscribe: r.Subscribe()})
	}
	ns := devtest.NATS(t, devenv.WithUsers(users...))
	ns.SetLoggerV2(s.violations, false, false, false)
	s.url = ns.ClientURL()
	return s
}

// env is the environment of a part connecting as role.
func (s *securedNATS) env(role string) map[string]string {
	return map[string]string{"NATS_USER": role, "NATS_PASSWORD": s.passwords[role]}
}

// connect connects as role, replies on the role's inbox.
func (s *securedNATS) connect(t *testing.T, role string) jetstream.JetStream {
	t.Helper()
	nc, err := nats.Connect(s.url, nats.UserInfo(role, s.passwords[role]), nats.CustomInboxPrefix(stream.InboxPrefix(role)))
	if err != nil {
		t.Fatalf("connect as %s: %v", role, err)
	}
	t.Cleanup(nc.Close)
	js, err := jetstream.New(nc)
	if err != nil {
		t.Fatal(err)
	}
	return js
}

// violationLog is a nats-server logger that keeps the permission
// violations.
type violationLog struct {
	mu    sync.Mutex
	lines []string
}

func (l *violationLog) Errorf(format string, v ...any) {
	if line := fmt.Sprintf(format, v...); strings.Contains(line, "Violation") {
		l.mu.Lock()
		l.lines = append(l.lines, line)
		l.mu.Unlock()
	}
}
func (l *violationLog) Noticef(string, ...any) {}
func (l *violationLog) Warnf(string, ...any)   {}
func (l *violationLog) Fatalf(string, ...any)  {}
func (l *violationLog) Debugf(string, ...any)  {}
func (l *violationLog) Tracef(string, ...any)  {}

func (l *violationLog) all() []string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return append([]string(nil), l.lines...)
}

// TestPipelineWithNATSUsers runs every part with its own NATS user and
// nothing more than its permissions: harborctl (admin) creates a harbor and
// a key, the API (api) accepts readings with that key and with a static
// one, the writers (writer) store them, the admin API (admin) makes another
// key, and `writer dead-letter list` (operator) reads its stream. Not one
// permission violation may be logged on the way.
func TestPipelineWithNATSUsers(t *testing.T) {
	s := startSecuredNATS(t)
	ctx := context.Background()

	// harborctl as the admin user, before any service ran: it creates the
	// tenants bucket too.
	ctlCfg := parseConfig[ctl.Config](t, withNATS(s.url, s.env(stream.RoleAdmin)))
	var out bytes.Buffer
	if err := ctl.Run(ctx, ctlCfg, []string{"harbor", "create", "fleet-auth"}, &out, testLog); err != nil {
		t.Fatalf("harborctl harbor create as %s: %v", stream.RoleAdmin, err)
	}
	out.Reset()
	if err := ctl.Run(ctx, ctlCfg, []string{"-json", "key", "create", "fleet-auth"}, &out, testLog); err != nil {
		t.Fatalf("harborctl key create: %v", err)
	}
	var created struct{ Secret string }
	if err := json.Unmarshal(out.Bytes(), &created); err != nil || created.Secret == "" {
		t.Fatalf("harborctl key create printed %q: %v", out.String(), err)
	}

	environment := s.env(stream.RoleAPI)
	environment["NATS_URL"] = s.url
	environment["ADMIN_TOKEN"] = "admin-secret"
	environment["NATS_ADMIN_USER"] = stream.RoleAdmin
	environment["NATS_ADMIN_PASSWORD"] = s.passwords[stream.RoleAdmin]
	p := startPipeline(t, options{writers: 2, natsURL: s.url, environment: environment, writerEnvironment: s.env(stream.RoleWriter)})

	start := time.Now().UTC().Add(-time.Hour).Truncate(time.Second)
	if status, _, body := p.post("/api/v2/ingest/fleet-auth/batch", created.Secret, batchBody("ship-1", start, 5, 0)); status != http.StatusOK {
		t.Fatalf("post with harborctl's key: %d %s", status, body)
	}
	if status, _, body := p.post("/api/v2/ingest/"+harborA+"/batch", keyA, batchBody("ship-2", start, 3, 10)); status != http.StatusOK {
		t.Fatalf("post with a static key: %d %s", status, body)
	}

	// The admin API, on its admin connection.
	req, _ := http.NewRequest(http.MethodPost, p.url+"/api/v1/admin/harbors/fleet-auth/keys", strings.NewReader(`{"scopes":["write"]}`))
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Authorization", "Bearer admin-secret")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	var adminKey struct{ Secret string }
	if err := json.NewDecoder(resp.Body).Decode(&adminKey); resp.StatusCode != http.StatusCreated || err != nil {
		t.Fatalf("admin API key create: %d %v", resp.StatusCode, err)
	}
	resp.Body.Close()
	p.statusWithin(p.url, "fleet-auth", adminKey.Secret, http.StatusOK, 5*time.Second)

	p.waitForRows(5+3+1, 30*time.Second) // statusWithin posts one reading
	want := map[string]int{"fleet-auth": 6, harborA: 3}
	got := map[string]int{}
	for _, r := range p.rows() {
		got[r.Harbor]++
	}
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Fatalf("rows by harbor %v, want %v", got, want)
	}

	// The operator's tools: a message no writer can decode (which only the
	// operator may publish raw) is dead-lettered by a writer and listed by
	// `writer dead-letter list`; `writer replay -dry-run` reads the stream.
	opEnv := withNATS(s.url, s.env(stream.RoleOperator))
	opCfg := parseConfig[stream.Config](t, opEnv)
	if _, err := s.connect(t, stream.RoleOperator).Publish(ctx, opCfg.Subject("fleet-auth"), []byte("not a payload")); err != nil {
		t.Fatalf("publish as %s: %v", stream.RoleOperator, err)
	}
	deadline := time.Now().Add(30 * time.Second)
	for {
		out.Reset()
		if err := deadletter.Command(ctx, opCfg, []string{"list", "-json"}, &out, testLog); err != nil {
			t.Fatalf("writer dead-letter list as %s: %v", stream.RoleOperator, err)
		}
		var entries []deadletter.Entry
		if err := json.Unmarshal(out.Bytes(), &entries); err != nil {
			t.Fatalf("dead-letter list -json printed %q: %v", out.String(), err)
		}
		if len(entries) == 1 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("dead letters %+v after 30s, want the one undecodable message", entries)
		}
		time.Sleep(100 * time.Millisecond)
	}
	out.Reset()
	if err := replay.Command(ctx, opCfg, p.writer.ClickHouse, p.writer.Pipeline, []string{"-from", start.Add(-time.Hour).Format(time.RFC3339), "-dry-run"}, &out, testLog); err != nil {
		t.Fatalf("writer replay -dry-run as %s: %v\n%s", stream.RoleOperator, err, out.String())
	}

	if v := s.violations.all(); len(v) > 0 {
		t.Fatalf("permission violations while every part worked with its own user:\n%s", strings.Join(v, "\n"))
	}
}

// withNATS is env with NATS_URL.
func withNATS(url string, env map[string]string) map[string]string {
	env["NATS_URL"] = url
	return env
}

// TestNATSUsersCannotOverstep tries, with each service's credentials, what
// the issue "NATS is open" feared, and finds every attempt refused and
// nothing changed: the API and the writers cannot put a key hash in the
// tenants bucket, the API cannot publish dead letters nor reconfigure a
// stream, the writers cannot publish raw readings, and a client without
// credentials cannot connect.
func TestNATSUsersCannotOverstep(t *testing.T) {
	s := startSecuredNATS(t)
	ctx := context.Background()

	// The buckets and streams as the parts make them.
	admin := s.connect(t, stream.RoleAdmin)
	store, err := tenant.Open(ctx, admin, s.buckets.Tenants, 1)
	if err != nil {
		t.Fatalf("open the tenants bucket as %s: %v", stream.RoleAdmin, err)
	}
	if _, err := store.CreateHarbor(ctx, tenant.Harbor{ID: "fleet-x"}); err != nil {
		t.Fatal(err)
	}
	api := s.connect(t, stream.RoleAPI)
	if _, err := stream.Ensure(ctx, api, s.streamCfg); err != nil {
		t.Fatalf("ensure the streams as %s: %v", stream.RoleAPI, err)
	}
	writer := s.connect(t, stream.RoleWriter)
	forged := []byte(`{"id":"forged","harbor_id":"fleet-x","scopes":["write","read"],"hash":"00"}`)

	// refused fails unless attempt fails and the server logged a violation
	// naming subject.
	refused := func(t *testing.T, what, subject string, attempt func(ctx context.Context) error) {
		t.Helper()
		// The server refuses at once; the client learns it only as an
		// unanswered request.
		short, cancel := context.WithTimeout(ctx, time.Second)
		defer cancel()
		if err := attempt(short); err == nil {
			t.Errorf("%s: done, want refused", what)
		}
		if !slices.ContainsFunc(s.violations.all(), func(l string) bool { return strings.Contains(l, `"`+subject+`"`) }) {
			t.Errorf("%s: the server logged no violation for %s (violations: %v)", what, subject, s.violations.all())
		}
	}
	kvKey := "$KV." + s.buckets.Tenants + ".keys.forged"
	for _, who := range []struct {
		role string
		js   jetstream.JetStream
	}{{stream.RoleAPI, api}, {stream.RoleWriter, writer}} {
		t.Run(who.role, func(t *testing.T) {
			refused(t, who.role+" puts a key hash into the tenants bucket", kvKey, func(ctx context.Context) error {
				_, err := who.js.Publish(ctx, kvKey, forged)
				return err
			})
			// A stream that republishes into the bucket would write it too.
			evil := s.streamCfg.StreamConfig()
			evil.RePublish = &jetstream.RePublish{Source: s.streamCfg.Subject("evil"), Destination: kvKey}
			refused(t, who.role+" reconfigures the readings stream", "$JS.API.STREAM.UPDATE."+s.streamCfg.Name, func(ctx context.Context) error {
				_, err := who.js.UpdateStream(ctx, evil)
				return err
			})
		})
	}
	// The API may read the bucket, so it may open it; writing stays refused.
	kv, err := api.KeyValue(ctx, s.buckets.Tenants)
	if err != nil {
		t.Fatalf("the API cannot open the tenants bucket to read it: %v", err)
	}
	refused(t, "the API puts a key with the KV API", kvKey, func(ctx context.Context) error {
		_, err := kv.Put(ctx, "keys.forged", forged)
		return err
	})
	refused(t, "the API updates the replicas bucket", "$JS.API.STREAM.UPDATE.KV_"+s.buckets.Replicas, func(ctx context.Context) error {
		_, err := api.UpdateKeyValue(ctx, jetstream.KeyValueConfig{Bucket: s.buckets.Replicas, Storage: jetstream.MemoryStorage})
		return err
	})
	refused(t, "the API publishes a dead letter", s.streamCfg.DeadLetterSubject("fleet-x"), func(ctx context.Context) error {
		_, err := api.Publish(ctx, s.streamCfg.DeadLetterSubject("fleet-x"), []byte("raw"))
		return err
	})
	refused(t, "a writer publishes a raw payload to a harbor", s.streamCfg.Subject("fleet-x"), func(ctx context.Context) error {
		_, err := writer.Publish(ctx, s.streamCfg.Subject("fleet-x"), []byte("raw"))
		return err
	})

	if keys, err := store.Keys(ctx, ""); err != nil || len(keys) != 0 {
		t.Errorf("the tenants bucket holds keys %v (%v), want none", keys, err)
	}
	for name, want := range map[string]uint64{s.streamCfg.Name: 0, s.streamCfg.DeadLetterName(): 0} {
		st, err := s.connect(t, stream.RoleOperator).Stream(ctx, name)
		if err != nil {
			t.Fatal(err)
		}
		if got := st.CachedInfo().State.Msgs; got != want {
			t.Errorf("stream %s holds %d messages, want %d", name, got, want)
		}
		if rp := st.CachedInfo().Config.RePublish; rp != nil {
			t.Errorf("stream %s republishes %+v", name, rp)
		}
	}
	if nc, err := nats.Connect(s.url); err == nil {
		nc.Close()
		t.Error("a client without credentials connected")
	}
	if nc, err := nats.Connect(s.url, nats.UserInfo(stream.RoleAPI, "guess")); err == nil {
		nc.Close()
		t.Error("a client with a wrong password connected")
	}
}

// TestStreamSettingsChangeIsTheOperators: with NATS users the API may
// create the streams but not change them, so it refuses to start with
// settings the stream does not have, saying who may; the operator's
// `harborctl stream apply` with the new settings brings the stream up to
// date, and then the API starts.
func TestStreamSettingsChangeIsTheOperators(t *testing.T) {
	s := startSecuredNATS(t)
	ctx := context.Background()
	const bigger = 20 << 30
	open := func(role string, maxBytes int64) error {
		cfg := parseConfig[stream.Config](t, withNATS(s.url, s.env(role)))
		cfg.Role, cfg.MaxBytes = role, maxBytes
		nc, _, err := stream.OpenAsOwner(ctx, cfg, "test", testLog)
		if err == nil {
			nc.Close()
		}
		return err
	}
	if err := open(stream.RoleAPI, s.streamCfg.MaxBytes); err != nil {
		t.Fatalf("the API cannot create the streams: %v", err)
	}
	err := open(stream.RoleAPI, bigger)
	if err == nil {
		t.Fatal("the API changed the readings stream's max bytes")
	}
	if !strings.Contains(err.Error(), "harborctl stream apply") || !strings.Contains(err.Error(), "STREAM_MAX_BYTES") {
		t.Errorf("the refusal does not say what differs and who may change it: %v", err)
	}
	ctlCfg := parseConfig[ctl.Config](t, withNATS(s.url, s.env(stream.RoleOperator)))
	ctlCfg.Stream.MaxBytes = bigger
	if err := ctl.Run(ctx, ctlCfg, []string{"stream", "apply"}, &bytes.Buffer{}, testLog); err != nil {
		t.Fatalf("harborctl stream apply as %s: %v", stream.RoleOperator, err)
	}
	if err := open(stream.RoleAPI, bigger); err != nil {
		t.Fatalf("the API does not start on the updated stream: %v", err)
	}
	st, err := s.connect(t, stream.RoleOperator).Stream(ctx, s.streamCfg.Name)
	if err != nil {
		t.Fatal(err)
	}
	if got := st.CachedInfo().Config.MaxBytes; got != bigger {
		t.Fatalf("max bytes %d after the operator's update, want %d", got, bigger)
	}
}
